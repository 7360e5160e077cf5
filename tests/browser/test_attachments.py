"""佐证材料 in a real Chromium: the unit picks a file through the 自评表 page's file input, attaches it to
an indicator row, sees it listed (htmx swaps the block), downloads it back byte for byte, and finds it
in the printed 自评表. Runs on SQLite (the pages over PostgreSQL are covered in tests/attachments)."""

from __future__ import annotations

import hashlib
import os

import pytest
from playwright.sync_api import Page, expect

from app.services import evaluations
from app.services.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

PROJECT = "专项工作培训费"
PDF = b"%PDF-1.4\n% jixiao browser test\n" + os.urandom(4096) + b"\n%%EOF\n"


@pytest.fixture
def files_dir(tmp_path, monkeypatch):
    """The live server's store (it reads JIXIAO_FILES_DIR from the environment it is started with)."""
    directory = tmp_path / "files"
    monkeypatch.setenv("JIXIAO_FILES_DIR", str(directory))
    return directory


def test_a_unit_attaches_evidence_on_its_self_evaluation(
    page: Page, files_dir, live_server, session, artifacts, tmp_path
):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    evidence = tmp_path / "培训签到表.pdf"
    evidence.write_bytes(PDF)

    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.click(f"text={PROJECT}")
    expect(page.locator("#project-name")).to_have_text(PROJECT)
    block = page.locator("#attachments")
    expect(block.locator("#attachments-empty")).to_be_visible()

    # attach it to one indicator row, through the page's own file input
    option = block.locator("#attachment-target option", has_text="培训和演练")
    page.select_option("#attachment-target", value=option.get_attribute("value"))
    page.set_input_files("#attachment-file", str(evidence))
    page.click("#attachment-submit")
    row = page.locator("#attachments tr[id^=attachment-]", has_text="培训签到表.pdf")
    expect(row).to_be_visible()
    expect(row).to_contain_text("培训和演练")
    expect(row).to_contain_text("PDF 文档")
    expect(row).to_contain_text("4 KB")
    expect(row).to_contain_text(hashlib.sha256(PDF).hexdigest()[:12])
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "attachments-evaluation.png"), full_page=False)

    # download it back: the same bytes, under its Chinese name
    with page.expect_download() as download_info:
        row.locator("a.button", has_text="下载").click()
    download = download_info.value
    assert download.suggested_filename == "培训签到表.pdf"
    assert open(download.path(), "rb").read() == PDF

    # a wrong type is refused beside the form, nothing listed
    fake = tmp_path / "说明.pdf"
    fake.write_bytes(b"MZ\x90\x00" + os.urandom(100))
    page.set_input_files("#attachment-file", str(fake))
    page.click("#attachment-submit")
    expect(page.locator("#attachments-error")).to_contain_text("不是允许的文件类型")
    expect(page.locator("#attachments tr[id^=attachment-]")).to_have_count(1)

    # still there after a reload, and in the printed 自评表
    page.reload()
    expect(page.locator("#attachments tr[id^=attachment-]", has_text="培训签到表.pdf")).to_be_visible()
    sheet = page.context.new_page()
    sheet.goto(page.url + "/print")
    expect(sheet.locator(".evidence-list")).to_contain_text("培训签到表.pdf")
    sheet.locator(".evidence-list").scroll_into_view_if_needed()
    sheet.screenshot(path=str(artifacts / "attachments-print.png"))
    sheet.close()
    assert not problems, problems
