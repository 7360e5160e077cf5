"""A monitoring round in a real Chromium: a unit types its 执行数 and each project's 完成值 at 80 ms a key
(the fields save themselves as on the 自评表), and the planted projects light green, yellow and red; the
department's overview counts them, draws the chart and filters the reds. Screenshots in test-artifacts/.

Runs on SQLite only, like the other browser tests: the save path over PostgreSQL is covered by
tests/web and tests/api at the HTTP level.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from app.services import monitoring
from tests.factories import PASSWORD
from tests.services.monitoring_data import PLANTED, indicator_of, planted

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

DELAY = 80  # ms a key, as a person types
WORDS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}


def _login(page: Page, live_server: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav")).to_contain_text("运行监控")


def _settle(page: Page, pending: list[int], limit: float = 30) -> None:
    """Past the typing pause, until every save the page sent is answered."""
    deadline = time.monotonic() + limit
    calm = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        if pending[0] > 0:
            calm = None
            continue
        calm = calm or time.monotonic()
        if time.monotonic() - calm >= 1.5:
            return
    raise AssertionError("saves still unanswered")


def test_the_planted_round_lights_green_yellow_red(page: Page, live_server, session, artifacts):
    w = planted(session, fill=False)
    pending = [0]
    page.on("request", lambda r: pending.__setitem__(0, pending[0] + 1) if r.method == "POST" else None)
    page.on("requestfinished", lambda r: pending.__setitem__(0, pending[0] - 1) if r.method == "POST" else None)
    page.on("requestfailed", lambda r: pending.__setitem__(0, pending[0] - 1) if r.method == "POST" else None)
    _login(page, live_server, "jcz")
    page.click("nav >> text=运行监控")
    expect(page.locator("h1")).to_contain_text("绩效运行监控")
    for name, (_, _, progress, light) in PLANTED.items():
        project = w["projects"][name]
        ind = indicator_of(session, project.id)
        page.goto(f"{live_server}/monitoring?year={project.year}")
        page.click(f"#projects >> text={name}")
        expect(page.locator("#project-name")).to_have_text(name)
        expect(page.locator(f"#light-{ind.id} [data-light]")).to_have_attribute("data-light", "none")
        page.click("#spent-input")
        page.locator("#spent-input").press_sequentially("50", delay=DELAY)
        page.click(f"#progress-{ind.id}")  # moving on while 执行数 is being saved
        page.locator(f"#progress-{ind.id}").press_sequentially(progress, delay=DELAY)
        if light != "green":
            page.click(f"#reason-{ind.id}")
            page.locator(f"#reason-{ind.id}").press_sequentially("上半年人员调整，进度滞后", delay=DELAY)
            page.click(f"#measure-{ind.id}")
            page.locator(f"#measure-{ind.id}").press_sequentially("下半年加密安排", delay=DELAY)
        _settle(page, pending)
        cell = page.locator(f"#light-{ind.id}")
        expect(cell.locator("[data-light]").first).to_have_attribute("data-light", light)
        expect(cell).to_contain_text(WORDS[light])
        expect(cell.locator("[data-needs-reason]")).to_have_count(0)  # yellow and red: reason and measure written
        expect(page.locator("#spending-light [data-light]").first).to_have_attribute("data-light", "green")
        expect(page.locator("#project-light")).to_contain_text(WORDS[light])
        # nothing typed was replaced or lost
        expect(page.locator(f"#progress-{ind.id}")).to_have_value(progress)
        page.screenshot(path=str(artifacts / f"monitoring-form-{light}.png"), full_page=True)
        # after a reload the page shows what the database holds
        page.reload()
        expect(page.locator(f"#progress-{ind.id}")).to_have_value(progress)
        expect(page.locator("#spent-input")).to_have_value("50.00")
        session.expire_all()
        line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
        assert line.light == light and line.indicators[0].entry.progress == progress

    page.goto(f"{live_server}/monitoring")
    for name, (_, _, _, light) in PLANTED.items():
        expect(page.locator(f'tr[data-project="{name}"]')).to_have_attribute("data-light", light)
    page.screenshot(path=str(artifacts / "monitoring-unit-list.png"), full_page=True)

    _login(page, live_server, "gxj")
    page.goto(f"{live_server}/monitoring")
    for light in ("green", "yellow", "red"):
        expect(page.locator(f'#light-counts [data-count="{light}"]')).to_have_text("1")
    expect(page.locator("svg[aria-label='各单位目标进度亮灯'] rect[data-light=red]")).to_have_count(1)
    expect(page.locator("svg[aria-label='各单位支出进度']")).to_contain_text("时间进度 49.73%")
    page.screenshot(path=str(artifacts / "monitoring-overview.png"), full_page=True)
    page.click("#only-reds")
    expect(page.locator("#projects tbody tr")).to_have_count(1)
    expect(page.locator('tr[data-project="业务培训"]')).to_be_visible()
    page.screenshot(path=str(artifacts / "monitoring-reds.png"), full_page=True)


@pytest.mark.parametrize("delay", [30, 150])
def test_a_red_row_typed_fast_and_slow_through_an_input_method_and_a_paste_keeps_every_character(
    page: Page, live_server, session, artifacts, delay
):
    """The monitoring form shares the 自评表's autosave: typed at 30 and 150 ms a key, 偏差原因 through a
    pinyin composition with a 1.5 s pause (only the committed characters are saved), 纠偏措施 pasted
    without any key, and a reload at once: the page and the database hold exactly what was entered."""
    from tests.browser.test_typing import _compose

    w = planted(session, fill=False)
    name = "业务培训"
    project = w["projects"][name]
    ind = indicator_of(session, project.id)
    sent: list[str] = []
    pending = [0]

    def started(r):
        if r.method == "POST":
            sent.append(r.post_data or "")
            pending[0] += 1

    page.on("request", started)
    page.on("requestfinished", lambda r: pending.__setitem__(0, pending[0] - 1) if r.method == "POST" else None)
    page.on("requestfailed", lambda r: pending.__setitem__(0, pending[0] - 1) if r.method == "POST" else None)
    _login(page, live_server, "jcz")
    page.goto(f"{live_server}/monitoring?year={project.year}")
    page.click(f"#projects >> text={name}")
    expect(page.locator("#project-name")).to_have_text(name)
    page.click(f"#progress-{ind.id}")
    page.locator(f"#progress-{ind.id}").press_sequentially("20人次", delay=delay)
    page.keyboard.press("Tab")  # on while the row saves
    page.click(f"#reason-{ind.id}")
    cdp = page.context.new_cdp_session(page)
    _compose(cdp, "renyuan", 1500, "人员", page)
    _compose(cdp, "tiaozheng", 1500, "调整", page)
    page.click(f"#measure-{ind.id}")
    page.keyboard.insert_text("下半年加密安排")  # a paste by mouse: an input event, no key
    expect(page.locator(f"#reason-{ind.id}")).to_have_value("人员调整")
    _settle(page, pending)
    page.screenshot(path=str(artifacts / f"monitoring-red-typed-{delay}ms.png"))
    page.reload()
    expect(page.locator(f"#progress-{ind.id}")).to_have_value("20人次")
    expect(page.locator(f"#reason-{ind.id}")).to_have_value("人员调整")
    expect(page.locator(f"#measure-{ind.id}")).to_have_value("下半年加密安排")
    expect(page.locator(f"#light-{ind.id} [data-light]").first).to_have_attribute("data-light", "red")
    session.expire_all()
    line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
    entry = line.indicators[0].entry
    assert (entry.progress, entry.reason, entry.measure) == ("20人次", "人员调整", "下半年加密安排")
    assert not any("renyuan" in body or "tiaozheng" in body for body in sent)
