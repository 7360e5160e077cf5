"""离线填报 over the seed-003 demo data: the fill-in workbook downloaded from the pages and the API,
filled with openpyxl as Excel or WPS would leave it, uploaded again — saved through the same rules
as typing, each project all or nothing, stale downloads and submitted evaluations refused."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.models import IndicatorResult, Project, SelfEvaluation, Unit
from app.services import evaluations, offline
from app.services.demo import load_demo
from app.services.errors import ValidationFailed
from tests import factories

UNIT = "广州市无线电监测站"
PROJECT = "专项工作培训费"  # 培训和演练 1次 / 90% / 2024年12月前 / qualitative / 95%以上
SECOND = "自动驾驶混行试点示范运营服务"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def demo(client, session):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
    return client


def _evaluation(session, name: str = PROJECT) -> SelfEvaluation:
    session.expire_all()
    return session.exec(
        select(SelfEvaluation)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(Project.name == name, Unit.name == UNIT)
    ).one()


def _book(content: bytes):
    return load_workbook(io.BytesIO(content))


def _sheet(book, name: str = PROJECT):
    return next(ws for ws in book.worksheets if ws.title.endswith(name[:20]) or name in ws.title)


def _label_row(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == label)


def _indicator_row(ws, position: int) -> int:
    head = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == "序号")
    return head + position


COL = {"actual": 7, "level": 8, "band": 9, "reason": 10, "self": 11, "self_reason": 12}


def _save(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, content: bytes, url: str = "/evaluations/offline"):
    return client.post(url, files={"file": ("填好的.xlsx", content, XLSX)})


def _results(session, eid: int) -> dict[int, IndicatorResult]:
    session.expire_all()
    rows = session.exec(select(IndicatorResult).where(IndicatorResult.self_evaluation_id == eid)).all()
    return {r.indicator_id: r for r in rows}


def _fill(ws) -> None:
    """What a unit types: money, the goal, every indicator row (the fourth one qualitative)."""
    ws.cell(row=_label_row(ws, "全年预算数"), column=3).value = 120
    ws.cell(row=_label_row(ws, "全年执行数"), column=3).value = 108.35
    ws.cell(row=_label_row(ws, "实际完成情况"), column=3).value = "按计划完成培训和演练"
    ws.cell(row=_indicator_row(ws, 1), column=COL["actual"]).value = "1次"
    ws.cell(row=_indicator_row(ws, 2), column=COL["actual"]).value = "92%"
    ws.cell(row=_indicator_row(ws, 3), column=COL["actual"]).value = "2024-11-30"
    ws.cell(row=_indicator_row(ws, 4), column=COL["level"]).value = "部分达成年度指标并具有一定效果"
    ws.cell(row=_indicator_row(ws, 4), column=COL["reason"]).value = "部分演练推迟到下一年度"
    ws.cell(row=_indicator_row(ws, 5), column=COL["actual"]).value = "96%"


# --- the download --------------------------------------------------------------------------------


def test_the_download_is_a_protected_form_with_the_editable_cells_unlocked_and_a_level_list(demo, session):
    eid = _evaluation(session).id
    response = demo.get(f"/evaluations/{eid}/offline.xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    book = _book(response.content)
    assert book.sheetnames[0] == "填报说明" and book[offline.META].sheet_state == "veryHidden"
    ws = _sheet(book)
    assert ws.protection.sheet and book[offline.META].protection.sheet
    assert ws["C2"].value == PROJECT and ws["C2"].protection.locked
    spent = ws.cell(row=_label_row(ws, "全年执行数"), column=3)
    assert not spent.protection.locked
    assert ws.cell(row=_label_row(ws, "年初预算数"), column=3).protection.locked
    row = _indicator_row(ws, 4)  # the qualitative one
    assert ws.cell(row=row, column=4).value and ws.cell(row=row, column=4).protection.locked  # 三级指标
    assert not ws.cell(row=row, column=COL["level"]).protection.locked
    assert ws.cell(row=_indicator_row(ws, 1), column=COL["level"]).protection.locked  # quantitative: no level
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and "部分达成年度指标并具有一定效果" in lists[0].formula1
    assert ws.cell(row=row, column=COL["level"]).coordinate in str(lists[0].sqref)
    # the map knows the version the download was made from
    meta = [list(r) for r in book[offline.META].iter_rows(values_only=True)]
    assert meta[0][7] == offline.MARK
    assert {(r[1], r[2]) for r in meta[1:]} == {(str(eid), str(_evaluation(session).version))}


def test_a_year_download_has_one_sheet_per_project(demo, session):
    response = demo.get("/evaluations/offline.xlsx?year=2024")
    assert response.status_code == 200
    book = _book(response.content)
    assert len(book.sheetnames) == 14 + 2  # the station's 14 projects, the instructions, the map
    assert "专项工作培训费" in "".join(book.sheetnames)


# --- the upload ----------------------------------------------------------------------------------


def test_a_filled_workbook_is_saved_through_the_rules_of_typing(demo, session):
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    _fill(_sheet(book))
    response = _upload(demo, _save(book))
    assert response.status_code == 200, response.text
    assert "已保存 1 个项目" in response.text
    evaluation = _evaluation(session)
    project = session.get(Project, evaluation.project_id)
    assert project.budget == Decimal("120") and project.spent == Decimal("108.35")
    assert evaluation.goal_completion == "按计划完成培训和演练"
    assert evaluation.status == "draft" and evaluation.total_score is not None
    stored = {(r.actual, r.qualitative_level, r.deviation_reason) for r in _results(session, eid).values()}
    assert (None, "partial", "部分演练推迟到下一年度") in stored
    assert ("92%", None, None) in stored and ("2024-11-30", None, None) in stored
    # the page shows what the file held
    page = demo.get(f"/evaluations/{eid}").text
    assert "108.35" in page and "按计划完成培训和演练" in page


def _wps_resave(content: bytes, replace: dict[str, str]) -> bytes:
    """The workbook as WPS writes it back: numbers as the binary float's long decimal in <v>."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                for old, new in replace.items():
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def test_money_resaved_by_wps_as_a_long_float_comes_back_exact(demo, session):
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    ws = _sheet(book)
    ws.cell(row=_label_row(ws, "全年预算数"), column=3).value = 56022.24
    ws.cell(row=_label_row(ws, "全年执行数"), column=3).value = 108.35
    ws.cell(row=_indicator_row(ws, 2), column=COL["actual"]).value = 0.925
    ws.cell(row=_indicator_row(ws, 2), column=COL["actual"]).number_format = "0.0%"  # typed 92.5% into a number cell
    resaved = _wps_resave(
        _save(book), {"<v>108.35</v>": "<v>108.35000000000001</v>", "<v>56022.24</v>": "<v>56022.239999999998</v>"}
    )
    raw = b"".join(
        zipfile.ZipFile(io.BytesIO(resaved)).read(n) for n in zipfile.ZipFile(io.BytesIO(resaved)).namelist()
    )
    assert b"108.35000000000001" in raw and b"56022.239999999998" in raw
    assert float("108.35000000000001") != 108.35  # not the same binary number: a naive read is off
    response = _upload(demo, resaved)
    assert response.status_code == 200, response.text
    project = session.get(Project, _evaluation(session).project_id)
    session.refresh(project)
    assert project.spent == Decimal("108.35") and project.budget == Decimal("56022.24")
    actuals = {r.actual for r in _results(session, eid).values()}
    assert "92.5%" in actuals


