"""The audit is append-only and tamper-evident: a hash chain per stream, verified by
`jixiao audit verify`; on PostgreSQL the application's role cannot UPDATE, DELETE or TRUNCATE it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import AuditEvent, Department
from app.services import audit


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=url, JIXIAO_ENV="test")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _events(session: Session, n: int, entity_id: int = 1) -> list[AuditEvent]:
    made = []
    for i in range(n):
        made.append(
            audit.record(
                session=session,
                actor="tester",
                action="test.change",
                entity_type="self_evaluation",
                entity_id=entity_id,
                before={"actual": f"{i}份"},
                after={"actual": f"{i + 1}份", "deviation_reason": "单位写的原因"},
            )
        )
        session.commit()
    return made


def test_events_are_numbered_and_chained_per_stream(session):
    first = _events(session, 3, entity_id=1)
    other = _events(session, 2, entity_id=2)
    assert [(e.stream, e.seq) for e in first] == [
        ("self_evaluation:1", 1),
        ("self_evaluation:1", 2),
        ("self_evaluation:1", 3),
    ]
    assert [(e.stream, e.seq) for e in other] == [("self_evaluation:2", 1), ("self_evaluation:2", 2)]
    assert first[0].prev_hash == audit.GENESIS
    assert first[1].prev_hash == first[0].hash and first[2].prev_hash == first[1].hash
    assert other[0].prev_hash == audit.GENESIS  # its own chain: no writer waits for another entity's
    result = audit.verify(session=session)
    assert result.ok and (result.events, result.streams) == (5, 2)


def test_verify_finds_a_row_tampered_by_the_owner(session, owner_engine, owner_url):
    """An administrator with the schema owner's role rewrites a value: the chain names that row."""
    events = _events(session, 4)
    assert run_cli(owner_url, "verify").returncode == 0
    target = events[1]
    with owner_engine.begin() as conn:
        conn.execute(
            sa.update(AuditEvent.__table__)
            .where(AuditEvent.__table__.c.id == target.id)
            .values(after={"actual": "999份", "deviation_reason": "单位写的原因"})
        )
    session.expunge_all()
    result = audit.verify(session=session)
    assert [(b.stream, b.seq, b.event_id) for b in result.breaks] == [("self_evaluation:1", 2, target.id)]
    assert "被改动" in result.breaks[0].problem

    done = run_cli(owner_url, "verify")
    assert done.returncode == 1
    assert f"记录流 self_evaluation:1 第 2 条（编号 {target.id}）" in done.stdout
    assert "摘要链有 1 处不符" in done.stderr


def test_verify_finds_a_deleted_row(session, owner_engine):
    events = _events(session, 4)
    with owner_engine.begin() as conn:
        conn.execute(sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.id == events[1].id))
    session.expunge_all()
    result = audit.verify(session=session)
    assert {(b.seq, b.event_id) for b in result.breaks} == {(3, events[2].id)}
    assert any("序号不连续" in b.problem for b in result.breaks)


def test_verify_notices_a_truncated_tail_through_the_digest(session, owner_engine):
    """Removing a stream's last events leaves a valid chain: the heads' digest changes (record it elsewhere)."""
    events = _events(session, 3)
    before = audit.verify(session=session).digest
    with owner_engine.begin() as conn:
        conn.execute(sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.id == events[-1].id))
    session.expunge_all()
    after = audit.verify(session=session)
    assert after.ok and after.digest != before


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET note = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event"],
)
def test_the_application_role_cannot_change_the_audit(session, db_url, statement):
    _events(session, 1)
    url = sa.engine.make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] != "postgres"
        conn.execute("INSERT INTO department (name, created_at) VALUES ('能写业务表', now())")  # its rows: yes
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    assert session.exec(select(sa.func.count()).select_from(AuditEvent)).one() == 1


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_writers_on_one_stream_all_append(engine, session):
    """20 writers append to one stream at once, each with a change of its own: every change and every
    event lands, numbered 1…20 without a gap, and the chain verifies."""
    writers = 20
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                s.add(Department(name=f"部门{n}"))
                barrier.wait()
                audit.record(
                    session=s,
                    actor=f"writer{n}",
                    action="test.race",
                    entity_type="project",
                    entity_id=7,
                    after={"n": n},
                )
                s.commit()
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    rows = session.exec(select(AuditEvent).where(AuditEvent.stream == "project:7").order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == list(range(1, writers + 1))
    assert sorted(r.after["n"] for r in rows) == list(range(writers))
    assert session.exec(select(sa.func.count()).select_from(Department)).one() == writers
    assert audit.verify(session=session).ok


def test_a_writer_that_loses_the_race_appends_after_the_winner(engine, session):
    """The second writer reads the same head while the first has not committed: it must wait or
    retry, never fail and never fork the chain (deterministic on both databases)."""
    _events(session, 1)
    first = Session(engine, expire_on_commit=False)
    audit.record(session=first, actor="a", action="test.race", entity_type="self_evaluation", entity_id=1)
    outcome: dict = {}

    def second() -> None:
        try:
            with Session(engine, expire_on_commit=False) as s:
                event = audit.record(
                    session=s, actor="b", action="test.race", entity_type="self_evaluation", entity_id=1
                )
                s.commit()
                outcome["seq"] = event.seq
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(1.0)  # it waits for the first writer's lock (the unique key, or SQLite's write lock)
    assert thread.is_alive()
    first.commit()
    first.close()
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["seq"] == 3
    assert audit.verify(session=session).ok
