"""The 自评表 typed into as people type: at 30, 80 and 150 ms a key, moving on with Tab or a click
while the previous field is still being saved, through a Chinese input method, by pasting, and
leaving at once. After a reload (and in the database) every field holds exactly what was typed.

Runs on SQLite only, like the other browser tests: the save path over PostgreSQL is covered by
tests/web at the HTTP level.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.models import Indicator, IndicatorResult, Project, SelfEvaluation, User
from app.services import accounts, evaluations
from app.services.demo import load_demo
from tests.browser.test_role_pages import WATCH_CSP

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

PROJECT = "专项工作培训费"  # budget left to the unit; 1次 / 90% / deadline / qualitative / 95%以上
COUNT = "培训和演练"
RATE = "培训考核通过率"
LEVEL = "强化无线电管理工作人员的业务水平"
SATISFACTION = "培训人员满意度"
SAVES = ("/rows/", "/money", "/goal")


def _row(page: Page, name: str):
    return page.locator("tr.ind-row", has_text=name)


class Saves:
    """The autosave requests a page sends, and how many are still unanswered."""

    def __init__(self, page: Page):
        self.sent: list[str] = []
        self.open = 0
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)

    @staticmethod
    def _is_save(request) -> bool:
        return request.method == "POST" and any(part in request.url for part in SAVES)

    def _start(self, request):
        if self._is_save(request):
            self.sent.append(request.post_data or "")
            self.open += 1

    def _end(self, request):
        if self._is_save(request):
            self.open -= 1

    def settle(self, page: Page, quiet: float = 1.5, limit: float = 30) -> None:
        """Wait past any typing pause the page waits for, then until no save is unanswered."""
        deadline = time.monotonic() + limit
        calm_since = None
        while time.monotonic() < deadline:
            page.wait_for_timeout(100)
            if self.open > 0:
                calm_since = None
                continue
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= quiet:
                return
        raise AssertionError(f"saves still unanswered after {limit} s")


def _open_form(page: Page, live_server: str, session) -> Saves:
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    page.add_init_script(WATCH_CSP)  # every Content-Security-Policy violation, swaps included
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.click(f"text={PROJECT}")
    expect(page.locator("#project-name")).to_have_text(PROJECT)
    return Saves(page)


def _stored(session) -> dict:
    """What the database holds for the project: money, goal, and each row by indicator name."""
    session.expire_all()
    project = session.exec(select(Project).where(Project.name == PROJECT)).one()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    rows = {}
    for ind in session.exec(select(Indicator).where(Indicator.project_id == project.id)).all():
        res = session.exec(
            select(IndicatorResult).where(
                IndicatorResult.self_evaluation_id == evaluation.id, IndicatorResult.indicator_id == ind.id
            )
        ).first()
        rows[ind.name] = res
    return {"budget": project.budget, "spent": project.spent, "goal": evaluation.goal_completion, "rows": rows}


def _type(locator, text: str, delay: int) -> None:
    _mark(locator)
    locator.press_sequentially(text, delay=delay)


def _mark(locator) -> None:
    """Tag the element typed in: if a save replaced it with the server's copy, the tag is gone."""
    locator.evaluate("el => el.setAttribute('data-typed-here', '')")


def _no_csp_violation(page: Page) -> None:
    """No swap brought an inline style or script the page's CSP refuses (issue 9's CSP violation)."""
    assert page.evaluate("window.__csp") == []


