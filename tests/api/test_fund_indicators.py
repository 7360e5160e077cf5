"""A fund's own 绩效目标 indicators, stored with their actuals: the template's "from indicators" items
are scored from the database (Fujian's 产出 / 效益 / 满意度, as in tests/domain/test_funds.py, here
entered through /api/v1 and the pages), listed in the report, and refused against a non-indicator item."""

from __future__ import annotations

import io

from app.services import tokens
from tests import factories

HX = {"HX-Request": "true"}


def _fujian_fund(client, session):
    dept = factories.department(session, "福建省某厅")
    _, secret = tokens.create_token(session=session, role="finance", name="财政局", scope="read write")
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"year": 2024, "name": "示例专项", "total": "200", "department_id": dept.id}
    fund = client.post("/api/v1/funds", json={**body, "template_name": "fujian-decision-2020"}, headers=headers)
    assert fund.status_code == 201, fund.text
    fid = fund.json()["id"]
    node = {"kind": "division", "name": "甲", "allocated": "200", "arrived": "200", "spent": "180"}
    assert client.post(f"/api/v1/funds/{fid}/nodes", json=node, headers=headers).status_code == 201
    deduction = {"item_code": "24", "points": "1.5", "reason": "组织实施制度执行不到位"}
    assert client.post(f"/api/v1/funds/{fid}/deductions", json=deduction, headers=headers).status_code == 201
    return fid, headers


def _indicator(client, fid, headers, item, level1, name, target, actual=None, level2=None):
    body = {"item_code": item, "level1": level1, "level2": level2, "name": name, "annual_target": target}
    if actual is not None:
        body["actual"] = actual
    r = client.post(f"/api/v1/funds/{fid}/indicators", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return next(i for i in r.json() if i["name"] == name)


def test_items_scored_from_indicators_come_from_the_stored_indicators(client, session):
    fid, headers = _fujian_fund(client, session)
    detail = client.get(f"/api/v1/funds/{fid}", headers=headers).json()
    assert detail["total_score"] is None and detail["missing"] == ["产出指标", "项目效益", "服务对象满意度"]
    _indicator(client, fid, headers, "31", "output", "数量", "≥10个", "10个", "quantity")
    quality = _indicator(client, fid, headers, "31", "output", "质量", "≥95%", None, "quality")
    _indicator(client, fid, headers, "41", "outcome", "效益", "≥100万元", "100万元")
    _indicator(client, fid, headers, "51", "satisfaction", "满意度", "≥90%", "90%")
    _indicator(client, fid, headers, None, "output", "时效（列示）", "2024年12月前", "2024年11月")
    detail = client.get(f"/api/v1/funds/{fid}", headers=headers).json()
    assert detail["missing"] == ["产出指标"]  # the quality indicator has no actual yet
    # the year-end actual, entered through the API, scores the item
    put = {
        "item_code": "31",
        "level1": "output",
        "level2": "quality",
        "name": "质量",
        "annual_target": "≥95%",
        "actual": "76%",
        "deviation_reason": "部分项目延期",
        "version": detail["fund_version"],
    }
    saved = client.put(f"/api/v1/fund-indicators/{quality['id']}", json=put, headers=headers)
    assert saved.status_code == 200, saved.text
    assert {i["name"]: i["score"] for i in saved.json()} == {
        "数量": "17.50",
        "质量": "14.00",  # 76 / 95 × 17.5
        "效益": "20.00",
        "满意度": "10.00",
        "时效（列示）": None,
    }
    detail = client.get(f"/api/v1/funds/{fid}", headers=headers).json()
    scores = {c["slug"]: c["score"] for c in detail["categories"]}
    assert scores["process"] == "18.10" and scores["output"] == "31.50"
    assert detail["total_score"] == "94.60" and detail["grade"] == "优"
    stale = client.put(f"/api/v1/fund-indicators/{quality['id']}", json=put, headers=headers)
    assert stale.status_code == 409


def test_an_indicator_cannot_count_for_an_item_scored_otherwise_and_the_report_lists_it(client, session):
    import docx

    fid, headers = _fujian_fund(client, session)
    body = {"item_code": "24", "level1": "output", "name": "组织", "annual_target": "≥1次"}
    refused = client.post(f"/api/v1/funds/{fid}/indicators", json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "item_code"
    bad = client.post(
        f"/api/v1/funds/{fid}/indicators", json={**body, "item_code": "31", "level1": "x"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level1"
    _indicator(client, fid, headers, "31", "output", "支持项目数", "≥16个", "43个", "quantity")
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    page = client.get(f"/funds/{fid}").text
    assert 'id="fund-indicator-table"' in page and "支持项目数" in page and "43个" in page
    # the page's row form: the actual changed, the score and the history follow
    row = page.split('id="indicator-', 1)[1]
    iid = int(row.split('"', 1)[0])
    version = int(page.split('name="fund_version" value="', 1)[1].split('"', 1)[0])
    form = {
        "fund_version": str(version),
        "level1": "output",
        "level2": "quantity",
        "name": "支持项目数",
        "annual_target": "≥16个",
        "item_code": "31",
        "actual": "8个",
        "deviation_reason": "疫情影响",
    }
    answer = client.post(f"/fund-indicators/{iid}", data=form, headers=HX)
    assert answer.status_code == 200 and "已保存指标“支持项目数”" in answer.text
    assert "指标“支持项目数”的实际完成值：43个 → 8个" in answer.text
    report = docx.Document(io.BytesIO(client.get(f"/funds/{fid}/report.docx").content))
    goals = next(t for t in report.tables if t.rows[0].cells[0].text == "一级指标" and len(t.columns) == 7)
    assert [c.text for c in goals.rows[1].cells] == [
        "产出指标",
        "数量指标",
        "支持项目数",
        "≥16个",
        "8个",
        "产出指标",
        "17.50",
    ]
