"""Concurrent writers of one 绩效目标表, its adjustments and a batch approval: every collision is
a 409 the client can retry, never a 500; exactly the right number succeed; nothing half-written.

Twenty threads, each with its own session (its own connection), released at one moment; a
service call that raises a domain error answers that error's status, anything else would be a
500. Both databases (on SQLite the writers queue on its one write lock; the answers must be the
same); the last test races real HTTP clients against a live server."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import AuditEvent, Indicator, Project, SelfEvaluation, TargetAdjustment
from app.security import principal_for_user
from app.services import adjustments, reviews, target_tables
from app.services.errors import DomainError
from tests import factories
from tests.services.evaluation_data import project_with

WRITERS = 20


def _race(jobs) -> list:
    """Run the jobs in threads released at the same moment; their results in order."""
    gate = threading.Barrier(len(jobs))
    out: list = [None] * len(jobs)

    def run(n, job):
        gate.wait()
        out[n] = job()

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return out


def _race_calls(db, calls) -> list:
    """Each call (given its own session) in its own thread, released at one moment; their answers."""
    return _race([lambda c=c: _answer(db, c) for c in calls])


def _answer(db, call) -> int | object:
    """One writer's call in its own session: the HTTP status it would answer (or what it returned)."""
    with Session(db, expire_on_commit=False) as s:
        try:
            result = call(s)
        except DomainError as exc:
            return exc.status
        except Exception:  # what the application would answer with a 500
            return 500
        return 200 if result is None else result


def _audit(db, action: str) -> int:
    with Session(db) as s:
        return s.exec(select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)).one()


@pytest.fixture
def world(session, db):
    dept = factories.department(session, "广州市工业和信息化局")
    unit = factories.unit(session, "广州市无线电监测站", dept)
    people = {
        "unit": factories.user(session, "jcz", "unit", unit_row=unit),
        "department": factories.user(session, "gxj", "department", dept=dept),
        "finance": factories.user(session, "czj", "finance"),
    }
    targets = [("output", f"监测报告{n}", "≥12份") for n in range(WRITERS)]
    project = project_with(session, unit, targets)
    ids = list(session.exec(select(Indicator.id).where(Indicator.project_id == project.id).order_by(Indicator.id)))
    return {
        "project_id": project.id,
        "indicators": ids,
        **{role: principal_for_user(user) for role, user in people.items()},
    }


def _project(db, world) -> Project:
    with Session(db) as s:
        return s.get(Project, world["project_id"])


def _targets(db, world) -> dict[int, str]:
    with Session(db) as s:
        rows = s.exec(select(Indicator).where(Indicator.project_id == world["project_id"]))
        return {i.id: i.annual_target for i in rows}


def _as_draft(db, world) -> int:
    with Session(db) as s:
        s.execute(sa.update(Project).where(Project.id == world["project_id"]).values(target_status="draft"))
        s.commit()
    return _project(db, world).version


@pytest.mark.parametrize("same_row", [True, False], ids=["one_row", "different_rows"])
def test_indicator_edits_at_one_version(db, world, same_row):
    """Twenty edits of the draft table at one version: one wins, 19 × 409, one change stored."""
    version = _as_draft(db, world)
    ids = world["indicators"]
    rows = [ids[0]] * WRITERS if same_row else ids

    def edit(indicator_id: int, n: int):
        return lambda s: (
            target_tables.update_indicator(
                session=s,
                principal=world["unit"],
                indicator_id=indicator_id,
                version=version,
                fields={"annual_target": f"≥{20 + n}份"},
            )
            and None
        )

    answers = _race_calls(db, [edit(i, n) for n, i in enumerate(rows)])
    assert Counter(answers) == {200: 1, 409: WRITERS - 1}, Counter(answers)
    winner = answers.index(200)
    changed = {i: t for i, t in _targets(db, world).items() if t != "≥12份"}
    assert changed == {rows[winner]: f"≥{20 + winner}份"}
    assert _project(db, world).version == version + 1
    assert _audit(db, "indicator.update") == 1


def test_adjustment_requests_at_once(db, world):
    """Twenty requests for the approved table at once: one request filed, the others 409."""
    ids = world["indicators"]

    def ask(n: int):
        return lambda s: (
            adjustments.request(
                session=s,
                principal=world["unit"],
                project_id=world["project_id"],
                reason=f"调整{n}",
                indicators={ids[n]: {"annual_target": f"≥{20 + n}份"}},
            )
            and None
        )

    answers = _race_calls(db, [ask(n) for n in range(WRITERS)])
    assert Counter(answers) == {200: 1, 409: WRITERS - 1}, Counter(answers)
    with Session(db) as s:
        (filed,) = s.exec(select(TargetAdjustment)).all()
        assert filed.reason == f"调整{answers.index(200)}" and filed.number == 1
    assert _audit(db, "adjustment.request") == 1


