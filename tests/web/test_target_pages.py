"""The 绩效目标表 pages: a unit drafts a table (or copies last year's), each value is understood
and checked as it is saved, it is submitted; the department and the bureau review it from a
dashboard that lists the worst first. Both databases."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.models import Indicator, Project
from tests import factories
from tests.api.test_reviews import as_user
from tests.services.evaluation_data import YEAR, project_with, two_units

HX = {"HX-Request": "true"}


@pytest.fixture
def people(session):
    dept, mine, other = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "czj", "finance")
    return dept, mine, other


def _version(session, project_id: int) -> str:
    session.expire_all()
    return str(session.get(Project, project_id).version)


def _new_table(client, session, name="无线电监测设备运维") -> int:
    response = client.post("/targets", data={"year": str(YEAR), "name": name}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/targets/(\d+)\?done=create", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _add(client, session, pid: int, level1: str, name: str, annual: str, **extra) -> int:
    data = {"level1": level1, "name": name, "annual_target": annual, "version": _version(session, pid), **extra}
    response = client.post(f"/targets/{pid}/rows", data=data, headers=HX)
    assert response.status_code == 200, response.text
    session.expire_all()
    return session.exec(select(Indicator.id).where(Indicator.project_id == pid, Indicator.name == name)).one()


def test_a_unit_drafts_sees_a_vague_target_fixes_it_and_submits(client, session, people):
    as_user(client, "jcz")
    pid = _new_table(client, session)
    page = client.get(f"/targets/{pid}").text
    assert "项目支出绩效目标表" in page and "还没有指标" in page

    _add(client, session, pid, "output", "监测报告", "≥12份", level2="数量指标", weight="30")
    vague = _add(client, session, pid, "outcome", "监测能力", "有效提升", level2="社会效益指标", weight="30")
    page = client.get(f"/targets/{pid}").text
    assert "不可衡量" in page and "请写明可衡量的数值" in page
    assert "不少于 12 份（越高越好）" in page

    # The row saves itself: the answer brings what was understood and the checks, never an input.
    answer = client.post(
        f"/targets/{pid}/rows/{vague}", data={"annual_target": "≥95%", "version": _version(session, pid)}, headers=HX
    )
    assert answer.status_code == 200, answer.text
    assert "<input" not in answer.text.replace('<input type="hidden" id="ev-version"', "")
    assert 'id="understood-' + str(vague) + '"' in answer.text and "不少于 95 %" in answer.text
    assert "已保存" in answer.text
    session.expire_all()
    assert session.get(Indicator, vague).annual_target == "≥95%"
    project = session.get(Project, pid)
    assert project.quality_not_measurable == 0

    _add(client, session, pid, "satisfaction", "服务对象满意度", "≥90%", level2="服务对象满意度指标", weight="30")
    done = client.post(f"/targets/{pid}/act/submit", data={"version": _version(session, pid)}, follow_redirects=False)
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Project, pid).target_status == "declared"
    # no more editing: the page shows no autosave rows
    assert "data-autosave" not in client.get(f"/targets/{pid}").text


def test_submission_is_refused_with_every_problem_and_nothing_changes(client, session, people):
    as_user(client, "jcz")
    pid = _new_table(client, session)
    _add(client, session, pid, "output", "监测报告", "≥12份")
    refused = client.post(f"/targets/{pid}/act/submit", data={"version": _version(session, pid)}, headers=HX)
    assert refused.status_code == 422
    assert "目标表缺少效益指标" in refused.text
    session.expire_all()
    assert session.get(Project, pid).target_status == "draft"


def test_a_bad_row_save_says_what_and_where_and_keeps_the_stored_value(client, session, people):
    as_user(client, "jcz")
    pid = _new_table(client, session)
    row = _add(client, session, pid, "output", "监测报告", "≥12份")
    answer = client.post(
        f"/targets/{pid}/rows/{row}", data={"weight": "十分", "version": _version(session, pid)}, headers=HX
    )
    assert answer.status_code == 422
    assert f'id="msg-weight-{row}"' in answer.text and "分值应为数字" in answer.text
    session.expire_all()
    assert session.get(Indicator, row).weight is None
    stale = client.post(f"/targets/{pid}/rows/{row}", data={"name": "改名", "version": "1"}, headers=HX)
    assert stale.status_code == 409


def test_return_with_opinion_resubmit_and_final_approval(client, session, people):
    as_user(client, "jcz")
    pid = _new_table(client, session)
    _add(client, session, pid, "output", "监测报告", "≥12份")
    _add(client, session, pid, "outcome", "监测覆盖率", "≥95%")
    client.post(f"/targets/{pid}/act/submit", data={"version": _version(session, pid)})

    as_user(client, "gxj")
    board = client.get(f"/targets?year={YEAR}").text
    assert f'id="table-{pid}"' in board and "待我审核" in board
    no_opinion = client.post(f"/targets/{pid}/act/return", data={"version": _version(session, pid)}, headers=HX)
    assert no_opinion.status_code == 422 and "请写明退回的原因" in no_opinion.text
    back = client.post(
        f"/targets/{pid}/act/return", data={"version": _version(session, pid), "opinion": "满意度指标缺失，请补充"}
    )
    assert back.status_code in (200, 303)

    as_user(client, "jcz")
    page = client.get(f"/targets/{pid}").text
    assert "满意度指标缺失，请补充" in page and "data-autosave" in page
    _add(client, session, pid, "satisfaction", "服务对象满意度", "≥90%")
    client.post(f"/targets/{pid}/act/submit", data={"version": _version(session, pid)})

    as_user(client, "gxj")
    client.post(f"/targets/{pid}/act/approve", data={"version": _version(session, pid)})
    as_user(client, "czj")
    assert f'id="table-{pid}"' in client.get(f"/targets?year={YEAR}").text  # waits for the bureau now
    client.post(f"/targets/{pid}/act/approve", data={"version": _version(session, pid)})
    session.expire_all()
    assert session.get(Project, pid).target_status == "approved"
    history = client.get(f"/targets/{pid}").text
    assert "退回" in history and "满意度指标缺失" in history and "目标表状态" in history


def test_copy_last_years_table_as_a_draft(client, session, people):
    _, mine, _ = people
    old = project_with(
        session, mine, [("output", "监测报告", "≥12份"), ("outcome", "监测能力", "提升")], name="监测运维"
    )
    old.year = YEAR  # project_with makes YEAR; the new table is for the year after
    as_user(client, "jcz")
    listing = client.get(f"/targets?year={YEAR + 1}").text
    assert f'id="copy-{old.id}"' in listing
    response = client.post(f"/targets/{old.id}/copy", data={"year": str(YEAR + 1)}, follow_redirects=False)
    assert response.status_code == 303
    new_id = int(re.search(r"/targets/(\d+)", response.headers["location"]).group(1))
    session.expire_all()
    new = session.get(Project, new_id)
    assert (new.year, new.project_code, new.name, new.target_status) == (
        YEAR + 1,
        old.project_code,
        "监测运维",
        "draft",
    )
    rows = session.exec(select(Indicator).where(Indicator.project_id == new_id).order_by(Indicator.position)).all()
    assert [(r.level1, r.name, r.annual_target) for r in rows] == [
        ("output", "监测报告", "≥12份"),
        ("outcome", "监测能力", "提升"),
    ]
    assert new.quality_not_measurable == 1
    assert f'id="copy-{old.id}"' not in client.get(f"/targets?year={YEAR + 1}").text  # copied once


def test_another_unit_reaches_nothing(client, session, people):
    as_user(client, "jcz")
    pid = _new_table(client, session)
    row = _add(client, session, pid, "output", "监测报告", "≥12份")
    as_user(client, "zx")
    v = _version(session, pid)
    assert client.get(f"/targets/{pid}").status_code == 404
    assert client.post(f"/targets/{pid}/rows/{row}", data={"name": "x", "version": v}, headers=HX).status_code == 404
    assert (
        client.post(
            f"/targets/{pid}/rows", data={"level1": "output", "name": "x", "annual_target": "1", "version": v}
        ).status_code
        == 404
    )
    assert client.post(f"/targets/{pid}/rows/{row}/delete", data={"version": v}).status_code == 404
    assert client.post(f"/targets/{pid}/copy", data={"year": str(YEAR + 1)}).status_code == 404
    assert client.post(f"/targets/{pid}/act/submit", data={"version": v}).status_code == 404
    assert f'id="table-{pid}"' not in client.get(f"/targets?year={YEAR}").text
    # a row of one table addressed under another table's id
    as_user(client, "zx")
    theirs = _new_table(client, session, name="产业发展")
    assert (
        client.post(
            f"/targets/{theirs}/rows/{row}", data={"name": "x", "version": _version(session, theirs)}, headers=HX
        ).status_code
        == 404
    )
    session.expire_all()
    assert session.get(Indicator, row).name == "监测报告"


def test_the_dashboard_lists_the_worst_first(client, session, people):
    as_user(client, "jcz")
    good = _new_table(client, session, name="好表")
    _add(client, session, good, "output", "监测报告", "≥12份")
    _add(client, session, good, "outcome", "覆盖率", "≥95%")
    bad = _new_table(client, session, name="差表")
    _add(client, session, bad, "output", "监测能力", "进一步提升")
    for pid in (good, bad):
        client.post(f"/targets/{pid}/act/submit", data={"version": _version(session, pid)})
    session.expire_all()
    # the bad one cannot be submitted (missing 效益, no quantitative): both are shown under 全部
    as_user(client, "gxj")
    board = client.get(f"/targets?year={YEAR}&status=").text
    assert board.index(f'id="table-{bad}"') < board.index(f'id="table-{good}"')


def test_recheck_fills_the_counts_of_tables_stored_before_they_were_kept(session, people):
    from app.services import target_tables

    _, mine, _ = people
    old = project_with(session, mine, [("output", "监测能力", "进一步提升")], name="旧表")
    assert session.get(Project, old.id).quality_errors is None  # stored without the counts
    assert target_tables.recheck_year(session=session, year=YEAR) == 1
    session.expire_all()
    checked = session.get(Project, old.id)
    assert (checked.quality_errors, checked.quality_not_measurable) == (2, 1)  # no 效益, 0% quantitative
    assert target_tables.recheck_year(session=session, year=YEAR) == 0  # only unchecked by default


def test_an_adjustment_on_the_pages_takes_effect_and_the_self_evaluation_shows_the_original(client, session, people):
    from app.models import SelfEvaluation

    _, mine, _ = people
    project = project_with(session, mine, [("output", "监测报告", "≥12份"), ("outcome", "覆盖率", "≥95%")], name="监测")
    rows = {i.name: i.id for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    as_user(client, "jcz")
    page = client.get(f"/targets/{project.id}").text
    assert 'id="adjust-form"' in page  # approved: 申请调整 offered
    form = {f"annual_target-{rid}": t for rid, t in ((rows["监测报告"], "≥10份"), (rows["覆盖率"], "≥95%"))}
    refused = client.post(f"/targets/{project.id}/adjustments", data=form, headers=HX)
    assert refused.status_code == 422 and "请写明调整的原因" in refused.text
    bad = client.post(
        f"/targets/{project.id}/adjustments",
        data={**form, f"weight-{rows['覆盖率']}": "很多", "reason": "x"},
        headers=HX,
    )
    assert bad.status_code == 422 and "“覆盖率”：分值应为数字" in bad.text
    sent = client.post(f"/targets/{project.id}/adjustments", data={**form, "reason": "任务量调减"}, headers=HX)
    assert sent.status_code == 200 and "第 1 次调整申请" in sent.text and "≥12份" in sent.text
    assert 'id="adjust-form"' not in sent.text  # one pending request at a time

    from app.models import TargetAdjustment

    adj = session.exec(select(TargetAdjustment).where(TargetAdjustment.project_id == project.id)).one()
    as_user(client, "gxj")
    client.post(f"/targets/adjustments/{adj.id}/approve", data={"version": str(adj.version)})
    session.expire_all()
    adj = session.get(TargetAdjustment, adj.id)
    as_user(client, "czj")
    done = client.post(f"/targets/adjustments/{adj.id}/approve", data={"version": str(adj.version)}, headers=HX)
    assert "调整已生效" in done.text and "现行为第 2 版" in done.text
    session.expire_all()
    assert session.get(Indicator, rows["监测报告"]).annual_target == "≥10份"
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    as_user(client, "jcz")
    form_page = client.get(f"/evaluations/{eid}").text
    assert "调整前：≥12份" in form_page
    assert "调整前：≥12份" in client.get(f"/evaluations/{eid}/print").text
    as_user(client, "zx")
    assert client.post(f"/targets/adjustments/{adj.id}/approve", data={"version": "9"}).status_code in (403, 404)
