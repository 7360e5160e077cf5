"""The 绩效目标表 quality checks are settings of the scoring template in force (per year and
department): the quantitative share, the categories required and suggested, the 分值 sum."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.domain.scoring import NATIONAL_2020, TemplateSettings
from app.domain.target_quality import check_table, quality_settings
from app.services import target_tables, templates
from tests.services.evaluation_data import YEAR, project_with, two_units


def _row(level1, name, target, weight=None, n=1):
    return SimpleNamespace(
        id=n, level1=level1, level2=None, name=name, period_target=None, annual_target=target, weight=weight
    )


def _codes(report):
    return sorted(i.code for i in report.issues)


def test_the_defaults_follow_the_2021_guideline():
    rows = [
        _row("output", "监测报告", "≥12份", Decimal("60"), 1),
        _row("outcome", "监测能力", "提升", Decimal("30"), 2),
    ]
    report = check_table(rows, year=YEAR, settings=quality_settings(NATIONAL_2020))
    # 1 of 2 quantitative (50% < 60%), no 满意度 (a suggestion), 分值 sum 90 (fine)
    assert _codes(report) == ["low_quantitative_share", "not_measurable", "suggested_category"]


def test_a_template_may_ask_for_less_or_more():
    settings = TemplateSettings.from_json(
        {
            "quality_min_quantitative_share": "50",
            "quality_required_categories": ["output"],
            "quality_suggested_categories": [],
        }
    )
    rows = [_row("output", "监测报告", "≥12份", n=1), _row("output", "监测能力", "提升", n=2)]
    assert _codes(check_table(rows, year=YEAR, settings=quality_settings(settings))) == ["not_measurable"]


def test_given_points_must_sum_as_the_template_says():
    rows = [_row("output", "报告", "≥12份", Decimal("40"), 1), _row("outcome", "覆盖率", "≥95%", Decimal("30"), 2)]
    report = check_table(rows, year=YEAR, settings=quality_settings(NATIONAL_2020))
    sums = [i for i in report.issues if i.code == "weights_sum"]
    assert len(sums) == 1 and "合计 70" in sums[0].message and "合计 90" in sums[0].message
    rows[1].weight = None
    assert "weights_incomplete" in _codes(check_table(rows, year=YEAR, settings=quality_settings(NATIONAL_2020)))
    off = TemplateSettings.from_json({"quality_weight_sum": False})
    assert not {"weights_sum", "weights_incomplete"} & set(
        _codes(check_table(rows, year=YEAR, settings=quality_settings(off)))
    )


def test_a_category_the_template_lacks_is_refused_as_a_setting():
    with pytest.raises(ValueError, match="cost"):
        TemplateSettings.from_json({"quality_required_categories": ["output", "cost"]})
    from app.domain.scoring import GUIDELINE_2021

    guideline = TemplateSettings.from_json(
        {**GUIDELINE_2021.to_json(), "quality_required_categories": ["output", "cost"]}
    )
    missing = [
        i
        for i in check_table([_row("output", "报告", "≥1份")], year=YEAR, settings=quality_settings(guideline)).issues
        if i.code == "missing_category"
    ]
    assert [i.message for i in missing] == ["目标表缺少成本指标：每个项目都应设置成本指标"]


def test_the_stored_template_version_in_force_decides_the_checks(session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, [("output", "监测报告", "≥12份"), ("outcome", "监测能力", "提升")])
    before = target_tables.quality(session=session, project=project)
    assert [i.code for i in before.errors] == ["low_quantitative_share"]  # 1 of 2 < the default 60%
    templates.new_version(session=session, name="national-2020", changes={"quality_min_quantitative_share": "40"})
    after = target_tables.quality(session=session, project=project)
    assert "low_quantitative_share" not in _codes(after)
    templates.new_version(session=session, name="national-2020", changes={"quality_min_quantitative_share": "100"})
    strict = target_tables.quality(session=session, project=project)
    assert [i.message for i in strict.errors if i.code == "low_quantitative_share"] == [
        "定量指标占比 50.00%（1/2），低于要求的 100%"
    ]


def test_a_structure_without_the_default_categories_stores_and_reads_back():
    from app.domain.categories import Structure

    national = NATIONAL_2020.to_json()["categories"]
    only_output = [
        {**c, "points": "90"} if c["slug"] == "output" else c for c in national if c["slug"] in ("execution", "output")
    ]
    settings = TemplateSettings.from_json({"categories": only_output})
    assert settings.quality_required_categories == ("output",)
    assert settings.quality_suggested_categories == ()
    assert TemplateSettings.from_json(settings.to_json()) == settings
    assert Structure.from_json(only_output).indicator_slugs == ("output",)


def test_quality_of_keeps_a_report_for_the_same_rows_and_rules():
    """A project read again is not checked again; any checked column changed (a 分值 written otherwise
    too: 30 and 30.0 read the same but are kept apart), another year or other rules check anew."""

    def rows(name="监测能力", weight=Decimal("30")):
        return [
            {"id": 1, "level1": "output", "level2": None, "name": "报告", "period_target": None,
             "annual_target": "≥12份", "given_weight": Decimal("60")},
            {"id": 2, "level1": "outcome", "level2": None, "name": name, "period_target": None,
             "annual_target": "提升", "given_weight": weight},
        ]  # fmt: skip

    first = target_tables.quality_of(rows(), year=YEAR, settings=NATIONAL_2020)
    assert target_tables.quality_of(rows(), year=YEAR, settings=NATIONAL_2020) is first
    assert first == check_table(
        target_tables._quality_rows(rows()), year=YEAR, settings=quality_settings(NATIONAL_2020)
    )
    for other in (
        target_tables.quality_of(rows(name="监测覆盖率"), year=YEAR, settings=NATIONAL_2020),
        target_tables.quality_of(rows(weight=Decimal("30.0")), year=YEAR, settings=NATIONAL_2020),
        target_tables.quality_of(rows(), year=YEAR + 1, settings=NATIONAL_2020),
        target_tables.quality_of(rows(), year=YEAR, settings=TemplateSettings.from_json({"quality_weight_sum": False})),
    ):
        assert other is not first
