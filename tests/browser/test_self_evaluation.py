"""A unit fills in its year-end self-evaluation in a real Chromium, against a real uvicorn and
database: every kind of actual, a missed target with its reason, the score updating as it types,
everything still there after a reload, submit, read-only, print — and Chinese drawn with a CJK font.

Runs on SQLite only: the same pages over PostgreSQL are covered by tests/web at the HTTP level,
and a second browser run would double the slowest test for no new behaviour.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.services import evaluations
from app.services.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

PROJECT = "专项工作培训费"
CJK_FAMILIES = ("WenQuanYi", "Noto Sans CJK", "Noto Serif CJK", "Droid Sans Fallback", "AR PL")


def _row(page: Page, name: str):
    return page.locator("tr.ind-row", has_text=name)


def _score(page: Page, name: str):
    return _row(page, name).locator("[data-score]")


def _platform_fonts(page: Page, selector: str) -> list[str]:
    """The fonts Chromium really used to draw the text of an element (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


# Missing glyphs are all drawn as the same box; real glyphs of different characters differ.
DISTINCT_GLYPHS = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (text) => {
    const canvas = document.createElement("canvas");
    canvas.width = 40; canvas.height = 40;
    const ctx = canvas.getContext("2d");
    ctx.font = "32px " + font;
    ctx.fillText(text, 2, 32);
    return canvas.toDataURL();
  };
  const glyphs = ["绩", "效", "自", "评"].map(draw);
  return new Set(glyphs).size;
}"""


def test_a_unit_fills_submits_and_prints_its_self_evaluation(page: Page, live_server, session, artifacts):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in m.location.get("url", "") else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    expect(page.locator("h2", has_text="2024 年度项目绩效自评")).to_be_visible()
    expect(page.locator("tr[id^=project-]")).to_have_count(14)
    page.click(f"text={PROJECT}")
    expect(page.locator("h1")).to_contain_text("项目支出绩效自评表")
    expect(page.locator("#project-name")).to_have_text(PROJECT)

    # money: the table gave no budget, so the unit types it; 19.5 / 20 = 97.50% → 9.75 of 10
    page.fill("#budget-input", "20")
    page.fill("#spent-input", "19.5")
    page.locator("#spent-input").blur()
    expect(page.locator("#execution-rate")).to_have_text("97.50%")
    expect(page.locator("#execution-score")).to_have_text("9.75")
    expect(page.locator("#status")).to_have_text("草稿")  # the first save made it a draft

    # numbers, typed (saved after a pause in typing, no blur needed)
    _row(page, "培训和演练").locator("input[name=actual]").press_sequentially("1次", delay=30)
    expect(_score(page, "培训和演练")).to_have_text("16.67")
    expect(_row(page, "培训和演练").locator("[data-parse]")).to_have_text("理解为：数值 = 1 次")
    expect(page.locator("#total-score")).to_have_text("26.42")  # 9.75 + 16.67: the totals follow

    # a missed target: scored in proportion, its reason becomes required, then given
    rate = _row(page, "培训考核通过率")
    rate.locator("input[name=actual]").fill("85%")
    rate.locator("input[name=actual]").blur()
    expect(_score(page, "培训考核通过率")).to_have_text("15.74")  # 85 / 90 × 16.67
    expect(_row(page, "培训考核通过率").locator("label.required")).to_be_visible()
    expect(_row(page, "培训考核通过率").locator("[data-flag=unmet]")).to_be_visible()
    _row(page, "培训考核通过率").locator("textarea[name=deviation_reason]").fill("两名学员因公缺考，已安排次年补考")
    _row(page, "培训考核通过率").locator("textarea[name=deviation_reason]").blur()
    expect(_row(page, "培训考核通过率").locator("[data-flag=reason_missing]")).to_have_count(0)

    # a deadline, a qualitative level, a satisfaction rate
    deadline = _row(page, "专项资金支出及时程度").locator("input[name=actual]")
    deadline.fill("2024-11-30")
    deadline.blur()
    expect(_score(page, "专项资金支出及时程度")).to_have_text("16.66")
    _row(page, "强化无线电管理工作人员的业务水平").locator("select").select_option("achieved")
    expect(_score(page, "强化无线电管理工作人员的业务水平")).to_have_text("30.00")
    satisfaction = _row(page, "培训人员满意度").locator("input[name=actual]")
    satisfaction.fill("96%")
    satisfaction.blur()
    expect(_score(page, "培训人员满意度")).to_have_text("10.00")
    page.fill("#goal-input", "全年组织无线电监测业务培训一次，考核通过率85%")
    page.locator("#goal-input").blur()
    expect(page.locator("#goal .saved")).to_be_visible()

    # 9.75 + 16.67 + 15.74 + 16.66 + 30 + 10 = 98.82 → 优
    expect(page.locator("#total-score")).to_have_text("98.82")
    expect(page.locator("#grade")).to_have_text("优")
    expect(page.locator("#filled")).to_have_text("5")
    page.evaluate("window.scrollTo(0, 0)")  # the totals bar is sticky: shoot it in its place
    page.screenshot(path=str(artifacts / "self-evaluation-form.png"), full_page=True)

    # reload: everything was saved
    page.reload()
    expect(_row(page, "培训和演练").locator("input[name=actual]")).to_have_value("1次")
    expect(_row(page, "培训考核通过率").locator("textarea[name=deviation_reason]")).to_have_value(
        "两名学员因公缺考，已安排次年补考"
    )
    expect(_row(page, "强化无线电管理工作人员的业务水平").locator("select")).to_have_value("achieved")
    expect(page.locator("#spent-input")).to_have_value("19.50")
    expect(page.locator("#goal-input")).to_have_value(re.compile("考核通过率85%"))
    expect(page.locator("#total-score")).to_have_text("98.82")

    # Chinese is drawn with a CJK font, not boxes
    fonts = _platform_fonts(page, "#project-name")
    assert any(f.startswith(CJK_FAMILIES) for f in fonts), fonts
    assert page.evaluate(DISTINCT_GLYPHS) == 4

    # submit: read-only afterwards
    page.click("#submit-button")
    expect(page.locator(".notice-ok")).to_contain_text("已送审")
    expect(page.locator("#status")).to_have_text("已送审")
    expect(page.locator("#evaluation input, #evaluation textarea, #evaluation select")).to_have_count(0)
    expect(page.locator("#withdraw-button")).to_be_visible()
    page.reload()
    expect(page.locator("#evaluation input, #evaluation textarea, #evaluation select")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "self-evaluation-submitted.png"), full_page=True)

    # the print view: the national table, filled in
    page.click("text=打印")
    expect(page.locator(".sheet-title")).to_have_text("项目支出绩效自评表")
    sheet = page.locator(".print-sheet")
    for text in (PROJECT, "97.50%", "两名学员因公缺考", "达成年度指标", "98.82", "优"):
        expect(sheet).to_contain_text(text)
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    page.screenshot(path=str(artifacts / "self-evaluation-print.png"), full_page=True)
    pdf = page.pdf(path=str(artifacts / "self-evaluation-print.pdf"), prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one A4 landscape page
    assert re.search(rb"/MediaBox\s*\[0 0 84\d(\.\d+)? 59\d(\.\d+)?\]", pdf)  # landscape: wider than tall
    assert problems == [], problems  # no CSP violation, no script error


def test_bad_input_is_refused_at_the_field_and_a_stale_window_is_told_to_reload(page: Page, live_server, session):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.click(f"text={PROJECT}")
    form_url = page.url

    actual = _row(page, "培训和演练").locator("input[name=actual]")
    actual.fill("<b>abc</b>")
    actual.blur()
    expect(_row(page, "培训和演练").locator(".field-error")).to_contain_text("请填写数字")
    expect(_row(page, "培训和演练").locator("input[name=actual]")).to_have_value("<b>abc</b>")  # nothing lost
    expect(page.locator("b", has_text="abc")).to_have_count(0)  # never rendered as markup
    _row(page, "培训和演练").locator("input[name=actual]").fill("1次")
    _row(page, "培训和演练").locator("input[name=actual]").blur()
    expect(_score(page, "培训和演练")).to_have_text("16.67")

    # a second window, opened before the first one's next save, still holds the old version
    other = page.context.new_page()
    other.goto(form_url)
    rate = _row(page, "培训考核通过率").locator("input[name=actual]")
    rate.fill("92%")
    rate.blur()
    expect(_score(page, "培训考核通过率")).to_have_text("16.67")
    stale = _row(other, "培训人员满意度").locator("input[name=actual]")
    stale.fill("96%")
    stale.blur()
    expect(other.locator("#toast")).to_contain_text("请刷新")
    other.reload()
    expect(_row(other, "培训人员满意度").locator("input[name=actual]")).to_have_value("")
    expect(_row(other, "培训考核通过率").locator("input[name=actual]")).to_have_value("92%")


# A long 自评表, as real tables of a big project run (一级 / 二级 / 三级, each 二级 in one run):
# 产出 over four 二级, 效益 over two, 满意度 — 42 indicators, three A4 pages.
LONG_GROUPS = [
    ("产出指标", "数量指标", 14, "开展无线电监测任务次数", "≥{n}次"),
    ("产出指标", "质量指标", 8, "监测设备正常运行率", "≥9{d}%"),
    ("产出指标", "时效指标", 4, "干扰投诉按时处理率", "100%"),
    ("产出指标", "成本指标", 2, "单次监测平均成本", "≤{n}万元"),
    ("效益指标", "社会效益", 8, "保障重大活动无线电安全场次", "≥{n}场"),
    ("效益指标", "可持续影响", 3, "频谱资源利用率提升", "≥{d}%"),
    ("满意度指标", "服务对象满意度", 3, "用频单位满意度", "≥9{d}%"),
]


def _long_table_csv(project: str) -> bytes:
    lines = [
        "年度,主管部门,单位名称,项目名称,年度预算数（万元）,年度目标,一级指标,二级指标,三级指标,实施周期指标值,年度指标值"
    ]
    for level1, level2, count, name, target in LONG_GROUPS:
        for k in range(1, count + 1):
            value = target.format(n=k * 3, d=k % 10)
            lines.append(
                f"2024,广州市工业和信息化局,广州市无线电监测站,{project},320.5,全年完成无线电监测任务,"
                f"{level1},{level2},{name}{k:02d},{value},{value}"
            )
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def test_every_printed_page_of_a_long_table_names_the_levels_of_its_rows(page: Page, live_server, session, artifacts):
    # A 一级/二级指标 cell spans its rows; a page break cut it and left the next page's cell empty
    # (the words stay where the cell began). Now each page names the levels of every row on it.
    from app.models import Project, SelfEvaluation
    from app.services import imports

    load_demo(session=session)
    project = "无线电监测能力提升（打印多页）"
    report = imports.import_file(session=session, data=_long_table_csv(project), filename="long.csv", year=2024)
    assert report.ok, report.errors[:3]
    evaluations.ensure_evaluations(session=session)
    evaluation_id = session.exec(
        select(SelfEvaluation.id).join(Project, Project.id == SelfEvaluation.project_id).where(Project.name == project)
    ).one()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "wuxian_jiancezhan")
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.goto(f"{live_server}/evaluations/{evaluation_id}/print")
    expect(page.locator(".sheet-title")).to_have_text("项目支出绩效自评表")
    path = artifacts / "self-evaluation-print-long.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True)  # fires beforeprint / afterprint, as 打印 does

    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    for i in range(len(pdf)):
        pdf[i].render(scale=1.2).to_pil().save(artifacts / f"self-evaluation-print-long-{i + 1}.png")
    assert len(texts) >= 3, len(texts)
    missing = []
    for number, text in enumerate(texts, start=1):
        for level1, level2, count, name, _ in LONG_GROUPS:
            on_page = [k for k in range(1, count + 1) if f"{name}{k:02d}" in text]
            if on_page and (level1 not in text or level2 not in text):
                missing.append((number, level1, level2, on_page))
    assert missing == [], missing
    # the table on the screen is what it was: no cell left split after printing
    expect(page.locator(".sheet-indicators .continued")).to_have_count(0)
    expect(page.locator(".sheet-indicators th.l1")).to_have_count(3)
    assert problems == [], problems  # no CSP violation, no script error
