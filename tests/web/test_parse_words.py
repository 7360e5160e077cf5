"""What the pages say they understood of a typed value ("理解为 …"), the number in the unit as written.

Issue 9: a target or actual in 万元 showed as "≤ 650000 万元" (the parse's value is in 元, the label
the unit written): the 自评表's 实际完成值 line read it so."""

from __future__ import annotations

import pytest

from app.domain.targets import parse_target
from app.web.toolkit import describe, understood


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("≤65万元", "数值 ≤ 65 万元"),
        ("58.4万元", "数值 = 58.4 万元"),
        ("1.2亿元", "数值 = 1.2 亿元"),
        ("≥12份", "数值 ≥ 12 份"),
        ("95%", "数值 = 95 %"),
    ],
)
def test_describe_says_the_number_in_the_unit_as_written(text, words):
    parsed = parse_target(text)
    assert describe(parsed) == words
    # the stored JSON of the parse (what the 自评表 reads back) says the same
    assert describe(parsed.to_json() if hasattr(parsed, "to_json") else parsed) == words


def test_understood_and_describe_agree_on_money():
    parsed = parse_target("≤65万元")
    assert "65 万元" in understood(parsed) and "650000" not in understood(parsed)
    assert "650000" not in describe(parsed)