def test_refused_cells_are_listed_by_sheet_row_and_column_and_nothing_of_the_project_is_saved(demo, session):
    eid = _evaluation(session).id
    before = _evaluation(session).version
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    ws = _sheet(book)
    _fill(ws)
    ws.cell(row=_label_row(ws, "全年执行数"), column=3).value = "-5"
    bad_row = _indicator_row(ws, 1)
    ws.cell(row=bad_row, column=COL["actual"]).value = "很多"
    response = _upload(demo, _save(book))
    assert response.status_code == 422
    text = response.text
    spent_row = _label_row(ws, "全年执行数")
    assert f"第 {spent_row} 行 C 列（全年执行数）" in text and "全年执行数不能为负数" in text
    assert f"第 {bad_row} 行 G 列（实际完成值）" in text and "请填写数字" in text
    assert ws.title in text and "未保存" in text
    assert _evaluation(session).version == before and not _results(session, eid)  # all or nothing


def test_a_formula_and_an_unknown_level_are_refused_in_chinese(demo, session):
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    ws = _sheet(book)
    ws.cell(row=_label_row(ws, "全年执行数"), column=3).value = "=100+8.35"
    ws.cell(row=_indicator_row(ws, 4), column=COL["level"]).value = "基本达成"
    response = _upload(demo, _save(book))
    assert response.status_code == 422
    assert "不要使用公式" in response.text and "达成程度应从下拉列表中选择" in response.text
    assert not _results(session, eid)


