"""The lifecycle's transition table is the only rule: take one row out of it and the service,
the page (its button and its handler) and the API all refuse that action, with no other change."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.domain import evaluation as lifecycle
from app.models import SelfEvaluation
from app.services import reviews
from app.services.errors import Conflict, PermissionDenied
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
from tests.services.evaluation_data import STANDARD, project_with, two_units


def _without(monkeypatch, role: str, action: str) -> None:
    table = tuple(row for row in lifecycle.TRANSITIONS if not (row.role == role and row.action == action))
    assert len(table) == len(lifecycle.TRANSITIONS) - 1
    monkeypatch.setattr(lifecycle, "TRANSITIONS", table)


@pytest.fixture
def submitted(client, session):
    dept, mine, _ = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    project = project_with(session, mine, STANDARD, name="监测设备运维")
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    as_user(client, "jcz")
    _fill_and_submit(client, eid)
    return eid


def test_without_the_withdraw_row_nobody_can_withdraw(monkeypatch, client, session, submitted):
    eid = submitted
    as_user(client, "jcz")
    assert 'id="withdraw-button"' in client.get(f"/evaluations/{eid}").text  # the row is there: offered
    _without(monkeypatch, "unit", "withdraw")
    assert 'id="withdraw-button"' not in client.get(f"/evaluations/{eid}").text  # the page stops offering
    assert client.post(f"/evaluations/{eid}/withdraw", headers={"HX-Request": "true"}).status_code == 403
    assert client.post(f"/api/v1/self-evaluations/{eid}/withdraw").status_code == 403
    session.expire_all()
    assert session.get(SelfEvaluation, eid).status == "submitted"


def test_without_the_department_approve_row_the_department_cannot_approve(monkeypatch, client, session, submitted):
    eid = submitted
    as_user(client, "gxj")
    assert 'value="approve"' in client.get(f"/reviews/{eid}").text
    _without(monkeypatch, "department", "approve")
    page = client.get(f"/reviews/{eid}").text
    assert 'value="approve"' not in page and 'value="return"' in page  # only that row went
    version = session.get(SelfEvaluation, eid).version
    refused = client.post(f"/reviews/{eid}", data={"action": "approve", "version": str(version)})
    assert refused.status_code == 403
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve", json={}).status_code == 403
    session.expire_all()
    assert session.get(SelfEvaluation, eid).status == "submitted"


def test_the_service_asks_the_table(monkeypatch, session, submitted):
    from app.models import User
    from app.security import Principal

    eid = submitted
    user = session.exec(select(User).where(User.username == "gxj")).one()
    principal = Principal(role="department", name="gxj", user_id=user.id, department_id=user.department_id)
    _without(monkeypatch, "department", "return")
    with pytest.raises(PermissionDenied):
        reviews.return_(session=session, principal=principal, evaluation_id=eid, opinion="请补充佐证材料")
    # A row moved to other statuses refuses from this one with the status named (409, not 403).
    rows = tuple(
        lifecycle.Transition("department", "return", ("approved",), "returned", "review", opinion_required=True)
        if (row.role, row.action) == ("department", "approve")
        else row
        for row in lifecycle.TRANSITIONS
    )
    monkeypatch.setattr(lifecycle, "TRANSITIONS", rows)
    with pytest.raises(Conflict, match="已送审"):
        reviews.return_(session=session, principal=principal, evaluation_id=eid, opinion="请补充佐证材料")