@pytest.mark.parametrize("delay", [30, 80, 150])
def test_typing_at_a_persons_speed_keeps_every_character(page: Page, live_server, session, delay, artifacts):
    saves = _open_form(page, live_server, session)

    # money: 120 in 全年预算数, Tab (the block saves), 108.35 in 全年执行数 while that save runs
    page.click("#budget-input")
    _type(page.locator("#budget-input"), "120", delay)
    page.keyboard.press("Tab")
    _type(page.locator("#spent-input"), "108.35", delay)
    # click (not Tab) into a row while the money block is saving
    _row(page, RATE).locator("input[name=actual]").click()
    _type(_row(page, RATE).locator("input[name=actual]"), "85%", delay)
    page.keyboard.press("Tab")  # into 偏差原因 of the same row, while the row saves
    _type(_row(page, RATE).locator("textarea[name=deviation_reason]"), "two absent, retest next year", delay)
    # the form as the user sees it mid-typing: the row's save in flight, its cells updated beside the field
    page.screenshot(path=str(artifacts / f"form-mid-typing-{delay}ms.png"))
    # a number in another row, reached by a click
    _row(page, COUNT).locator("input[name=actual]").click()
    _type(_row(page, COUNT).locator("input[name=actual]"), "12", delay)
    page.keyboard.press("Tab")
    _type(_row(page, COUNT).locator("textarea[name=deviation_reason]"), "extra drill held", delay)
    # the qualitative score: a level chosen from the list, then a score inside its band, then a note
    _mark(_row(page, LEVEL).locator("select"))
    _row(page, LEVEL).locator("select").select_option("achieved")
    _row(page, LEVEL).locator("input[name=score_in_band]").click()
    _type(_row(page, LEVEL).locator("input[name=score_in_band]"), "28.5", delay)
    page.keyboard.press("Tab")
    _type(_row(page, LEVEL).locator("input[name=actual]"), "done twice", delay)
    # the year's goal
    page.click("#goal-input")
    _type(page.locator("#goal-input"), "trained 40 staff in 2024", delay)
    page.keyboard.press("Tab")

    # what is on the page right now, before any reload
    expect(page.locator("#budget-input")).to_have_value("120.00")  # formatted after leaving it, not before
    expect(page.locator("#spent-input")).to_have_value("108.35")
    expect(_row(page, RATE).locator("input[name=actual]")).to_have_value("85%")
    saves.settle(page)
    # the server never replaced a field that was typed in: the ten elements are the same ones
    expect(page.locator("[data-typed-here]")).to_have_count(10)
    page.reload()
    expect(page.locator("#budget-input")).to_have_value("120.00")
    expect(page.locator("#spent-input")).to_have_value("108.35")
    expect(page.locator("#execution-rate")).to_have_text("90.29%")  # 108.35 / 120
    expect(_row(page, RATE).locator("input[name=actual]")).to_have_value("85%")
    expect(_row(page, RATE).locator("textarea[name=deviation_reason]")).to_have_value("two absent, retest next year")
    expect(_row(page, COUNT).locator("input[name=actual]")).to_have_value("12")
    expect(_row(page, COUNT).locator("textarea[name=deviation_reason]")).to_have_value("extra drill held")
    expect(_row(page, LEVEL).locator("select")).to_have_value("achieved")
    expect(_row(page, LEVEL).locator("input[name=actual]")).to_have_value("done twice")
    expect(page.locator("#goal-input")).to_have_value("trained 40 staff in 2024")

    stored = _stored(session)
    assert (stored["budget"], stored["spent"]) == (Decimal("120"), Decimal("108.35"))
    rows = stored["rows"]
    assert (rows[RATE].actual, rows[RATE].deviation_reason) == ("85%", "two absent, retest next year")
    assert (rows[COUNT].actual, rows[COUNT].deviation_reason) == ("12", "extra drill held")
    assert (rows[LEVEL].qualitative_level, rows[LEVEL].score_in_band) == ("achieved", Decimal("28.5"))
    assert rows[LEVEL].actual == "done twice"
    assert stored["goal"] == "trained 40 staff in 2024"
    _no_csp_violation(page)