def test_a_stale_download_is_refused_with_the_differences(demo, session):
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    _fill(_sheet(book))
    # meanwhile someone types 全年执行数 on the page
    version = _evaluation(session).version
    saved = demo.post(f"/evaluations/{eid}/money", data={"version": version, "spent": "99"})
    assert saved.status_code in (200, 303)
    response = _upload(demo, _save(book))
    assert response.status_code == 422
    text = response.text
    assert "已在系统中被修改" in text and "重新下载" in text
    diff = re.search(r'<table class="grid small differences">.*?</table>', text, re.S).group(0)
    assert "全年执行数" in diff and "108.35" in diff and "99" in diff
    project = session.get(Project, _evaluation(session).project_id)
    session.refresh(project)
    assert project.spent == Decimal("99")  # the file changed nothing


def test_a_submitted_evaluation_is_refused_with_the_reason(demo, session):
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    _fill(_sheet(book))
    assert _upload(demo, _save(book)).status_code == 200
    assert demo.post(f"/evaluations/{eid}/submit", data={}).status_code in (200, 303)
    assert _evaluation(session).status == "submitted"
    ws = _sheet(book)
    ws.cell(row=_indicator_row(ws, 5), column=COL["actual"]).value = "97%"
    response = _upload(demo, _save(book))
    assert response.status_code == 422
    assert "自评当前状态为“已送审”，不能" in response.text
    assert "97%" not in {r.actual for r in _results(session, eid).values()}
    # an upload that changes nothing of it is no refusal
    unchanged = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    again = _upload(demo, _save(unchanged))
    assert again.status_code == 200 and "未修改 1 个" in again.text


def test_each_project_of_a_year_upload_is_all_or_nothing(demo, session):
    book = _book(demo.get("/evaluations/offline.xlsx?year=2024").content)
    good, bad = _sheet(book, PROJECT), _sheet(book, SECOND)
    _fill(good)
    bad.cell(row=_indicator_row(bad, 1), column=COL["actual"]).value = "一百二十辆"
    bad.cell(row=_label_row(bad, "实际完成情况"), column=3).value = "已开展运营"
    response = _upload(demo, _save(book))
    assert response.status_code == 422
    assert "已保存 1 个项目，未修改 12 个" in response.text and "未保存 1 个" in response.text
    assert _evaluation(session, PROJECT).goal_completion == "按计划完成培训和演练"
    assert _evaluation(session, SECOND).goal_completion is None


def test_a_file_that_is_not_a_download_is_refused(demo):
    response = _upload(demo, b"not a zip at all")
    assert response.status_code == 422 and "离线填报表" in response.text
    from openpyxl import Workbook

    foreign = io.BytesIO()
    Workbook().save(foreign)
    response = _upload(demo, foreign.getvalue())
    assert response.status_code == 422 and "不是本系统的离线填报表" in response.text


def test_the_row_limit_is_checked_before_any_cell_is_read(demo, session):
    eid = _evaluation(session).id
    content = demo.get(f"/evaluations/{eid}/offline.xlsx").content
    with pytest.raises(ValidationFailed, match="行的上限"):
        offline.read_map(content, offline.Limits(max_bytes=10**7, max_rows=10, max_unpacked=10**8))
    with pytest.raises(ValidationFailed, match="文件过大"):
        offline.read_map(content, offline.Limits(max_bytes=100, max_rows=10**5, max_unpacked=10**8))


