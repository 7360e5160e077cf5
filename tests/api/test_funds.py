"""/api/v1/funds on both databases: a fund entered from the seed through the API scores 96.8;
a recipient never reads a sibling's node; the xlsx template goes out and comes back, all or nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from app.models import FundNode
from app.services import tokens
from tests import factories
from tests.funds.seed import NODE_KEYS, SEED, enter, walk


def _token(session, role: str, scope: str, **kw) -> dict[str, str]:
    _, secret = tokens.create_token(session=session, role=role, name=f"{role}-{scope}", scope=scope, **kw)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def finance(session):
    return _token(session, "finance", "read write review")


def test_a_fund_entered_through_the_api_scores_96_8(client, session, finance):
    dept = factories.department(session, SEED["fund"]["department"])
    body = {k: v for k, v in SEED["fund"].items() if k != "department"}
    created = client.post("/api/v1/funds", json={**body, "department_id": dept.id}, headers=finance)
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    ids: dict[int, int] = {}
    for node, parent in walk():
        fields = {k: node[k] for k in NODE_KEYS if k in node}
        if parent is not None:
            fields["parent_id"] = ids[id(parent)]
        r = client.post(f"/api/v1/funds/{fid}/nodes", json=fields, headers=finance)
        assert r.status_code == 201, r.text
        ids[id(node)] = r.json()["id"]
    names = {n["name"]: n["id"] for n in client.get(f"/api/v1/funds/{fid}", headers=finance).json()["nodes"]}
    for d in SEED["deductions"]:
        payload = {"item_code": d["item"], "points": d["points"], "reason": d["reason"]}
        payload["indicator"] = d.get("indicator")
        if "node" in d:
            payload["node_id"] = names[d["node"]]
        assert client.post(f"/api/v1/funds/{fid}/deductions", json=payload, headers=finance).status_code == 201
    detail = client.get(f"/api/v1/funds/{fid}", headers=finance).json()
    assert detail["total"] == "57550.00" and detail["spent"] == "56022.2398" and detail["execution_rate"] == "97.35"
    assert [(c["name"], c["score"]) for c in detail["categories"]] == [
        ("投入", "19.5"),
        ("过程", "19.8"),
        ("产出", "28.0"),
        ("效益", "29.5"),
    ]
    process = detail["categories"][1]["items"][0]
    assert process["score"] == "11.8" and process["parts"][0] == {
        **process["parts"][0],
        "name": "资金支出率",
        "method": "computed",
        "score": "5.8",
        "rate": "97.35",
        "source": None,
    }
    assert detail["total_score"] == "96.8" and detail["grade"] == "优" and detail["status"] == "draft"
    rate = next(d for d in detail["declared"] if d["key"] == "execution_rate")
    assert rate["declared"] == "97.42" and rate["differs"] is True
    assert [n["own_score"] for n in detail["nodes"] if n["kind"] == "division"] == ["100.00", "99.00", "96.20"]
    # the lifecycle through the API: 送审 by the department's token, the bureau decides
    dept_token = _token(session, "department", "read write", department=dept.name)
    assert client.post(f"/api/v1/funds/{fid}/submit", headers=dept_token).json()["status"] == "submitted"
    assert client.post(f"/api/v1/funds/{fid}/approve", headers=dept_token).status_code == 403
    assert client.post(f"/api/v1/funds/{fid}/approve", headers=finance).json()["status"] == "approved"


def test_a_recipient_reads_its_node_never_a_siblings(client, session):
    fund = enter(session, deductions=False)
    mobile = factories.unit(session, "中国移动通信集团广东有限公司")
    node = session.exec(select(FundNode).where(FundNode.name == mobile.name)).first()
    node.unit_id = mobile.id
    session.add(node)
    session.commit()
    sibling = session.exec(select(FundNode).where(FundNode.name == "广东省广播电视网络股份有限公司")).one()
    headers = _token(session, "unit", "read write", unit=mobile.name)
    assert client.get(f"/api/v1/fund-nodes/{node.id}", headers=headers).json()["allocated"] == "1305.00"
    refused = client.get(f"/api/v1/fund-nodes/{sibling.id}", headers=headers)
    assert refused.status_code == 404 and "1305" not in refused.text and "422" not in refused.text
    detail = client.get(f"/api/v1/funds/{fund.id}", headers=headers).json()
    assert [n["name"] for n in detail["nodes"]] == ["电子信息工业处", "4K电视用户推广", mobile.name]
    assert detail["categories"] == [] and detail["total_score"] is None and detail["status"] is None
    assert "广东省广播电视网络股份有限公司" not in client.get(f"/api/v1/funds/{fund.id}", headers=headers).text
    payload = {"item_code": "42", "points": "1", "reason": "x"}
    assert client.post(f"/api/v1/funds/{fund.id}/deductions", json=payload, headers=headers).status_code == 403
    assert client.delete(f"/api/v1/fund-nodes/{sibling.id}?version=1", headers=headers).status_code == 404


def test_the_tree_goes_out_as_xlsx_and_comes_back_whole(client, session, finance):
    fund = enter(session)
    before = client.get(f"/api/v1/funds/{fund.id}", headers=finance).json()
    sheet = client.get(f"/api/v1/funds/{fund.id}/tree.xlsx", headers=finance)
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book["资金分配"].iter_rows(values_only=True))
    assert rows[0][:3] == ("上级路径", "类型", "名称") and len(rows) == 1 + len(before["nodes"])
    back = client.post(f"/api/v1/funds/{fund.id}/tree", files={"file": ("tree.xlsx", sheet.content)}, headers=finance)
    assert back.status_code == 200, back.text
    after = back.json()
    strip = ("id", "parent_id", "fund_version")
    assert [{k: v for k, v in n.items() if k not in strip} for n in after["nodes"]] == [
        {k: v for k, v in n.items() if k not in strip} for n in before["nodes"]
    ]
    assert after["spent"] == "56022.2398"
    # the deduction on a removed node kept its reason; the item score is unchanged
    assert after["total_score"] == "96.8"


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "资金分配"
    sheet.append(["上级路径", "类型", "名称", "下达金额（万元）", "实际支出（万元）", "实施方式"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_bad_file_writes_nothing_and_names_row_and_column(client, session, finance):
    fund = enter(session, deductions=False)
    count = len(client.get(f"/api/v1/funds/{fund.id}", headers=finance).json()["nodes"])
    data = _xlsx(
        [
            ["", "处室", "甲处", "57550", None, None],
            ["甲处", "用款单位", "乙单位", "一万", None, "事后奖补"],
            ["丙处", "用款单位", "丁单位", "1", None, "摇号"],
            ["甲处", "用款单位", "戊单位", "=1+1", None, None],
        ]
    )
    r = client.post(f"/api/v1/funds/{fund.id}/tree", files={"file": ("bad.xlsx", data)}, headers=finance)
    assert r.status_code == 422
    errors = [(e["field"], e["message"]) for e in r.json()["errors"]]
    assert any("第4行" in f and "实施方式" in f for f, _ in errors), errors
    assert any("第5行" in f and "下达金额" in f and "公式" in m for f, m in errors), errors
    assert "一条也没有写入" in r.json()["message"]
    assert len(client.get(f"/api/v1/funds/{fund.id}", headers=finance).json()["nodes"]) == count
    # the file's own errors first; then the tree's (an amount that is not a number, a missing parent)
    data = _xlsx([["", "处室", "甲处", "57550"], ["甲处", "用款单位", "乙单位", "一万"], ["丙处", "地市", "丁", "1"]])
    r = client.post(f"/api/v1/funds/{fund.id}/tree", files={"file": ("bad.xlsx", data)}, headers=finance)
    errors = [e["field"] for e in r.json()["errors"]]
    assert r.status_code == 422 and errors == ["bad.xlsx 第3行“下达金额（万元）”列", "bad.xlsx 第4行“上级路径”列"]
    assert len(client.get(f"/api/v1/funds/{fund.id}", headers=finance).json()["nodes"]) == count


def test_text_in_the_export_is_never_a_formula(client, session, finance):
    fund = enter(session, deductions=False)
    node = session.exec(select(FundNode).where(FundNode.name == "广州市")).one()
    node.purpose = '=HYPERLINK("http://example.com","点此")'
    session.add(node)
    session.commit()
    sheet = client.get(f"/api/v1/funds/{fund.id}/tree.xlsx", headers=finance)
    cells = [c for row in load_workbook(io.BytesIO(sheet.content))["资金分配"].iter_rows() for c in row]
    cell = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"


def test_a_recipient_reports_its_spending_and_the_rate_is_summed_up_again(client, session, finance):
    fund = enter(session, deductions=False)
    agency = factories.unit(session, "广东省通信管理局")
    node = session.exec(select(FundNode).where(FundNode.name == agency.name)).one()
    node.unit_id = agency.id
    session.add(node)
    session.commit()
    headers = _token(session, "unit", "read write", unit=agency.name)
    seen = client.get(f"/api/v1/fund-nodes/{node.id}", headers=headers).json()["fund_version"]
    r = client.put(
        f"/api/v1/fund-nodes/{node.id}/spending",
        json={"spent": "500", "arrived": "500", "version": seen},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["spent"] == "500.00" and r.json()["execution_rate"] == "100.00"
    detail = client.get(f"/api/v1/funds/{fund.id}", headers=finance).json()
    assert detail["spent"] == "56522.2398" and detail["execution_rate"] == "98.21"
    seen += 1
    bad = client.put(f"/api/v1/fund-nodes/{node.id}/spending", json={"spent": "-1", "version": seen}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "spent"
    sibling = session.exec(select(FundNode).where(FundNode.name == "广州市")).one()
    assert (
        client.put(
            f"/api/v1/fund-nodes/{sibling.id}/spending", json={"spent": "1", "version": seen}, headers=headers
        ).status_code
        == 404
    )
    # the bureau does not report for a unit through this route; once sent in, the unit cannot change it
    refused = client.put(
        f"/api/v1/fund-nodes/{node.id}/spending", json={"spent": "1", "version": seen}, headers=finance
    )
    assert refused.status_code == 403
    dept = _token(session, "department", "read write", department=SEED["fund"]["department"])
    for d in SEED["deductions"][:1]:
        client.post(
            f"/api/v1/funds/{fund.id}/deductions",
            json={"item_code": d["item"], "points": "0.5", "reason": "x"},
            headers=dept,
        )
    assert client.post(f"/api/v1/funds/{fund.id}/submit", headers=dept).status_code == 200
    seen = client.get(f"/api/v1/fund-nodes/{node.id}", headers=headers).json()["fund_version"]
    late = client.put(f"/api/v1/fund-nodes/{node.id}/spending", json={"spent": "400", "version": seen}, headers=headers)
    assert late.status_code == 409 and "不能再填报实际支出" in late.json()["message"]