def _compose(cdp, letters: str, pause_ms: int, committed: str, page: Page, shot: Path | None = None) -> None:
    """Pinyin as an input method sends it: key code 229, a growing composition, a pause, a commit."""
    for n, letter in enumerate(letters, start=1):
        code = "Key" + letter.upper()
        cdp.send(
            "Input.dispatchKeyEvent",
            {
                "type": "rawKeyDown",
                "key": "Process",
                "code": code,
                "windowsVirtualKeyCode": 229,
                "nativeVirtualKeyCode": 229,
            },
        )
        cdp.send("Input.imeSetComposition", {"text": letters[:n], "selectionStart": n, "selectionEnd": n})
        cdp.send(
            "Input.dispatchKeyEvent",
            {"type": "keyUp", "key": letter, "code": code, "windowsVirtualKeyCode": ord(letter.upper())},
        )
        page.wait_for_timeout(120)
    page.wait_for_timeout(pause_ms)  # looking for the right character in the candidate list
    if shot is not None:  # the form mid-composition, the pinyin still underlined in the field
        page.screenshot(path=str(shot))
    cdp.send("Input.insertText", {"text": committed})


def test_a_pinyin_input_method_saves_only_the_committed_characters(page: Page, live_server, session, artifacts):
    saves = _open_form(page, live_server, session)
    cdp = page.context.new_cdp_session(page)

    _row(page, RATE).locator("input[name=actual]").fill("85%")
    _row(page, RATE).locator("textarea[name=deviation_reason]").click()
    _compose(cdp, "gongxue", 1500, "工学", page)
    _compose(cdp, "buhui", 1500, "补回", page, shot=artifacts / "form-mid-composition.png")
    page.click("#goal-input")
    _compose(cdp, "peixun", 1500, "培训", page)
    _row(page, LEVEL).locator("input[name=actual]").click()
    _compose(cdp, "wancheng", 1500, "完成", page)
    expect(_row(page, RATE).locator("textarea[name=deviation_reason]")).to_have_value("工学补回")
    expect(page.locator("#goal-input")).to_have_value("培训")

    saves.settle(page)
    page.reload()
    expect(_row(page, RATE).locator("textarea[name=deviation_reason]")).to_have_value("工学补回")
    expect(page.locator("#goal-input")).to_have_value("培训")
    expect(_row(page, LEVEL).locator("input[name=actual]")).to_have_value("完成")
    stored = _stored(session)
    assert stored["rows"][RATE].deviation_reason == "工学补回"
    assert stored["goal"] == "培训"
    assert stored["rows"][LEVEL].actual == "完成"
    assert not any("gongxue" in body or "peixun" in body or "wancheng" in body for body in saves.sent)
    _no_csp_violation(page)


def test_a_paste_without_any_key_is_saved_without_leaving_the_field(page: Page, live_server, session):
    saves = _open_form(page, live_server, session)
    _row(page, SATISFACTION).locator("input[name=actual]").click()
    page.keyboard.insert_text("96%")  # an input event and nothing else, as a paste by mouse
    page.locator("#goal-input").focus()
    page.keyboard.insert_text("全年培训40人")
    # no blur: the goal keeps the focus while the page saves
    saves.settle(page)
    page.reload()
    expect(_row(page, SATISFACTION).locator("input[name=actual]")).to_have_value("96%")
    expect(page.locator("#goal-input")).to_have_value("全年培训40人")
    stored = _stored(session)
    assert stored["rows"][SATISFACTION].actual == "96%" and stored["goal"] == "全年培训40人"


def test_leaving_at_once_keeps_the_value_or_warns_and_stays(page: Page, live_server, session):
    saves = _open_form(page, live_server, session)
    form_url = page.url
    warned: list[str] = []

    def on_dialog(dialog):
        warned.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    _row(page, COUNT).locator("input[name=actual]").click()
    _type(_row(page, COUNT).locator("input[name=actual]"), "1", 30)
    page.keyboard.insert_text("次")
    _row(page, COUNT).locator(
        "textarea[name=deviation_reason]"
    ).focus()  # the row saves; while that save is on its way,
    page.keyboard.insert_text("加演一次")  # the reason is typed
    try:  # leave at once, as soon as the last character is in: another address, a bookmark
        page.goto(live_server + "/", timeout=5000)
    except PlaywrightError:
        pass  # the page warned and stayed: the navigation was cancelled
    if warned:
        assert warned == ["beforeunload"]
        assert page.url == form_url  # stayed
        saves.settle(page)
    else:
        assert page.url != form_url
        page.wait_for_timeout(1500)
    row = _stored(session)["rows"][COUNT]
    assert row is not None and (row.actual, row.deviation_reason) == ("1次", "加演一次")
    page.goto(form_url)
    expect(_row(page, COUNT).locator("input[name=actual]")).to_have_value("1次")
    expect(_row(page, COUNT).locator("textarea[name=deviation_reason]")).to_have_value("加演一次")


