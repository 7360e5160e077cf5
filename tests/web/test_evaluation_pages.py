"""The unit's self-evaluation pages over the seed-003 demo data: home, the 自评表 form whose rows
save themselves, submit / withdraw, the filing window, print, xlsx export, tenancy."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.models import FilingWindow, FiscalYear, Indicator, Project, SelfEvaluation, Unit
from app.services import evaluations
from app.services.demo import load_demo
from tests import factories

UNIT = "广州市无线电监测站"
OTHER_UNIT = "广州市工业和信息化产业发展中心"
PROJECT = "专项工作培训费"  # 1次 / 90% / 2024年12月前 / qualitative / 95%以上, unique in the unit
HX = {"HX-Request": "true"}


@pytest.fixture
def demo(client, session):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
    return client


def _evaluation(session, name: str = PROJECT, unit: str = UNIT) -> tuple[int, list[Indicator]]:
    session.expire_all()
    project = session.exec(
        select(Project).join(Unit, Unit.id == Project.unit_id).where(Project.name == name, Unit.name == unit)
    ).first()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    indicators = session.exec(
        select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.position)
    ).all()
    return evaluation.id, list(indicators)


def _by_target(indicators: list[Indicator], kind: str) -> Indicator:
    return next(i for i in indicators if i.target_kind == kind)


def _version(client, eid: int) -> int:
    page = client.get(f"/evaluations/{eid}")
    return int(re.search(r'id="ev-version" name="version" value="(\d+)"', page.text).group(1))


def _row(text: str, indicator_id: int) -> str:
    """The <tr> of one indicator in a page or fragment."""
    match = re.search(rf'<tr id="ind-{indicator_id}".*?</tr>', text, re.S)
    assert match, f"row {indicator_id} not found"
    return match.group(0)


def _no_fields(answer: str) -> bool:
    """A save's answer carries no input but the form's version: a field being typed in is never replaced."""
    fields = re.findall(r"<(?:input|textarea|select)\b[^>]*>", answer)
    return all('id="ev-version"' in field for field in fields)


def _stored(answer: str, field_id: str) -> str:
    """What the server holds for a field, as the answer reports it (the page formats to it on blur)."""
    return re.search(rf'<data id="stored-{field_id}" value="([^"]*)"', answer).group(1)


def _save_row(client, eid: int, indicator_id: int, version: int, **fields):
    return client.post(f"/evaluations/{eid}/rows/{indicator_id}", data={"version": version, **fields}, headers=HX)


def _fill_all(client, session, eid: int, indicators: list[Indicator]) -> int:
    """Fill every row so the evaluation may be submitted; returns the current version."""
    version = _version(client, eid)
    response = client.post(
        f"/evaluations/{eid}/money", data={"version": version, "budget": "20", "spent": "19.5"}, headers=HX
    )
    assert response.status_code == 200, response.text
    version += 1
    for ind in indicators:
        if ind.target_kind == "qualitative":
            fields = {"qualitative_level": "achieved", "score_in_band": "", "actual": "已开展"}
        elif ind.target_kind == "deadline":
            fields = {"actual": "2024-11-30"}
        else:
            fields = {"actual": ind.annual_target.replace("以上", "")}
        response = _save_row(client, eid, ind.id, version, deviation_reason="", **fields)
        assert response.status_code == 200, response.text
        version += 1
    return version


# --- home --------------------------------------------------------------------------------------


def test_unit_home_lists_this_years_projects_with_status_progress_and_window(demo, session):
    page = demo.get("/")
    assert page.status_code == 200
    assert "2024 年度项目绩效自评" in page.text
    assert page.text.count('<tr id="project-') == 14  # the station's 14 projects of seed 003
    assert PROJECT in page.text and "未填报" in page.text
    assert "0 / 5 项指标" in page.text
    assert "本年度未设置填报期" in page.text
    eid, _ = _evaluation(session)
    assert f'href="/evaluations/{eid}"' in page.text
    # another unit's projects are not listed
    assert "中小微企业运行月度分析报告" not in page.text


def test_unit_home_offers_the_years_that_have_data_and_claims_nothing_of_an_empty_year(demo, session):
    """Issue 9: the year list offered 2024–2020 when only 2024 has projects, and 2021 (no projects)
    said 本年度未设置填报期，可随时填报."""
    page = demo.get("/").text
    options = re.findall(r'<option value="(\d{4})"', page)
    assert options == ["2024"]
    empty = demo.get("/?year=2021").text
    assert "可随时填报" not in empty and "填报期内" not in empty
    assert "2021 年度没有本单位的项目" in empty


def test_unit_home_shows_deadline_and_a_returned_evaluation_with_its_opinion_first(demo, session):
    session.add(FilingWindow(year=2024, opens_date=date(2025, 1, 1), closes_date=date(2099, 3, 31)))
    eid, _ = _evaluation(session)
    evaluation = session.get(SelfEvaluation, eid)
    evaluation.status, evaluation.review_opinion = "returned", "满意度调查样本过少，请补充说明"
    session.add(evaluation)
    session.commit()
    page = demo.get("/").text
    assert "填报截止日期：<strong>2099-03-31</strong>" in page
    notice = page.index("满意度调查样本过少")
    assert notice < page.index('<table class="grid projects">')  # the opinion comes first
    first_row = re.search(r'<tr id="project-\d+"[^>]*>.*?</tr>', page, re.S).group(0)
    assert PROJECT in first_row and "已退回" in first_row


# --- full page or fragment -------------------------------------------------------------------------


def test_every_page_is_a_full_page_without_hx_request_and_a_fragment_with_it(demo, session):
    eid, _ = _evaluation(session)
    pages = {
        "/": 'id="unit-projects"',
        "/?year=2024": 'id="unit-projects"',
        f"/evaluations/{eid}": 'id="evaluation"',
        f"/evaluations/{eid}/print": 'id="sheets"',
        "/evaluations/print?year=2024": 'id="sheets"',
    }
    for url, region in pages.items():
        full = demo.get(url)
        assert full.status_code == 200, url
        assert full.headers["vary"] == "HX-Request"
        assert full.text.lstrip().startswith("<!doctype html>") and region in full.text, url
        fragment = demo.get(url, headers=HX)
        assert fragment.status_code == 200 and fragment.headers["vary"] == "HX-Request"
        assert "<html" not in fragment.text and 'class="topbar' not in fragment.text, url
        assert region in fragment.text, url
        # a boosted or history-restore request gets the full page again
        assert "<html" in demo.get(url, headers={**HX, "HX-History-Restore-Request": "true"}).text


def test_form_is_laid_out_like_the_national_self_evaluation_table(demo, session):
    eid, indicators = _evaluation(session)
    page = demo.get(f"/evaluations/{eid}").text
    for text in (
        "项目支出绩效自评表",
        "项目名称",
        "主管部门",
        "广州市工业和信息化局",
        "实施单位",
        UNIT,
        "年初预算数",
        "全年预算数",
        "全年执行数",
        "执行率",
        "预期目标",
        "实际完成情况",
        "产出指标",
        "效益指标",
        "满意度指标",
        "年度指标值",
        "实际完成值",
        "偏差原因分析及改进措施",
    ):
        assert text in page, text
    # no budget in the published table: the unit types it
    assert 'name="budget"' in page and 'name="spent"' in page
    qualitative = _by_target(indicators, "qualitative")
    row = _row(page, qualitative.id)
    assert 'name="qualitative_level"' in row and "达成年度指标" in row and 'name="score_in_band"' in row
    deadline = _by_target(indicators, "deadline")
    assert "理解为：在 " in _row(page, deadline.id) and "识别" not in page  # words a user reads


def test_a_differing_period_target_is_shown_beside_the_annual_one(demo, session):
    eid, indicators = _evaluation(session, "自动驾驶混行试点示范运营服务")
    row = _row(demo.get(f"/evaluations/{eid}").text, indicators[0].id)
    assert "120辆" in row and "实施周期指标值：150辆" in row


# --- rows that save themselves --------------------------------------------------------------------


def test_a_row_saves_itself_and_answers_only_its_computed_cells_the_new_version_and_the_totals(demo, session):
    eid, indicators = _evaluation(session)
    count = indicators[0]  # 培训和演练 1次
    version = _version(demo, eid)
    response = _save_row(demo, eid, count.id, version, actual="1次", deviation_reason="")
    assert response.status_code == 200
    assert response.headers["vary"] == "HX-Request"
    row = response.text
    assert f'<tr id="ind-{count.id}"' not in row and _no_fields(row)  # out of band cells, never the inputs
    assert f'id="parse-{count.id}" hx-swap-oob="true"' in row and "理解为：数值 = 1 次" in row
    assert f'id="score-{count.id}" hx-swap-oob="true"' in row
    assert re.search(r"data-score>16\.67<", row)  # met: the full weight
    assert _stored(row, f"actual-{count.id}") == "1次"
    assert f'id="ev-version" name="version" value="{version + 1}" hx-swap-oob="true"' in response.text
    assert 'id="ev-totals"' in response.text and 'id="total-score">16.67<' in response.text
    # reload: it was saved
    page = demo.get(f"/evaluations/{eid}").text
    assert 'value="1次"' in _row(page, count.id)
    assert "草稿" in page


def test_a_missed_target_needs_its_reason_and_the_reason_is_saved(demo, session):
    eid, indicators = _evaluation(session)
    rate = indicators[1]  # 培训考核通过率 90%
    version = _version(demo, eid)
    row = _save_row(demo, eid, rate.id, version, actual="85%").text
    assert "未达标" in row and "needs-reason" in row and 'class="small required"' in row
    assert "得分低于分值，请填写偏差原因分析及改进措施" in row
    score = re.search(r"data-score>([\d.]+)<", row).group(1)
    assert score == "15.74"  # 85 / 90 × 16.67 = 15.743…, half-up to 2 places
    response = _save_row(demo, eid, rate.id, version + 1, actual="85%", deviation_reason="两名学员缺考，已安排补考")
    row = response.text
    assert _stored(row, f"reason-{rate.id}") == "两名学员缺考，已安排补考" and "缺偏差原因" not in row


def test_a_qualitative_row_takes_a_level_and_a_score_inside_its_band(demo, session):
    eid, indicators = _evaluation(session)
    ind = _by_target(indicators, "qualitative")  # weight 30
    version = _version(demo, eid)
    row = _save_row(demo, eid, ind.id, version, qualitative_level="partial", score_in_band="20").text
    assert re.search(r"data-score>20\.00<", row) and "可在 18.00–23.99 分之间自选" in row
    outside = _save_row(demo, eid, ind.id, version + 1, qualitative_level="not_achieved", score_in_band="29")
    assert outside.status_code == 422
    row = outside.text
    assert "0.00 至 17.99" in row and f'id="msg-band-{ind.id}" hx-swap-oob="true"' in row
    assert _no_fields(row)  # what was typed stays in the page's own field
    assert re.search(r"data-score>20\.00<", row)  # score unchanged until valid
    assert 'id="total-score">20.00<' in outside.text


def test_a_stale_version_is_refused_with_a_message_to_reload(demo, session):
    eid, indicators = _evaluation(session)
    version = _version(demo, eid)
    assert _save_row(demo, eid, indicators[0].id, version, actual="1次").status_code == 200
    # a second window still holding the old version
    stale = _save_row(demo, eid, indicators[1].id, version, actual="95%")
    assert stale.status_code == 409
    assert stale.headers["hx-retarget"] == "#toast" and "请刷新" in stale.text
    assert 'value="95%"' not in demo.get(f"/evaluations/{eid}").text


BAD_ACTUALS = [
    ("abc", "请填写数字"),
    ("-5", "不能为负数"),
    ("1e9", "科学计数法"),
    ("9" * 10_000, "不能超过 500 个字符"),
    ("<script>alert(1)</script>", "请填写数字"),
]


def test_bad_input_gets_a_message_at_the_field_and_nothing_else_is_lost(demo, session):
    eid, indicators = _evaluation(session)
    count = indicators[0]
    version = _version(demo, eid)
    _save_row(demo, eid, count.id, version, actual="1次")
    for typed, message in BAD_ACTUALS:
        response = _save_row(demo, eid, count.id, version + 1, actual=typed, deviation_reason="保留的说明")
        assert response.status_code == 422, typed
        row = response.text
        assert message in row and 'class="field-error"' in row, typed
        assert _no_fields(row)  # what was typed stays in the page's own fields
        assert re.search(r"data-score>16\.67<", row)  # score unchanged until valid
        assert "<script>alert" not in response.text  # shown escaped, never executed
        assert f'value="{version + 1}"' in response.text  # the version did not move
    page = demo.get(f"/evaluations/{eid}").text
    assert 'value="1次"' in _row(page, count.id) and "保留的说明" not in page
    # a valid actual beside an invalid reason: refused whole, the score does not move
    rate = indicators[1]
    assert _save_row(demo, eid, rate.id, version + 1, actual="95%").status_code == 200
    response = _save_row(demo, eid, rate.id, version + 2, actual="85%", deviation_reason="长" * 5001)
    assert response.status_code == 422
    row = response.text
    assert "偏差原因不能超过 5000 个字符" in row and _no_fields(row)
    assert "data-score>16.67<" in row and 'id="total-score">33.34<' in response.text
    assert 'value="95%"' in _row(demo.get(f"/evaluations/{eid}").text, rate.id)


def test_bad_money_gets_a_message_at_the_field(demo, session):
    eid, _ = _evaluation(session)
    version = _version(demo, eid)
    for spent, message in [("-3", "不能为负数"), ("12.1234567", "最多保留 6 位小数"), ("abc", "应为数字")]:
        response = demo.post(f"/evaluations/{eid}/money", data={"version": version, "spent": spent}, headers=HX)
        assert response.status_code == 422, spent
        block = re.search(r'<div class="field-msg" id="msg-spent-input".*?</div>', response.text, re.S).group(0)
        assert message in block and _no_fields(response.text), spent
    assert _version(demo, eid) == version


def test_money_is_kept_exactly_and_scores_the_execution_rate(demo, session):
    eid, _ = _evaluation(session)
    version = _version(demo, eid)
    response = demo.post(
        f"/evaluations/{eid}/money", data={"version": version, "budget": "57550", "spent": "56022.2398"}, headers=HX
    )
    assert response.status_code == 200
    assert _stored(response.text, "spent-input") == "56022.2398"
    assert _stored(response.text, "budget-input") == "57550.00"  # the page shows it so once the field is left
    assert "97.35%" in response.text  # 56022.2398 / 57550
    assert 'id="execution-score" hx-swap-oob="true"><strong>9.73<' in response.text  # min(0.9735, 1) × 10, half-up


def test_without_javascript_a_row_posts_as_a_plain_form_and_a_refusal_keeps_what_was_typed(demo, session):
    eid, indicators = _evaluation(session)
    count = indicators[0]
    version = _version(demo, eid)
    url = f"/evaluations/{eid}/rows/{count.id}"
    saved = demo.post(url, data={"version": version, "actual": "1次"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/evaluations/{eid}"
    refused = demo.post(url, data={"version": version + 1, "actual": "abc", "deviation_reason": "说明"})
    assert refused.status_code == 422 and "<html" in refused.text  # the whole page, the message at the field
    row = _row(refused.text, count.id)
    assert 'value="abc"' in row and "说明</textarea>" in row and "请填写数字" in row


def test_an_html_actual_is_shown_escaped(demo, session):
    eid, indicators = _evaluation(session)
    ind = _by_target(indicators, "qualitative")
    version = _version(demo, eid)
    response = _save_row(demo, eid, ind.id, version, actual='<img src=x onerror="alert(1)">')
    assert response.status_code == 200
    page = demo.get(f"/evaluations/{eid}").text
    assert "<img src=x" not in page and "&lt;img src=x" in page


# --- submit, withdraw, the window ----------------------------------------------------------------


def test_submit_is_refused_with_every_problem_at_its_row_and_nothing_changes(demo, session):
    eid, indicators = _evaluation(session)
    version = _version(demo, eid)
    _save_row(demo, eid, indicators[1].id, version, actual="85%")  # missed, no reason
    response = demo.post(f"/evaluations/{eid}/submit", data={"version": version + 1}, headers=HX)
    assert response.status_code == 422
    text = response.text
    assert "未送审" in text and 'id="problems"' in text
    for ind in indicators:
        assert f'href="#ind-{ind.id}"' in text, ind.name  # every row has its problem listed
        row = _row(text, ind.id)
        assert "field-error" in row or "row-problems" in row, ind.name
    assert "偏差原因" in _row(text, indicators[1].id)
    assert '<a href="#money">' in text  # 全年预算数 / 全年执行数 missing
    session.expire_all()
    assert session.get(SelfEvaluation, eid).status == "draft"


def test_submit_makes_the_form_read_only_and_withdraw_makes_it_editable(demo, session):
    eid, indicators = _evaluation(session)
    version = _fill_all(demo, session, eid, indicators)
    response = demo.post(f"/evaluations/{eid}/submit", data={"version": version}, headers=HX)
    assert response.status_code == 200, response.text
    assert "已送审" in response.text
    for text in (response.text, demo.get(f"/evaluations/{eid}").text):
        assert "<input" not in text.split('id="evaluation"')[1] and "<textarea" not in text
        assert "/rows/" not in text and "撤回" in text
    assert "已送审" in demo.get("/").text
    # a row save on a submitted evaluation is refused
    refused = _save_row(demo, eid, indicators[0].id, version + 1, actual="2次")
    assert refused.status_code == 409 and "不能修改" in refused.text
    back = demo.post(f"/evaluations/{eid}/withdraw", headers=HX)
    assert back.status_code == 200 and "已撤回" in back.text and 'name="actual"' in back.text


def _status_bar(page: str) -> str:
    """The sticky bar at the top of the form (totals and what comes next)."""
    return re.search(r'<section id="ev-totals".*?</section>', page, re.S).group(0)


def test_the_status_bar_says_the_real_state_and_what_the_viewer_can_do_next(demo, session):
    eid, indicators = _evaluation(session)
    assert "送审前还有" in _status_bar(demo.get(f"/evaluations/{eid}").text)
    version = _fill_all(demo, session, eid, indicators)
    assert "可以送审" in _status_bar(demo.get(f"/evaluations/{eid}").text)
    assert demo.post(f"/evaluations/{eid}/submit", data={"version": version}, headers=HX).status_code == 200
    bar = _status_bar(demo.get(f"/evaluations/{eid}").text)
    assert "可以送审" not in bar and "已送审" in bar and "等待主管部门审核" in bar and "可以撤回" in bar
    evaluation = session.get(SelfEvaluation, eid)
    for status, says in (("approved", "等待财政局终审"), ("final", "终审通过")):
        evaluation.status = status
        session.add(evaluation)
        session.commit()
        bar = _status_bar(demo.get(f"/evaluations/{eid}").text)
        assert "可以送审" not in bar and says in bar and "可以撤回" not in bar, status


def test_submit_without_javascript_redirects_to_the_read_only_page(demo, session):
    eid, indicators = _evaluation(session)
    version = _fill_all(demo, session, eid, indicators)
    response = demo.post(f"/evaluations/{eid}/submit", data={"version": version}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/evaluations/{eid}?done=submit"
    page = demo.get(response.headers["location"]).text
    assert "已送审，等待审核" in page and 'name="actual"' not in page


def test_outside_the_filing_window_editing_and_submitting_are_refused_with_the_reason(demo, session):
    eid, indicators = _evaluation(session)
    version = _version(demo, eid)
    if session.get(FiscalYear, 2024) is None:
        session.add(FiscalYear(year=2024))
    yesterday = date.today() - timedelta(days=1)
    session.add(FilingWindow(year=2024, opens_date=date(2024, 12, 1), closes_date=yesterday))
    session.commit()
    page = demo.get(f"/evaluations/{eid}").text
    assert "当前不在 2024 年度填报期内" in page and yesterday.isoformat() in page
    assert 'name="actual"' not in page and "送审" not in page.split('class="actions')[1]
    refused = _save_row(demo, eid, indicators[0].id, version, actual="1次")
    assert refused.status_code == 409 and "填报期" in refused.text
    submit = demo.post(f"/evaluations/{eid}/submit", data={"version": version}, headers=HX)
    assert submit.status_code == 409 and "填报期" in submit.text
    assert "不在填报期内" in demo.get("/").text


# --- tenancy ---------------------------------------------------------------------------------


def test_a_unit_gets_404_for_another_units_evaluation_page_print_export_and_saves(demo, session):
    other, indicators = _evaluation(session, _first_project(session), OTHER_UNIT)
    for url in (f"/evaluations/{other}", f"/evaluations/{other}/print", f"/evaluations/{other}/export.xlsx"):
        response = demo.get(url)
        assert response.status_code == 404, url
        assert "不存在" in response.text
    assert _save_row(demo, other, indicators[0].id, 1, actual="1").status_code == 404
    assert demo.post(f"/evaluations/{other}/submit", data={"version": 1}).status_code == 404
    # and the unit-wide views hold only the unit's own projects
    sheets = demo.get("/evaluations/print?year=2024").text
    assert sheets.count('class="print-sheet"') == 14 and OTHER_UNIT not in sheets


def _first_project(session) -> str:
    return session.exec(
        select(Project.name).join(Unit, Unit.id == Project.unit_id).where(Unit.name == OTHER_UNIT)
    ).first()


# --- print and export --------------------------------------------------------------------------------


def test_print_view_shows_the_table_with_what_was_filled(demo, session):
    eid, indicators = _evaluation(session)
    version = _fill_all(demo, session, eid, indicators)
    demo.post(f"/evaluations/{eid}/goal", data={"version": version, "goal_completion": "全年完成培训一次"}, headers=HX)
    page = demo.get(f"/evaluations/{eid}/print").text
    sheet = re.search(r'<section class="print-sheet".*?</section>', page, re.S).group(0)
    for text in (
        "项目支出绩效自评表",
        PROJECT,
        "19.50",
        "20.00",
        "97.50%",
        "全年完成培训一次",
        "1次",
        "达成年度指标",
        "总分",
        "自评等级",
    ):
        assert text in sheet, text
    assert "<input" not in sheet and "<script" not in sheet.lower()


def _cells(workbook) -> list[str]:
    return [str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_xlsx_export_of_one_project_keeps_money_exact(demo, session):
    eid, indicators = _evaluation(session)
    version = _version(demo, eid)
    demo.post(
        f"/evaluations/{eid}/money", data={"version": version, "budget": "57550", "spent": "56022.2398"}, headers=HX
    )
    _save_row(demo, eid, indicators[0].id, version + 1, actual="1次")
    response = demo.get(f"/evaluations/{eid}/export.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == 1
    cells = _cells(book)
    assert "项目支出绩效自评表" in cells and PROJECT in cells and "培训和演练" in cells
    assert "1次" in cells and "偏差原因分析及改进措施" in cells
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>56022.2398</v>" in sheet_xml and "<v>57550</v>" in sheet_xml  # exact, not via float noise


def test_xlsx_export_of_the_year_has_a_summary_and_one_sheet_per_project(demo, session):
    response = demo.get("/evaluations/export.xlsx?year=2024")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 15
    assert len(set(book.sheetnames)) == 15  # 购置经费 twice: still distinct sheet names
    assert OTHER_UNIT not in _cells(book)


# --- the page's rows as a save answers them ---------------------------------------------------------


class _Subtrees(HTMLParser):
    """Each element with an id, as its tags, attributes and text (runs of whitespace as one space)."""

    VOID = {"input", "br", "img", "meta", "link", "col", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, list]] = []
        self.found: dict[str, list] = {}

    def _emit(self, item) -> None:
        for _, tokens in self.open:
            tokens.append(item)

    def handle_starttag(self, tag, attrs):
        attrs = [(k, v) for k, v in attrs if k != "hx-swap-oob"]
        self._emit(("start", tag, tuple(attrs)))
        ident = dict(attrs).get("id")
        if ident and tag not in self.VOID:
            self.open.append((ident, [("start", tag, tuple(attrs))]))
            self.open[-1][1].append(("tag", tag))

    def handle_endtag(self, tag):
        self._emit(("end", tag))
        if self.open and self.open[-1][1][1] == ("tag", tag) and self._closes(tag):
            ident, tokens = self.open.pop()
            self.found.setdefault(ident, tokens)

    def _closes(self, tag) -> bool:
        tokens = self.open[-1][1]
        depth = sum(1 for t in tokens[2:] if t[:2] == ("start", tag)) - sum(1 for t in tokens[2:] if t == ("end", tag))
        return depth < 0

    def handle_data(self, data):
        text = re.sub(r"\s+", " ", data).strip()
        if text:
            self._emit(("text", text))


def _pieces(html: str) -> dict[str, list]:
    parser = _Subtrees()
    parser.feed(html)
    return parser.found


def test_each_rows_computed_cells_on_the_page_are_what_its_save_answers(demo, session):
    """The page writes a row's cells out in one macro; a save answers them from the small macros. Both
    must agree, cell by cell, for met, missed, qualitative and self-scored rows and for errors."""
    eid, indicators = _evaluation(session)
    count, rate = indicators[0], indicators[1]
    qualitative = _by_target(indicators, "qualitative")
    version = _version(demo, eid)
    saves = [
        (count, {"actual": "1次", "deviation_reason": ""}),
        (rate, {"actual": "85%"}),
        (rate, {"actual": "85%", "deviation_reason": "缺考", "self_score": "10.00", "self_score_reason": "自评"}),
        (qualitative, {"qualitative_level": "partial", "score_in_band": "20.00"}),
    ]
    for ind, fields in saves:
        answer = _save_row(demo, eid, ind.id, version, **fields)
        assert answer.status_code == 200, answer.text
        version += 1
        saved, page = _pieces(answer.text), _pieces(demo.get(f"/evaluations/{eid}").text)
        ids = [i for i in saved if i.endswith(f"-{ind.id}") and not i.startswith("stored-")]
        assert len(ids) >= 6
        for ident in ids:
            tokens = saved[ident]
            if ident == f"flags-{ind.id}":  # "已保存" is the save's own word
                mark = [("start", "span", (("class", "saved"),)), ("text", "已保存"), ("end", "span")]
                at = tokens.index(mark[0])
                assert tokens[at : at + 3] == mark
                tokens = tokens[:at] + tokens[at + 3 :]
            assert tokens == page[ident], ident


def _statements(app, client, url: str) -> list[str]:
    import sqlalchemy as sa

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith("SET LOCAL"):
            seen.append(statement)

    engine = app.state.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def test_the_page_is_read_in_three_statements(demo, session, app):
    """The session with its user; the evaluation with its parts, filing window, monitoring round and
    whether anything is attached; the indicators with their results (one join since the saves read them
    so, e967df0). It was eleven; the attachments' own query is left out when nothing is attached."""
    eid, _ = _evaluation(session)
    demo.get(f"/evaluations/{eid}")  # the session's "last seen" is written at most once a minute: not now
    seen = _statements(app, demo, f"/evaluations/{eid}")
    assert len(seen) == 3, "\n".join(s[:120] for s in seen)


