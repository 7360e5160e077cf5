"""The target table's quality checks (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.target_quality import SUGGESTION_NUMBER, QualitySettings, check_table


@dataclass
class Row:
    id: int | None
    level1: str
    name: str
    annual_target: str | None
    level2: str | None = None
    period_target: str | None = None


def codes(report) -> list[tuple[str, int | None]]:
    return [(i.code, i.indicator_id) for i in report.issues]


def test_a_sound_table_has_no_issue():
    report = check_table(
        [
            Row(1, "output", "监测报告", "≥12份", "quantity", "≥36份"),
            Row(2, "output", "完成时间", "2025年12月31日前", "timeliness"),
            Row(3, "outcome", "干扰投诉处理率", "100%", "social"),
            Row(4, "satisfaction", "服务对象满意度", "≥90%", "service_satisfaction"),
        ],
        year=2025,
    )
    assert report.issues == ()
    assert (report.quantitative, report.quantitative_share, report.not_measurable) == (4, Decimal("100.00"), 0)


def test_vague_targets_are_flagged_with_a_suggestion_and_lower_the_share():
    report = check_table(
        [
            Row(1, "output", "监测报告", "≥12份"),
            Row(2, "outcome", "监测能力", "提升"),
            Row(3, "outcome", "营商环境", "有效改善"),
        ]
    )
    vague = [i for i in report.issues if i.code == "not_measurable"]
    assert [i.indicator_id for i in vague] == [2, 3]
    assert vague[0].message == "第2行“监测能力”的年度指标值“提升”不可衡量：只说了变化的方向，没有说明变化多少"
    assert vague[0].suggestion == SUGGESTION_NUMBER and vague[0].field == "indicators[2].annual_target"
    assert report.quantitative_share == Decimal("33.33") and report.not_measurable == 2
    low = [i for i in report.issues if i.code == "low_quantitative_share"]
    assert low[0].message == "定量指标占比 33.33%（1/3），低于要求的 60%" and low[0].severity == "error"
    # the share is a setting
    relaxed = check_table(
        [Row(1, "output", "a", "≥1次"), Row(2, "outcome", "b", "提升")], settings=QualitySettings(Decimal("50"))
    )
    assert "low_quantitative_share" not in [c for c, _ in codes(relaxed)]


def test_missing_categories_units_dates_rates_and_repeats():
    report = check_table(
        [
            Row(1, "output", "设备购置", "≥21000家", "quantity", "1"),
            Row(2, "output", "完成时限", "按时完成", "timeliness"),
            Row(3, "output", "设备完好率", "≥95", "quality"),
            Row(4, "output", "设备购置", "2台", "quantity"),
            Row(5, "satisfaction", "服务对象满意度", "≥90%"),
        ],
        year=2025,
    )
    found = codes(report)
    assert ("missing_category", None) in found  # no 效益
    assert ("unit_class_mismatch", 1) not in found  # "1" has no unit: nothing to compare
    assert ("timeliness_without_date", 2) in found
    assert ("rate_without_percent", 3) in found
    assert ("duplicate", 4) in found
    missing = next(i for i in report.issues if i.code == "missing_category")
    assert missing.message == "目标表缺少效益指标：每个项目都应设置效益指标"
    mixed = check_table([Row(1, "output", "培训", "≥95%", None, "≥12次"), Row(2, "outcome", "效益", "≥1个")])
    assert codes(mixed) == [("unit_class_mismatch", 1)]


def test_a_deadline_before_the_tables_year_is_flagged():
    """Copied from last year, “2024年12月前” stayed in the 2025 table unflagged, and the 2025 自评 would score
    against a date a year gone."""
    report = check_table(
        [
            Row(1, "output", "监测报告", "≥12份"),
            Row(2, "output", "专项资金支出及时程度", "2024年12月前", "timeliness"),
            Row(3, "output", "完成时间", "2025年6月30日前", "timeliness"),
        ],
        year=2025,
    )
    stale = [i for i in report.issues if i.code == "deadline_before_year"]
    assert [(i.indicator_id, i.severity, i.field) for i in stale] == [(2, "warning", "indicators[2].annual_target")]
    assert (
        stale[0].message
        == "第2行“专项资金支出及时程度”的完成期限“2024年12月前”早于 2025 年度：复制上年的表时请改为今年的日期"
    )
    # without a year there is nothing to compare with
    assert "deadline_before_year" not in [c for c, _ in codes(check_table([Row(2, "output", "x", "2024年12月前")]))]