def test_tabbing_through_rows_that_were_not_edited_sends_nothing(page: Page, live_server, session):
    saves = _open_form(page, live_server, session)
    page.click("#budget-input")
    for _ in range(16):  # every field of the money block, the goal and the rows
        page.keyboard.press("Tab")
        page.wait_for_timeout(60)
    page.wait_for_timeout(1500)
    assert saves.sent == []
    expect(page.locator(".saved")).to_have_count(0)
    assert _stored(session)["rows"][COUNT] is None


def test_a_save_that_meets_an_expired_session_keeps_the_value_and_resends_it_after_login(
    page: Page, live_server, session
):
    saves = _open_form(page, live_server, session)
    form_url = page.url
    # The session ends on the server while the form is open (as the idle timeout or an administrator
    # would end it): the browser still sends its cookie, and the server refuses it.
    user = session.exec(select(User).where(User.username == "wuxian_jiancezhan")).one()
    assert accounts.end_sessions(session=session, user=user) == 1
    assert page.context.cookies()  # the cookie is still there
    actual = _row(page, COUNT).locator("input[name=actual]")
    _type(actual, "12", 80)
    actual.blur()
    saves.settle(page)
    expect(page.locator("#toast")).to_contain_text("重新登录")
    expect(actual).to_have_value("12")  # the typed value stays on the page
    # log in again in another window, as the message offers, and come back
    other = page.context.new_page()
    other.goto(live_server + "/login")
    other.fill("input[name=username]", "wuxian_jiancezhan")
    other.fill("input[name=password]", "jixiao-demo")
    other.click("button[type=submit]")
    expect(other.locator("nav.mainnav")).to_be_visible()
    other.close()
    page.bring_to_front()
    page.locator("h1").click()  # back on the form
    saves.settle(page)
    assert _stored(session)["rows"][COUNT] is not None and _stored(session)["rows"][COUNT].actual == "12"
    page.goto(form_url)
    expect(_row(page, COUNT).locator("input[name=actual]")).to_have_value("12")


def test_a_save_that_meets_an_ended_session_logs_in_again_in_place_and_resends(page: Page, live_server, session):
    """The toast carries a login form: a wrong password is said there, the right one saves what was typed."""
    saves = _open_form(page, live_server, session)
    form_url = page.url
    user = session.exec(select(User).where(User.username == "wuxian_jiancezhan")).one()
    assert accounts.end_sessions(session=session, user=user) == 1
    actual = _row(page, COUNT).locator("input[name=actual]")
    _type(actual, "13", 80)
    actual.blur()
    saves.settle(page)
    relogin = page.locator("#toast form[data-relogin]")
    expect(relogin).to_be_visible()
    relogin.locator("input[name=username]").fill("wuxian_jiancezhan")
    relogin.locator("input[name=password]").fill("not-the-password")
    relogin.locator("button[type=submit]").click()
    expect(relogin.locator("[data-relogin-error]")).to_contain_text("用户名或密码错误")
    assert _stored(session)["rows"][COUNT] is None or _stored(session)["rows"][COUNT].actual != "13"
    expect(actual).to_have_value("13")
    relogin.locator("input[name=password]").fill("jixiao-demo")
    relogin.locator("button[type=submit]").click()
    saves.settle(page)
    expect(page.locator("#toast form[data-relogin]")).to_have_count(0)
    assert _stored(session)["rows"][COUNT] is not None and _stored(session)["rows"][COUNT].actual == "13"
    page.goto(form_url)
    expect(_row(page, COUNT).locator("input[name=actual]")).to_have_value("13")
