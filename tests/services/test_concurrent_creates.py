"""Twenty requests create the same project at once (same year, unit and code, in a year that has
no fiscal-year row yet): one is created, every other gets a 409 or the 422 of the duplicate code
— never a 500 — and nothing is half-written."""

from __future__ import annotations

import threading
from collections import Counter

from sqlmodel import Session, select

from app.models import FiscalYear, Project, SelfEvaluation
from app.security import principal_for_user
from app.services import target_tables
from app.services.errors import DomainError
from tests import factories

WRITERS = 20
ERRORS: list[str] = []
YEAR = 2031


def _create(db, principal) -> int:
    data = target_tables.ProjectInput(
        year=YEAR,
        unit_id=None,
        project_code="P-RACE-1",
        fields={"name": "同时新建的项目", "annual_goal": "完成年度任务"},
        indicators=[{"level1": "output", "level2": "quantity", "name": "监测报告", "annual_target": "≥12份"}],
    )
    with Session(db, expire_on_commit=False) as s:
        try:
            target_tables.create_project(session=s, principal=principal, data=data)
        except DomainError as exc:
            return exc.status
        except Exception as exc:  # what the application would answer with a 500
            ERRORS.append(repr(exc)[:300])  # shown when the test fails
            return 500
        return 201


def test_twenty_creators_of_one_project_get_one_201_and_no_500(db, session):
    dept = factories.department(session, "广州市工业和信息化局")
    unit = factories.unit(session, "广州市无线电监测站", dept)
    principal = principal_for_user(factories.user(session, "jcz", "unit", unit_row=unit))
    gate = threading.Barrier(WRITERS)
    answers: list = [None] * WRITERS

    def run(n):
        gate.wait()
        answers[n] = _create(db, principal)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counts = Counter(answers)
    assert not ERRORS, ERRORS[:2]
    assert counts[201] == 1 and counts[500] == 0 and set(counts) <= {201, 409, 422}, counts
    with Session(db) as s:
        projects = s.exec(select(Project).where(Project.year == YEAR)).all()
        assert len(projects) == 1
        assert len(s.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == projects[0].id)).all()) == 1
        assert s.get(FiscalYear, YEAR) is not None
