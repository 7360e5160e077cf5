"""The review API: approve / return / reopen, history, filing windows — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import SelfEvaluation, Unit
from tests import factories
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units


def _fill_and_submit(client, eid: int, *, report: str = "12份") -> dict:
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "95",
            "results": [
                {"indicator_id": ind["监测报告"], "actual": report},
                {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    submitted = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


@pytest.fixture
def setup(client, session):
    dept, mine, _ = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "fgw", "department", dept=factories.department(session, "广州市发展和改革委员会"))
    factories.user(session, "czj", "finance")
    factories.user(session, "admin", "admin")
    project = project_with(session, mine, STANDARD)
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    factories.login(client, "jcz")
    submitted = _fill_and_submit(client, eid)
    ind = {i["name"]: i["id"] for i in submitted["indicators"]}
    return client, eid, ind


def as_user(client, username):
    client.cookies.clear()
    factories.login(client, username)
    return client


def test_unit_users_cannot_approve_or_return(setup):
    client, eid, _ = setup
    for path, body in (("approve", {}), ("return", {"opinion": "自己退回"}), ("reopen", {"opinion": "x"})):
        response = client.post(f"/api/v1/self-evaluations/{eid}/{path}", json=body)
        assert response.status_code == 403, path
        assert response.json()["error"] == "forbidden"
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["status"] == "submitted"


def test_return_without_opinion_is_422_in_chinese(setup):
    client, eid, _ = setup
    as_user(client, "gxj")
    for body in ({}, {"opinion": ""}, {"opinion": "  "}):
        response = client.post(f"/api/v1/self-evaluations/{eid}/return", json=body)
        assert response.status_code == 422
        data = response.json()
        assert data["errors"][0]["field"] == "opinion" and "审核意见" in data["errors"][0]["message"]


def test_department_returns_with_override_then_unit_resubmits_and_finance_approves_finally(setup):
    client, eid, ind = setup
    as_user(client, "gxj")
    returned = client.post(
        f"/api/v1/self-evaluations/{eid}/return",
        json={
            "opinion": "监测报告只见 10 份佐证，请核实",
            "overrides": [{"indicator_id": ind["监测报告"], "score": "40", "reason": "只见 10 份佐证"}],
        },
    )
    assert returned.status_code == 200, returned.text
    data = returned.json()
    assert data["status"] == "returned" and data["review_opinion"] == "监测报告只见 10 份佐证，请核实"
    report = {i["name"]: i for i in data["indicators"]}["监测报告"]
    assert (report["score"], report["score_override"]) == ("50.00", "40.00")
    assert data["total_score"] == "89.50" and data["grade"] == "良"
    assert data["reviewed_by"] == "gxj" and data["actions"] == []
    assert [h["action"] for h in data["history"]][-1] == "evaluation.return"
    assert data["history"][-1]["status_before"] == "submitted" and data["history"][-1]["status_after"] == "returned"

    as_user(client, "jcz")
    seen = client.get(f"/api/v1/self-evaluations/{eid}").json()
    assert seen["status"] == "returned" and "请核实" in seen["review_opinion"]
    resubmitted = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert resubmitted.status_code == 200 and resubmitted.json()["status"] == "submitted"

    as_user(client, "gxj")
    approved = client.post(
        f"/api/v1/self-evaluations/{eid}/approve",
        json={
            "version": resubmitted.json()["version"],
            "overrides": [{"indicator_id": ind["监测报告"], "score": None}],
        },
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["total_score"] == "99.50"
    assert approved.json()["department_score"] == "99.50"

    as_user(client, "czj")
    final = client.post(f"/api/v1/self-evaluations/{eid}/approve")
    assert final.status_code == 200 and final.json()["status"] == "final"
    assert final.json()["actions"] == ["reopen"]
    assert client.post(f"/api/v1/self-evaluations/{eid}/return", json={"opinion": "再退一次"}).status_code == 409
    history = client.get(f"/api/v1/self-evaluations/{eid}/history").json()
    assert [h["action_label"] for h in history] == ["保存填报", "送审", "退回", "送审", "审核通过", "终审通过"]
    assert history[2]["actor"] == "gxj" and history[2]["role"] == "department"
    assert "指标“监测报告”：得分调整为 40（理由：只见 10 份佐证）" in history[2]["details"]


def test_reopen_is_for_the_finance_bureau_only_with_a_reason(setup):
    client, eid, _ = setup
    as_user(client, "czj")
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve").json()["status"] == "final"
    as_user(client, "gxj")
    assert client.post(f"/api/v1/self-evaluations/{eid}/reopen", json={"opinion": "重开"}).status_code == 403
    as_user(client, "czj")
    assert client.post(f"/api/v1/self-evaluations/{eid}/reopen", json={}).status_code == 422
    reopened = client.post(f"/api/v1/self-evaluations/{eid}/reopen", json={"opinion": "审计调整执行数"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "returned"
    assert reopened.json()["history"][-1]["action"] == "evaluation.reopen"


def test_a_stale_version_is_409_and_changes_nothing(setup):
    client, eid, _ = setup
    as_user(client, "gxj")
    version = client.get(f"/api/v1/self-evaluations/{eid}").json()["version"]
    stale = client.post(f"/api/v1/self-evaluations/{eid}/approve", json={"version": version - 1})
    assert stale.status_code == 409 and "刷新" in stale.json()["message"]
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["status"] == "submitted"


def test_other_departments_see_nothing(setup):
    client, eid, _ = setup
    as_user(client, "fgw")
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve").status_code == 404
    assert client.get(f"/api/v1/self-evaluations/{eid}/history").status_code == 404


def test_override_above_the_weight_is_422_with_the_indicator(setup):
    client, eid, ind = setup
    as_user(client, "gxj")
    response = client.post(
        f"/api/v1/self-evaluations/{eid}/approve",
        json={"overrides": [{"indicator_id": ind["服务对象满意度"], "score": "12", "reason": "表现突出"}]},
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["indicator_id"] == ind["服务对象满意度"] and "不能超过该指标的分值 10" in error["message"]
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve", json={"bogus": 1}).status_code == 422


def test_filing_window_api(setup):
    client, _, _ = setup
    unset = client.get(f"/api/v1/filing-windows/{YEAR}")  # the unit reads its deadline
    assert unset.status_code == 200 and unset.json()["is_open"] is True and unset.json()["closes_date"] is None
    body = {"opens_date": "2025-01-02", "closes_date": "2025-02-28"}
    assert client.put(f"/api/v1/filing-windows/{YEAR}", json=body).status_code == 403
    as_user(client, "gxj")
    assert client.put(f"/api/v1/filing-windows/{YEAR}", json=body).status_code == 403
    as_user(client, "czj")
    bad = client.put(f"/api/v1/filing-windows/{YEAR}", json={"opens_date": "2025-03-01", "closes_date": "2025-02-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "closes_date"
    assert client.put(f"/api/v1/filing-windows/{YEAR}", json={"closes_date": "2025-02-30"}).status_code == 422
    saved = client.put(f"/api/v1/filing-windows/{YEAR}", json=body)
    assert saved.status_code == 200
    assert saved.json()["closes_date"] == "2025-02-28" and saved.json()["updated_by"] == "czj"
    as_user(client, "jcz")
    seen = client.get(f"/api/v1/filing-windows/{YEAR}").json()
    assert "2025-02-28" in seen["deadline_text"]
    assert client.get("/api/v1/filing-windows/99999").status_code == 422


def test_review_queue_api_pages_by_opaque_tokens_like_the_page(setup, session):
    client, eid, _ = setup
    mine = session.get(SelfEvaluation, eid)
    unit = session.exec(select(Unit).where(Unit.name == "广州市无线电监测站")).one()
    other = project_with(session, unit, STANDARD, name="第二个项目")
    second = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == other.id)).one()
    _fill_and_submit(client, second)
    assert mine.status == "submitted"
    assert client.get("/api/v1/review-queue").status_code == 403  # a unit has no queue
    as_user(client, "gxj")
    first = client.get("/api/v1/review-queue", params={"year": YEAR, "page_size": 1, "sort": "project"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["total"] == 2 and body["pages"] == 2 and body["page"] == 1 and body["previous_page_token"] is None
    # by project name (code points, on both databases): 测试项目 (U+6D4B) before 第二个项目 (U+7B2C)
    order = [eid, second]
    assert [i["id"] for i in body["items"]] == order[:1]
    nxt = client.get(
        "/api/v1/review-queue",
        params={"year": YEAR, "page_size": 1, "sort": "project", "page_token": body["next_page_token"]},
    ).json()
    assert [i["id"] for i in nxt["items"]] == order[1:] and nxt["page"] == 2 and nxt["next_page_token"] is None
    back = client.get(
        "/api/v1/review-queue",
        params={"year": YEAR, "page_size": 1, "sort": "project", "page_token": nxt["previous_page_token"]},
    ).json()
    assert back["items"] == body["items"] and back["page"] == 1
    # the page follows the same tokens
    page = client.get("/reviews", params={"year": YEAR, "status": "submitted", "sort": "project"})
    assert page.status_code == 200
    bad = client.get("/api/v1/review-queue", params={"page_token": "not-a-token"})
    assert bad.status_code == 422 and "翻页标记无效" in bad.text