def test_cell_text_reads_numbers_as_a_person_typed_them():
    assert offline.cell_text(108.35000000000001, "General") == "108.35"
    assert offline.cell_text(56022.239999999998, "#,##0.00") == "56022.24"
    assert offline.cell_text(0.975, "0.0%") == "97.5%"
    assert offline.cell_text(12, "General") == "12"
    assert offline.cell_text(1e-7, "General") == "0.0000001"
    assert offline.cell_text(" 12份 ", "@") == " 12份 "


# --- the API -------------------------------------------------------------------------------------


def test_the_api_downloads_and_uploads_the_same_workbook(demo, session):
    eid = _evaluation(session).id
    response = demo.get(f"/api/v1/self-evaluations/{eid}/offline.xlsx")
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    book = _book(response.content)
    ws = _sheet(book)
    _fill(ws)
    bad_row = _indicator_row(ws, 1)
    ws.cell(row=bad_row, column=COL["actual"]).value = "很多"
    refused = _upload(demo, _save(book), "/api/v1/self-evaluations/offline")
    assert refused.status_code == 422
    body = refused.json()
    assert body["ok"] is False
    (project,) = body["projects"]
    assert project["result"] == "refused" and project["evaluation_id"] == eid
    problem = project["problems"][0]
    assert (problem["sheet"], problem["row"], problem["column"], problem["column_title"]) == (
        ws.title,
        bad_row,
        "G",
        "实际完成值",
    )
    ws.cell(row=bad_row, column=COL["actual"]).value = "1次"
    saved = _upload(demo, _save(book), "/api/v1/self-evaluations/offline")
    assert saved.status_code == 200, saved.text
    assert saved.json()["projects"][0]["result"] == "saved"
    assert demo.get(f"/api/v1/self-evaluations/{eid}").json()["spent"] == "108.35"
    year = demo.get("/api/v1/self-evaluations/offline.xlsx?year=2024")
    assert year.status_code == 200 and len(_book(year.content).sheetnames) == 16


def test_only_a_unit_uploads(client, session, demo):
    eid = _evaluation(session).id
    content = demo.get(f"/evaluations/{eid}/offline.xlsx").content
    client.cookies.clear()
    factories.login(client, "gongxinju", "jixiao-demo")  # the department reads, never fills
    assert client.get(f"/evaluations/{eid}/offline.xlsx").status_code == 200
    assert _upload(client, content).status_code == 403
    assert _upload(client, content, "/api/v1/self-evaluations/offline").status_code == 403


@pytest.mark.parametrize(
    "row",
    [
        ["1.项目", "12", "3", "results[abc].actual", "G15", "实际完成值", ""],
        ["1.项目", "12", "3", "spent", "G15; DROP", "全年执行数", ""],
        ["1.项目", "99999999999999999999", "3", "spent", "C8", "全年执行数", ""],
        ["1.项目", "12", "3", "budget_entered_by_unit", "C8", "x", ""],
    ],
)
def test_a_forged_map_is_refused_before_anything_is_looked_up(row):
    """The map travels with the file: a key, cell or id it could not have written is refused, never a 500."""
    from openpyxl import Workbook

    book = Workbook()
    meta = book.create_sheet(offline.META)
    meta.append([*offline.META_HEAD, offline.MARK])
    meta.append(row)
    content = io.BytesIO()
    book.save(content)
    with pytest.raises(ValidationFailed, match="已损坏"):
        offline.read_map(content.getvalue(), offline.Limits(max_bytes=10**7, max_rows=10**5, max_unpacked=10**8))


def test_the_money_split_rows_are_filled_offline_exactly(demo, session):
    """The 其中 rows of 全年预算数 and 全年执行数 (issue 9) travel in the workbook like every money cell."""
    eid = _evaluation(session).id
    book = _book(demo.get(f"/evaluations/{eid}/offline.xlsx").content)
    ws = _sheet(book)
    ws.cell(row=_label_row(ws, "全年预算数中的本年财政拨款"), column=3).value = 100.1
    ws.cell(row=_label_row(ws, "全年执行数中的其他资金"), column=3).value = 18.35
    response = _upload(demo, _save(book))
    assert response.status_code == 200, response.text
    row = _evaluation(session)
    assert row.budget_fiscal_funds == Decimal("100.1") and row.spent_other_funds == Decimal("18.35")
    assert row.spent_fiscal_funds is None
