"""Each role's first page at 1366 px, the layout defects of issue 9 as assertions, the Content-Security-
Policy after htmx swaps, and the printed 自评表's second page. Screenshots go to test-artifacts/.

Runs on SQLite only, like the other browser tests (the pages over PostgreSQL are covered in tests/web).
"""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import func, select

from app.models import Indicator, Project, SelfEvaluation, Unit
from app.services import evaluations
from app.services.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

WIDTH = 1366
UNIT_LOGIN = "wuxian_jiancezhan"
UNIT_NAME = "广州市无线电监测站"
PROJECT = "专项工作培训费"
PARTIAL = "部分达成年度指标并具有一定效果"

# Injected by the DevTools protocol (not subject to the page's CSP): every violation is kept.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.sourceFile || "") + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""

# Cells of the page's tables whose text (two characters or more) got squeezed to one character a line.
SQUEEZED = """() => {
  const out = [];
  for (const cell of document.querySelectorAll("main table td, main table th")) {
    const text = (cell.innerText || "").trim();
    if (text.length < 2 || cell.offsetParent === null) continue;
    const hidden = cell.querySelector(".sr-only");  // a label for screen readers only takes no width
    if (hidden && hidden.innerText.trim() === text) continue;
    const style = getComputedStyle(cell);
    const size = parseFloat(style.fontSize);
    const pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
    if (cell.getBoundingClientRect().width - pad < 1.9 * size) out.push(text.slice(0, 20));
  }
  return out;
}"""


@pytest.fixture
def demo(session):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    return session


