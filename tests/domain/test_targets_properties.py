"""Properties of the target parser: it never raises, and spacing or full-width typing
does not change what it reads."""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.domain.targets import W_INTERNAL, parse_target, units_compatible, with_target_unit

WHITESPACE = [" ", "\t", "\n", "\r", "\u3000", "\xa0"]

# pieces of the target language, so that generated strings reach every branch of the parser
PIECES = (
    "≥ >= ＞= ≤ < > = 不少于 不超过 超过 不满 达 下达 达到 约 "
    "近 控制在 每家 每个站点 以上 及以上 以下 以内 左右 多 余 万 亿 千 "
    "百 万元 亿元 元 % 百分比 家 个 份 人次 平米 平方米 分钟 倍 次/日 "
    "台桩 - ~ 至 年 月 底 前 第四季度 2024 12 1,300 95 "
    "97.5 0 7*24 ( ) （ ） ， 、 。 <b> </b> 提升 "
    "满意度 GB/T 服务对象 起 "
    "内 以内 之内 内完成 个工作日 小时 只 株 厘米 km 万粒 元/亩 /株 元/生/年 ═ ≧ 不少于开展 至少全年"
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


@settings(max_examples=500)
@given(any_text)
def test_nfkc_is_idempotent_for_the_parser(text):
    # what the parser reads in a text is what it reads in the text's NFKC form (and NFKC of that)
    once = unicodedata.normalize("NFKC", text)
    assert without_raw(once) == without_raw(text) == without_raw(unicodedata.normalize("NFKC", once))


UNITS_AFTER_NUMBERS = st.sampled_from(["", "元", "万元", "个", "%", "平方米", "株", "人次", "元/亩"])
COMPARATORS = st.sampled_from(["", "≥", "≤", "不少于", "不超过", ">", "="])


@settings(max_examples=300)
@given(st.integers(1000, 10**12), COMPARATORS, UNITS_AFTER_NUMBERS)
def test_thousands_separators_do_not_change_the_number(number, comparator, unit):
    grouped = f"{comparator}{number:,}{unit}"
    plain = f"{comparator}{number}{unit}"
    assert without_raw(grouped) == without_raw(plain)
    assert parse_target(grouped).value is not None


@settings(max_examples=300)
@given(st.integers(0, 10**9), st.integers(0, 99), COMPARATORS, UNITS_AFTER_NUMBERS, st.data())
def test_whitespace_inside_a_number_does_not_change_it(whole, cents, comparator, unit, data):
    digits = f"{whole}.{cents:02d}"
    spaced = "".join(ch + data.draw(st.text(st.sampled_from(WHITESPACE), max_size=2)) for ch in digits)
    parse = parse_target(f"{comparator}{spaced}{unit}")
    assert parse.kind == "quantity"
    magnitude = 4 if unit.startswith("万") else 0
    assert parse.value == Decimal(digits).scaleb(magnitude)


@settings(max_examples=300)
@given(any_text, any_text)
def test_comparing_and_assuming_units_never_raises(a, b):
    target, actual = parse_target(a), parse_target(b)
    units_compatible(target, actual)
    assumed = with_target_unit(actual, target)
    if assumed is not None:
        assert assumed.unit_raw == target.unit_raw and units_compatible(target, assumed)
