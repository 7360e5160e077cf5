"""Import with the template in force (issue 10 item 1): categories are read as every built-in
template writes them (成本指标 / 经济成本指标 of the 2021 guideline too), and a file whose categories
do not fit the template the bureau chose for its year is refused whole, at its rows, naming the
template that would accept it. Rows are real published ones (tests/data/real/cost_level1_tables.json)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from app.domain.categories import level1_from_text, level2_from_text
from app.models import Indicator, Project, ScoringTemplate, SelfEvaluation
from app.services import imports, templates
from tests import factories

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
TABLES = json.loads((REAL / "cost_level1_tables.json").read_text(encoding="utf-8"))["tables"]
NANYUE = REAL / "nanyue_2018_row_layout.txt"
HEAD = (
    "年度,主管部门,单位名称,项目名称,年度预算数（万元）,年度目标,"
    "一级指标,二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)


def csv_of(*keys: str, year: int | None = None) -> str:
    lines = [HEAD]
    for key in keys:
        t = TABLES[key]
        for r in t["rows"]:
            cells = [
                str(year or t["year"]),
                t["department"],
                t["unit"],
                t["project"],
                t["budget"],
                t["annual_goal"],
                r["level1"],
                r["level2"],
                r["name"],
                r["target"],
                r["target"],
                r["weight"],
            ]
            lines.append(",".join(f'"{c}"' for c in cells) + "\n")
    return "".join(lines)


def run(session, text: str, name: str, year: int | None = None):
    return imports.import_file(session=session, data=text.encode("utf-8"), filename=name, year=year)


def projects(session) -> int:
    return session.exec(select(sa.func.count()).select_from(Project)).one()


def test_the_2021_categories_are_read_as_tables_write_them():
    from app.importers.published_rows import _starts_level1

    assert level1_from_text("成本指标(0-20)分").slug == "cost"
    assert level1_from_text("4-成本指标").slug == "cost"
    assert level1_from_text("产出指标\n(40-50)分").slug == "output"
    assert level2_from_text("经济成本指标").slug == "economic_cost"
    assert level2_from_text("生态环境成本").slug == "ecological_cost"
    assert level2_from_text("14-成本指标").slug == "cost"  # national: under 产出
    # in the printed-row layout "成本指标" opens a level-1 block only when its level-2 follows
    assert _starts_level1(["成本指标", "经济成本指标", "项目建设成本", "≤65万元"])
    assert not _starts_level1(["成本指标", "流转土地补助标准", "<=475元/亩"])


def test_a_cost_level1_file_is_refused_under_national_2020_naming_the_2021_guideline(session):
    report = run(session, csv_of("cq-fengjie-2023"), "奉节.csv")
    assert not report.ok and not report.committed
    (error,) = report.errors
    assert error["code"] == "template_mismatch"
    assert error["message"].startswith(
        "一级指标“成本指标”不属于 2023 年度所用的评分模板 national-2020（财预〔2020〕10号）；"
        "该表符合评分模板 guideline-2021（2021 指引，财预〔2021〕101号）"
    )
    assert "jixiao scoring use --year 2023 --template guideline-2021" in error["message"]
    assert (error["place"]["row"], error["place"]["column"], error["place"]["value"]) == (
        2,
        "一级指标",
        "成本指标(0-20)分",
    )
    assert projects(session) == 0


def test_a_cost_level1_file_imports_when_the_year_uses_the_2021_guideline(session):
    templates.choose(session=session, year=2023, name="guideline-2021")
    report = run(session, csv_of("cq-fengjie-2023"), "奉节.csv")
    assert report.ok and report.committed, report.errors
    (row,) = session.exec(select(Indicator)).all()
    assert (row.level1, row.level2, row.name, row.annual_target) == ("cost", "economic_cost", "项目建设成本", "≤65万元")
    (evaluation,) = session.exec(select(SelfEvaluation)).all()
    assert session.get(ScoringTemplate, evaluation.template_id).name == "guideline-2021"


def test_a_department_choice_decides_for_its_units(session):
    factories.department(session, "县民宗委")
    templates.choose(session=session, year=2023, name="guideline-2021", department="县民宗委")
    report = run(session, csv_of("cq-fengjie-2023"), "奉节.csv")
    assert report.ok, report.errors


def test_cost_under_output_is_refused_under_the_2021_guideline_naming_national_2020(session):
    templates.choose(session=session, year=2018, name="guideline-2021")
    report = run(session, NANYUE.read_text(encoding="utf-8"), "nanyue.txt", 2018)
    assert not report.ok and not report.committed
    messages = [e["message"] for e in report.errors]
    assert len(messages) == 3  # the three 成本指标 rows under 产出指标
    assert messages[0].startswith(
        "二级指标“成本指标”（在“产出指标”下）不属于 2018 年度所用的评分模板 guideline-2021"
        "（2021 指引，财预〔2021〕101号）；"
        "该表符合评分模板 national-2020（财预〔2020〕10号）"
    )
    assert projects(session) == 0
    # and under national 2020 (no choice for 2019) the same form imports, 成本指标 under 产出
    report = run(session, NANYUE.read_text(encoding="utf-8").replace("2018年", "2019年"), "nanyue.txt", 2019)
    assert report.ok, report.errors
    assert session.exec(select(Indicator).where(Indicator.level2 == "cost")).all()


def test_a_file_mixing_both_templates_categories_is_refused_under_either(session):
    text = csv_of("cq-fengjie-2023", "hn-nanyue-2018", year=2023)
    for choice in ("national-2020", "guideline-2021"):
        templates.choose(session=session, year=2023, name=choice)
        report = run(session, text, "mixed.csv")
        assert not report.ok and not report.committed
        assert report.errors and all(
            "没有哪个评分模板能接受该表的全部一级、二级指标" in e["message"] for e in report.errors
        )
        assert projects(session) == 0


def test_a_cost_row_is_scored_under_the_2021_guideline_through_the_unit_path(session):
    """The real 奉节 row end to end: imported, filled by its unit, scored lower-is-better in 成本."""
    from decimal import Decimal

    from app.models import Unit
    from app.security import principal_for_user
    from app.services import evaluations
    from app.services.evaluations import ResultInput

    templates.choose(session=session, year=2023, name="guideline-2021")
    report = run(session, csv_of("cq-fengjie-2023"), "奉节.csv")
    assert report.ok, report.errors
    # one row with 分值 10, not 90: kept in proportion (scaled to 90), and said at import
    assert any("10" in w["message"] and "90" in w["message"] for w in report.warnings)
    unit = session.exec(select(Unit)).one()
    principal = principal_for_user(factories.user(session, "yunwu", "unit", unit_row=unit))
    evaluation = session.exec(select(SelfEvaluation)).one()
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    (indicator,) = view.indicators
    evaluations.save(
        session=session,
        principal=principal,
        evaluation_id=evaluation.id,
        version=view.evaluation.version,
        spent="65",
        results=[ResultInput(indicator.id, actual="70万元", deviation_reason="材料涨价")],
    )
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert view.template_label == "guideline-2021@1"
    assert [(g.level1, g.name, g.points) for g in view.groups] == [("cost", "成本", Decimal("90.00"))]
    (row,) = view.indicators
    assert row.weight == Decimal("90.00")
    assert row.score == Decimal("83.08")  # ≤65万元, 70万元: (1 − 5/65) × 90 = 83.0769…
    assert view.evaluation.total_score == Decimal("93.08")  # + 10.00 for 65 of 65 spent


def test_indicators_can_be_filtered_by_a_category_of_any_template(session):
    """level1=cost is a category (of guideline-2021), not a malformed filter."""
    import pytest

    from app.security import principal_for_user
    from app.services import queries
    from app.services.errors import ValidationFailed

    templates.choose(session=session, year=2023, name="guideline-2021")
    assert run(session, csv_of("cq-fengjie-2023"), "奉节.csv").ok
    finance = principal_for_user(factories.user(session, "czj", "finance"))
    rows = queries.list_indicators(
        session=session, principal=finance, filters=queries.IndicatorFilters(year=2023, level1="cost")
    )
    assert [r["name"] for r in rows] == ["项目建设成本"]
    with pytest.raises(ValidationFailed):
        queries.list_indicators(session=session, principal=finance, filters=queries.IndicatorFilters(level1="input"))
