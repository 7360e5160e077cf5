"""GET /api/v1/stats/units and /stats/departments: figures checked by hand, exact on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import FiscalYear, Project, ScoringTemplate, SelfEvaluation
from tests.api.read_data import YEAR, build


@pytest.fixture
def world(session):
    return build(session)


def get(client, world, url, who="finance"):
    response = client.get(url, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def bins(body_item):
    return {b["lower"]: b["count"] for b in body_item["score_distribution"] if b["count"]}


def test_unit_stats_for_a_year(client, world):
    items = get(client, world, f"/api/v1/stats/units?year={YEAR}")["items"]
    assert [i["unit"] for i in items] == [
        "广州市无线电监测站",
        "广州市工业和信息化产业发展中心",
        "广州市公路秘密事务中心",
    ]
    a1, a2, b1 = items
    assert a1["projects"] == 2 and a1["submitted"] == 2 and a1["approved"] == 1 and a1["scored"] == 2
    assert a1["by_status"] == {"not_started": 0, "draft": 0, "submitted": 1, "returned": 0, "approved": 1, "final": 0}
    assert a1["average_score"] == "86.15"  # (96.80 + 75.50) / 2
    assert bins(a1) == {"70": 1, "90": 1}
    assert a1["grades"] == {"excellent": 1, "good": 0, "fair": 1, "poor": 0}
    assert a1["budget"] == "57650.00" and a1["spent"] == "56102.2398"
    assert a1["execution_rate"] == "97.32"  # 56102.2398 / 57650
    assert a1["unmet_indicators"] == 2
    # A draft is neither submitted nor scored; a project without spending has no rate.
    assert a2["by_status"]["not_started"] == 1 and a2["by_status"]["draft"] == 1
    assert a2["submitted"] == 0 and a2["scored"] == 0 and a2["average_score"] is None
    assert a2["budget"] == "200.00" and a2["spent"] is None and a2["execution_rate"] is None
    assert b1["approved"] == 1 and b1["grades"]["good"] == 1 and b1["execution_rate"] == "100.00"
    assert b1["unmet_indicators"] == 1


def test_department_stats_for_a_year(client, world):
    items = get(client, world, f"/api/v1/stats/departments?year={YEAR}")["items"]
    a, b = items
    assert (a["department"], a["department_code"]) == ("广州市工业和信息化局", "401")
    assert a["projects"] == 4 and a["submitted"] == 2 and a["approved"] == 1
    assert a["budget"] == "57850.00" and a["spent"] == "56102.2398"
    # The rate counts only projects that report spending (p3's 200 has none yet).
    assert a["execution_rate"] == "97.32" and a["unmet_indicators"] == 2 and a["average_score"] == "86.15"
    assert b["projects"] == 1 and b["average_score"] == "88.00" and b["unmet_indicators"] == 1


def test_the_other_year_and_an_empty_year(client, world):
    items = get(client, world, "/api/v1/stats/units?year=2024")["items"]
    assert len(items) == 1 and items[0]["grades"]["poor"] == 1 and items[0]["execution_rate"] == "50.00"
    assert get(client, world, "/api/v1/stats/units?year=2031")["items"] == []
    assert get(client, world, "/api/v1/stats/departments?year=2031")["items"] == []


def test_stats_filters(client, world):
    items = get(client, world, f"/api/v1/stats/units?year={YEAR}&department=402")["items"]
    assert [i["unit_code"] for i in items] == ["402001"]
    items = get(client, world, f"/api/v1/stats/departments?year={YEAR}&unit=401001")["items"]
    assert len(items) == 1 and items[0]["projects"] == 2 and items[0]["unmet_indicators"] == 2
    assert get(client, world, f"/api/v1/stats/units?year={YEAR}&unit=无此单位")["items"] == []


def test_stats_are_scoped_to_the_caller(client, world):
    dept = get(client, world, f"/api/v1/stats/units?year={YEAR}", who="dept_a")["items"]
    assert [i["unit_code"] for i in dept] == ["401001", "401002"]
    own = get(client, world, f"/api/v1/stats/departments?year={YEAR}", who="unit_a1")["items"]
    assert len(own) == 1 and own[0]["projects"] == 2 and own[0]["budget"] == "57650.00"


def test_sums_and_averages_are_exact(client, session, world):
    """Money beyond a float's precision and a repeating average come out exact on both databases."""
    session.add(FiscalYear(year=2030))
    template = session.exec(select(ScoringTemplate)).first()
    session.commit()
    for n, (budget, total) in enumerate([("999999999999.999999", "33.33"), ("0.000001", "33.33"), ("0.1", "33.34")]):
        project = Project(
            year=2030,
            unit_id=world.a1.id,
            project_code=f"X{n}",
            name=f"大额{n}",
            budget=Decimal(budget),
            spent=Decimal(budget),
        )
        session.add(project)
        session.commit()
        session.add(
            SelfEvaluation(
                project_id=project.id,
                year=2030,
                status="submitted",
                template_id=template.id,
                total_score=Decimal(total),
                grade="差",
            )
        )
        session.commit()
    item = get(client, world, "/api/v1/stats/units?year=2030")["items"][0]
    assert item["budget"] == "1000000000000.10" and item["spent"] == "1000000000000.10"
    assert item["execution_rate"] == "100.00"
    assert item["average_score"] == "33.33"  # 100.00 / 3, half-up
    assert bins(item) == {"30": 3}


def test_stats_pages(client, world):
    first = get(client, world, f"/api/v1/stats/units?year={YEAR}&limit=2")
    assert len(first["items"]) == 2 and first["next"]
    second = get(client, world, first["next"].replace("http://testserver", ""))
    assert [i["unit_code"] for i in second["items"]] == ["402001"] and second["next"] is None
