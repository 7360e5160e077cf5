"""The special-fund page in a real Chromium against a real uvicorn: the seed's fund, a node added and
a deduction recorded through the htmx forms, the total moving, and a screenshot to look at.

SQLite only, as the other browser tests: the same pages over PostgreSQL are covered by tests/web.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.funds.seed import enter

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_the_bureau_scores_the_seed_fund_in_a_browser(page: Page, live_server, session, artifacts):
    fund = enter(session)
    factories.user(session, "czj", "finance")
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "czj")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=专项资金")
    page.click(f"text={fund.name}")
    expect(page.locator("#fund-total")).to_have_text("96.8")
    expect(page.locator("#fund-execution-rate")).to_have_text("97.35%")
    page.screenshot(path=str(artifacts / "fund-seed.png"), full_page=True)
    page.screenshot(path=str(artifacts / "fund-seed-top.png"))

    # a node through the form: the tree and the computed rate change without a page load
    form = page.locator("form[hx-post$='/nodes']")
    form.locator("select[name=parent_id]").select_option(label="工业互联网处")
    form.locator("select[name=kind]").select_option("item")
    form.locator("input[name=name]").fill("追加安排")
    form.locator("input[name=allocated]").fill("10")
    form.locator("input[name=spent]").fill("10")
    form.locator("button[type=submit]").click()
    expect(page.locator("#fund")).to_contain_text("已添加“追加安排”")
    expect(page.locator("tr", has_text="工业互联网处").first).to_contain_text("差 -10.00")

    # a deduction: the total follows
    deduction = page.locator("form[hx-post$='/deductions']")
    deduction.locator("select[name=item_code]").select_option("42")
    deduction.locator("input[name=points]").fill("1")
    deduction.locator("input[name=reason]").fill("个别地市未公示资金分配结果")
    deduction.locator("button[type=submit]").click()
    expect(page.locator("#fund-total")).to_have_text("95.8")
    page.screenshot(path=str(artifacts / "fund-scored.png"), full_page=True)
    page.locator("#fund-score").screenshot(path=str(artifacts / "fund-score-table.png"))
    assert problems == []
