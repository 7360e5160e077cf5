"""A 绩效目标表's whole year in a real Chromium, as the people who do it: the unit copies last year's table
as a draft, types a vague target (“有效提升”) and sees it flagged as not measurable, fixes it and submits;
the department returns it with an opinion, the unit corrects and resubmits, the department approves and
the finance bureau approves (批复); the unit requests an adjustment, the department and the bureau approve
it, and the year-end 自评表 scores against the adjusted value with the original beside it.
Screenshots in test-artifacts/.

Runs on SQLite only, like the other browser tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.models import Indicator, Project, SelfEvaluation, Unit, User
from app.security import principal_for_user
from app.services import evaluations, windows
from app.services.demo import DEMO_YEAR, load_demo
from tests.browser.test_typing import _mark

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

YEAR = DEMO_YEAR + 1
UNIT = "广州市无线电监测站"
PROJECT = "专项工作培训费"
COUNT = "培训和演练"  # 1次 in last year's table
DELAY = 80


def _login(page: Page, live_server: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_be_visible()


def _count_row(session, pid: int) -> Indicator:
    session.expire_all()
    return session.exec(select(Indicator).where(Indicator.project_id == pid, Indicator.name == COUNT)).one()


def _settle(page: Page) -> None:
    page.wait_for_timeout(1500)  # past the typing pause
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_a_table_from_draft_to_adjusted_score(page: Page, live_server, session, artifacts):
    load_demo(session=session)
    source = session.exec(
        select(Project).join(Unit, Unit.id == Project.unit_id).where(Project.name == PROJECT, Unit.name == UNIT)
    ).one()

    # the unit copies last year's table as this year's draft
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets?year={YEAR}")
    page.click(f"#copy-{source.id}")
    expect(page.locator("#target-status")).to_have_text("草稿")
    pid = int(page.url.split("/targets/")[1].split("?")[0])
    row = _count_row(session, pid)
    field = page.locator(f"#annual_target-{row.id}")
    expect(field).to_have_value("1次")  # last year's value, copied

    # a vague target is flagged at its row as it is typed, then fixed
    field.click()
    field.fill("")
    _mark(field)
    field.press_sequentially("有效提升", delay=DELAY)
    _settle(page)
    expect(page.locator(f"#checks-{row.id} [data-issue=not_measurable]")).to_be_visible()
    page.screenshot(path=str(artifacts / "targets-year-1-vague-flagged.png"), full_page=True)
    field.fill("")
    field.press_sequentially("≥2次", delay=DELAY)
    _settle(page)
    expect(page.locator(f"#checks-{row.id} [data-issue=not_measurable]")).to_have_count(0)
    assert _count_row(session, pid).annual_target == "≥2次"
    page.click("#act-submit")
    expect(page.locator("#target-status")).to_have_text("已申报")

    # the department returns it with an opinion
    _login(page, live_server, "gongxinju")
    page.goto(f"{live_server}/targets/{pid}")
    page.fill("#opinion-return", "培训和演练请写明期间，年度按两次安排")
    page.click("#act-return")
    expect(page.locator("#target-status")).to_have_text("已退回")

    # the unit reads the opinion, corrects the period value and resubmits
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets/{pid}")
    expect(page.locator("#target-table")).to_contain_text("培训和演练请写明期间")
    page.screenshot(path=str(artifacts / "targets-year-2-returned.png"), full_page=True)
    period = page.locator(f"#period_target-{row.id}")
    period.click()
    period.fill("")
    period.press_sequentially("≥6次", delay=DELAY)
    _settle(page)
    assert _count_row(session, pid).period_target == "≥6次"
    page.click("#act-submit")
    expect(page.locator("#target-status")).to_have_text("已申报")

    # the department approves, then the finance bureau approves (批复)
    _login(page, live_server, "gongxinju")
    page.goto(f"{live_server}/targets/{pid}")
    page.click("#act-approve")
    expect(page.locator("#target-status")).not_to_have_text("已申报")
    _login(page, live_server, "caizhengju")
    page.goto(f"{live_server}/targets/{pid}")
    page.click("#act-approve")
    expect(page.locator("#target-status")).to_have_text("已批复")
    page.screenshot(path=str(artifacts / "targets-year-3-approved.png"), full_page=True)

    # the unit asks to adjust 培训和演练 to 1次 (one drill cancelled), both reviewers approve
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets/{pid}")
    page.click("#adjustments summary")
    page.fill(f"#adj-annual_target-{row.id}", "≥1次")
    page.fill("#adj-reason", "上级统一组织一次演练，本单位年度演练减为一次")
    page.click("#adjust-submit")
    expect(page.locator(".adjustment")).to_have_count(1)
    for who in ("gongxinju", "caizhengju"):
        _login(page, live_server, who)
        page.goto(f"{live_server}/targets/{pid}")
        page.locator(".adjustment button.primary").click()
        expect(page.locator(".adjustment .badge").first).not_to_have_text("已申报")
    expect(page.locator("#adjustments")).to_contain_text("已生效为第 2 版")
    page.screenshot(path=str(artifacts / "targets-year-4-adjusted.png"), full_page=True)

    # the year-end 自评表 scores against the adjusted value and shows the original beside it
    finance = principal_for_user(session.exec(select(User).where(User.username == "caizhengju")).one())
    windows.set_window(
        session=session, principal=finance, year=YEAR, opens_date=date(YEAR, 1, 1), closes_date=date(YEAR + 5, 12, 31)
    )
    evaluations.ensure_evaluations(session=session, year=YEAR)
    ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == pid)).one()
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/evaluations/{ev.id}")
    tr = page.locator(f"#ind-{row.id}")
    expect(tr.locator(".target")).to_have_text("≥1次")
    expect(tr.locator("[data-original]").first).to_contain_text("≥2次")
    actual = page.locator(f"#actual-{row.id}")
    actual.click()
    actual.press_sequentially("1次", delay=DELAY)
    _settle(page)
    weight = tr.locator(".c-weight").inner_text().split("\n")[0].strip()
    expect(tr.locator("[data-score]")).to_have_text(weight)  # met against ≥1次: the full weight
    page.screenshot(path=str(artifacts / "targets-year-5-self-evaluation.png"), full_page=True)
    session.expire_all()
    view = evaluations.view(session=session, principal=finance, evaluation_id=ev.id)
    scored = next(i for i in view.indicators if i.id == row.id)
    assert scored.score == scored.weight and scored.weight > Decimal(0)
