"""离线填报 in a real Chromium: the unit downloads its fill-in workbook from the 自评表 page, fills it
with openpyxl as it would in Excel (money re-saved the way WPS writes floats), uploads it through the
page and sees the values on the 自评表. Also: the unit home downloads the year's workbook.

Runs on SQLite only, like the other browser tests: the HTTP tests cover both databases.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from app.services import evaluations
from app.services.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

PROJECT = "专项工作培训费"


def _label_row(ws, label: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value == label)


def _indicator_row(ws, name: str) -> int:
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=4).value == name)


def _as_wps(content: bytes) -> bytes:
    """Numbers written back as WPS does: 108.35 as the binary float's long decimal."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"<v>108.35</v>", b"<v>108.35000000000001</v>")
            target.writestr(item, data)
    return out.getvalue()


def test_a_unit_fills_its_self_evaluation_offline(page: Page, live_server, session, artifacts, tmp_path):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server + "/login")
    page.locator("input[name=username]").press_sequentially("wuxian_jiancezhan", delay=30)
    page.locator("input[name=password]").press_sequentially("jixiao-demo", delay=30)
    page.click("button[type=submit]")
    expect(page.locator("tr[id^=project-]")).to_have_count(14)

    # the unit home: the year's workbook, one sheet per project
    page.locator("#offline summary").click()
    with page.expect_download() as year_download:
        page.click("#offline-download")
    year_book = load_workbook(io.BytesIO(year_download.value.path().read_bytes()))
    assert len(year_book.sheetnames) == 16  # 填报说明, 14 projects, the hidden map

    # the home's search finds the project by name
    page.locator("#home-q").press_sequentially("培训", delay=80)
    page.locator("#home-q").press("Enter")
    expect(page.locator("tr[id^=project-]")).to_have_count(1)
    page.click(f"text={PROJECT}")
    expect(page.locator("#project-name")).to_have_text(PROJECT)

    with page.expect_download() as download:
        page.click("#offline-download")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    ws = next(s for s in book.worksheets if PROJECT in s.title)
    ws.cell(row=_label_row(ws, "全年预算数"), column=3).value = 120
    ws.cell(row=_label_row(ws, "全年执行数"), column=3).value = 108.35
    ws.cell(row=_label_row(ws, "实际完成情况"), column=3).value = "全年开展培训和应急演练各一次"
    ws.cell(row=_indicator_row(ws, "培训和演练"), column=7).value = "1次"
    rate = _indicator_row(ws, "培训考核通过率")
    ws.cell(row=rate, column=7).value = "85%"
    ws.cell(row=rate, column=10).value = "两名学员因公缺考，已安排次年补考"
    ws.cell(row=_indicator_row(ws, "专项资金支出及时程度"), column=7).value = "2024-11-30"
    ws.cell(row=_indicator_row(ws, "强化无线电管理工作人员的业务水平"), column=8).value = "达成年度指标"
    filled = io.BytesIO()
    book.save(filled)
    path = tmp_path / "填好的离线填报表.xlsx"
    path.write_bytes(_as_wps(filled.getvalue()))

    page.set_input_files("#offline-upload input[type=file]", str(path))
    page.click("#offline-upload button[type=submit]")
    expect(page.locator("h1")).to_have_text("离线填报 · 上传结果")
    expect(page.locator("#offline-result")).to_contain_text("已保存 1 个项目")
    page.screenshot(path=str(artifacts / "offline-upload-result.png"), full_page=True)

    page.click("text=← 返回自评表")
    expect(page.locator("#project-name")).to_have_text(PROJECT)
    expect(page.locator("#spent-input")).to_have_value("108.35")
    expect(page.locator("#budget-input")).to_have_value("120.00")
    expect(page.locator("#execution-rate")).to_have_text("90.29%")
    expect(page.locator("tr.ind-row", has_text="培训和演练").locator("input[name=actual]")).to_have_value("1次")
    reason = page.locator("tr.ind-row", has_text="培训考核通过率").locator("textarea[name=deviation_reason]")
    expect(reason).to_have_value("两名学员因公缺考，已安排次年补考")
    level = page.locator("tr.ind-row", has_text="强化无线电管理工作人员的业务水平").locator("select")
    expect(level).to_have_value("achieved")
    page.screenshot(path=str(artifacts / "offline-filled-form.png"), full_page=True)
    assert not problems, problems
