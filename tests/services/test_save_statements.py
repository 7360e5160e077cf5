"""A save's statements are built once per process: the second save of any evaluation builds no SQL
expression of its own (its reads and its version claim are prebuilt, their values bound), and the
prebuilt reads keep each caller to what it may see."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy.sql import coercions, roles
from sqlmodel import Session, select

from app.models import Indicator, SelfEvaluation, User
from app.security import principal_for_user
from app.services import evaluations
from app.services.errors import NotFound
from app.services.evaluations import ResultInput
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units


@pytest.fixture
def world(session):
    dept, mine, other = two_units(session)
    unit_user = session.exec(select(User).where(User.username == "jcz")).one()
    dept_user = factories.user(session, "gxj", "department", dept=dept)
    ours = project_with(session, mine, STANDARD, name="监测设备运维")
    theirs = project_with(session, other, STANDARD, name="别人的项目")

    def evaluation_of(project):
        return session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()

    def first_indicator(project):
        return session.exec(
            select(Indicator.id).where(Indicator.project_id == project.id).order_by(Indicator.id)
        ).first()

    return {
        "unit": principal_for_user(unit_user),
        "department": principal_for_user(dept_user),
        "ours": (evaluation_of(ours), first_indicator(ours)),
        "theirs": (evaluation_of(theirs), first_indicator(theirs)),
    }


def _save(db, principal, evaluation_id, indicator_id, reason, version):
    with Session(db, expire_on_commit=False) as s:
        return evaluations.save(
            session=s,
            principal=principal,
            evaluation_id=evaluation_id,
            version=version,
            results=[ResultInput(indicator_id=indicator_id, deviation_reason=reason)],
        ).evaluation.version


def test_a_second_save_builds_no_sql_expression(db, world, monkeypatch):
    eid, ind = world["ours"]
    version = _save(db, world["unit"], eid, ind, "第一次", _current(db, eid))
    built = []
    expect = coercions.expect

    def counting(role, element, *args, **kw):
        # an expression built by the save's own code (not the compiler's first pass over a new UPDATE,
        # nor SQLite's append of the audit event, which reads the stream's head itself)
        files = [frame.filename for frame in traceback.extract_stack()]
        ours = any(f.endswith(("services/evaluations.py", "services/engine.py", "services/scope.py")) for f in files)
        if ours and not any(f.endswith(("sql/compiler.py", "services/audit.py")) for f in files):
            if role is not roles.StatementRole:  # the execution's check of the statement it is given
                built.append(role)
        return expect(role, element, *args, **kw)

    monkeypatch.setattr(coercions, "expect", counting)
    version = _save(db, world["unit"], eid, ind, "第二次", version)
    monkeypatch.setattr(coercions, "expect", expect)
    assert built == []
    assert _current(db, eid) == version


def test_the_prebuilt_reads_keep_each_caller_to_what_it_may_see(db, world):
    eid, ind = world["ours"]
    other, other_ind = world["theirs"]
    # the unit saves its own; the department (its units as a bound parameter) may see it too
    _save(db, world["unit"], eid, ind, "单位填写", _current(db, eid))
    with Session(db) as s:
        assert evaluations.view(session=s, principal=world["department"], evaluation_id=eid).evaluation.id == eid
    # another unit's evaluation, through the same prebuilt statement with another bound unit: not found
    with pytest.raises(NotFound):
        _save(db, world["unit"], other, other_ind, "越权", _current(db, other))
    with Session(db) as s, pytest.raises(NotFound):
        evaluations.view(session=s, principal=world["unit"], evaluation_id=other)


def _current(db, evaluation_id):
    with Session(db) as s:
        return s.get(SelfEvaluation, evaluation_id).version
