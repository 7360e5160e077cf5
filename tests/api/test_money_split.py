"""The money block as real forms have it (issue 9, domain.md §1 and §5): 年初预算数 (the table's figure)
beside 全年预算数 (the unit's, after the year's adjustments) and 全年执行数, with the 其中 rows
本年财政拨款 / 上年结转资金 / 其他资金 of each; exact; the rate divides by 全年预算数; a split that
does not add up is a warning with the difference, never a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import AuditEvent, Project, SelfEvaluation
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units


@pytest.fixture
def setup(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD, budget=Decimal("100"))
    project.initial_budget = Decimal("100")
    project.fiscal_funds = Decimal("80")
    project.other_funds = Decimal("20")
    session.add(project)
    session.commit()
    factories.login(client, "jcz")
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    return client, eid, project.id


def test_the_unit_reports_the_year_budget_its_split_and_spending_exactly(setup, session):
    client, eid, project_id = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    assert (body["initial_budget"], body["budget"], body["budget_fiscal_funds"]) == ("100.00", "100.00", None)
    assert body["split_warnings"] == []
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "budget": "120.5",
            "budget_fiscal_funds": "100.1",
            "budget_carried_over": "20.4",
            "spent": "108.35",
            "spent_fiscal_funds": "90.000001",
            "spent_other_funds": "18.35",
        },
    )
    assert saved.status_code == 200, saved.text
    data = saved.json()
    assert data["initial_budget"] == "100.00"  # the table's figure stays beside it
    assert data["budget"] == "120.50" and data["spent"] == "108.35"
    assert data["budget_fiscal_funds"] == "100.10" and data["budget_carried_over"] == "20.40"
    assert data["budget_other_funds"] is None
    assert data["spent_fiscal_funds"] == "90.000001" and data["spent_other_funds"] == "18.35"
    # 108.35 / 120.5 = 89.917012…%: from 全年预算数, not 年初预算数
    assert data["execution_rate"] == "89.92"
    # 90.000001 + 18.35 = 108.350001: one millionth of 万元 off, said exactly
    assert data["split_warnings"] == [
        "全年执行数的其中各项之和为 108.350001 万元，比全年执行数（108.35 万元）多 0.000001 万元"
    ]
    session.expire_all()
    row = session.get(SelfEvaluation, eid)
    assert row.spent_fiscal_funds == Decimal("90.000001") and row.budget_carried_over == Decimal("20.4")
    assert session.get(Project, project_id).initial_budget == Decimal("100")
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "self_evaluation", AuditEvent.entity_id == eid)
    ).all()
    assert any((e.after or {}).get("budget_fiscal_funds") == "100.1" for e in events)


def test_a_bad_split_figure_is_refused_at_its_field_in_chinese(setup):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    response = client.put(
        f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "spent_carried_over": "-3"}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "spent_carried_over" and "全年执行数中的上年结转资金不能为负数" in error["message"]


def test_the_form_shows_and_saves_the_split_rows(setup, session):
    client, eid, _ = setup
    page = client.get(f"/evaluations/{eid}")
    assert page.status_code == 200
    for name in ("budget_fiscal_funds", "budget_carried_over", "spent_other_funds"):
        assert f'name="{name}"' in page.text
    version = session.get(SelfEvaluation, eid).version
    answer = client.post(
        f"/evaluations/{eid}/money",
        data={"version": str(version), "budget": "100", "budget_fiscal_funds": "70", "budget_other_funds": "20"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200, answer.text
    assert "全年预算数的其中各项之和为 90 万元，比全年预算数（100 万元）少 10 万元" in answer.text
    # the answer replaces no input the user may be in: only computed cells, out of band
    assert 'class="money-input' not in answer.text


def test_print_and_xlsx_carry_the_split_and_old_rows_without_it_still_print(setup, session):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    page = client.get(f"/evaluations/{eid}/print")
    assert page.status_code == 200 and "其中：本年财政拨款" in page.text  # an old row: no split given yet
    client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={"version": body["version"], "budget_carried_over": "12.34", "spent_carried_over": "11.5"},
    )
    page = client.get(f"/evaluations/{eid}/print").text
    row = page[page.index("上年结转资金") :]
    row = row[: row.index("</tr>")]
    assert "12.34" in row and "11.50" in row
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get(f"/evaluations/{eid}/export.xlsx").content)).worksheets[0]
    assert sheet["C8"].value == "上年结转资金"
    assert (str(sheet["E8"].value), str(sheet["F8"].value)) == ("12.34", "11.5")
