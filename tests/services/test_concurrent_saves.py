"""Concurrent writers on PostgreSQL: every write conflict is a 409 the client can retry, never a 500.

Twenty threads, each with its own session (its own connection), save the same self-evaluation at
once, in three patterns. A service call that raises a domain error becomes that error's status
(Conflict → 409); anything else would be a 500. The tests count the answers and then read the
database to check that every acknowledged save is there.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlmodel import Session, select

from app.models import Indicator, IndicatorResult, SelfEvaluation
from app.security import principal_for_user
from app.services import evaluations
from app.services.errors import DomainError
from app.services.evaluations import ResultInput
from tests import factories
from tests.services.evaluation_data import project_with

WRITERS = 20


@pytest.fixture
def world(session, db):
    # On SQLite the writers queue on its one write lock; the answers must be the same.
    dept = factories.department(session, "广州市工业和信息化局")
    unit = factories.unit(session, "广州市无线电监测站", dept)
    user = factories.user(session, "jcz", "unit", unit_row=unit)
    targets = [("output", f"监测报告{n}", "≥12份") for n in range(WRITERS)]
    project = project_with(session, unit, targets)
    ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    indicators = list(session.exec(select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.id)))
    return {"principal": principal_for_user(user), "evaluation_id": ev.id, "indicators": [i.id for i in indicators]}


def _save(db, world, indicator_id: int, actual: str, version: int) -> int:
    """One writer's save in its own session; the HTTP status it would answer."""
    with Session(db, expire_on_commit=False) as s:
        try:
            evaluations.save(
                session=s,
                principal=world["principal"],
                evaluation_id=world["evaluation_id"],
                version=version,
                results=[ResultInput(indicator_id=indicator_id, actual=actual)],
            )
        except DomainError as exc:
            return exc.status
        except Exception:  # what the application would answer with a 500
            return 500
        return 200


def _version(db, world) -> int:
    with Session(db) as s:
        return s.get(SelfEvaluation, world["evaluation_id"]).version


def _stored(db, world) -> dict[int, str]:
    with Session(db) as s:
        rows = s.exec(select(IndicatorResult).where(IndicatorResult.self_evaluation_id == world["evaluation_id"]))
        return {r.indicator_id: r.actual for r in rows if r.actual}


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
        t.join(120)
    return out


@pytest.mark.parametrize("round_", range(3))
def test_first_save_of_one_row_by_all(db, world, round_):
    """All twenty write the same, not yet stored, row at the same version: one wins, 19 × 409."""
    target = world["indicators"][round_]
    version = _version(db, world)
    values = [f"{10 + n}份" for n in range(WRITERS)]
    answers = _race([lambda v=v: _save(db, world, target, v, version) for v in values])
    counts = Counter(answers)
    assert counts == {200: 1, 409: WRITERS - 1}, counts
    winner = values[answers.index(200)]
    assert _stored(db, world) == {target: winner}
    assert _version(db, world) == version + 1


def test_different_rows_at_one_version(db, world):
    """Each writer its own row, all at one version: one wins, the others 409, none half-saved."""
    version = _version(db, world)
    jobs = [lambda i=i: _save(db, world, i, "12份", version) for i in world["indicators"]]
    answers = _race(jobs)
    counts = Counter(answers)
    assert counts == {200: 1, 409: WRITERS - 1}, counts
    winner = world["indicators"][answers.index(200)]
    assert _stored(db, world) == {winner: "12份"}


def test_writers_that_retry_after_409(db, world):
    """Each writer retries with the fresh version after a 409 until it is saved: all are saved."""
    start = _version(db, world)
    log: list[int] = []
    lock = threading.Lock()

    def writer(indicator_id: int) -> int:
        for _attempt in range(400):
            status = _save(db, world, indicator_id, f"{indicator_id}份", _version(db, world))
            with lock:
                log.append(status)
            if status != 409:
                return status
            time.sleep(0.002)
        return 409

    answers = _race([lambda i=i: writer(i) for i in world["indicators"]])
    counts = Counter(log)
    assert not [s for s in log if s >= 500], counts
    assert answers == [200] * WRITERS, counts
    assert _stored(db, world) == {i: f"{i}份" for i in world["indicators"]}
    assert _version(db, world) == start + WRITERS  # one version per acknowledged save, none lost


# --- the same three patterns through real HTTP clients against a live server -----------------


@pytest.mark.parametrize("pattern", ["one_row", "different_rows", "retry"])
def test_http_writers_get_409_never_5xx(db, world, session, live_server, pattern):
    """20 HTTP clients, a unit token with `read write`, one uvicorn: 0 × 5xx in each pattern."""
    import httpx

    from app.services import tokens

    _, secret = tokens.create_token(
        session=session, role="unit", name="并发", unit="广州市无线电监测站", scope="read write"
    )
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/self-evaluations/{world['evaluation_id']}"
    start = _version(db, world)
    log: list[int] = []
    lock = threading.Lock()

    def put(client, indicator_id: int, actual: str, version: int) -> int:
        status = client.put(
            url, json={"version": version, "results": [{"indicator_id": indicator_id, "actual": actual}]}
        ).status_code
        with lock:
            log.append(status)
        return status

    def writer(indicator_id: int, actual: str) -> int:
        with httpx.Client(base_url=live_server, headers=headers, timeout=60) as c:
            if pattern != "retry":
                return put(c, indicator_id, actual, start)
            for _attempt in range(400):
                version = c.get(url).json()["version"]
                status = put(c, indicator_id, actual, version)
                if status != 409:
                    return status
                time.sleep(0.002)
            return 409

    ids = world["indicators"]
    if pattern == "one_row":
        jobs = [lambda n=n: writer(ids[0], f"{10 + n}份") for n in range(WRITERS)]
    else:
        jobs = [lambda i=i: writer(i, f"{i}份") for i in ids]
    answers = _race(jobs)
    assert not [s for s in log if s >= 500], Counter(log)
    stored = _stored(db, world)
    if pattern == "retry":
        assert answers == [200] * WRITERS, Counter(log)
        assert stored == {i: f"{i}份" for i in ids}
        assert _version(db, world) == start + WRITERS
    else:
        assert Counter(answers) == {200: 1, 409: WRITERS - 1}, Counter(log)
        assert len(stored) == 1 and _version(db, world) == start + 1
