"""The special-fund pages: create a fund, enter its tree (htmx fragments, 422 beside the field),
score it with deductions, the lifecycle's buttons, the recipient's narrow view, import by upload."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlmodel import select

from app.models import FundNode, SpecialFund
from tests import factories
from tests.funds.seed import enter

HX = {"HX-Request": "true"}


def test_finance_creates_a_fund_and_enters_its_tree(client, session):
    dept = factories.department(session, "广东省工业和信息化厅")
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    assert "新建专项资金" in client.get("/funds").text
    form = {"year": "2019", "name": "信息化专项", "total": "100", "department_id": str(dept.id)}
    created = client.post("/funds", data={**form, "declared_execution_rate": "95"}, follow_redirects=False)
    assert created.status_code == 303
    fid = session.exec(select(SpecialFund.id)).one()
    assert created.headers["location"] == f"/funds/{fid}"
    # htmx: the fund block comes back, the tree has the new node
    r = client.post(f"/funds/{fid}/nodes", data={"kind": "division", "name": "甲处", "allocated": "100"}, headers=HX)
    assert r.status_code == 200 and "<html" not in r.text and 'id="fund"' in r.text and "已添加“甲处”" in r.text
    parent = session.exec(select(FundNode.id).where(FundNode.name == "甲处")).one()
    node = {"kind": "recipient", "name": "乙单位", "allocated": "60", "spent": "57", "parent_id": str(parent)}
    r = client.post(f"/funds/{fid}/nodes", data=node, headers=HX)
    assert "下级合计 60.00，差 40.00" in r.text  # the difference is shown at the node, never fixed
    assert 'id="fund-execution-rate">57.00%' in r.text
    # invalid input: 422, the message beside the field, nothing stored
    bad = client.post(f"/funds/{fid}/nodes", data={**node, "name": "丙", "allocated": "一百"}, headers=HX)
    assert bad.status_code == 422 and "下达金额应为数字" in bad.text and 'value="一百"' in bad.text
    assert session.exec(select(FundNode).where(FundNode.name == "丙")).first() is None
    # the declared 95% against the recomputed 57.00%
    page = client.get(f"/funds/{fid}").text
    assert "不一致（保留申报数，未作修正）" in page and "<html" in page


def test_the_seed_fund_page_shows_96_8_and_the_divisions_beside_it(client, session):
    fund = enter(session)
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    page = client.get(f"/funds/{fund.id}").text
    assert 'id="fund-total">96.8<' in page
    assert "资金支出率 97.35% × 6.0" in page
    assert re.search(r"资金支出率</td>\s*<td class=\"num\">6.0</td>\s*<td class=\"num\">5.8</td>", page)
    assert "信软处部分调剂资金2020年5月才下达完毕" in page
    assert "处室自评 96.2 分（不计入总分）" in page and "不计入总分" in page
    assert "未经确认" in page
    # a deduction through the page moves the total
    r = client.post(
        f"/funds/{fund.id}/deductions", data={"item_code": "42", "points": "1", "reason": "个别地市未公示"}, headers=HX
    )
    assert r.status_code == 200 and 'id="fund-total">95.8<' in r.text
    missing = client.post(f"/funds/{fund.id}/deductions", data={"item_code": "42", "points": "1"}, headers=HX)
    assert missing.status_code == 422 and "请写明扣分理由" in missing.text


def test_the_lifecycle_buttons_follow_the_table(client, session):
    fund = enter(session)
    from app.models import Department

    dept = session.get(Department, fund.department_id)
    factories.user(session, "gxt2", "department", dept=dept)
    factories.login(client, "gxt2")
    page = client.get(f"/funds/{fund.id}").text
    assert 'id="fund-submit-button"' in page and 'id="fund-approve-button"' not in page
    r = client.post(f"/funds/{fund.id}/act", data={"action": "submit"}, headers=HX)
    assert r.status_code == 200 and 'id="fund-withdraw-button"' in r.text and "添加节点" not in r.text
    assert client.post(f"/funds/{fund.id}/act", data={"action": "approve"}, headers=HX).status_code == 403


def test_a_recipient_sees_its_own_node_and_no_sibling(client, session):
    fund = enter(session, deductions=False)
    mobile = factories.unit(session, "中国移动通信集团广东有限公司")
    for node in session.exec(select(FundNode).where(FundNode.name == mobile.name)):
        node.unit_id = mobile.id
        session.add(node)
    session.commit()
    factories.user(session, "yidong", "unit", unit_row=mobile)
    factories.login(client, "yidong")
    assert fund.name in client.get("/funds").text
    page = client.get(f"/funds/{fund.id}").text
    assert "4K电视用户推广" in page and "广东省广播电视网络股份有限公司" not in page and "422.00" not in page
    assert "自评评分" not in page and "添加节点" not in page
    sibling = session.exec(select(FundNode).where(FundNode.name == "广东省广播电视网络股份有限公司")).one()
    assert client.get(f"/fund-nodes/{sibling.id}/edit").status_code == 404


def test_an_upload_with_errors_lists_them_by_row_and_column(client, session):
    fund = enter(session, deductions=False)
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    book = Workbook()
    sheet = book.active
    sheet.title = "资金分配"
    sheet.append(["上级路径", "类型", "名称", "下达金额（万元）"])
    sheet.append(["", "处室", "甲处", "57550"])
    sheet.append(["乙处", "用款单位", "丙", "1"])
    data = io.BytesIO()
    book.save(data)
    r = client.post(f"/funds/{fund.id}/tree", files={"file": ("tree.xlsx", data.getvalue())})
    assert r.status_code == 422
    assert "tree.xlsx 第3行“上级路径”列：上级「乙处」不在它之前的行中" in r.text
    assert session.exec(select(FundNode).where(FundNode.name == "甲处")).first() is None


def test_a_recipient_reports_its_spending_on_the_page(client, session):
    fund = enter(session, deductions=False)
    agency = factories.unit(session, "广东省通信管理局")
    node = session.exec(select(FundNode).where(FundNode.name == agency.name)).one()
    node.unit_id = agency.id
    session.add(node)
    session.commit()
    factories.user(session, "tongxin", "unit", unit_row=agency)
    factories.login(client, "tongxin")
    assert "填报本单位的实际支出" in client.get(f"/funds/{fund.id}").text
    r = client.post(f"/fund-nodes/{node.id}/spending", data={"spent": "250"}, headers=HX)
    assert r.status_code == 200 and "已填报“广东省通信管理局”的实际支出" in r.text and "50.00%" in r.text
    bad = client.post(f"/fund-nodes/{node.id}/spending", data={"spent": "二百"}, headers=HX)
    assert bad.status_code == 422 and "实际支出应为数字" in bad.text
