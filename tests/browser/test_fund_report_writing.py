"""A 专项资金's 自评报告 written in a real Chromium by the fund's 主管部门 from the demo data: sections
typed at a person's speed (moving on with Tab while the previous one saves, a pinyin input method),
then the reload, a 佐证材料 attached through the fund page's file input, and the generated .docx
(opened with python-docx: headings, tables, 96.8, 56022.2398 and the 佐证材料清单) and PDF (every
page rendered to PNG under test-artifacts/) hold what was typed and attached.

SQLite only, like the other browser tests (the same pages over PostgreSQL: tests/web/test_fund_report.py).
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from playwright.sync_api import Page, expect

from app.services.demo import DEMO_PASSWORD, FUND_LOGIN, load_demo
from tests.browser.test_typing import Saves, _compose

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

BASIC = "本次绩效评价涉及专项资金57550万元，分配给三个处室。"
PROBLEMS = "部分地市支出进度慢于预期。"
EVIDENCE = b"%PDF-1.4\n% jixiao fund evidence\n" + os.urandom(2048) + b"\n%%EOF\n"


@pytest.fixture
def files_dir(tmp_path, monkeypatch):
    """The live server's store (it reads JIXIAO_FILES_DIR from the environment it is started with)."""
    directory = tmp_path / "files"
    monkeypatch.setenv("JIXIAO_FILES_DIR", str(directory))
    return directory


class ReportSaves(Saves):
    @staticmethod
    def _is_save(request) -> bool:
        return request.method == "POST" and "/report/save" in request.url


def test_the_department_writes_the_fund_report_and_downloads_word_and_pdf(
    page: Page, files_dir, live_server, session, artifacts, tmp_path
):
    import docx
    import pypdfium2

    load_demo(session=session)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server + "/login")
    page.fill("input[name=username]", FUND_LOGIN)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=专项资金")
    page.click("text=省级促进经济高质量发展专项资金")
    expect(page.locator("#fund-total")).to_have_text("96.8")
    # a 佐证材料 for the fund, through the page's own file input (the report lists it)
    evidence = tmp_path / "专项资金分配文件.pdf"
    evidence.write_bytes(EVIDENCE)
    page.set_input_files("#attachment-file", str(evidence))
    page.click("#attachment-submit")
    expect(page.locator("#attachments tr[id^=attachment-]", has_text="专项资金分配文件.pdf")).to_be_visible()
    page.click("#fund-report-link")
    expect(page.locator("h2", has_text="一、基本情况")).to_be_visible()
    expect(page.locator("h3", has_text="（二）专项资金使用绩效")).to_be_visible()
    saves = ReportSaves(page)
    cdp = page.context.new_cdp_session(page)

    page.click("#report-basic")
    page.locator("#report-basic").press_sequentially(BASIC, delay=80)
    page.keyboard.press("Tab")  # on to the next section while the first one saves
    page.locator("#report-scores").press_sequentially("总体得分96.8分。", delay=30)
    page.click("#report-problems")
    page.locator("#report-problems").press_sequentially(PROBLEMS, delay=150)
    page.click("#report-improvements")
    _compose(cdp, "zuohao", 1200, "做好", page)
    _compose(cdp, "xiangmuchubei", 1200, "项目储备", page)
    page.fill("#report-filled_by", "李四")
    page.fill("#report-phone", "020-83133333")

    saves.settle(page)
    page.screenshot(path=str(artifacts / "fund-report-writing.png"), full_page=True)
    page.reload()
    expect(page.locator("#report-basic")).to_have_value(BASIC)
    expect(page.locator("#report-scores")).to_have_value("总体得分96.8分。")
    expect(page.locator("#report-problems")).to_have_value(PROBLEMS)
    expect(page.locator("#report-improvements")).to_have_value("做好项目储备")
    expect(page.locator("#report-filled_by")).to_have_value("李四")
    assert not any("zuohao" in body or "xiangmu" in body for body in saves.sent)

    base = page.url.rsplit("/report", 1)[0]
    word = page.request.get(base + "/report.docx", timeout=120_000)
    assert word.ok
    document = docx.Document(io.BytesIO(word.body()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:6] == [
        "一、基本情况",
        "二、自评情况",
        "（一）自评分数",
        "（二）专项资金使用绩效",
        "（三）专项资金使用绩效存在的问题",
        "三、改进意见",
    ]
    assert headings[6:8] == ["附件1：专项资金绩效自评表", "附件2：专项资金绩效评分表"]
    assert len(headings) == 9 and headings[8].endswith("佐证材料清单"), headings
    texts = [p.text for p in document.paragraphs]
    assert BASIC in texts and PROBLEMS in texts and "做好项目储备" in texts and "填表人：李四" in texts
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert {"96.8", "56022.2398", "57550", "97.35%"} <= cells
    assert {"专项资金分配文件.pdf", hashlib.sha256(EVIDENCE).hexdigest()[:12]} <= cells

    pdf = page.request.get(base + "/report.pdf", timeout=120_000)
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    rendered = pypdfium2.PdfDocument(pdf.body())
    for n in range(len(rendered)):
        rendered[n].render(scale=1.2).to_pil().save(artifacts / f"fund-report-browser-page{n + 1}.png")
    assert problems == []
