"""The reviewers' pages: queue (fragment vs full page, filters, sort, paging), the review page's
controls and history, the overview's SVG charts, and the filing-window page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.models import Department, FilingWindow, SelfEvaluation
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units

HX = {"HX-Request": "true"}


@pytest.fixture
def setup(client, session):
    dept, mine, other = two_units(session)
    far_dept = factories.department(session, "广州市发展和改革委员会")
    far = factories.unit(session, "广州市价格监测中心", far_dept)
    factories.user(session, "jgzx", "unit", unit_row=far)
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "czj", "finance")
    ids = {}
    for owner, unit, name, report in (
        ("jcz", mine, "监测设备运维", "12份"),
        ("jcz", mine, "频谱监测", "6份"),
        ("zx", other, "产业分析报告", "12份"),
        ("jgzx", far, "价格监测", "12份"),
    ):
        project = project_with(session, unit, STANDARD, name=name)
        ids[name] = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
        as_user(client, owner)
        if report == "6份":
            body = client.get(f"/api/v1/self-evaluations/{ids[name]}").json()
            ind = {i["name"]: i["id"] for i in body["indicators"]}
            client.put(
                f"/api/v1/self-evaluations/{ids[name]}",
                json={
                    "version": body["version"],
                    "spent": "95",
                    "results": [
                        {"indicator_id": ind["监测报告"], "actual": "6份", "deviation_reason": "设备故障"},
                        {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                        {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
                    ],
                },
            )
            assert client.post(f"/api/v1/self-evaluations/{ids[name]}/submit").status_code == 200
        else:
            _fill_and_submit(client, ids[name])
    project_with(session, mine, STANDARD, name="未填报的项目")
    as_user(client, "gxj")
    return client, ids


def test_queue_full_page_then_fragment_scoped_to_the_department(setup):
    client, ids = setup
    page = client.get("/reviews")
    assert page.status_code == 200 and "<html" in page.text and 'id="queue"' in page.text
    assert page.headers["vary"] == "HX-Request"
    assert "监测设备运维" in page.text and "产业分析报告" in page.text
    assert "价格监测" not in page.text  # another department's unit
    assert "未填报的项目" not in page.text  # default: submitted only
    fragment = client.get("/reviews?flag=unmet", headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="queue"')
    assert "频谱监测" in fragment.text and "监测设备运维" not in fragment.text
    # The pushed URL opened directly is a full page showing the same rows.
    direct = client.get("/reviews?flag=unmet")
    assert "<html" in direct.text and "频谱监测" in direct.text and "监测设备运维" not in direct.text
    assert client.get("/reviews?flag=nonsense").status_code == 422
    assert client.get("/reviews?page=abc").status_code == 422


def test_queue_sorts_and_pages(setup, client):
    client, ids = setup
    as_user(client, "czj")
    ascending = client.get("/reviews?status=submitted&sort=score", headers=HX).text
    order = [m for m in re.findall(r'href="/reviews/(\d+)"', ascending)]
    assert order[0] == str(ids["频谱监测"])  # the lowest total first
    descending = client.get("/reviews?status=submitted&sort=score&desc=1", headers=HX).text
    assert re.findall(r'href="/reviews/(\d+)"', descending)[-1] == str(ids["频谱监测"])
    assert "价格监测" in descending  # the finance bureau sees every department


def test_each_reviewers_queue_opens_on_what_waits_for_them(setup, session):
    client, ids = setup
    # a unit that is its own department (局本级) and a unit under no department report to the bureau
    dept = session.exec(select(Department).where(Department.name == "广州市工业和信息化局")).one()
    own = factories.unit(session, "广州市工业和信息化局", dept)
    alone = factories.unit(session, "广州市独立核算单位", None)
    factories.user(session, "bj", "unit", unit_row=own)
    factories.user(session, "dl", "unit", unit_row=alone)
    for owner, unit, name in (("bj", own, "局本级项目"), ("dl", alone, "独立单位项目")):
        project = project_with(session, unit, STANDARD, name=name)
        ids[name] = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
        as_user(client, owner)
        _fill_and_submit(client, ids[name])
    as_user(client, "gxj")
    assert client.post(f"/reviews/{ids['监测设备运维']}", data={"action": "approve"}).status_code in (200, 303)

    def listed(url: str) -> set[str]:
        """The evaluations a queue lists, by project name."""
        shown = set(re.findall(r'href="/reviews/(\d+)"', client.get(url).text))
        return {name for name, eid in ids.items() if str(eid) in shown}

    # a department: what its units submitted
    assert listed("/reviews") == {"频谱监测", "产业分析报告", "局本级项目"}
    as_user(client, "czj")
    finance = client.get("/reviews").text
    # the finance bureau: approved by a department (awaiting 终审), and what units reporting to it
    # directly submitted; not what still waits for a department
    assert listed("/reviews") == {"监测设备运维", "局本级项目", "独立单位项目"}
    assert "共 3 份自评" in finance
    # the status filter still allows everything
    assert listed("/reviews?status=all") == set(ids)
    assert listed("/reviews?status=submitted") == set(ids) - {"监测设备运维"}
    assert 'value="awaiting" selected' in finance and "待我审核" in finance  # the default, named


def _awaiting_cell(page: str, name: str) -> str:
    """The 待审核 cell of an overview row (the third figure), as HTML."""
    row = re.search(rf'<tr>\s*<td><a href="[^"]*">{name}</a></td>.*?</tr>', page, re.S).group(0)
    return re.findall(r'<td class="num">(.*?)</td>', row, re.S)[2]


def test_the_overviews_awaiting_count_is_what_waits_for_the_viewer(setup):
    client, ids = setup
    for name in ("监测设备运维", "产业分析报告"):  # the department approves two; 频谱监测 still waits for it
        assert client.post(f"/reviews/{ids[name]}", data={"action": "approve"}).status_code in (200, 303)
    department = client.get(f"/overview?year={YEAR}").text
    assert ">1</a>" in _awaiting_cell(department, "广州市无线电监测站")  # 频谱监测
    as_user(client, "czj")
    finance = client.get(f"/overview?year={YEAR}").text
    assert ">2</a>" in _awaiting_cell(finance, "广州市工业和信息化局")  # the department's row: both approved
    station = _awaiting_cell(finance, "广州市无线电监测站")
    assert ">1</a>" in station and "status=awaiting" in station  # 监测设备运维 awaits 终审
    assert _awaiting_cell(finance, "广州市价格监测中心") == "0"  # submitted, still with its department


def test_review_page_return_without_opinion_then_approve_with_override(setup, session):
    client, ids = setup
    eid = ids["监测设备运维"]
    page = client.get(f"/reviews/{eid}")
    assert page.status_code == 200
    assert 'name="opinion"' in page.text and 'value="approve"' in page.text and 'value="return"' in page.text
    assert "style=" not in page.text and "<script>" not in page.text.split("</head>")[1]
    refused = client.post(f"/reviews/{eid}", data={"action": "return", "opinion": " "}, headers=HX)
    assert refused.status_code == 422 and "<html" not in refused.text
    assert "退回时必须填写审核意见" in refused.text and 'id="review"' in refused.text
    ind = re.search(r'name="override_score_(\d+)"', page.text).group(1)
    missing_reason = client.post(
        f"/reviews/{eid}", data={"action": "approve", f"override_score_{ind}": "40"}, headers=HX
    )
    assert missing_reason.status_code == 422 and "调整得分必须说明理由" in missing_reason.text
    assert 'value="40"' in missing_reason.text  # what was typed is kept
    done = client.post(
        f"/reviews/{eid}",
        headers=HX,
        data={
            "action": "approve",
            "opinion": "同意",
            f"override_score_{ind}": "40",
            f"override_reason_{ind}": "佐证不足",
        },
    )
    assert done.status_code == 204 and done.headers["HX-Redirect"] == f"/reviews/{eid}?done=approve"
    after = client.get(f"/reviews/{eid}?done=approve").text
    assert "已审核通过" in after and "89.50" in after and "佐证不足" in after
    assert "得分调整为 40（理由：佐证不足）" in after  # the history
    assert 'value="approve"' not in after  # a department's approval is done; finance decides next
    plain = client.post(f"/reviews/{ids['产业分析报告']}", data={"action": "approve"}, follow_redirects=False)
    assert plain.status_code == 303


def test_unit_users_cannot_review_from_the_pages(setup, client):
    client, ids = setup
    as_user(client, "jcz")
    assert client.get("/reviews").status_code == 403
    assert client.get("/overview").status_code == 403
    response = client.post(f"/reviews/{ids['监测设备运维']}", data={"action": "approve"})
    assert response.status_code == 403
    assert client.get(f"/api/v1/self-evaluations/{ids['监测设备运维']}").json()["status"] == "submitted"


def test_overview_draws_svg_charts_beside_tables_linking_to_the_queue(setup, client):
    client, ids = setup
    as_user(client, "czj")
    page = client.get(f"/overview?year={YEAR}")
    assert page.status_code == 200
    text = page.text
    assert text.count("<svg") >= 6 and "style=" not in text
    assert "<script" not in text.split("</head>")[1]
    assert "各单位填报进度" in text and "总分分布" in text and "等级分布" in text and "预算执行率" in text
    # 局: 3 projects + 1 unstarted under 广州市工业和信息化局; the 无线电监测站 has 2 of 3 submitted.
    assert "2/3" in text
    assert re.search(r'href="/reviews\?year=2024&amp;status=all&amp;unit=\d+"', text)
    assert re.search(r'href="/reviews\?year=2024&amp;status=all&amp;department=\d+"', text)
    as_user(client, "gxj")
    mine = client.get("/overview").text
    assert "广州市价格监测中心" not in mine and "广州市无线电监测站" in mine
    assert client.get("/overview?year=1800").status_code == 422
    empty = client.get("/overview?year=2030")
    assert empty.status_code == 200 and "没有可查看的项目" in empty.text


def test_overview_shows_budget_and_spent_in_wan_yuan_and_what_the_rate_covers(setup, client):
    """Issue 9: the overview gave a bare 执行率; it shows 全年预算数 and 全年执行数 in 万元 beside it and
    says which projects the rate covers (those that reported 全年执行数)."""
    client, ids = setup
    as_user(client, "gxj")
    text = client.get(f"/overview?year={YEAR}").text
    assert "全年预算数（万元）" in text and "全年执行数（万元）" in text
    station = re.search(r"<tr>\s*<td><a [^>]*>广州市无线电监测站</a>.*?</tr>", text, re.S).group(0)
    # three projects of 100 万元; two reported 95 each, the third nothing yet
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', station, re.S)
    assert "300.00" in cells and "190.00" in cells
    assert "95.00%" in station
    assert "执行率只计已填全年执行数的项目" in text


def test_filing_window_page(setup, client, session):
    client, _ = setup
    assert client.get("/admin/windows").status_code == 403  # a department does not manage windows
    as_user(client, "czj")
    page = client.get("/admin/windows")
    assert page.status_code == 200 and f"<th>{YEAR}</th>" in page.text
    bad = client.post(
        "/admin/windows", headers=HX, data={"year": str(YEAR), "opens_date": "2025-03-01", "closes_date": "2025-02-01"}
    )
    assert bad.status_code == 422 and "截止日期不能早于开始日期" in bad.text and bad.text.lstrip().startswith("<tr")
    ok = client.post(
        "/admin/windows", headers=HX, data={"year": str(YEAR), "opens_date": "2025-01-02", "closes_date": "2025-02-28"}
    )
    assert ok.status_code == 200 and "已保存" in ok.text and 'value="2025-02-28"' in ok.text
    session.expire_all()
    window = session.exec(select(FilingWindow).where(FilingWindow.year == YEAR)).one()
    assert str(window.closes_date) == "2025-02-28"
    plain = client.post("/admin/windows", data={"year": "2031", "closes_date": "2032-01-31"}, follow_redirects=False)
    assert plain.status_code == 303
    assert "2032-01-31" in client.get("/admin/windows?done=2031").text
