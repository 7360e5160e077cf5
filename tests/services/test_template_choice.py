"""The bureau chooses the scoring template per year, optionally per department (issue 10 item 1):
new evaluations of that year or department get it, on every path that creates them; a choice
that would leave one year's evaluations under two sets of rules is refused."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import ScoringTemplate, SelfEvaluation, TemplateChoice
from app.services import imports, templates
from app.services.errors import NotFound, ValidationFailed
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units


def template_name(session, project) -> str:
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    return session.get(ScoringTemplate, evaluation.template_id).name


def test_a_year_without_a_choice_uses_national_2020(session):
    _, mine, _ = two_units(session)
    assert templates.template_name_for(session=session, year=2024) == "national-2020"
    assert template_name(session, project_with(session, mine, STANDARD)) == "national-2020"


def test_new_evaluations_of_the_year_get_the_chosen_template(session):
    dept, mine, _ = two_units(session)
    templates.choose(session=session, year=2024, name="guideline-2021")
    assert templates.template_name_for(session=session, year=2024, department_id=dept.id) == "guideline-2021"
    assert templates.template_name_for(session=session, year=2025) == "national-2020"
    project = project_with(session, mine, [("cost", "单位成本", "≤50万元"), *STANDARD])
    assert template_name(session, project) == "guideline-2021"


def test_a_department_choice_wins_for_its_units_only(session):
    dept, mine, _ = two_units(session)
    other_dept = factories.department(session, "县农业农村局")
    farm = factories.unit(session, "县农技推广中心", other_dept)
    templates.choose(session=session, year=2024, name="guideline-2021", department="县农业农村局")
    assert [(c.year, d, c.template_name) for c, d in templates.choices(session=session)] == [
        (2024, "县农业农村局", "guideline-2021")
    ]
    assert template_name(session, project_with(session, farm, STANDARD, name="农技")) == "guideline-2021"
    assert template_name(session, project_with(session, mine, STANDARD, name="监测")) == "national-2020"
    # a year-wide choice leaves the department with its own choice alone, and is not blocked by it
    templates.choose(session=session, year=2024, name="national-2020")  # mine's evaluation is national already
    with pytest.raises(ValidationFailed, match="已有 1 份自评按评分模板 national-2020 建立"):
        templates.choose(session=session, year=2024, name="guideline-2021")  # mine's is national: refused
    assert templates.template_name_for(session=session, year=2024, department_id=other_dept.id) == "guideline-2021"
    assert templates.template_name_for(session=session, year=2024, department_id=dept.id) == "national-2020"


def test_a_choice_that_would_mix_rules_in_a_year_is_refused(session):
    _, mine, _ = two_units(session)
    project_with(session, mine, STANDARD)  # created under national-2020
    with pytest.raises(
        ValidationFailed, match="2024 年度已有 1 份自评按评分模板 national-2020 建立，不能改用 guideline-2021"
    ):
        templates.choose(session=session, year=2024, name="guideline-2021")
    assert templates.template_name_for(session=session, year=2024) == "national-2020"
    with pytest.raises(NotFound, match="guideline-2021"):
        templates.choose(session=session, year=2025, name="guideline-2099")
    with pytest.raises(NotFound, match="主管部门「不存在局」不存在"):
        templates.choose(session=session, year=2025, name="guideline-2021", department="不存在局")


def test_imported_projects_get_the_template_chosen_for_the_year(session):
    templates.choose(session=session, year=2023, name="guideline-2021")
    text = (
        "年度,主管部门,单位名称,项目名称,年度预算数（万元）,年度目标,一级指标,二级指标,三级指标,实施周期指标值,年度指标值\n"
        "2023,县农业农村局,县农技推广中心,农技推广,50,完成推广任务,产出指标,数量指标,推广面积,≥1000亩,≥1000亩\n"
        "2023,县农业农村局,县农技推广中心,农技推广,50,完成推广任务,效益指标,经济效益,亩均增收,≥100元,≥100元\n"
    )
    report = imports.import_file(session=session, data=text.encode(), filename="农技.csv", year=None)
    assert report.ok, report.errors
    names = {session.get(ScoringTemplate, e.template_id).name for e in session.exec(select(SelfEvaluation))}
    assert names == {"guideline-2021"}


def test_the_cli_chooses_and_lists(settings, session):
    from tests.test_settings_cli import run_cli

    env = {"DATABASE_URL": settings.database_url}
    factories.department(session, "县农业农村局")
    result = run_cli("scoring", "use", "--year", "2024", "--template", "guideline-2021", env=env)
    assert result.returncode == 0 and "2024 年度的自评使用评分模板 guideline-2021" in result.stdout
    result = run_cli(
        "scoring", "use", "--year", "2024", "--template", "national-2020", "--department", "县农业农村局", env=env
    )
    assert result.returncode == 0 and "2024 年度“县农业农村局”" in result.stdout
    listed = run_cli("scoring", "choices", env=env)
    assert "2024\t（整个年度）\tguideline-2021" in listed.stdout
    assert "2024\t县农业农村局\tnational-2020" in listed.stdout
    refused = run_cli("scoring", "use", "--year", "2024", "--template", "bogus", env=env)
    assert refused.returncode != 0 and "评分模板「bogus」不存在" in refused.stderr


@pytest.mark.parametrize(
    "chosen",
    [{}, {None: "guideline-2021"}, {"a": "guideline-2021"}, {None: "guideline-2021", "b": "national-2020"}],
    ids=["none", "year-wide", "department", "both"],
)
def test_the_bulk_lookup_and_the_single_one_are_one_rule(session, chosen):
    """templates.resolver (imports, evaluations, monitoring) answers what template_name_for answers, for
    every department, for none, and for a department added after the lookup was made."""
    depts = {k: factories.department(session, f"县{k}局") for k in "abc"}
    for key, name in chosen.items():
        session.add(TemplateChoice(year=2024, department_id=depts[key].id if key else None, template_name=name))
    session.add(TemplateChoice(year=2025, department_id=depts["c"].id, template_name="guideline-2021"))
    session.commit()
    resolve = templates.resolver(session=session, year=2024)
    late = factories.department(session, "县新设局")
    for department_id in [*(d.id for d in depts.values()), None, late.id]:
        want = templates.template_name_for(session=session, year=2024, department_id=department_id)
        assert resolve(department_id) == want, (department_id, chosen)
    want = {"a": chosen.get("a"), "b": chosen.get("b")}
    year_wide = chosen.get(None, "national-2020")
    assert templates.template_name_for(session=session, year=2024, department_id=depts["a"].id) == (
        want["a"] or year_wide
    )
    assert templates.template_name_for(session=session, year=2024, department_id=depts["c"].id) == year_wide
    assert templates.template_name_for(session=session, year=2025, department_id=depts["c"].id) == "guideline-2021"
