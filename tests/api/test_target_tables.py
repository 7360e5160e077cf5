"""A project's 绩效目标表 entries through /api/v1: create, change, delete, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import AuditEvent, Indicator, Project, SelfEvaluation
from tests import factories
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units

NEW = {
    "year": YEAR,
    "name": "无线电监测设备运维",
    "annual_goal": "按时完成全年监测任务",
    "budget": "120.5",
    "indicators": [
        {
            "level1": "output",
            "level2": "quantity",
            "name": "监测报告",
            "period_target": "≥36份",
            "annual_target": "≥12份",
        },
        {"level1": "2-效益指标", "level2": "22", "name": "干扰投诉处理率", "annual_target": "100%", "weight": "20"},
    ],
}


@pytest.fixture
def world(client, session):
    dept, mine, other = two_units(session)
    imported = project_with(session, mine, STANDARD, name="已批复的项目")
    foreign = project_with(session, other, STANDARD, name="别人的项目")
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "czj", "finance")
    factories.login(client, "jcz")
    return {"mine": mine, "other": other, "imported": imported, "foreign": foreign}


def errors(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def created(client) -> dict:
    response = client.post("/api/v1/projects", json=NEW)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_unit_creates_a_draft_table_whose_targets_are_parsed(world, client, session):
    body = created(client)
    assert body["target_status"] == "draft" and body["version"] == 1
    assert body["unit"] == "广州市无线电监测站" and body["budget"] == "120.50"
    assert len(body["project_code"]) == 21
    first, second = body["indicators"]
    assert (first["level1"], first["level2"], first["period_target"]) == ("output", "quantity", "≥36份")
    assert (first["target"]["op"], first["target"]["value"], first["target"]["unit"]) == (">=", "12", "份")
    assert (second["level1"], second["level2"], second["level2_code"]) == ("outcome", "social", "22")
    assert (second["target"]["value"], second["target"]["unit"]) == ("100", "%")
    # the read API shows the same project, and it has its (empty) self-evaluation
    assert client.get(f"/api/v1/projects/{body['id']}").json()["indicators"][0]["name"] == "监测报告"
    assert session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == body["id"])).one()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "project.create")).one()
    assert event.entity_type == "project" and event.entity_id == body["id"] and event.actor == "jcz"
    assert event.after["name"] == "无线电监测设备运维" and event.after["indicators"] == 2


def test_bad_entries_are_a_422_naming_each_field_in_chinese(world, client, session):
    bad = {
        **NEW,
        "budget": "一百",
        "indicators": [
            {"level1": "财务指标", "name": "监测报告", "annual_target": "≥12份"},
            {"level1": "output", "level2": "social", "name": "x", "annual_target": "  "},
            {"level1": "output", "name": "", "annual_target": "5次", "weight": "-1"},
        ],
    }
    response = client.post("/api/v1/projects", json=bad)
    assert response.status_code == 422, response.text
    found = errors(response)
    assert "一级指标“财务指标”不在评分模板的类别中" in found["indicators[0].level1"]
    assert found["indicators[1].level2"] == "二级指标“社会效益”不属于一级指标 output"
    assert found["indicators[1].annual_target"] == "年度指标值必填"
    assert found["indicators[2].name"] == "三级指标名称必填"
    assert found["indicators[2].weight"] == "分值应在 0 到 1000 之间"
    assert found["budget"].startswith("全年预算数应为数字")
    assert session.exec(select(Project).where(Project.name == NEW["name"])).first() is None


def test_a_stale_version_is_a_409_and_a_fresh_one_saves_with_before_and_after(world, client, session):
    body = created(client)
    url = f"/api/v1/projects/{body['id']}"
    saved = client.patch(url, json={"version": 1, "budget": "150", "annual_goal": "全年监测不少于12次"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["annual_goal"] == "全年监测不少于12次"
    stale = client.patch(url, json={"version": 1, "name": "另一个名称"})
    assert stale.status_code == 409 and stale.json()["error"] == "conflict"
    assert "已被他人或其他窗口修改" in stale.json()["message"]
    assert client.get(url).json()["name"] == NEW["name"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "project.update")).one()
    assert event.before == {"budget": "120.5", "annual_goal": "按时完成全年监测任务"}
    assert event.after == {"budget": "150", "annual_goal": "全年监测不少于12次"}
    # PUT replaces every project field: what it leaves out is cleared
    put = client.put(url, json={"version": 2, "name": "设备运维"})
    assert put.status_code == 200 and put.json()["budget"] is None and put.json()["annual_goal"] is None


def test_indicators_are_added_changed_reparsed_and_deleted(world, client, session):
    body = created(client)
    pid = body["id"]
    added = client.post(
        f"/api/v1/projects/{pid}/indicators",
        json={"version": 1, "level1": "satisfaction", "name": "服务对象满意度", "annual_target": "≥90%"},
    )
    assert added.status_code == 201, added.text
    rows = added.json()["indicators"]
    assert added.json()["version"] == 2 and [r["position"] for r in rows] == [1, 2, 3]
    iid = rows[2]["id"]
    patched = client.patch(f"/api/v1/indicators/{iid}", json={"version": 2, "annual_target": "不低于95%"})
    assert patched.status_code == 200, patched.text
    row = next(r for r in patched.json()["indicators"] if r["id"] == iid)
    assert (row["annual_target"], row["target"]["op"], row["target"]["value"]) == ("不低于95%", ">=", "95")
    assert row["name"] == "服务对象满意度" and row["level1"] == "satisfaction"
    refused = client.put(f"/api/v1/indicators/{iid}", json={"version": 3, "level1": "成本", "name": "x"})
    assert refused.status_code == 422
    assert set(errors(refused)) == {"annual_target"}  # missing in a PUT (the framework's 必填)
    gone = client.delete(f"/api/v1/indicators/{iid}", params={"version": 3})
    assert gone.status_code == 200 and len(gone.json()["indicators"]) == 2 and gone.json()["version"] == 4
    assert session.get(Indicator, iid) is None
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "indicator"))]
    assert actions == ["indicator.create", "indicator.update", "indicator.delete"]
    update = session.exec(select(AuditEvent).where(AuditEvent.action == "indicator.update")).one()
    assert update.before == {"annual_target": "≥90%"} and update.after == {"annual_target": "不低于95%"}


def test_deleting_a_draft_removes_it_and_keeps_what_it_was_in_the_audit(world, client, session):
    body = created(client)
    url = f"/api/v1/projects/{body['id']}"
    assert client.delete(url, params={"version": 7}).status_code == 409
    assert client.delete(url, params={"version": 1}).status_code == 204
    assert client.get(url).status_code == 404
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "project.delete")).one()
    assert [i["name"] for i in event.before["indicators"]] == ["监测报告", "干扰投诉处理率"]


def test_tenancy_and_status_decide_who_may_change_a_table(world, client, session):
    foreign, imported = world["foreign"], world["imported"]
    # another unit's project is not there for this unit, whatever the method
    assert client.patch(f"/api/v1/projects/{foreign.id}", json={"version": 1, "name": "x"}).status_code == 404
    foreign_ind = session.exec(select(Indicator).where(Indicator.project_id == foreign.id)).first()
    assert client.delete(f"/api/v1/indicators/{foreign_ind.id}", params={"version": 1}).status_code == 404
    assert client.post("/api/v1/projects", json={**NEW, "unit_id": world["other"].id}).status_code == 422
    # an imported table is 已批复: read-only
    response = client.patch(f"/api/v1/projects/{imported.id}", json={"version": 1, "name": "x"})
    assert response.status_code == 409 and "已批复" in response.json()["message"]
    # a department reviews, it does not write
    client.cookies.clear()
    factories.login(client, "gxj")
    assert client.post("/api/v1/projects", json=NEW).status_code == 403
    # the bureau files for a named unit
    client.cookies.clear()
    factories.login(client, "czj")
    assert "unit_id" in errors(client.post("/api/v1/projects", json=NEW))
    done = client.post("/api/v1/projects", json={**NEW, "unit_id": world["other"].id})
    assert done.status_code == 201 and done.json()["unit"] == "广州市工业和信息化产业发展中心"


def test_the_write_routes_are_documented_with_examples(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert {"post"} <= set(paths["/api/v1/projects"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/v1/projects/{project_id}"])
    assert {"put", "patch", "delete"} <= set(paths["/api/v1/indicators/{indicator_id}"])
    assert "409" in paths["/api/v1/projects/{project_id}"]["patch"]["responses"]
    assert spec["components"]["schemas"]["ProjectCreate"]["examples"][0]["indicators"]


def test_the_project_read_carries_the_quality_checks(world, client):
    body = client.post(
        "/api/v1/projects",
        json={
            **NEW,
            "indicators": [
                {"level1": "output", "name": "监测报告", "annual_target": "≥12份"},
                {"level1": "output", "name": "监测能力", "annual_target": "进一步提高"},
            ],
        },
    ).json()
    quality = body["quality"]
    assert (quality["quantitative_share"], quality["min_quantitative_share"], quality["not_measurable"]) == (
        "50.00",
        "60",
        1,
    )
    by_code = {i["code"]: i for i in quality["issues"]}
    # 满意度 is a suggestion of the template in force (quality_suggested_categories)
    assert set(by_code) == {"missing_category", "not_measurable", "low_quantitative_share", "suggested_category"}
    assert by_code["suggested_category"]["severity"] == "warning"
    vague = by_code["not_measurable"]
    assert vague["indicator_id"] == body["indicators"][1]["id"] and vague["severity"] == "warning"
    assert vague["field"] == f"indicators[{vague['indicator_id']}].annual_target"
    assert "“进一步提高”不可衡量" in vague["message"] and vague["suggestion"].startswith("请写明可衡量的数值")
    assert by_code["missing_category"]["message"] == "目标表缺少效益指标：每个项目都应设置效益指标"
    # the unit fixes the row: the flag goes
    fixed = client.patch(
        f"/api/v1/indicators/{vague['indicator_id']}", json={"version": body["version"], "annual_target": "≥3项"}
    ).json()
    assert "not_measurable" not in {i["code"] for i in fixed["quality"]["issues"]}
    assert fixed["quality"]["quantitative_share"] == "100.00"


def act(client, body: dict, action: str, **extra):
    return client.post(
        f"/api/v1/projects/{body['id']}/target-table/{action}", json={"version": body["version"], **extra}
    )


def test_a_table_is_declared_after_its_checks_returned_corrected_and_approved(world, client, session):
    body = client.post(
        "/api/v1/projects",
        json={**NEW, "indicators": [{"level1": "output", "name": "监测报告", "annual_target": "≥12份"}]},
    ).json()
    # the checks run on submission: a table without 效益 is refused, the message at its place
    refused = act(client, body, "submit")
    assert refused.status_code == 422, refused.text
    assert errors(refused) == {"indicators": "目标表缺少效益指标：每个项目都应设置效益指标"}
    body = client.post(
        f"/api/v1/projects/{body['id']}/indicators",
        json={"version": body["version"], "level1": "outcome", "name": "投诉处理率", "annual_target": "100%"},
    ).json()
    declared = act(client, body, "submit")
    assert declared.status_code == 200, declared.text
    body = declared.json()
    assert body["target_status"] == "declared"
    # declared: the unit can no longer change it, nor approve it
    frozen = client.patch(f"/api/v1/projects/{body['id']}", json={"version": body["version"], "name": "x"})
    assert frozen.status_code == 409 and frozen.json()["message"].startswith("绩效目标表当前为“已申报”，不能修改")
    assert act(client, body, "approve").status_code == 403
    # the department returns it: an opinion is required
    client.cookies.clear()
    factories.login(client, "gxj")
    assert errors(act(client, body, "return")) == {"opinion": "请写明退回的原因和修改要求"}
    assert act(client, {**body, "version": 1}, "return", opinion="x").status_code == 409  # stale
    body = act(client, body, "return", opinion="请补充满意度指标").json()
    assert body["target_status"] == "returned"
    # the unit corrects and declares again
    client.cookies.clear()
    factories.login(client, "jcz")
    body = client.patch(f"/api/v1/projects/{body['id']}", json={"version": body["version"], "budget": "130"}).json()
    body = act(client, body, "submit").json()
    assert body["target_status"] == "declared"
    # department approval, then the bureau's 批复; approved is read-only
    client.cookies.clear()
    factories.login(client, "gxj")
    body = act(client, body, "approve").json()
    assert body["target_status"] == "department_approved"
    client.cookies.clear()
    factories.login(client, "czj")
    body = act(client, body, "approve").json()
    assert body["target_status"] == "approved"
    again = act(client, body, "approve")
    assert again.status_code == 409 and again.json()["message"] == "绩效目标表当前为“已批复”，不能审核通过"
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action.like("target_table.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor, e.after["target_status"]) for e in events] == [
        ("target_table.submit", "jcz", "declared"),
        ("target_table.return", "gxj", "returned"),
        ("target_table.submit", "jcz", "declared"),
        ("target_table.approve", "gxj", "department_approved"),
        ("target_table.approve", "czj", "approved"),
    ]
    assert events[1].note == "请补充满意度指标"


def test_a_department_reviews_only_its_own_units_tables(world, client, session):
    body = created(client)
    body = act(client, body, "submit").json()
    assert body["target_status"] == "declared"
    other_dept = factories.department(session, "别的主管部门")
    factories.user(session, "qt", "department", dept=other_dept)
    client.cookies.clear()
    factories.login(client, "qt")
    assert act(client, body, "approve").status_code == 404
