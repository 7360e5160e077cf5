"""Properties of the target parser: it never raises, and spacing or full-width typing
does not change what it reads."""

from __future__ import annotations

import json
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain.targets import W_INTERNAL, parse_target

WHITESPACE = [" ", "\t", "\n", "\r", "\u3000", "\xa0"]

# pieces of the target language, so that generated strings reach every branch of the parser
PIECES = (
    "≥ >= ＞= ≤ < > = 不少于 不超过 超过 不满 达 下达 达到 约 "
    "近 控制在 每家 每个站点 以上 及以上 以下 以内 左右 多 余 万 亿 千 "
    "百 万元 亿元 元 % 百分比 家 个 份 人次 平米 平方米 分钟 倍 次/日 "
    "台桩 - ~ 至 年 月 底 前 第四季度 2024 12 1,300 95 "
    "97.5 0 7*24 ( ) （ ） ， 、 。 <b> </b> 提升 "
    "满意度 GB/T 服务对象 起"
).split()
target_like = st.lists(st.one_of(st.sampled_from(PIECES), st.integers(0, 10**6).map(str)), max_size=8).map("".join)
any_text = st.one_of(st.text(), target_like)

FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"}
PLAIN_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


def without_raw(text: str, **kwargs) -> dict:
    parse = parse_target(text, **kwargs).to_json()
    del parse["raw"]
    return parse


@settings(max_examples=500)
@given(any_text, st.one_of(st.none(), st.integers(1, 9999)))
@example("\x00", None)
@example("a" * 10_000, None)
@example("12月底前", 9999)
def test_never_raises_and_gives_the_public_shape(text, year):
    parse = parse_target(text, year=year)
    assert W_INTERNAL not in parse.warnings  # the safety net was not needed
    data = parse.to_json()
    json.dumps(data, ensure_ascii=False)
    assert data["raw"] == text
    assert data["kind"] in ("quantity", "qualitative", "deadline")
    for key in ("value", "value_max"):
        assert data[key] is None or PLAIN_DECIMAL.fullmatch(data[key]), data[key]
    if data["kind"] == "quantity":
        assert data["value"] is not None and data["op"] is not None and data["direction"]
    if data["kind"] == "qualitative":
        assert data["op"] is None and data["direction"] is None and data["value"] is None
    if data["confidence"] == "low":
        assert data["warnings"]  # a low-confidence parse always says why


@settings(max_examples=500)
@given(any_text, st.data())
def test_adding_or_removing_whitespace_changes_nothing_but_raw(text, data):
    spaced = "".join(ch + data.draw(st.text(st.sampled_from(WHITESPACE), max_size=2)) for ch in text)
    spaced = data.draw(st.text(st.sampled_from(WHITESPACE), max_size=2)) + spaced
    squeezed = "".join(ch for ch in text if not ch.isspace())
    assert without_raw(spaced) == without_raw(text) == without_raw(squeezed)


@settings(max_examples=500)
@given(any_text, st.data())
def test_full_width_variants_of_ascii_change_nothing_but_raw(text, data):
    widen = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    wide = "".join(FULL_WIDTH.get(ch, ch) if flip else ch for ch, flip in zip(text, widen, strict=True))
    assert without_raw(wide) == without_raw(text)
