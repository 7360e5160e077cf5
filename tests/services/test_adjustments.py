"""调整: an approved 绩效目标表 changed on request — reviewed like the table, applied by the
bureau as the next version; the result stays tied to its indicator, the self-evaluation is scored
against the new values and records the version, the original stays visible. Both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import Indicator, IndicatorResult, Project, SelfEvaluation, User
from app.security import Principal
from app.services import adjustments, evaluations
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.evaluations import ResultInput
from tests import factories
from tests.services.evaluation_data import project_with, two_units


def _principal(session, username: str) -> Principal:
    user = session.exec(select(User).where(User.username == username)).one()
    return Principal(
        role=user.role,
        name=username,
        user_id=user.id,
        unit_id=user.unit_id,
        department_id=user.department_id,
    )


@pytest.fixture
def approved(session):
    dept, mine, _ = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "czj", "finance")
    project = project_with(
        session,
        mine,
        [("output", "监测报告", "≥12份"), ("outcome", "覆盖率", "≥95%"), ("satisfaction", "满意度", "≥90%")],
    )
    assert project.target_status == "approved"  # imported tables arrive approved
    rows = {i.name: i for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    return project, rows


def _fill(session, project, rows, actual: str):
    unit = _principal(session, "jcz")
    ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    evaluations.save(
        session=session,
        principal=unit,
        evaluation_id=ev.id,
        version=ev.version,
        results=[ResultInput(indicator_id=rows["监测报告"].id, actual=actual)],
    )
    return ev.id


def test_request_review_and_apply_as_the_next_version(session, approved):
    project, rows = approved
    eid = _fill(session, project, rows, "10份")
    session.expire_all()
    before = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == rows["监测报告"].id)).one()
    assert before.met is False  # 10 of ≥12

    unit = _principal(session, "jcz")
    adj = adjustments.request(
        session=session,
        principal=unit,
        project_id=project.id,
        reason="上级调减任务量",
        indicators={rows["监测报告"].id: {"annual_target": "≥10份", "weight": "30"}},
    )
    assert [(c.field, c.old, c.new) for c in adjustments.changes_of(adj)] == [
        ("annual_target", "≥12份", "≥10份"),
        ("weight", None, "30"),
    ]
    with pytest.raises(Conflict, match="审核中"):
        adjustments.request(
            session=session,
            principal=unit,
            project_id=project.id,
            reason="再改",
            indicators={rows["覆盖率"].id: {"annual_target": "≥90%"}},
        )
    # not yet in force: the table and the score are as approved
    session.expire_all()
    assert session.get(Indicator, rows["监测报告"].id).annual_target == "≥12份"

    dept, finance = _principal(session, "gxj"), _principal(session, "czj")
    with pytest.raises(ValidationFailed):
        adjustments.act(session=session, principal=dept, adjustment_id=adj.id, action="return", version=adj.version)
    adj = adjustments.act(session=session, principal=dept, adjustment_id=adj.id, action="approve", version=adj.version)
    assert adj.status == "department_approved"
    adj = adjustments.act(
        session=session, principal=finance, adjustment_id=adj.id, action="approve", version=adj.version
    )
    assert (adj.status, adj.applied_version) == ("approved", 2)

    session.expire_all()
    ind = session.get(Indicator, rows["监测报告"].id)
    assert (ind.annual_target, ind.target_value, ind.weight) == ("≥10份", "10", Decimal("30"))
    assert session.get(Project, project.id).target_version == 2
    result = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == ind.id)).one()
    assert result.id == before.id and result.actual == "10份" and result.met is True  # tied, rescored
    ev = session.get(SelfEvaluation, eid)
    assert ev.target_version == 2
    assert adjustments.originals(session, project.id) == {ind.id: {"annual_target": "≥12份", "weight": None}}
    view = evaluations.view(session=session, principal=unit, evaluation_id=eid)
    assert view.originals[ind.id]["annual_target"] == "≥12份"


def test_only_an_approved_table_can_be_adjusted_and_only_by_its_unit(session, approved):
    project, rows = approved
    unit, other = _principal(session, "jcz"), _principal(session, "zx")
    with pytest.raises(NotFound):
        adjustments.request(
            session=session,
            principal=other,
            project_id=project.id,
            reason="x",
            indicators={rows["覆盖率"].id: {"annual_target": "≥1%"}},
        )
    with pytest.raises(PermissionDenied):
        adjustments.request(
            session=session, principal=_principal(session, "gxj"), project_id=project.id, reason="x", indicators={}
        )
    with pytest.raises(ValidationFailed) as refused:
        adjustments.request(
            session=session,
            principal=unit,
            project_id=project.id,
            reason="",
            indicators={rows["覆盖率"].id: {"name": "改名"}},
        )
    fields = {e.field for e in refused.value.errors}
    assert fields == {"reason", f"indicators[{rows['覆盖率'].id}]"}
    with pytest.raises(ValidationFailed, match="输入有误") as nothing:
        adjustments.request(
            session=session,
            principal=unit,
            project_id=project.id,
            reason="无",
            indicators={rows["覆盖率"].id: {"annual_target": "≥95%"}},
        )
    assert "没有改动" in nothing.value.errors[0].message
    session.get(Project, project.id).target_status = "draft"
    session.commit()
    with pytest.raises(Conflict, match="批复后才能申请调整"):
        adjustments.request(
            session=session,
            principal=unit,
            project_id=project.id,
            reason="x",
            indicators={rows["覆盖率"].id: {"annual_target": "≥90%"}},
        )


def test_a_returned_request_changes_nothing_and_a_new_one_may_follow(session, approved):
    project, rows = approved
    unit, finance = _principal(session, "jcz"), _principal(session, "czj")
    adj = adjustments.request(
        session=session,
        principal=unit,
        project_id=project.id,
        reason="调整",
        indicators={rows["覆盖率"].id: {"annual_target": "≥90%"}},
    )
    adj = adjustments.act(
        session=session,
        principal=finance,
        adjustment_id=adj.id,
        action="return",
        version=adj.version,
        opinion="依据不足",
    )
    assert (adj.status, adj.opinion) == ("returned", "依据不足")
    session.expire_all()
    assert session.get(Indicator, rows["覆盖率"].id).annual_target == "≥95%"
    assert session.get(Project, project.id).target_version == 1
    again = adjustments.request(
        session=session,
        principal=unit,
        project_id=project.id,
        reason="补充依据",
        indicators={rows["覆盖率"].id: {"annual_target": "≥90%"}},
    )
    assert again.number == 2
    with pytest.raises(Conflict):  # stale version
        adjustments.act(
            session=session, principal=finance, adjustment_id=again.id, action="approve", version=again.version + 5
        )


def test_the_api_requests_reviews_and_lists_adjustments(client, session, approved):
    from tests.api.test_reviews import as_user

    project, rows = approved
    as_user(client, "jcz")
    body = {"reason": "任务量调减", "indicators": [{"indicator_id": rows["监测报告"].id, "annual_target": "≥10份"}]}
    made = client.post(f"/api/v1/projects/{project.id}/adjustments", json=body)
    assert made.status_code == 201, made.text
    adj = made.json()
    assert adj["status"] == "declared" and adj["changes"] == [
        {
            "indicator_id": rows["监测报告"].id,
            "name": "监测报告",
            "field": "annual_target",
            "old": "≥12份",
            "new": "≥10份",
        }
    ]
    assert client.post(f"/api/v1/projects/{project.id}/adjustments", json=body).status_code == 409
    assert client.post(f"/api/v1/adjustments/{adj['id']}/approve", json={"version": adj["version"]}).status_code == 403
    as_user(client, "zx")
    assert client.get(f"/api/v1/projects/{project.id}/adjustments").status_code == 404
    assert client.post(f"/api/v1/adjustments/{adj['id']}/approve", json={"version": 1}).status_code == 403
    as_user(client, "czj")
    refused = client.post(f"/api/v1/adjustments/{adj['id']}/return", json={"version": adj["version"]})
    assert refused.status_code == 422
    done = client.post(f"/api/v1/adjustments/{adj['id']}/approve", json={"version": adj["version"]})
    assert done.status_code == 200 and done.json()["applied_version"] == 2
    listed = client.get(f"/api/v1/projects/{project.id}/adjustments").json()
    assert [a["status"] for a in listed] == ["approved"]


def test_the_tables_history_names_an_adjustments_states_in_words(session, approved):
    """The 修改记录 showed “状态：declared → department_approved” (the codes) and called the bureau's
    approval of an adjustment 审核通过 (a self-evaluation's word): it is 调整申请 已申报 → 主管部门审核通过 → 已批复."""
    from app.services import history

    project, rows = approved
    unit, dept, finance = (_principal(session, u) for u in ("jcz", "gxj", "czj"))
    adj = adjustments.request(
        session=session,
        principal=unit,
        project_id=project.id,
        reason="上级调减任务量",
        indicators={rows["监测报告"].id: {"annual_target": "≥10份"}},
    )
    adj = adjustments.act(session=session, principal=dept, adjustment_id=adj.id, action="approve", version=adj.version)
    adjustments.act(session=session, principal=finance, adjustment_id=adj.id, action="approve", version=adj.version)
    lines = [line for h in history.target_table_history(session, project.id) for line in h.details]
    assert "调整申请状态：已申报 → 主管部门审核通过" in lines
    assert "调整申请状态：主管部门审核通过 → 已批复" in lines
    assert not [line for line in lines if "department_approved" in line or "declared" in line]
