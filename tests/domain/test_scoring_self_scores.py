"""A unit's own score on a row (issue 10 item 10): it counts, the computed one stays beside it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.domain.scoring import NATIONAL_2020, evaluate
from tests.domain.test_scoring_cases import actual, ind, pct, pct_actual, target

D = Decimal


def project(self_score=None, reason=None, settings=NATIONAL_2020):
    # 鄂州市行政审批局 2021 自评表 prints 预算执行率 100% against 83.5% with 分值 20 and 得分 18:
    # the rule gives 83.5 / 100 × 20 = 16.70; the unit scored the row itself.
    rows = [
        replace(
            ind("o", "output", pct(">=", "100"), pct_actual("83.5"), reason="部分资金未支付", weight=D("20")),
            self_score=self_score,
            self_score_reason=reason,
        ),
        ind("o2", "output", target(">=", "1"), actual("1"), weight=D("30")),
        ind("e", "outcome", target(">=", "1"), actual("1"), weight=D("30")),
        ind("s", "satisfaction", target(">=", "1"), actual("1"), weight=D("10")),
    ]
    return evaluate(settings=settings, budget=D("100"), spent=D("100"), indicators=rows)


def test_without_a_self_score_the_computed_score_counts():
    r = project()
    row = r.by_key("o")
    assert (row.score, row.self_score, row.final_score) == (D("16.70"), None, D("16.70"))
    assert r.total == D("96.70")


def test_a_self_score_counts_and_the_computed_one_is_kept_and_the_difference_flagged():
    r = project(D("18"), "按合同进度支付，视同完成")
    row = r.by_key("o")
    assert (row.score, row.self_score, row.final_score) == (D("16.70"), D("18"), D("18"))
    assert "self_scored" in row.flags and "self_score_differs" in row.flags
    assert r.total == D("98.00")
    assert row.problems == ()  # below its weight with a deviation reason: nothing blocks


def test_a_self_score_equal_to_the_computed_one_is_not_a_difference():
    row = project(D("16.70"), "同计算").by_key("o")
    assert "self_scored" in row.flags and "self_score_differs" not in row.flags


def test_a_self_score_needs_a_reason():
    row = project(D("18")).by_key("o")
    assert "self_score_reason_missing" in row.flags
    assert [p.field for p in row.problems] == ["self_score_reason"]


def test_a_self_score_above_the_weight_does_not_count():
    r = project(D("21"), "超过")
    row = r.by_key("o")
    assert row.final_score == D("16.70") and "self_score_out_of_range" in row.flags
    assert [p.field for p in row.problems] == ["self_score"]


def test_a_template_that_forbids_self_scores_ignores_them():
    off = replace(NATIONAL_2020, allow_self_scores=False)
    row = project(D("18"), "理由", off).by_key("o")
    assert row.final_score == D("16.70") and "self_score_not_allowed" in row.flags
    assert "self_scored" not in row.flags


def test_a_reviewer_override_still_comes_first():
    r = project(D("18"), "理由")
    rows = [
        replace(
            ind("o", "output", pct(">=", "100"), pct_actual("83.5"), reason="r", weight=D("20")),
            self_score=D("18"),
            self_score_reason="理由",
            override=D("15"),
        ),
        ind("o2", "output", target(">=", "1"), actual("1"), weight=D("70")),
    ]
    got = evaluate(settings=NATIONAL_2020, budget=D("1"), spent=D("1"), indicators=rows).by_key("o")
    assert (got.score, got.self_score, got.final_score) == (D("16.70"), D("18"), D("15.00"))
    assert r.by_key("o").final_score == D("18")
