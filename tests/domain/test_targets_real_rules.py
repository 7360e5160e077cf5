"""Rules found on real forms from other provinces (shared/domain.md §4, issue 10 items 3–7).

Each case states what a finance official reads in the string; the strings are written for
these tests in the shapes the published forms use.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from app.domain.targets import (
    W_DISTANT,
    W_RATE_LE,
    combine_split,
    conversion_factor,
    magnitude_of,
    parse_target,
    units_compatible,
    with_target_unit,
)

D = Decimal


def read(text: str, year: int | None = 2023) -> tuple:
    p = parse_target(text, year=year)
    return p.kind, p.op, p.value, p.unit_raw, p.unit_class, p.direction


# --- 6. unit words outside the vocabulary are units -----------------------------------------


@pytest.mark.parametrize(
    "text, op, value, unit_raw",
    [
        ("6架", "=", "6", "架"),
        ("≥300块", ">=", "300", "块"),
        ("≥40厘米", ">=", "40", "厘米"),
        ("3km", "=", "3", "km"),
        ("120万粒", "=", "1200000", "万粒"),  # a magnitude before the word stays a magnitude
        ("≥15年", ">=", "15", "年"),
        ("30头以上", ">=", "30", "头"),
    ],
)
def test_an_unknown_unit_word_after_a_number_is_a_unit_of_class_other(text, op, value, unit_raw):
    kind, got_op, got_value, got_unit, unit_class, _ = read(text)
    assert (kind, got_op, got_value, got_unit, unit_class) == ("quantity", op, D(value), unit_raw, "other")


@pytest.mark.parametrize("text", ["2024年底", "2025年内", "2023年"])
def test_a_year_is_still_a_deadline_not_a_number_of_years(text):
    assert parse_target(text).kind == "deadline"


def test_a_known_unit_is_not_swallowed_into_a_longer_word():
    p = parse_target("每个站点≥3台桩")
    assert (p.op, p.value, p.unit, p.confidence) == (">=", D("3"), "台", "low")


# --- 4. time limits written with 内 are upper bounds ----------------------------------------


@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("3个工作日内", "3", "个工作日"),
        ("15分钟内响应", "15", "分钟"),
        ("4小时内到达现场", "4", "小时"),
        ("7天内完成", "7", "天"),
        ("10个工作日以内办结", "10", "个工作日"),
        ("48小时之内", "48", "小时"),
    ],
)
def test_a_time_limit_with_nei_is_at_most_and_lower_is_better(text, value, unit):
    assert read(text) == ("quantity", "<=", D(value), unit, "time", "lower")


# --- 5. rate units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, op, value, unit",
    [
        ("1200元/亩", "<=", "1200", "元/亩"),
        ("650元/生/年", "<=", "650", "元/生/年"),
        ("≤35.5/株", "<=", "35.5", "/株"),
        ("≤2500元/平方米", "<=", "2500", "元/平方米"),
        ("≥2次/周", ">=", "2", "次/周"),  # an explicit comparator wins
        ("3次/周", "=", "3", "次/周"),  # a frequency is not a cost standard
    ],
)
def test_a_rate_unit_is_kept_whole_and_a_money_rate_defaults_to_at_most(text, op, value, unit):
    p = parse_target(text)
    assert (p.kind, p.op, p.value, p.unit_raw, p.unit_class) == ("quantity", op, D(value), unit, "other")
    assert (W_RATE_LE in p.warnings) == (op == "<=" and not text.startswith("≤"))


# --- 7. a comparator away from its number ---------------------------------------------------


@pytest.mark.parametrize(
    "text, op, value",
    [
        ("不少于全年开展3次培训", ">=", "3"),
        ("至少组织4场宣传活动", ">=", "4"),
        ("不超过全年安排2次检修", "<=", "2"),
    ],
)
def test_a_comparator_before_a_verb_phrase_governs_the_number(text, op, value):
    p = parse_target(text)
    assert (p.kind, p.op, p.value, p.confidence) == ("quantity", op, D(value), "low")
    assert W_DISTANT in p.warnings


def test_da_inside_a_verb_is_still_not_a_comparator_at_a_distance():
    assert parse_target("下达资金后完成3次验收").op == "="


# --- glyphs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, op", [("═100%", "="), ("═ 95 %", "="), ("≧90%", ">="), ("≦5%", "<=")])
def test_glyphs_of_split_column_forms(text, op):
    p = parse_target(text)
    assert (p.op, p.unit, p.confidence) == (op, "%", "high")


# --- one rule for comparing units -----------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, factor",
    [
        ("≥30分钟", "1周", Fraction(1, 10080)),  # time: fixed factors
        ("≥2小时", "90分钟", Fraction(60)),
        ("≤3天", "1周", Fraction(1, 7)),
        ("≥100平米", "1公顷", Fraction(1, 10000)),  # area: 平米 is 平方米
        ("≥100平方米", "120平米", Fraction(1)),
        ("≥10万元", "12亿元", Fraction(1)),  # money: magnitudes are in the value already
        ("≥10家", "12个", Fraction(1)),  # counts are counts
        ("≥95%", "96%", Fraction(1)),
        ("≥1.5倍", "2倍", Fraction(1)),  # ratio
        ("≥20株", "25株", Fraction(1)),  # other: the same word
        ("≤1200元/亩", "1100元/亩", Fraction(1)),
    ],
)
def test_units_of_one_class_compare_after_a_fixed_conversion(a, b, factor):
    target, actual = parse_target(a), parse_target(b)
    assert units_compatible(target, actual)
    assert conversion_factor(target, actual) == factor


@pytest.mark.parametrize(
    "a, b",
    [
        ("≥3个工作日", "3天"),  # time without a fixed factor
        ("≥3个月", "12周"),
        ("≥10亩", "1000平方米"),  # 亩 is not in the fixed list
        ("≥95%", "3个百分点"),  # percent and percentage points
        ("≥20株", "25棵"),  # other: different words
        ("≤1200元/亩", "1100元/平方米"),  # different rates
        ("≥10家", "12平方米"),  # different classes
    ],
)
def test_units_without_a_fixed_factor_must_be_the_same_unit(a, b):
    assert not units_compatible(parse_target(a), parse_target(b))
    assert conversion_factor(parse_target(a), parse_target(b)) is None


# --- 3. a bare actual takes the target's unit and magnitude ---------------------------------


def test_a_bare_actual_takes_the_unit_and_magnitude_of_its_target():
    target = parse_target("≤85万元")
    assert magnitude_of(target) == 4
    assumed = with_target_unit(parse_target("88"), target)
    assert (assumed.value, assumed.unit, assumed.unit_raw, assumed.unit_class) == (D("880000"), "元", "万元", "money")
    assert with_target_unit(parse_target("88万元"), target) is None  # has its own unit
    assert with_target_unit(parse_target("88"), parse_target("≥88")) is None  # nothing to assume
    assert with_target_unit(parse_target("达成"), target) is None
    bare_magnitude = with_target_unit(parse_target("3"), parse_target("≥2亿"))
    assert bare_magnitude.value == D("300000000")


@pytest.mark.parametrize("target, unit_raw", [("≥100百分比", "百分比"), ("≥5千米", "千米"), ("≤30千克", "千克")])
def test_a_unit_that_begins_like_a_magnitude_is_not_scaled(target, unit_raw):
    # 池州 2022 prints "≥100百分比" with the bare actual "100"
    parse = parse_target(target)
    assert parse.unit_raw == unit_raw and magnitude_of(parse) == 0
    assert with_target_unit(parse_target("100"), parse).value == D("100")


# --- 8. split cells: 指标性质 | 指标值 | 度量单位 -----------------------------------------------


@pytest.mark.parametrize(
    "cells, combined",
    [
        (("≥", "95", "%"), "≥95%"),
        (("=", "11", "个"), "=11个"),
        (("≧", "90", "%"), "≧90%"),  # kept as printed; the parser reads ≧ as ≥
        (("═", "100", "%"), "═100%"),
        (("大于", "3", "次"), "大于3次"),
        (("定量", "100", "%"), "100%"),
        (("", "95%", ""), "95%"),
        (("≥", "≥95", "%"), "≥95%"),  # the value already carries the comparator
        (("≤", "30万元", "万元"), "≤30万元"),  # and its unit
        (("定性", "应保尽保", "%"), "应保尽保"),  # a unit printed on a 定性 row means nothing
        ((" ≥ ", " 1 ", " 人/年 "), "≥1人/年"),
    ],
)
def test_split_cells_combine_exactly(cells, combined):
    assert combine_split(*cells) == (combined, [])
    if combined != "应保尽保":
        assert parse_target(combined).kind == "quantity"


@pytest.mark.parametrize(
    "cells, words",
    [
        (("定性", "95", "%"), "定性"),
        (("≥", "按时完成", ""), "不是数值"),
        (("≥", "≤95", "%"), "比较符不一致"),
        (("定量", "28.8万元", "%"), "单位"),  # 岳阳楼区 2023 prints exactly this row
        (("约等于", "3", "个"), "无法识别"),
        (("≥", "", "%"), "指标值为空"),
    ],
)
def test_split_cells_that_contradict_each_other_are_refused_with_a_reason(cells, words):
    combined, problems = combine_split(*cells)
    assert combined is None and len(problems) == 1 and words in problems[0]


def test_three_empty_cells_are_no_target_and_no_error():
    assert combine_split(None, "", " ") == (None, [])
