"""The 评分模板 page chooses the template of a year (optionally of a department), as the CLI does."""

from __future__ import annotations

from app.services import templates
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units


def test_the_page_chooses_a_years_template_and_refuses_one_that_would_mix_rules(client, session):
    factories.user(session, "adm", "admin")
    dept, mine, _ = two_units(session)
    factories.login(client, "adm")
    page = client.get("/admin/scoring")
    assert page.status_code == 200 and "各年度所用的模板" in page.text and "尚未选定任何年度的模板" in page.text
    assert "guideline-2021（2021 指引，财预〔2021〕101号）" in page.text

    chosen = client.post(
        "/admin/scoring/choices",
        data={"year": "2025", "template": "guideline-2021", "department": dept.name},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    assert templates.template_name_for(session=session, year=2025, department_id=dept.id) == "guideline-2021"
    assert templates.template_name_for(session=session, year=2025) == "national-2020"
    page = client.get(chosen.headers["location"])
    assert f"已选定：2025 年度“{dept.name}”用 guideline-2021" in page.text
    assert f"<td>2025</td><td>{dept.name}</td>" in page.text

    bad_year = client.post("/admin/scoring/choices", data={"year": "24", "template": "guideline-2021"})
    assert bad_year.status_code == 422 and "年度应为 2000 至 2100 之间的四位数" in bad_year.text

    project_with(session, mine, STANDARD)  # 2024, under national-2020
    mixed = client.post("/admin/scoring/choices", data={"year": "2024", "template": "guideline-2021"})
    assert mixed.status_code == 422
    assert "2024 年度已有 1 份自评按评分模板 national-2020 建立，不能改用 guideline-2021" in mixed.text
    assert templates.template_name_for(session=session, year=2024) == "national-2020"

    factories.user(session, "u1", "unit", unit_row=mine)
    factories.login(client, "u1")
    refused = client.post("/admin/scoring/choices", data={"year": "2026", "template": "guideline-2021"})
    assert refused.status_code in (403, 404)
    assert templates.template_name_for(session=session, year=2026) == "national-2020"


def test_the_page_edits_the_2021_guideline_as_its_own_template(client, session):
    from sqlmodel import select

    from app.models import ScoringTemplate

    factories.user(session, "adm", "admin")
    factories.login(client, "adm")
    page = client.get("/admin/scoring?name=guideline-2021")
    assert page.status_code == 200 and "guideline-2021@1" in page.text
    assert 'name="name" value="guideline-2021"' in page.text
    saved = client.post(
        "/admin/scoring",
        data={"name": "guideline-2021", "rounding_places": "0", "given_weights_absolute": "on"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "done=guideline-2021@2" in saved.headers["location"]
    current = {
        row.name: (row.version, row.settings["rounding_places"])
        for row in session.exec(select(ScoringTemplate).where(ScoringTemplate.is_current))
    }
    assert current["guideline-2021"] == (2, 0)
    assert current.get("national-2020", (1, 2)) == (1, 2)  # untouched
    assert client.get("/admin/scoring?name=nonsense").status_code == 404


def test_the_overview_words_a_year_by_the_template_chosen_for_it(client, session):
    """The 执行率 threshold of the overview is the year's template's, not national-2020's."""
    from sqlmodel import select

    from app.models import SelfEvaluation, User
    from app.security import principal_for_user
    from app.services import evaluations

    templates.choose(session=session, year=2024, name="guideline-2021")
    templates.new_version(session=session, name="guideline-2021", changes={"execution_low_below": "85"})
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD)
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    principal = principal_for_user(session.exec(select(User).where(User.username == "jcz")).one())
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    evaluations.save(
        session=session, principal=principal, evaluation_id=evaluation.id, version=view.evaluation.version, spent="87"
    )
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    page = client.get("/overview?year=2024")
    assert page.status_code == 200 and "87" in page.text
    # 87% is below national's 90 but not below the 2021 guideline's 85 (this year's template)
    assert "flag=execution_low" not in page.text
