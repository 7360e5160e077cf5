"""The language of target values, form by form (shared/domain.md §4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.targets import parse_target, unit_class_of, units_compatible


def parsed(text: str, **kwargs) -> dict:
    return parse_target(text, **kwargs).to_json()


def op_value_unit(text: str) -> tuple:
    p = parsed(text)
    return p["op"], p["value"], p["unit"]


# --- comparators: symbols and words, before and after the number --------------------------


@pytest.mark.parametrize(
    "text, op",
    [
        # ≥
        ("≥10家", ">="),
        ("≧10家", ">="),
        (">=10家", ">="),
        ("＞=10家", ">="),
        ("不少于10家", ">="),
        ("不低于10家", ">="),
        ("不小于10家", ">="),
        ("至少10家", ">="),
        ("达10家", ">="),
        ("达到10家", ">="),
        ("可达到10家", ">="),
        ("大于等于10家", ">="),
        ("10家以上", ">="),
        ("10家及以上", ">="),
        # >
        (">10家", ">"),
        ("＞10家", ">"),
        ("超10家", ">"),
        ("超过10家", ">"),
        ("大于10家", ">"),
        ("多于10家", ">"),
        ("高于10家", ">"),
        # ≤
        ("≤10家", "<="),
        ("<=10家", "<="),
        ("不超过10家", "<="),
        ("不高于10家", "<="),
        ("不大于10家", "<="),
        ("10家以内", "<="),
        ("10家以下", "<="),
        ("10家及以下", "<="),
        ("控制在10家以内", "<="),
        # <
        ("<10家", "<"),
        ("＜10家", "<"),
        ("少于10家", "<"),
        ("小于10家", "<"),
        ("低于10家", "<"),
        ("不满10家", "<"),
        ("不足10家", "<"),
        # =
        ("10家", "="),
        ("=10家", "="),
        ("为10家", "="),
        ("等于10家", "="),
    ],
)
def test_every_comparator_form_reads_as_its_operator(text, op):
    p = parsed(text)
    assert (p["kind"], p["op"], p["value"], p["unit"]) == ("quantity", op, "10", "家")
    assert p["confidence"] == "high" and p["warnings"] == []


def test_legal_reading_以上_以下_以内_include_超过_不满_exclude():
    # 民法典 第一千二百五十九条: the boundary value meets 以上/以下/以内, not 超过/不满
    assert parsed("95%以上")["op"] == ">="
    assert parsed("5%以下")["op"] == "<="
    assert parsed("5%以内")["op"] == "<="
    assert parsed("超过95%")["op"] == ">"
    assert parsed("不满18人")["op"] == "<"


def test_direction_follows_the_operator_only():
    assert parsed("≥95%")["direction"] == "higher"
    assert parsed("超2倍")["direction"] == "higher"
    assert parsed("100%")["direction"] == "higher"
    assert parsed("约95%")["direction"] == "higher"
    assert parsed("2-4家")["direction"] == "higher"
    assert parsed("≤3次")["direction"] == "lower"
    assert parsed("少于3次")["direction"] == "lower"


@pytest.mark.parametrize("text", ["下达10个", "到达10个", "送达10份"])
def test_达_inside_a_verb_is_not_a_comparator(text):
    p = parsed(text)
    assert p["op"] == "=" and p["value"] == "10"


def test_达_after_a_noun_is_a_comparator_and_达成_is_qualitative():
    assert parsed("优秀率达90%")["op"] == ">="
    assert parsed("达成")["kind"] == "qualitative"
    assert parsed("达标率95%")["op"] == "="  # 达标率: 达 is part of a noun


def test_conflicting_comparators_keep_the_first_and_say_so():
    p = parsed("不少于5个以下")
    assert p["op"] == ">=" and p["confidence"] == "low" and p["warnings"]


# --- magnitudes, separators, percent, units -------------------------------------------------


@pytest.mark.parametrize(
    "text, value, unit, unit_raw",
    [
        ("不少于1,300亿元", "130000000000", "元", "亿元"),
        ("390亿", "39000000000", None, "亿"),
        ("53万台", "530000", "台", "万台"),
        ("≥12万", "120000", None, "万"),
        ("3千元", "3000", "元", "千元"),
        ("5百万元", "5000000", "元", "百万元"),
        ("1.5亿元", "150000000", "元", "亿元"),
        ("20万元", "200000", "元", "万元"),
    ],
)
def test_magnitudes_scale_the_value_and_the_unit_keeps_its_base(text, value, unit, unit_raw):
    p = parsed(text)
    assert (p["value"], p["unit"], p["unit_raw"]) == (value, unit, unit_raw)


def test_thousands_separators_are_dropped():
    assert parsed("12,345,678元")["value"] == "12345678"
    assert parsed("1，500家以上")["value"] == "1500"  # full-width comma


def test_percent_is_kept_in_points_and_百分比_means_percent():
    assert op_value_unit("≥95%") == (">=", "95", "%")
    assert op_value_unit("97.5%") == ("=", "97.5", "%")
    p = parsed("95百分比")
    assert (p["unit"], p["unit_raw"], p["unit_class"]) == ("%", "百分比", "percent")


def test_values_are_plain_decimal_strings():
    assert parsed("97.50%")["value"] == "97.5"
    assert parsed("100%")["value"] == "100"
    assert parsed("1881.47平方米")["value"] == "1881.47"
    long_number = "1234567890123456789012345678901234567890"
    assert parsed(long_number + "亿元")["value"] == long_number + "00000000"  # exact, no rounding
    assert isinstance(parse_target("12份").value, Decimal)


@pytest.mark.parametrize(
    "text, unit, unit_class",
    [
        ("3个", "个", "count"),
        ("12份", "份", "count"),
        ("7班次", "班次", "count"),
        ("200人次", "人次", "count"),
        ("22000家次", "家次", "count"),
        ("2台套", "台套", "count"),
        ("20000平米", "平方米", "area"),
        ("1881.47平方米", "平方米", "area"),
        ("60分钟", "分钟", "time"),
        ("4周", "周", "time"),
        ("80亿元", "元", "money"),
        ("100%", "%", "percent"),
        ("超2倍", "倍", "ratio"),
        ("20次/日", "次/日", "other"),
        ("5吨", "吨", "other"),
    ],
)
def test_units_get_their_class(text, unit, unit_class):
    p = parsed(text)
    assert (p["unit"], p["unit_class"]) == (unit, unit_class)


def test_unit_class_of_reads_units_as_written_or_stored():
    assert unit_class_of("家") == "count"
    assert unit_class_of("亿元") == "money"
    assert unit_class_of("平米") == "area"
    assert unit_class_of("百分比") == "percent"
    assert unit_class_of("次/日") == "other"
    assert unit_class_of("桶") == "other"
    assert unit_class_of("亿") is None
    assert unit_class_of(None) is None and unit_class_of("") is None


def test_units_compatible_compares_classes_not_spellings():
    target = parse_target("≥10家")
    assert units_compatible(target, parse_target("12个"))  # 个 and 家 are both counts
    assert units_compatible(target, parse_target("12"))  # no unit: compatible
    assert not units_compatible(target, parse_target("12%"))
    assert not units_compatible(parse_target("20次/日"), parse_target("20次/周"))
    assert not units_compatible(target, parse_target("达成"))
    assert units_compatible(parse_target("提升"), parse_target("达成"))


# --- full-width and whitespace ----------------------------------------------------------------


def test_full_width_and_ideographic_spaces_are_normalised():
    assert op_value_unit("＞＝９５％") == (">=", "95", "%")
    assert op_value_unit("≥\u300095 %") == (">=", "95", "%")
    assert op_value_unit("  不少于 1,300 亿元 ") == (">=", "130000000000", "元")
    assert parsed("60分钟 ")["raw"] == "60分钟 "  # raw is kept exactly


# --- ranges and approximations -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, low, high",
    [
        ("2-4家", "2", "4"),
        ("5至10家", "5", "10"),
        ("1~2家", "1", "2"),
        ("1～2家", "1", "2"),
        ("5家到10家", "5", "10"),
        ("2-4万元", "20000", "40000"),
    ],
)
def test_ranges(text, low, high):
    p = parsed(text)
    assert (p["op"], p["value"], p["value_max"]) == ("range", low, high)
    assert p["unit_class"] in ("count", "money")


def test_reversed_range_is_put_in_order_with_a_warning():
    p = parsed("10-5家")
    assert (p["value"], p["value_max"]) == ("5", "10") and p["warnings"]


@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("约95%", "95", "%"),
        ("100人左右", "100", "人"),
        ("近100家", "100", "家"),
        ("370多家", "370", "家"),
        ("百余例", "100", "例"),
        ("1000余人", "1000", "人"),
    ],
)
def test_approximations(text, value, unit):
    assert op_value_unit(text) == ("~", value, unit)


# --- deadlines -----------------------------------------------------------------------------


def test_month_前_is_the_end_of_that_month_and_says_so():
    p = parsed("2024年12月前")
    assert (p["kind"], p["op"], p["deadline"]) == ("deadline", "<=", "2024-12-31")
    assert any("前" in w for w in p["warnings"])


@pytest.mark.parametrize(
    "text, deadline",
    [
        ("2024年底", "2024-12-31"),
        ("2024-11-30", "2024-11-30"),
        ("2024/6/15", "2024-06-15"),
        ("2024年2月底前", "2024-02-29"),
        ("2023年2月前", "2023-02-28"),
        ("2024年11月30日前", "2024-11-30"),
        ("2024年第三季度", "2024-09-30"),
    ],
)
def test_deadlines_with_a_year(text, deadline):
    p = parse_target(text)
    assert p.kind == "deadline" and p.deadline.isoformat() == deadline


def test_deadline_without_year_uses_the_reference_year():
    assert parse_target("12月底前", year=2024).deadline == date(2024, 12, 31)
    assert parse_target("第四季度", year=2025).deadline == date(2025, 12, 31)
    assert parse_target("年底", year=2024).deadline == date(2024, 12, 31)


def test_deadline_without_any_year_is_none_with_a_warning():
    p = parse_target("12月底前")
    assert p.kind == "deadline" and p.deadline is None
    assert p.confidence == "low" and "未写年份，无法确定截止日期" in p.warnings


def test_impossible_date_is_not_a_deadline():
    p = parse_target("2024-02-30")
    assert p.kind == "qualitative" and p.warnings


# --- sentences, per-item standards, qualitative, zero -------------------------------------


@pytest.mark.parametrize(
    "text, op, value",
    [
        ("项目建成月产能≥9万片", ">=", "90000"),
        ("每个站点≥3台桩", ">=", "3"),
        ("服务对象（不少于10个处室或部门）的满意度95%及以上", ">=", "95"),
        ("上、下半年各播放4周，≥20次/日", ">=", "20"),
        ("7*24小时内业务系统99%运行正常", "=", "99"),
    ],
)
def test_a_number_inside_a_sentence_is_extracted_with_low_confidence(text, op, value):
    p = parsed(text)
    assert (p["kind"], p["op"], p["value"], p["confidence"]) == ("quantity", op, value, "low")
    assert p["warnings"]


def test_a_sentence_with_competing_numbers_is_qualitative_and_says_why():
    p = parsed("预备役队员军事技能合格率100%，优秀率达90%")
    assert (p["kind"], p["op"], p["confidence"]) == ("qualitative", None, "low")
    assert p["warnings"]


def test_per_item_cost_is_at_most_by_default_with_a_warning():
    p = parsed("每家20万元")
    assert (p["op"], p["value"], p["unit"], p["direction"]) == ("<=", "200000", "元", "lower")
    assert len(p["warnings"]) == 2 and p["confidence"] == "low"
    assert parsed("每家不超过20万元")["op"] == "<="


@pytest.mark.parametrize(
    "text",
    [
        "提升",
        "提高",
        "有效改善",
        "完善",
        "推进",
        "实现",
        "明显",
        "按时出报",
        "全部符合",
        "备案",
        "二级备案",
        "年度计划数",
        "达成",
    ],
)
def test_qualitative_phrases(text):
    p = parsed(text)
    assert (p["kind"], p["op"], p["value"], p["direction"]) == ("qualitative", None, None, None)
    assert p["warnings"] == []


def test_zero_targets():
    assert op_value_unit("0起") == ("=", "0", "起")
    assert op_value_unit("≤0") == ("<=", "0", None)


# --- what bad input gets --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty_is_qualitative_with_a_warning(text):
    p = parsed(text)
    assert p["kind"] == "qualitative" and p["warnings"] == ["指标值为空"]


@pytest.mark.parametrize("text", ["!!!", "abc", "\x00\x01", "😀", "1e400", "NaN", "-"])
def test_garbage_is_qualitative_with_a_chinese_warning(text):
    p = parsed(text)
    assert p["kind"] == "qualitative" and p["confidence"] == "low"
    assert p["warnings"] and all(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in p["warnings"])


def test_html_tags_are_ignored_and_reported():
    p = parsed("<b>≥95%</b>")
    assert (p["op"], p["value"], p["raw"]) == (">=", "95", "<b>≥95%</b>")
    assert "已忽略文字中的HTML标签" in p["warnings"]
    script = parsed("<script>alert(1)</script>")
    assert script["kind"] == "qualitative" and script["warnings"]
    assert op_value_unit("<3次") == ("<", "3", "次")  # a comparator, not a tag


def test_ten_thousand_characters_parse_quickly():
    import time

    started = time.perf_counter()
    for text in (
        "提升" * 5000,
        "≥95%" + "字" * 10_000,
        "9" * 10_000,
        "1," * 5000,
        "每" * 10_000,
        "a" * 10_000,
        "a/" * 5000,
        "(1个" * 3000,
    ):
        p = parse_target(text)
        assert p.raw == text
    assert time.perf_counter() - started < 2


def test_non_string_input_does_not_raise():
    assert parse_target(None).kind == "qualitative"  # type: ignore[arg-type]
    assert parse_target(95).value == Decimal(95)  # type: ignore[arg-type]


# --- actuals are the same language ---------------------------------------------------------


def test_actuals_parse_with_the_same_function():
    assert op_value_unit("12份") == ("=", "12", "份")
    assert op_value_unit("97.5%") == ("=", "97.5", "%")
    assert parse_target("2024-11-30").deadline == date(2024, 11, 30)
    assert parse_target("达成").kind == "qualitative"
