"""Every edit of a fund's tree carries the fund version it was based on: a stale edit is a 409 that
says so (and nothing is saved); two editors at once on PostgreSQL get one success and one 409."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
from sqlmodel import select

from app.models import FundNode, SpecialFund
from app.services import tokens
from tests import factories

HX = {"HX-Request": "true"}


def _fund(client, session):
    dept = factories.department(session, "广东省工业和信息化厅")
    _, secret = tokens.create_token(session=session, role="finance", name="财政局", scope="read write")
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"year": 2019, "name": "信息化专项", "total": "100", "department_id": dept.id}
    created = client.post("/api/v1/funds", json=body, headers=headers)
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    node = client.post(
        f"/api/v1/funds/{fid}/nodes", json={"kind": "division", "name": "甲处", "allocated": "100"}, headers=headers
    )
    assert node.status_code == 201, node.text
    return fid, node.json(), headers, secret


def test_a_stale_node_edit_is_a_409_that_names_the_versions_and_saves_nothing(client, session):
    fid, node, headers, _ = _fund(client, session)
    seen = node["fund_version"]
    assert client.get(f"/api/v1/funds/{fid}", headers=headers).json()["fund_version"] == seen
    edit = {"kind": "division", "name": "甲处", "allocated": "90", "version": seen}
    first = client.put(f"/api/v1/fund-nodes/{node['id']}", json=edit, headers=headers)
    assert first.status_code == 200 and first.json()["fund_version"] == seen + 1
    stale = client.put(f"/api/v1/fund-nodes/{node['id']}", json={**edit, "allocated": "80"}, headers=headers)
    assert stale.status_code == 409
    assert f"基于第 {seen} 版，现在是第 {seen + 1} 版" in stale.json()["message"]
    session.expire_all()
    assert str(session.get(FundNode, node["id"]).allocated) == "90.000000"
    # the version is required to change or remove a node; other edits check it when given
    missing = client.put(f"/api/v1/fund-nodes/{node['id']}", json={**edit, "version": None}, headers=headers)
    assert missing.status_code == 422
    assert client.delete(f"/api/v1/fund-nodes/{node['id']}", headers=headers).status_code == 422
    gone = client.delete(f"/api/v1/fund-nodes/{node['id']}?version={seen}", headers=headers)
    assert gone.status_code == 409
    late = {"kind": "recipient", "name": "乙", "allocated": "1", "parent_id": node["id"], "version": seen}
    assert client.post(f"/api/v1/funds/{fid}/nodes", json=late, headers=headers).status_code == 409
    ok = client.delete(f"/api/v1/fund-nodes/{node['id']}?version={seen + 1}", headers=headers)
    assert ok.status_code == 204


def test_a_page_form_based_on_an_old_version_is_refused_beside_the_form(client, session):
    fid, node, _, _ = _fund(client, session)
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    page = client.get(f"/fund-nodes/{node['id']}/edit").text
    seen = int(page.split('name="fund_version" value="', 1)[1].split('"', 1)[0])
    form = {"kind": "division", "name": "甲处", "allocated": "95", "fund_version": str(seen)}
    assert client.post(f"/fund-nodes/{node['id']}", data=form, headers=HX).status_code == 200
    stale = client.post(f"/fund-nodes/{node['id']}", data={**form, "allocated": "70"}, headers=HX)
    assert stale.status_code == 409 and "已被他人或其他窗口修改" in stale.text and 'value="70"' in stale.text
    session.expire_all()
    assert str(session.get(FundNode, node["id"]).allocated) == "95.000000"
    # the fund's history on its page: who changed which node's figure from what to what
    history = client.get(f"/funds/{fid}").text.split('id="fund-history"', 1)[1]
    assert "修改资金分配节点" in history and "节点“甲处”的下达金额（万元）：100 → 95" in history
    assert "czj" in history and "添加资金分配节点" in history and "新建专项资金" in history


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_editors_at_once_get_one_success_and_one_409_never_a_500(client, session, live_server):
    fid, node, _, secret = _fund(client, session)
    seen = node["fund_version"]
    gate = threading.Barrier(2)
    answers: list = [None, None]

    def edit(n: int) -> None:
        body = {"kind": "division", "name": f"甲处（编辑{n}）", "allocated": str(50 + n), "version": seen}
        with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as c:
            gate.wait()
            try:
                answers[n] = c.put(f"/api/v1/fund-nodes/{node['id']}", json=body).status_code
            except httpx.HTTPError as exc:
                answers[n] = type(exc).__name__

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert Counter(answers) == Counter({200: 1, 409: 1}), answers
    session.expire_all()
    fund = session.exec(select(SpecialFund).where(SpecialFund.id == fid)).one()
    stored = session.get(FundNode, node["id"])
    assert fund.version == seen + 1
    winner = answers.index(200)
    assert stored.name == f"甲处（编辑{winner}）" and str(stored.allocated) == f"{50 + winner}.000000"