def test_the_page_reads_and_shows_the_attachments_when_there_are_some(demo, session, app):
    """The evaluation's own attachment and its rows' are read (a fourth statement) and listed; a deleted
    one is neither listed nor makes the page read them."""
    from app.models import Attachment
    from app.sqltypes import utcnow

    eid, indicators = _evaluation(session)
    other_eid, _ = _evaluation(session, name=_other_project(session))

    def attach(kind: str, parent_id: int, name: str, deleted: bool = False) -> Attachment:
        row = Attachment(
            parent_kind=kind,
            parent_id=parent_id,
            name=name,
            size=1234,
            content_type="application/pdf",
            sha256="0" * 64,
            uploader="测试",
            created_at=utcnow(),
            deleted_at=utcnow() if deleted else None,
        )
        session.add(row)
        session.commit()
        return row

    gone = attach("evaluation", other_eid, "已删除的说明.pdf", deleted=True)
    demo.get(f"/evaluations/{other_eid}")
    seen = _statements(app, demo, f"/evaluations/{other_eid}")
    assert len(seen) == 3 and gone.name not in demo.get(f"/evaluations/{other_eid}").text
    attach("indicator", indicators[1].id, "行的佐证.pdf")
    seen = _statements(app, demo, f"/evaluations/{eid}")
    assert len(seen) == 4, "\n".join(s[:120] for s in seen)
    page = demo.get(f"/evaluations/{eid}").text
    assert "行的佐证.pdf" in page and "尚未上传佐证材料" not in page
    attach("evaluation", eid, "整表的佐证.pdf")
    page = demo.get(f"/evaluations/{eid}").text
    assert "行的佐证.pdf" in page and "整表的佐证.pdf" in page
    # another project's row has one: this one's page still reads none (its EXISTS was once uncorrelated)
    seen = _statements(app, demo, f"/evaluations/{other_eid}")
    assert len(seen) == 3, "\n".join(s[:120] for s in seen)


