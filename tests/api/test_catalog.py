"""GET /api/v1/units, /projects, /projects/{id}, /indicators: every filter, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.read_data import SECRET_MARK, YEAR, build


@pytest.fixture
def world(session):
    return build(session)


def keys(world, body, kind="projects"):
    table = world.projects if kind == "projects" else world.indicators
    by_id = {row.id: key for key, row in table.items()}
    return [by_id[item["id"]] for item in body["items"]]


def get(client, world, url, who="finance"):
    response = client.get(url, headers=world.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


# --- units --------------------------------------------------------------------------------


def test_units_with_their_department(client, world):
    body = get(client, world, "/api/v1/units")
    assert [u["name"] for u in body["items"]] == [
        "广州市无线电监测站",
        "广州市工业和信息化产业发展中心",
        f"广州市{SECRET_MARK}事务中心",
    ]
    first = body["items"][0]
    assert first == {
        "id": world.a1.id,
        "code": "401001",
        "name": "广州市无线电监测站",
        "department_id": world.dept_a.id,
        "department_code": "401",
        "department": "广州市工业和信息化局",
    }
    assert body["next"] is None and body["next_cursor"] is None


UNIT_CASES = [
    ("department=广州市交通运输局", ["b1"]),
    ("department=401", ["a1", "a2"]),
    ("unit=401002", ["a2"]),
    ("unit=广州市无线电监测站", ["a1"]),
    ("unit=＿无此单位", []),
    ("year=2024", ["b1"]),
    ("year=2031", []),
]


def test_unit_filters(client, world):
    for query, expected in UNIT_CASES:
        body = get(client, world, f"/api/v1/units?{query}")
        assert [u["id"] for u in body["items"]] == [getattr(world, k).id for k in expected], query


def test_unit_filter_by_id(client, world):
    body = get(client, world, f"/api/v1/units?unit={world.a2.id}")
    assert [u["code"] for u in body["items"]] == ["401002"]
    body = get(client, world, f"/api/v1/units?department={world.dept_b.id}")
    assert [u["code"] for u in body["items"]] == ["402001"]


# --- projects -----------------------------------------------------------------------------


def test_project_row_has_money_rates_and_scores_as_exact_strings(client, world):
    body = get(client, world, f"/api/v1/projects?year={YEAR}")
    p1 = body["items"][0]
    assert p1["budget"] == "57550.00" and p1["spent"] == "56022.2398"
    assert p1["execution_rate"] == "97.35" and p1["total_score"] == "96.80" and p1["grade"] == "优"
    assert p1["status"] == "approved" and p1["unit"] == "广州市无线电监测站"
    assert p1["department"] == "广州市工业和信息化局"
    p4 = body["items"][3]
    assert p4["status"] == "not_started" and p4["self_evaluation_id"] is None and p4["budget"] is None


PROJECT_CASES = [
    ("", ["p1", "p2", "p3", "p4", "p5", "p6"]),
    (f"year={YEAR}", ["p1", "p2", "p3", "p4", "p5"]),
    ("year=2024", ["p6"]),
    ("year=2031", []),
    ("department=广州市工业和信息化局", ["p1", "p2", "p3", "p4"]),
    ("department=402", ["p5", "p6"]),
    ("department=不存在的部门", []),
    ("unit=401002", ["p3", "p4"]),
    ("unit=广州市无线电监测站", ["p1", "p2"]),
    ("unit= 广州市无线电监测站 ", ["p1", "p2"]),
    ("unit=99999999999999999999", []),
    ("status=not_started", ["p4"]),
    ("status=draft", ["p3"]),
    ("status=submitted", ["p2"]),
    ("status=approved", ["p1"]),
    ("status=final", ["p5", "p6"]),
    ("status=returned", []),
    ("grade=优", ["p1"]),
    ("grade=差", ["p6"]),
    ("min_score=88", ["p1", "p5"]),
    ("min_score=88.001", ["p1"]),
    ("max_score=75.5", ["p2", "p3", "p6"]),
    ("max_score=75.499", ["p3", "p6"]),
    ("min_score=40&max_score=60", ["p3", "p6"]),
    ("max_execution_rate=90", ["p2", "p6"]),
    ("max_execution_rate=97.35", ["p1", "p2", "p6"]),
    ("max_execution_rate=97.34999", ["p2", "p6"]),
    ("q=购置", ["p1", "p4"]),
    ("q=_100%", ["p4"]),
    ("q=%", ["p4"]),
    (f"q={SECRET_MARK}", ["p5", "p6"]),
    (f"year={YEAR}&department=401&status=submitted&max_execution_rate=85&q=运维", ["p2"]),
]


def test_project_filters(client, world):
    for query, expected in PROJECT_CASES:
        assert keys(world, get(client, world, f"/api/v1/projects?{query}")) == expected, query


def test_project_detail_has_indicators_targets_results_and_history(client, world):
    p1 = world.projects["p1"]
    body = get(client, world, f"/api/v1/projects/{p1.id}")
    assert body["name"] == "无线电监测设备购置经费" and body["template"] == "national-2020@1"
    assert body["initial_budget"] == "57550.00" and body["total_score"] == "96.80"
    first, second = body["indicators"]
    assert first["annual_target"] == "≥12份"
    assert first["target"] == {
        "kind": "quantity",
        "op": ">=",
        "value": "12",
        "value_max": None,
        "unit": "份",
        "unit_raw": "份",
        "unit_class": None,
        "deadline": None,
        "direction": None,
        "confidence": "high",
        "warnings": [],
    }
    assert first["actual"] == "12份" and first["score"] == "25.00" and first["met"] is True
    assert second["score"] == "15.00" and second["score_override"] == "18.00"
    assert second["effective_score"] == "18.00" and second["override_reason"] == "有佐证材料"
    assert second["flags"] == ["unmet"] and second["met"] is False
    assert [(h["actor"], h["action"], h["opinion"]) for h in body["history"]] == [
        ("wxjcz", "evaluation.submit", None),
        ("gxj_shenhe", "evaluation.approve", "同意"),
    ]


def test_project_without_evaluation_has_no_history(client, world):
    body = get(client, world, f"/api/v1/projects/{world.projects['p4'].id}")
    assert body["status"] == "not_started" and body["history"] == [] and body["template"] is None


def test_project_detail_body_is_the_declared_models(client, world):
    """The body is written from plain fields, not the model: it is byte for byte what the model
    (ProjectDetailPublic, the route's response_model) writes of the same values, in its field order."""
    from app.api.models import ProjectDetailPublic

    for key, project in world.projects.items():
        for who in ("finance", "dept_a", "unit_a1"):
            response = client.get(f"/api/v1/projects/{project.id}", headers=world.auth(who))
            if response.status_code == 404:
                continue
            model = ProjectDetailPublic.model_validate_json(response.content)
            assert response.content == model.__pydantic_serializer__.to_json(model, by_alias=True), (key, who)
            assert list(response.json()) == list(ProjectDetailPublic.model_fields), key


def test_unknown_project_is_a_json_404(client, world):
    for path in ["/api/v1/projects/424242", "/api/v1/projects/2147483647"]:
        response = client.get(path, headers=world.auth("finance"))
        assert response.status_code == 404
        assert response.json()["error"] == "not_found" and "项目" in response.json()["message"]


# --- indicators ---------------------------------------------------------------------------


INDICATOR_CASES = [
    ("", ["i1", "i2", "i3", "i4", "i5", "i6"]),
    (f"year={YEAR}", ["i1", "i2", "i3", "i4", "i5", "i6"]),
    ("year=2024", []),
    ("department=402", ["i5", "i6"]),
    ("unit=广州市工业和信息化产业发展中心", ["i4"]),
    ("level1=output", ["i1", "i3", "i5"]),
    ("level1=satisfaction", ["i4"]),
    ("level2=social", ["i2", "i6"]),
    ("level2=13", ["i3"]),
    ("level2=无此类", []),
    ("met=true", ["i1", "i5"]),
    ("met=false", ["i2", "i3", "i6"]),
    ("flag=unmet", ["i2", "i3", "i6"]),
    ("flag=late", ["i3"]),
    ("flag=over_achieved", ["i5"]),
    ("flag=reason_missing", []),
    ("kind=qualitative", ["i2", "i6"]),
    ("kind=deadline", ["i3"]),
    ("met=false&level1=outcome&department=401", ["i2"]),
]


def test_indicator_filters(client, world):
    for query, expected in INDICATOR_CASES:
        assert keys(world, get(client, world, f"/api/v1/indicators?{query}"), "indicators") == expected, query


def test_indicator_row_carries_its_project_and_scores(client, world):
    body = get(client, world, "/api/v1/indicators?flag=late")
    row = body["items"][0]
    assert row["project_code"] == "P-p2" and row["project_name"] == "监测站运维经费"
    assert row["unit"] == "广州市无线电监测站" and row["department"] == "广州市工业和信息化局"
    assert row["annual_target"] == "2025年12月前" and row["actual"] == "2026-01-15"
    assert row["score"] == "10.00" and row["weight"] == "25.00" and row["flags"] == ["unmet", "late"]


# --- bad input: 4xx JSON or an empty list, never a 500 --------------------------------------


BAD_INPUT = [
    ("/api/v1/projects?status=unknown", "status"),
    ("/api/v1/projects?grade=A", "grade"),
    ("/api/v1/projects?min_score=abc", "min_score"),
    ("/api/v1/projects?min_score=NaN", "min_score"),
    ("/api/v1/projects?max_score=1e400", "max_score"),
    ("/api/v1/projects?max_execution_rate=-1", "max_execution_rate"),
    ("/api/v1/projects?year=99999999999", "year"),
    ("/api/v1/projects?q=%00", "q"),
    ("/api/v1/units?unit=%00", "unit"),
    ("/api/v1/indicators?met=maybe", "met"),
    ("/api/v1/indicators?flag=nonsense", "flag"),
    ("/api/v1/indicators?kind=number", "kind"),
    ("/api/v1/indicators?level1=input", "level1"),
    ("/api/v1/projects?format=pdf", "format"),
    ("/api/v1/projects/0", "project_id"),
    ("/api/v1/projects/99999999999", "project_id"),
    ("/api/v1/projects/abc", "project_id"),
    ("/api/v1/stats/units", "year"),
]


def test_bad_filter_values_are_422_json_in_chinese(client, world):
    for url, field in BAD_INPUT:
        response = client.get(url, headers=world.auth("finance"))
        assert response.status_code == 422, (url, response.text)
        body = response.json()
        assert body["error"] == "validation_failed" and body["message"] == "请求参数有误", url
        assert field in [e["field"] for e in body["errors"]], (url, body)
