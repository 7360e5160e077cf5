"""An execution rate too large to record (a budget of 0.000001 万元 against 95 万元 spent) is refused
with a message at the field, on both databases, instead of failing the save with a 500."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import Project, SelfEvaluation, User
from app.security import Principal
from app.services import evaluations
from app.services.errors import ValidationFailed
from tests.services.evaluation_data import STANDARD, project_with, two_units


def test_a_rate_beyond_what_can_be_recorded_is_refused_at_the_field(session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD, budget=None)
    user = session.exec(select(User).where(User.username == "jcz")).one()
    unit = Principal(role="unit", name="jcz", user_id=user.id, unit_id=user.unit_id)
    ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    evaluations.save(session=session, principal=unit, evaluation_id=ev.id, version=ev.version, budget="0.000001")
    session.expire_all()
    ev = session.get(SelfEvaluation, ev.id)
    with pytest.raises(ValidationFailed) as refused:
        evaluations.save(session=session, principal=unit, evaluation_id=ev.id, version=ev.version, spent="95")
    assert [e.field for e in refused.value.errors] == ["spent"]
    assert "请核对金额" in refused.value.errors[0].message
    session.rollback()
    session.expire_all()
    assert session.get(Project, project.id).spent is None
    # an ordinary figure still saves
    ev = session.get(SelfEvaluation, ev.id)
    evaluations.save(session=session, principal=unit, evaluation_id=ev.id, version=ev.version, budget="100")
    ev = session.get(SelfEvaluation, ev.id)
    evaluations.save(session=session, principal=unit, evaluation_id=ev.id, version=ev.version, spent="95")
    session.expire_all()
    assert str(session.get(SelfEvaluation, ev.id).execution_rate) == "95.0000"
