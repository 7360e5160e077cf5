"""The 绩效目标表 page typed into as people type: a unit drafts a table, types targets at 30, 80
and 150 ms a key, moves on with Tab and clicks while the row is being saved, composes Chinese
through an input method; after a reload every field holds exactly what was typed, and what
jixiao understood is shown beside it. Screenshots of the editor and the reviewers' dashboard
are kept as artefacts."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.models import Indicator, Project
from app.services.demo import DEMO_YEAR, load_demo
from tests.browser.test_typing import Saves, _compose, _mark

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

TARGET_SAVES = ("/rows/", "/project")


class TargetSaves(Saves):
    @staticmethod
    def _is_save(request) -> bool:
        return request.method == "POST" and "/targets/" in request.url and any(p in request.url for p in TARGET_SAVES)


def _login(page: Page, live_server: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_be_visible()


def _draft(page: Page, live_server: str, session, name: str) -> int:
    load_demo(session=session)
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets?year={DEMO_YEAR}")
    page.locator("details.new-table summary").click()
    page.fill("#new-table-name", name)
    page.click("#new-table-form button[type=submit]")
    expect(page.locator("#target-table h1")).to_contain_text("项目支出绩效目标表")
    return int(page.url.split("/targets/")[1].split("?")[0])


def _add_row(page: Page, level1: str, name: str, annual: str, weight: str) -> None:
    page.select_option("#new-level1", level1)
    page.fill("#new-name", name)
    page.locator("#new-annual").press_sequentially(annual, delay=40)
    expect(page.locator("#understood-new")).not_to_be_empty()
    page.fill("#new-weight", weight)
    page.click("#add-row")
    expect(_row(page, name)).to_be_visible()


def _row(page: Page, name: str):
    """The row whose 三级指标 was `name` when the page was rendered (typed text is not text content)."""
    return page.locator("tr.target-row").filter(has=page.locator(f'input[name=name][value="{name}"]'))


def _rows(session, pid: int) -> dict[str, Indicator]:
    session.expire_all()
    return {i.name: i for i in session.exec(select(Indicator).where(Indicator.project_id == pid)).all()}


@pytest.mark.parametrize("delay", [30, 80, 150])
def test_typing_targets_at_a_persons_speed_keeps_every_character(page: Page, live_server, session, delay, artifacts):
    pid = _draft(page, live_server, session, f"监测设备运维（{delay}ms）")
    _add_row(page, "output", "监测报告", "≥10份", "20")
    _add_row(page, "outcome", "监测能力", "有效提升", "30")
    expect(page.locator("#quality")).to_contain_text("不可衡量 1")
    saves = TargetSaves(page)

    row = _row(page, "监测能力")
    annual = row.locator("input[name=annual_target]")
    annual.fill("")
    _mark(annual)
    annual.press_sequentially("≥95%", delay=delay)
    page.keyboard.press("Tab")  # into 分值 while the row may still be saving
    weight = row.locator("input[name=weight]")
    _mark(weight)
    page.keyboard.press("Control+A")
    weight.press_sequentially("25.5", delay=delay)
    name = row.locator("input[name=name]")
    name.click()  # click back into the row mid-save and keep typing
    _mark(name)
    page.keyboard.press("End")
    name.press_sequentially("（年度）", delay=delay)
    other = _row(page, "监测报告").locator("input[name=annual_target]")
    other.click()
    _mark(other)
    page.keyboard.press("Control+A")
    other.press_sequentially("不少于12份", delay=delay)
    page.screenshot(path=str(artifacts / f"targets-editor-typing-{delay}ms.png"), full_page=True)
    saves.settle(page)

    # the fields typed in were never replaced by the server's copy
    for locator in (annual, weight, name, other):
        assert locator.get_attribute("data-typed-here") == "", "a save replaced the field being typed in"
    expect(page.locator("#quality")).not_to_contain_text("不可衡量")
    rows = _rows(session, pid)
    assert set(rows) == {"监测报告", "监测能力（年度）"}
    fixed = rows["监测能力（年度）"]
    assert (fixed.annual_target, str(fixed.weight)) == ("≥95%", "25.50")
    assert rows["监测报告"].annual_target == "不少于12份"

    page.reload()
    row = _row(page, "监测能力（年度）")
    expect(row.locator("input[name=annual_target]")).to_have_value("≥95%")
    expect(row.locator("input[name=weight]")).to_have_value("25.5")
    expect(row.locator("input[name=name]")).to_have_value("监测能力（年度）")
    expect(row.locator("td.c-understood")).to_have_text("不少于 95 %（越高越好）")
    expect(_row(page, "监测报告").locator("td.c-understood")).to_have_text("不少于 12 份（越高越好）")


def test_a_pinyin_input_method_saves_only_the_committed_characters(page: Page, live_server, session):
    pid = _draft(page, live_server, session, "输入法测试项目")
    _add_row(page, "output", "设备巡检", "≥12次", "20")
    saves = TargetSaves(page)
    cdp = page.context.new_cdp_session(page)
    name = _row(page, "设备巡检").locator("input[name=name]")
    name.click()
    page.keyboard.press("End")
    _compose(cdp, "jiance", 1500, "监测", page)
    goal = page.locator("#f-annual_goal")
    goal.click()
    _compose(cdp, "wancheng", 1500, "完成", page)
    expect(name).to_have_value("设备巡检监测")
    saves.settle(page)
    assert not any("jiance" in body or "wancheng" in body for body in saves.sent), saves.sent
    assert set(_rows(session, pid)) == {"设备巡检监测"}
    session.expire_all()
    assert session.get(Project, pid).annual_goal == "完成"
    page.reload()
    expect(page.locator("#f-annual_goal")).to_have_value("完成")


def test_submit_review_and_the_dashboard_as_people_see_it(page: Page, live_server, session, artifacts):
    pid = _draft(page, live_server, session, "无线电频谱监测")
    _add_row(page, "output", "监测时长", "≥8000小时", "40")
    _add_row(page, "outcome", "干扰查处率", "≥95%", "30")
    _add_row(page, "satisfaction", "用户满意度", "≥90%", "20")
    page.click("#act-submit")
    expect(page.locator("#target-status")).to_have_text("已申报")

    _login(page, live_server, "gongxinju")
    page.goto(f"{live_server}/targets?year={DEMO_YEAR}")
    expect(page.locator(f"#table-{pid}")).to_be_visible()
    page.screenshot(path=str(artifacts / "targets-dashboard-department.png"), full_page=True)
    page.click(f"#table-{pid} a")
    page.fill("#opinion-return", "满意度指标请写明调查方式")
    page.click("#act-return")
    expect(page.locator("#target-status")).to_have_text("已退回")

    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets/{pid}")
    expect(page.locator(".notice-warn")).to_contain_text("满意度指标请写明调查方式")
    page.screenshot(path=str(artifacts / "targets-editor-returned.png"), full_page=True)


def test_the_printed_table_is_a4_portrait_and_page_two_repeats_the_header(page: Page, live_server, session, artifacts):
    import io

    import pypdf
    import pypdfium2

    from app.security import Principal
    from app.services import target_tables
    from app.services.target_tables import ProjectInput

    load_demo(session=session)
    from app.models import User

    user = session.exec(select(User).where(User.username == "wuxian_jiancezhan")).one()
    unit = Principal(role="unit", name=user.username, user_id=user.id, unit_id=user.unit_id)
    rows = [
        {
            "level1": "output",
            "level2": "数量指标",
            "name": f"监测站点巡检第{n}组",
            "annual_target": f"≥{n}次",
            "weight": "2",
        }
        for n in range(1, 46)
    ]
    project = target_tables.create_project(
        session=session,
        principal=unit,
        data=ProjectInput(
            year=DEMO_YEAR, unit_id=None, project_code=None, fields={"name": "全市无线电监测网运维"}, indicators=rows
        ),
    )
    _login(page, live_server, "wuxian_jiancezhan")
    page.goto(f"{live_server}/targets/{project.id}/print")
    expect(page.locator("h1.sheet-title")).to_have_text("项目支出绩效目标申报表")
    page.emulate_media(media="print")
    pdf_bytes = page.pdf(prefer_css_page_size=True, print_background=True)
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) >= 2
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 portrait
    second = reader.pages[1].extract_text().replace(" ", "")
    assert "全市无线电监测网运维·绩效目标申报表" in second  # the repeated header names the project
    assert "三级指标" in second and "年度指标值" in second  # and carries the column heads
    last = reader.pages[-1].extract_text().replace(" ", "")
    assert "填报单位（盖章）" in last and "联系电话" in last
    document = pypdfium2.PdfDocument(pdf_bytes)
    for n in range(min(len(document), 2)):
        document[n].render(scale=1.3).to_pil().save(artifacts / f"targets-print-page{n + 1}.png")