def _other_project(session) -> str:
    """Another project of the same unit than PROJECT."""
    return session.exec(
        select(Project.name)
        .join(Unit, Unit.id == Project.unit_id)
        .where(Unit.name == UNIT, Project.name != PROJECT)
        .order_by(Project.id)
    ).first()


def test_a_worker_prepares_its_routes_and_templates_before_its_first_request(demo, session, app, monkeypatch):
    """The first request of each worker used to work out every route's dependencies from the endpoints'
    signatures and compile the 自评表's templates (~0.6 s of CPU, with every request queued behind it
    waiting); a worker now does both at its start, and its first page does neither."""
    import fastapi.dependencies.utils as fastapi_deps
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.web.render import templates

    eid, _ = _evaluation(session)
    fresh = create_app(app.state.settings)
    templates.env.cache.clear()
    signatures: list[str] = []
    real = fastapi_deps.get_typed_signature
    monkeypatch.setattr(fastapi_deps, "get_typed_signature", lambda call: signatures.append(call) or real(call))
    with TestClient(fresh, base_url="http://testserver") as client:
        compiled = {name for _loader, name in templates.env.cache.keys()}
        assert {"evaluations/form.html", "evaluations/_form.html", "attachments/_block.html"} <= compiled
        signatures.clear()
        factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
        assert client.get(f"/evaluations/{eid}").status_code == 200
    fresh.state.engine.dispose()
    assert signatures == []


@pytest.mark.parametrize("typed", ["10", "9.5", "8.5", "0"])
def test_a_self_score_comes_back_as_typed_after_a_reload(demo, session, typed):
    # a Numeric(10, 2) column answers 10.00 on PostgreSQL: the form must not show zeros the user did not type
    eid, indicators = _evaluation(session)
    rate = indicators[1]
    fields = {"actual": "85%", "deviation_reason": "缺考", "self_score": typed, "self_score_reason": "自评"}
    answer = _save_row(demo, eid, rate.id, _version(demo, eid), **fields)
    assert answer.status_code == 200, answer.text
    page = demo.get(f"/evaluations/{eid}").text
    shown = re.search(rf'<input id="self-{rate.id}"[^>]*?value="([^"]*)"', page, re.S)
    assert shown and shown.group(1) == typed, (typed, shown and shown.group(1))
    stored = re.search(rf'<data id="stored-self-{rate.id}" value="([^"]*)"', page)
    assert stored and stored.group(1) == typed
