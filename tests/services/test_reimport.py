"""Re-importing over tables that exist: an approved (已批复) table is never overwritten — the
import is refused naming the project, or, when asked, files an adjustment request (调整申请) with
the file's values; draft and returned tables are updated in place; an import may land as drafts
(草稿) for the units to edit and 申报. Both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import AuditEvent, Indicator, Project, TargetAdjustment, User
from app.security import Principal
from app.services import adjustments, imports
from tests import factories

HEADER = (
    "年度,主管部门,单位名称,单位编码,项目名称,项目编码,年度预算数（万元）,实施周期目标,年度目标,一级指标,"
    "二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)


def table(report_target: str = "≥12份", rate: str = "≥95%", budget: str = "10", extra: str = "") -> bytes:
    rows = (
        f"2024,测试局,测试单位,U1,监测项目,P-001,{budget},完成监测,完成年度监测,产出,数量指标,监测报告,≥12份,{report_target},30\n"
        f"2024,测试局,测试单位,U1,监测项目,P-001,{budget},完成监测,完成年度监测,效益,社会效益指标,覆盖率,≥95%,{rate},40\n"
        "2024,测试局,测试单位,U1,监测项目,P-001,10,完成监测,完成年度监测,满意度,服务对象满意度指标,满意度,≥90%,≥90%,30\n"
        "2024,测试局,测试单位,U1,宣传项目,P-002,5,开展宣传,开展宣传,产出,数量指标,宣传场次,≥4场,≥4场,50\n"
        "2024,测试局,测试单位,U1,宣传项目,P-002,5,开展宣传,开展宣传,效益,社会效益指标,知晓率,≥80%,≥80%,50\n"
        f"{extra}"
    )
    return (HEADER + rows).encode()


def run(session, data: bytes, **kw):
    return imports.import_file(session=session, data=data, filename="targets.csv", year=2024, **kw)


def target_of(session, name: str) -> str:
    session.expire_all()
    return session.exec(select(Indicator.annual_target).where(Indicator.name == name)).one()


def test_reimport_over_an_approved_table_is_refused_naming_the_project_and_writes_nothing(session):
    first = run(session, table())
    assert first.ok and first.committed
    assert set(session.exec(select(Project.target_status))) == {"approved"}  # the bureau's import: 已批复
    events = len(session.exec(select(AuditEvent)).all())

    refused = run(session, table(report_target="≥10份"))
    assert not refused.ok and not refused.committed
    (error,) = [e for e in refused.errors if e["code"] == "approved_table"]
    assert "监测项目" in error["message"] and "P-001" in error["message"]
    assert "已批复" in error["message"] and "调整申请" in error["message"]
    assert "宣传项目" not in error["message"]  # unchanged: not named
    assert "--" not in error["message"]  # each face words its own remedy
    assert target_of(session, "监测报告") == "≥12份"
    assert session.exec(select(TargetAdjustment)).all() == []
    assert len(session.exec(select(AuditEvent)).all()) == events  # nothing written, not even the audit

    # the same file again changes nothing and is not refused
    again = run(session, table())
    assert again.ok and again.counts["projects_unchanged"] == 2


def test_reimport_as_adjustment_files_a_request_with_the_files_values(session):
    run(session, table())
    report = run(
        session, table(report_target="≥10份", rate="≥96%"), as_adjustment=True, adjustment_reason="批复后任务量调减"
    )
    assert report.ok and report.committed, report.errors
    assert report.counts["adjustments_requested"] == 1 and report.counts["projects_unchanged"] == 1
    # the approved table is unchanged until the request is approved
    assert target_of(session, "监测报告") == "≥12份"
    (adj,) = session.exec(select(TargetAdjustment)).all()
    assert adj.status == "declared" and adj.reason == "批复后任务量调减"
    assert sorted((c.name, c.field, c.old, c.new) for c in adjustments.changes_of(adj)) == [
        ("监测报告", "annual_target", "≥12份", "≥10份"),
        ("覆盖率", "annual_target", "≥95%", "≥96%"),
    ]
    # reviewed like any request: the bureau's approval applies it
    factories.user(session, "czj", "finance")
    user = session.exec(select(User).where(User.username == "czj")).one()
    finance = Principal(role="finance", name="czj", user_id=user.id)
    adjustments.act(session=session, principal=finance, adjustment_id=adj.id, action="approve", version=adj.version)
    assert target_of(session, "监测报告") == "≥10份"
    # while a request waits, another import of changes is refused naming it
    again = run(session, table(report_target="≥8份"), as_adjustment=True)
    assert again.ok, again.errors  # the first was applied: a second request may be filed
    refused = run(session, table(report_target="≥6份"), as_adjustment=True)
    assert not refused.ok and "审核中" in refused.errors[0]["message"] and "监测项目" in refused.errors[0]["message"]


def test_an_adjustment_cannot_carry_money_or_new_rows_all_or_nothing(session):
    run(session, table())
    budget = run(session, table(budget="12"), as_adjustment=True)
    assert not budget.ok and "监测项目" in budget.errors[0]["message"] and "年度预算数" in budget.errors[0]["message"]
    extra = "2024,测试局,测试单位,U1,宣传项目,P-002,5,开展宣传,开展宣传,满意度,服务对象满意度指标,满意度,≥90%,≥90%,0\n"
    added = run(session, table(report_target="≥10份", extra=extra), as_adjustment=True)
    assert not added.ok
    assert any("宣传项目" in e["message"] and "新增" in e["message"] for e in added.errors)
    assert session.exec(select(TargetAdjustment)).all() == []  # the good project's request is not kept either
    assert target_of(session, "监测报告") == "≥12份"


def test_import_as_draft_lands_as_drafts_and_a_reimport_updates_them_in_place(session):
    report = run(session, table(), as_draft=True)
    assert report.ok and report.committed
    assert set(session.exec(select(Project.target_status))) == {"draft"}
    revised = run(session, table(report_target="≥10份"))
    assert revised.ok and revised.counts["indicators_updated"] == 1
    assert target_of(session, "监测报告") == "≥10份"
    assert set(session.exec(select(Project.target_status))) == {"draft"}  # still the unit's draft


@pytest.mark.parametrize("status", ["declared", "department_approved"])
def test_reimport_over_a_table_under_review_is_refused(session, status):
    run(session, table(), as_draft=True)
    project = session.exec(select(Project).where(Project.project_code == "P-001")).one()
    project.target_status = status
    session.add(project)
    session.commit()
    refused = run(session, table(report_target="≥10份"), as_adjustment=True)
    assert not refused.ok and "监测项目" in refused.errors[0]["message"] and "审核" in refused.errors[0]["message"]
    assert target_of(session, "监测报告") == "≥12份"
    assert session.get(Project, project.id).budget == Decimal("10")
