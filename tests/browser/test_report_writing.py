"""The 自评报告 written in a real Chromium: sections typed at a person's speed, moving on with Tab
while the previous section saves, a pinyin input method, then a reload, the database, and the
generated .docx (opened with python-docx) and PDF all hold exactly what was typed.

SQLite only, like the other browser tests (the save path over PostgreSQL: tests/web/test_report_pages.py).
"""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.models import EvaluationReport, Project, SelfEvaluation
from app.services import evaluations
from app.services.demo import load_demo
from tests.browser.test_typing import PROJECT, Saves, _compose

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


class ReportSaves(Saves):
    @staticmethod
    def _is_save(request) -> bool:
        return request.method == "POST" and "/report/save" in request.url


def test_writing_the_report_keeps_every_character_and_prints_it(page: Page, live_server, session, artifacts):
    import docx

    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.click(f"text={PROJECT}")
    page.click("a.button:has-text('自评报告')")
    expect(page.locator("h2", has_text="一、基本情况")).to_be_visible()
    saves = ReportSaves(page)
    cdp = page.context.new_cdp_session(page)

    page.click("#report-basic")
    page.locator("#report-basic").press_sequentially("全年培训40人，完成预定任务。", delay=80)
    page.keyboard.press("Tab")  # on to the next section while the first one saves
    page.locator("#report-scores").press_sequentially("自评得分见表2。", delay=30)
    page.click("#report-improvements")
    _compose(cdp, "jiaqiang", 1200, "加强", page)
    _compose(cdp, "guanli", 1200, "管理", page)
    page.fill("#report-filled_by", "王五")

    saves.settle(page)
    page.screenshot(path=str(artifacts / "report-writing.png"), full_page=True)
    page.reload()
    expect(page.locator("#report-basic")).to_have_value("全年培训40人，完成预定任务。")
    expect(page.locator("#report-scores")).to_have_value("自评得分见表2。")
    expect(page.locator("#report-improvements")).to_have_value("加强管理")
    expect(page.locator("#report-filled_by")).to_have_value("王五")
    assert not any("jiaqiang" in body or "guanli" in body for body in saves.sent)

    session.expire_all()
    project = session.exec(select(Project).where(Project.name == PROJECT)).one()
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    stored = session.exec(select(EvaluationReport).where(EvaluationReport.evaluation_id == eid)).one()
    assert (stored.basic, stored.improvements, stored.filled_by) == ("全年培训40人，完成预定任务。", "加强管理", "王五")

    word = page.request.get(f"{live_server}/evaluations/{eid}/report.docx")
    assert word.ok
    texts = [p.text for p in docx.Document(io.BytesIO(word.body())).paragraphs]
    assert "全年培训40人，完成预定任务。" in texts and "加强管理" in texts and "填表人：王五" in texts
    pdf = page.request.get(f"{live_server}/evaluations/{eid}/report.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