def _watch(page: Page) -> list[str]:
    page.set_viewport_size({"width": WIDTH, "height": 860})
    page.add_init_script(WATCH_CSP)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _login(page: Page, live_server: str, username: str) -> None:
    page.goto(live_server + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "jixiao-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _no_csp_violation(page: Page, problems: list[str]) -> None:
    assert page.evaluate("window.__csp") == []
    assert [p for p in problems if "Content Security Policy" in p or "favicon" in p] == []


def _return_one(session, name: str) -> int:
    """A returned evaluation with a long opinion: the unit home then shows it (the layout that wrapped)."""
    evaluation = session.exec(
        select(SelfEvaluation)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(Project.name == name, Unit.name == UNIT_NAME)
    ).one()
    evaluation.status = "returned"
    evaluation.review_opinion = "满意度指标缺少佐证材料，请补充问卷原件和统计表后重新送审；执行率偏低的原因也请写清楚。"
    session.add(evaluation)
    session.commit()
    return evaluation.id


def test_the_unit_home_form_and_swaps_at_1366(page: Page, live_server, demo, artifacts):
    _return_one(demo, "自动驾驶混行试点示范运营服务")
    problems = _watch(page)
    _login(page, live_server, UNIT_LOGIN)
    expect(page.locator("tr[id^=project-]").first).to_be_visible()
    page.screenshot(path=str(artifacts / "home-unit-1366.png"), full_page=True)
    assert page.evaluate(SQUEEZED) == []  # 等级, 打印 … never one character per line
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH

    page.click(f"text={PROJECT}")
    expect(page.locator("#spent-input")).to_be_visible()
    # typing makes htmx swap computed cells in out of band: no inline style may be needed after it
    page.click("#spent-input")
    page.keyboard.type("12.5", delay=60)
    page.keyboard.press("Tab")
    expect(page.locator("#money-state .saved")).to_be_visible()
    select = page.locator("tr.ind-row select").first
    select.select_option(label=PARTIAL)
    expect(page.locator("#ev-totals")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # the chosen level is fully visible in its box
    fits = select.evaluate(
        """(el) => {
          const ctx = document.createElement("canvas").getContext("2d");
          const s = getComputedStyle(el);
          ctx.font = s.fontSize + " " + s.fontFamily;
          const text = el.options[el.selectedIndex].text;
          const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 16;
          return [text, Math.ceil(ctx.measureText(text).width), Math.floor(room)];
        }"""
    )
    assert fits[0] == PARTIAL and fits[1] <= fits[2], fits
    page.screenshot(path=str(artifacts / "form-unit-1366.png"), full_page=True)
    _no_csp_violation(page, problems)


@pytest.mark.parametrize(
    ("username", "role"), [("gongxinju", "department"), ("caizhengju", "finance"), ("admin", "admin")]
)
def test_each_reviewer_and_the_admin_first_page_at_1366(page: Page, live_server, demo, artifacts, username, role):
    problems = _watch(page)
    _login(page, live_server, username)
    expect(page.locator("main h1, main h2").first).to_be_visible()
    page.screenshot(path=str(artifacts / f"home-{role}-1366.png"), full_page=True)
    assert page.evaluate(SQUEEZED) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    if role == "admin":
        page.goto(live_server + "/admin/imports")
        boxes = page.locator("label.inline").evaluate_all(
            """(labels) => labels.map((label) => {
              const box = label.querySelector("input").getBoundingClientRect();
              const range = document.createRange();
              range.selectNodeContents(label);
              range.setStartAfter(label.querySelector("input"));
              const text = range.getClientRects()[0];
              const name = label.innerText.trim().slice(0, 8);
              return [name, box.right, box.top + box.height / 2, text.left, text.top, text.bottom];
            })"""
        )
        assert len(boxes) == 4
        for name, right, middle, left, top, bottom in boxes:
            assert top <= middle <= bottom and 0 <= left - right < 16, (name, right, middle, left, top, bottom)
        page.screenshot(path=str(artifacts / "imports-admin-1366.png"), full_page=True)
    if role == "department":
        page.goto(live_server + "/reviews?status=all")
        first = page.locator("tr[id^=queue-row-] a").first
        first.click()
        expect(page.locator("#review")).to_be_visible()
        assert page.evaluate(SQUEEZED) == []  # the review table is not cramped at 1366 px
        # headings and 二级指标 names stay on one line (they wrapped as 实际完成情/况, 数量指/标)
        wrapped = page.evaluate(
            """() => [...document.querySelectorAll("#review thead th, #review td.c-l2")]
              .filter((c) => { const t = c.innerText.trim(); if (!t || t.length > 6) return false;
                const r = document.createRange(); r.selectNodeContents(c);
                return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size > 1; })
              .map((c) => c.innerText.trim())"""
        )
        assert wrapped == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        page.screenshot(path=str(artifacts / "review-department-1366.png"), full_page=True)
    if role == "finance":
        # the bureau's queue and overview (with 全年预算数 / 全年执行数 in 万元 beside the rate)
        page.goto(live_server + "/reviews?status=all")
        expect(page.locator("tr[id^=queue-row-]").first).to_be_visible()
        page.screenshot(path=str(artifacts / "queue-finance-1366.png"), full_page=True)
        assert page.evaluate(SQUEEZED) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        page.goto(live_server + "/overview")
        expect(page.locator("th", has_text="全年执行数（万元）").first).to_be_visible()
        page.screenshot(path=str(artifacts / "overview-finance-1366.png"), full_page=True)
        assert page.evaluate(SQUEEZED) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    _no_csp_violation(page, problems)


def test_page_two_of_a_printed_self_evaluation_repeats_the_header_and_the_project(
    page: Page, live_server, demo, artifacts
):
    import pypdf
    import pypdfium2

    project_id, name = demo.exec(
        select(Project.id, Project.name)
        .join(Indicator, Indicator.project_id == Project.id)
        .group_by(Project.id, Project.name)
        .order_by(func.count(Indicator.id).desc())
    ).first()
    eid = demo.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project_id)).one()
    unit = demo.exec(select(Unit).join(Project, Project.unit_id == Unit.id).where(Project.id == project_id)).one()
    login = {UNIT_NAME: UNIT_LOGIN}.get(unit.name, "caizhengju")
    _login(page, live_server, login)
    page.goto(f"{live_server}/evaluations/{eid}/print")
    expect(page.locator("h1.sheet-title")).to_have_text("项目支出绩效自评表")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2, "the longest demo form should take two pages"
    second = reader.pages[1].extract_text().replace(" ", "").replace("\n", "")
    assert name.replace(" ", "") in second  # the project's name on page 2
    assert "三级指标" in second and "年度指标值" in second and "偏差原因分析及改进措施" in second
    # the indicators begin on page 1 under the money block: a group's 一级指标 cell spanning many rows
    # used to push the whole table to page 2, leaving page 1 half empty
    first_row = demo.exec(
        select(Indicator.name).where(Indicator.project_id == project_id).order_by(Indicator.position, Indicator.id)
    ).first()
    first = reader.pages[0].extract_text().replace(" ", "").replace("\n", "")
    assert "三级指标" in first and first_row.replace(" ", "")[:8] in first
    document = pypdfium2.PdfDocument(pdf)
    for n in range(min(len(document), 2)):
        document[n].render(scale=1.3).to_pil().save(artifacts / f"evaluation-print-page{n + 1}.png")


def test_a_swapped_element_that_carries_a_style_breaks_no_csp(page: Page, live_server, demo):
    """The browser gives an element an inline style by itself (a textarea the user resized by its
    corner; scripts' CSSOM writes are allowed under the CSP): when an autosave answer swaps that element,
    htmx must not copy the style attribute over (its default settles class, style, width and height, and
    setAttribute("style") is an inline style the CSP refuses — CI saw exactly that violation once)."""
    problems = _watch(page)
    _login(page, live_server, UNIT_LOGIN)
    page.click(f"text={PROJECT}")
    expect(page.locator("#spent-input")).to_be_visible()
    page.evaluate("document.getElementById('ev-totals').style.outline = '1px solid transparent'")
    page.evaluate("document.getElementById('money-state').style.minWidth = '4em'")
    page.click("#spent-input")
    page.keyboard.type("12.5", delay=60)
    page.keyboard.press("Tab")
    expect(page.locator("#money-state .saved")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # htmx settles 20 ms after the swap
    _no_csp_violation(page, problems)