def test_adjustment_approvals_at_once(db, world, session):
    """Twenty bureau approvals of one request at once: applied once (one new version), 19 × 409."""
    ids = world["indicators"]
    filed = adjustments.request(
        session=session,
        principal=world["unit"],
        project_id=world["project_id"],
        reason="任务调减",
        indicators={ids[0]: {"annual_target": "≥10份"}, ids[1]: {"weight": "7"}},
    )
    before = _project(db, world)

    def approve(s):
        adjustments.act(
            session=s, principal=world["finance"], adjustment_id=filed.id, action="approve", version=filed.version
        )

    answers = _race_calls(db, [approve] * WRITERS)
    assert Counter(answers) == {200: 1, 409: WRITERS - 1}, Counter(answers)
    after = _project(db, world)
    assert after.target_version == before.target_version + 1
    assert _targets(db, world)[ids[0]] == "≥10份"
    with Session(db) as s:
        assert s.get(TargetAdjustment, filed.id).applied_version == after.target_version
        ev = s.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == world["project_id"])).one()
        assert ev.target_version == after.target_version
    assert _audit(db, "adjustment.apply") == 1


def test_racing_writers_of_table_and_adjustment(db, world):
    """Ten edits of the table's status (submit after a return) against ten adjustment requests
    and approvals of the table: no 500 whatever interleaves."""
    version = _project(db, world).version

    def act(s):
        target_tables.act(
            session=s, principal=world["finance"], project_id=world["project_id"], action="approve", version=version
        )

    def ask(n):
        return lambda s: (
            adjustments.request(
                session=s,
                principal=world["unit"],
                project_id=world["project_id"],
                reason="调整",
                indicators={world["indicators"][n]: {"annual_target": "≥9份"}},
            )
            and None
        )

    answers = _race_calls(db, [act] * (WRITERS // 2) + [ask(n) for n in range(WRITERS // 2)])
    assert 500 not in answers, Counter(answers)


def test_batch_approvals_at_once(db, world, session):
    """Twenty reviewers approve the same five submitted evaluations in one batch each: every
    evaluation is approved exactly once, each in exactly one batch; no 500."""
    from app.models import Unit

    unit = session.get(Unit, world["unit"].unit_id)
    evaluation_ids = []
    for n in range(5):
        p = project_with(session, unit, [("output", "监测报告", "≥12份")], name=f"批量项目{n}")
        ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == p.id)).one()
        ev.status = "submitted"
        session.add(ev)
        session.commit()
        evaluation_ids.append((ev.id, ev.version))

    def batch(s):
        outcome = reviews.batch_approve(session=s, principal=world["finance"], items=evaluation_ids, opinion="同意")
        return ("done", tuple(outcome.done), tuple(r for r, _ in outcome.refused))

    answers = _race_calls(db, [batch] * WRITERS)
    assert 500 not in answers and all(isinstance(a, tuple) for a in answers), Counter(map(str, answers))
    approved = Counter(i for _, done, _ in answers for i in done)
    assert approved == Counter({i: 1 for i, _ in evaluation_ids}), approved
    for _, done, refused in answers:
        assert sorted(done + refused) == sorted(i for i, _ in evaluation_ids)
    with Session(db) as s:
        statuses = set(
            s.exec(select(SelfEvaluation.status).where(SelfEvaluation.id.in_([i for i, _ in evaluation_ids])))
        )
    assert len(statuses) == 1 and statuses != {"submitted"}, statuses


def test_http_indicator_edits_get_409_never_5xx(db, world, session, live_server):
    """Twenty HTTP clients PATCH the draft table's indicators at one version against one uvicorn."""
    import httpx

    from app.services import tokens

    version = _as_draft(db, world)
    _, secret = tokens.create_token(
        session=session, role="unit", name="并发", unit="广州市无线电监测站", scope="read write"
    )

    def patch(indicator_id: int, n: int):
        def call():
            with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}, timeout=90) as c:
                try:
                    return c.patch(
                        f"/api/v1/indicators/{indicator_id}",
                        json={"version": version, "annual_target": f"≥{30 + n}份"},
                    ).status_code
                except httpx.HTTPError as exc:
                    return type(exc).__name__

        return call

    answers = _race([patch(i, n) for n, i in enumerate(world["indicators"])])
    assert Counter(answers) == {200: 1, 409: WRITERS - 1}, Counter(answers)
    assert _project(db, world).version == version + 1
    assert len({i: t for i, t in _targets(db, world).items() if t != "≥12份"}) == 1
