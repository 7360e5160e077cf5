"""The monitoring API: the overview with lights (filters), a unit's report read and written (version, 422 per
field, exact money), the bureau's rounds, tenancy and token scopes (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from app.services import monitoring, tokens
from tests.services.evaluation_data import YEAR
from tests.services.monitoring_data import PLANTED, indicator_of, planted


@pytest.fixture
def w(session):
    w = planted(session)
    w["tokens"] = {}
    for who, role, kw in [
        ("finance", "finance", {}),
        ("dept", "department", {"department": "广州市工业和信息化局"}),
        ("unit", "unit", {"unit": "广州市无线电监测站"}),
        ("other", "unit", {"unit": "广州市工业和信息化产业发展中心"}),
        ("finance_read", "finance", {}),
    ]:
        scope = "read" if who == "finance_read" else " ".join(tokens.ROLE_SCOPES[role])
        _, secret = tokens.create_token(session=session, role=role, name=f"{who} 令牌", scope=scope, **kw)
        w["tokens"][who] = {"Authorization": f"Bearer {secret}"}
    return w


def test_the_overview_counts_the_planted_lights_and_filters_the_reds(client, w):
    body = client.get(f"/api/v1/monitoring?year={YEAR}", headers=w["tokens"]["finance"]).json()
    assert body["round"]["cutoff_date"] == f"{YEAR}-06-30" and body["round"]["time_line"] == "49.73"
    assert body["thresholds"] == {"yellow": "10", "red": "20"}
    assert body["total"]["lights"] == {"green": 1, "yellow": 1, "red": 1, "none": 1}
    lights = {p["project_name"]: p["light"] for p in body["projects"]}
    assert {name: lights[name] for name in PLANTED} == {n: v[3] for n, v in PLANTED.items()}
    unit = next(u for u in body["units"] if u["name"] == "广州市无线电监测站")
    assert unit["spent"] == "150.00" and unit["spending_rate"] == "50.00"
    reds = client.get(f"/api/v1/monitoring?year={YEAR}&light=red", headers=w["tokens"]["dept"]).json()
    assert [p["project_name"] for p in reds["projects"]] == ["业务培训"]
    by_unit = client.get(
        f"/api/v1/monitoring?year={YEAR}&unit_id={w['other'].id}", headers=w["tokens"]["finance"]
    ).json()
    assert [p["project_name"] for p in by_unit["projects"]] == ["别人的项目"]
    assert client.get(f"/api/v1/monitoring?year={YEAR}&light=blue", headers=w["tokens"]["finance"]).status_code == 422
    assert client.get(f"/api/v1/monitoring?year={YEAR + 1}", headers=w["tokens"]["finance"]).status_code == 404


def test_a_unit_reads_and_writes_its_report_all_or_nothing(client, w, session):
    project = w["projects"]["业务培训"]
    ind = indicator_of(session, project.id)
    url = f"/api/v1/monitoring/projects/{project.id}"
    got = client.get(url, headers=w["tokens"]["unit"]).json()
    assert got["light"] == "red" and got["indicators"][0]["behind"] == "29.73" and got["indicators"][0]["needs_reason"]
    version = got["version"]
    # one bad field: 422 naming it, nothing stored (not even the good 执行数)
    bad = client.put(
        url,
        json={"version": version, "spent": "56022.2398", "indicators": [{"indicator_id": ind.id, "progress": "很多"}]},
        headers=w["tokens"]["unit"],
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [f"indicators[{ind.id}].progress"]
    assert client.get(url, headers=w["tokens"]["unit"]).json()["spent"] == "50.00"
    ok = client.put(
        url,
        json={
            "version": version,
            "spent": "56022.2398",
            "indicators": [
                {"indicator_id": ind.id, "progress": "60人次", "reason": "培训集中在上半年", "measure": "无"}
            ],
        },
        headers=w["tokens"]["unit"],
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["spent"] == "56022.2398" and body["light"] == "green" and body["version"] == version + 1
    assert body["indicators"][0]["reason"] == "培训集中在上半年"
    stale = client.put(url, json={"version": version, "spent": "1"}, headers=w["tokens"]["unit"])
    assert stale.status_code == 409


def test_tenancy_and_roles(client, w, session):
    mine = w["projects"]["设备运维"]
    url = f"/api/v1/monitoring/projects/{mine.id}"
    assert client.get(url, headers=w["tokens"]["other"]).status_code == 404
    assert client.put(url, json={"version": 2, "spent": "1"}, headers=w["tokens"]["other"]).status_code == 404
    # the department reads but does not write a unit's report
    assert client.get(url, headers=w["tokens"]["dept"]).status_code == 200
    assert client.put(url, json={"version": 2, "spent": "1"}, headers=w["tokens"]["dept"]).status_code == 403
    other_view = client.get(f"/api/v1/monitoring?year={YEAR}", headers=w["tokens"]["other"]).json()
    assert [p["project_name"] for p in other_view["projects"]] == ["别人的项目"]


def test_the_bureau_opens_and_closes_rounds(client, w, session):
    opened = client.post(
        "/api/v1/monitoring/rounds",
        json={"year": YEAR + 1, "cutoff_date": f"{YEAR + 1}-07-31"},
        headers=w["tokens"]["finance"],
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open" and opened.json()["time_line"] == "58.08"
    bad = client.post(
        "/api/v1/monitoring/rounds",
        json={"year": YEAR, "cutoff_date": f"{YEAR + 1}-01-01"},
        headers=w["tokens"]["finance"],
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cutoff_date"
    # a read-only token, a department, a unit: refused
    for who in ("finance_read", "dept", "unit"):
        refused = client.post(f"/api/v1/monitoring/rounds/{opened.json()['id']}/close", headers=w["tokens"][who])
        assert refused.status_code == 403, who
    closed = client.post(f"/api/v1/monitoring/rounds/{opened.json()['id']}/close", headers=w["tokens"]["finance"])
    assert closed.json()["status"] == "closed"
    rnd = monitoring.round_of(session=session, year=YEAR)
    monitoring.close_round(session=session, principal=w["finance"], round_id=rnd.id)
    project = w["projects"]["设备运维"]
    put = client.put(
        f"/api/v1/monitoring/projects/{project.id}", json={"version": 2, "spent": "1"}, headers=w["tokens"]["unit"]
    )
    assert put.status_code == 409 and "已结束" in put.json()["message"]


def test_the_routes_are_documented(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/monitoring",
        "/api/v1/monitoring/projects/{project_id}",
        "/api/v1/monitoring/rounds",
        "/api/v1/monitoring/rounds/{round_id}/close",
    } <= set(paths)
    assert paths["/api/v1/monitoring"]["get"]["summary"].startswith("某年度的运行监控总览")
