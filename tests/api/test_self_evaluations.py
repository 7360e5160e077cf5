"""The unit API for self-evaluations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import AuditEvent, FilingWindow, SelfEvaluation
from tests import factories
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units


@pytest.fixture
def setup(client, session):
    _, mine, other = two_units(session)
    project = project_with(session, mine, STANDARD)
    other_project = project_with(session, other, STANDARD, name="别人的项目")
    factories.login(client, "jcz")
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    other_eval = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == other_project.id)).one()
    return client, evaluation.id, other_eval.id


def ids(body):
    return {i["name"]: i["id"] for i in body["indicators"]}


def test_list_has_one_evaluation_per_project_of_the_caller(setup):
    client, eid, _ = setup
    rows = client.get(f"/api/v1/self-evaluations?year={YEAR}").json()
    assert [r["id"] for r in rows] == [eid]
    assert rows[0]["status"] == "not_started" and rows[0]["unit"] == "广州市无线电监测站"
    assert set(rows[0]) == {
        "id",
        "project_id",
        "project_code",
        "project_name",
        "unit",
        "status",
        "total_score",
        "grade",
        "version",
    }


def test_fill_score_submit_withdraw(setup, session):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    assert body["template"] == "national-2020@1"
    # No 效益 points move: all three categories present. Weights: 50 / 30 / 10.
    assert [i["weight"] for i in body["indicators"]] == ["50.00", "30.00", "10.00"]
    ind = ids(body)
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "85",
            "goal_completion": "完成全年监测任务",
            "results": [
                {"indicator_id": ind["监测报告"], "actual": "10份"},
                {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    data = saved.json()
    # 执行率 85/100 = 85% → 8.50 (flag execution_low); 10/12 × 50 = 41.666… → 41.67;
    # achieved without a chosen score → 100% × 30 = 30; 96% ≥ 95% → 10. Total 90.17 → 优.
    assert data["status"] == "draft"
    assert data["execution_rate"] == "85.00" and data["execution_score"] == "8.50"
    assert "execution_low" in data["flags"]
    scores = {i["name"]: i["score"] for i in data["indicators"]}
    assert scores == {"监测报告": "41.67", "监测能力": "30.00", "服务对象满意度": "10.00"}
    assert data["total_score"] == "90.17" and data["grade"] == "优"
    assert data["version"] == body["version"] + 1

    refused = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [e["indicator_id"] for e in errors] == [ind["监测报告"]]
    assert "偏差原因" in errors[0]["message"]
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["status"] == "draft"

    data = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": data["version"],
            "results": [{"indicator_id": ind["监测报告"], "deviation_reason": "下半年设备检修，少出两份报告"}],
        },
    ).json()
    submitted = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    again = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": submitted.json()["version"], "spent": "90"})
    assert again.status_code == 409
    withdrawn = client.post(f"/api/v1/self-evaluations/{eid}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    of_evaluation = (AuditEvent.entity_type == "self_evaluation") & (AuditEvent.entity_id == eid)
    actions = [e.action for e in session.exec(select(AuditEvent).where(of_evaluation).order_by(AuditEvent.id))]
    assert actions == ["evaluation.save", "evaluation.save", "evaluation.submit", "evaluation.withdraw"]


def test_a_stale_version_is_refused_and_nothing_is_overwritten(setup):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    first = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "spent": "50"})
    assert first.status_code == 200
    second = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "spent": "60"})
    assert second.status_code == 409 and "刷新" in second.json()["message"]
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["spent"] == "50.00"


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("spent", "abc", "应为数字"),
        ("spent", "-5", "不能为负数"),
        ("spent", "1e9", "应为数字"),
        ("spent", "1.0000001", "6 位小数"),
        ("actual", "abc", "请填写数字"),
        ("actual", "-5份", "不能为负数"),
        ("actual", "1e9份", "科学计数法"),
        ("actual", "9" * 10000, "500 个字符"),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_changes_nothing(setup, field, value, needle):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    payload = {"version": body["version"]}
    if field == "spent":
        payload["spent"] = value
    else:
        payload["results"] = [{"indicator_id": ids(body)["监测报告"], "actual": value}]
    response = client.put(f"/api/v1/self-evaluations/{eid}", json=payload)
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert needle in messages
    after = client.get(f"/api/v1/self-evaluations/{eid}").json()
    assert after["version"] == body["version"] and after["spent"] is None


def test_html_is_kept_as_text(setup):
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    script = "<script>alert(1)</script>"
    response = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "goal_completion": script,
            "results": [{"indicator_id": ids(body)["监测报告"], "deviation_reason": script}],
        },
    )
    assert response.status_code == 200
    assert response.json()["goal_completion"] == script


def test_another_units_evaluation_is_not_found(setup):
    client, _, other = setup
    assert client.get(f"/api/v1/self-evaluations/{other}").status_code == 404
    assert client.put(f"/api/v1/self-evaluations/{other}", json={"version": 1, "spent": "1"}).status_code == 404
    assert client.post(f"/api/v1/self-evaluations/{other}/submit").status_code == 404
    assert client.post(f"/api/v1/self-evaluations/{other}/withdraw").status_code == 404
    assert client.get("/api/v1/self-evaluations/999999").status_code == 404


def test_budget_only_when_the_table_gave_none(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD, budget=None, name="无预算项目")
    factories.login(client, "jcz")
    eid = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one().id
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    zero = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "budget": "0"})
    assert zero.status_code == 422
    ok = client.put(
        f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "budget": "200", "spent": "200"}
    )
    assert ok.status_code == 200 and ok.json()["execution_rate"] == "100.00"
    events = session.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "self_evaluation", AuditEvent.entity_id == eid)
    ).all()
    assert any((e.after or {}).get("budget") == "200" for e in events)


def test_budget_from_the_table_is_the_default_the_unit_may_change(setup):
    """全年预算数 is the year's figure after adjustments: the unit reports it (domain.md §1)."""
    client, eid, _ = setup
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    assert body["budget"] == "100.00"
    response = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "budget": "120"})
    assert response.status_code == 200 and response.json()["budget"] == "120.00"


def test_outside_the_filing_window_editing_is_refused_with_the_reason(setup, session):
    client, eid, _ = setup
    session.add(
        FilingWindow(
            year=YEAR, opens_date=date.today() - timedelta(days=30), closes_date=date.today() - timedelta(days=1)
        )
    )
    session.commit()
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    response = client.put(f"/api/v1/self-evaluations/{eid}", json={"version": body["version"], "spent": "1"})
    assert response.status_code == 409 and "填报期" in response.json()["message"]
    assert client.post(f"/api/v1/self-evaluations/{eid}/submit").status_code == 409


def test_unit_mismatch_is_flagged_not_scored_and_blocks_submission(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, [("output", "服务企业", "≥10家")], name="单位不符")
    factories.login(client, "jcz")
    eid = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one().id
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = body["indicators"][0]["id"]
    data = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={"version": body["version"], "spent": "100", "results": [{"indicator_id": ind, "actual": "12平方米"}]},
    ).json()
    row = data["indicators"][0]
    assert "unit_mismatch" in row["flags"] and row["score"] is None
    assert client.post(f"/api/v1/self-evaluations/{eid}/submit").status_code == 422
    data = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={"version": data["version"], "results": [{"indicator_id": ind, "actual": "12个"}]},
    ).json()
    assert data["indicators"][0]["score"] == "90.00"  # 个 and 家 are both counts: met, full weight
