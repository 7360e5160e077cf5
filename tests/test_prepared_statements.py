"""PostgreSQL keeps what it prepared for a connection; a transaction that changed anything is still
rolled back when a rollback is asked (app/db.py: _Connection).

psycopg prepares a statement after its fifth run on a connection, but forgets all it prepared on any
ROLLBACK; SQLAlchemy ends every read request's transaction with one, so nothing was ever prepared and
each request's statements were parsed and planned anew. A transaction that only read now ends with
COMMIT, which is the same for it. These tests hold both halves: the prepared statements survive read
requests, and every way of writing (through SQLAlchemy, on the driver, COPY, a session-level SET)
is undone by a rollback as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.db import make_engine
from app.settings import load_settings


@pytest.fixture
def engine(pg_server) -> Iterator[sa.Engine]:
    url = pg_server.create_database()
    settings = load_settings(
        DATABASE_URL=url.replace("postgresql://", "postgresql+psycopg://"),
        JIXIAO_ENV="test",
        SECRET_KEY="test-secret-key-0123456789",
        DB_POOL_SIZE="1",
        JIXIAO_DB_MAX_OVERFLOW="0",
    )
    engine = make_engine(settings)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE t (id integer PRIMARY KEY, note text)")
        c.exec_driver_sql("INSERT INTO t VALUES (1, 'kept')")
    yield engine
    engine.dispose()
    pg_server.drop_database(url)


def _prepared(engine: sa.Engine) -> list[str]:
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()
    return [r[0] for r in rows]


def _rows(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as c:
        return [tuple(r) for r in c.exec_driver_sql("SELECT id, note FROM t ORDER BY id").all()]


def test_statements_of_read_only_requests_are_prepared_once_and_kept(engine):
    statement = sa.text("SELECT note FROM t WHERE id = :id")
    for _ in range(8):  # a request each: a session, one read, the session closed (a rollback asked)
        with Session(engine) as session:
            assert session.execute(statement, {"id": 1}).scalar() == "kept"
    assert any("FROM t WHERE id = $1" in s for s in _prepared(engine)), _prepared(engine)


def test_prepared_statements_survive_an_explicit_rollback_of_reads(engine):
    with Session(engine) as session:
        for _ in range(6):
            session.execute(sa.text("SELECT id FROM t WHERE note = :n"), {"n": "kept"}).all()
            session.rollback()
    assert any("FROM t WHERE note = $1" in s for s in _prepared(engine))


def _through_sqlalchemy(session: Session) -> None:
    session.execute(sa.text("INSERT INTO t VALUES (2, 'sqlalchemy')"))


def _orm_style_update(session: Session) -> None:
    session.execute(sa.text("SELECT note FROM t WHERE id = 1")).all()  # a read first, then a write
    session.execute(sa.text("UPDATE t SET note = 'changed' WHERE id = 1"))


def _cte_write(session: Session) -> None:
    session.execute(sa.text("WITH n AS (INSERT INTO t VALUES (3, 'cte') RETURNING id) SELECT id FROM n")).all()


def _driver_execute(session: Session) -> None:
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (4, 'driver')")


def _driver_executemany(session: Session) -> None:
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.executemany("INSERT INTO t VALUES (%s, %s)", [(5, "many"), (6, "many")])


def _driver_copy(session: Session) -> None:
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy("COPY t (id, note) FROM STDIN") as copy:
        copy.write_row((7, "copy"))


def _driver_composed(session: Session) -> None:
    from psycopg import sql

    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier("t")))


def _savepoint(session: Session) -> None:
    with session.begin_nested():
        session.execute(sa.text("INSERT INTO t VALUES (8, 'nested')"))


@pytest.mark.parametrize(
    "write",
    [
        _through_sqlalchemy,
        _orm_style_update,
        _cte_write,
        _driver_execute,
        _driver_executemany,
        _driver_copy,
        _driver_composed,
        _savepoint,
    ],
)
@pytest.mark.parametrize("end", ["rollback", "close"])
def test_a_transaction_that_wrote_is_rolled_back(engine, write, end):
    with Session(engine) as session:
        write(session)
        if end == "rollback":
            session.rollback()
    assert _rows(engine) == [(1, "kept")]


def test_a_session_level_set_is_undone_by_the_rollback(engine):
    """SET without LOCAL outlives a COMMIT but not a ROLLBACK: it counts as a change."""
    with engine.connect() as c:
        before = c.exec_driver_sql("SHOW lock_timeout").scalar()
        c.exec_driver_sql("SET lock_timeout = 4321")
        c.rollback()
        assert c.exec_driver_sql("SHOW lock_timeout").scalar() == before


def test_a_failed_transaction_is_rolled_back_and_the_connection_serves_on(engine):
    with Session(engine) as session:
        with pytest.raises(sa.exc.DBAPIError):
            session.execute(sa.text("SELECT 1 / 0")).all()
        session.rollback()
        assert session.execute(sa.text("SELECT note FROM t WHERE id = 1")).scalar() == "kept"


def test_what_a_committed_transaction_wrote_stays_and_the_next_read_is_not_mistaken_for_it(engine):
    with Session(engine) as session:
        session.execute(sa.text("INSERT INTO t VALUES (9, 'committed')"))
        session.commit()
        session.execute(sa.text("SELECT 1")).all()
        session.execute(sa.text("INSERT INTO t VALUES (10, 'undone')"))
        session.rollback()
    assert _rows(engine) == [(1, "kept"), (9, "committed")]


def test_a_connection_given_another_cursor_factory_is_rolled_back_as_asked(pg_server):
    """Its statements go unseen by the change tracking, so nothing of it is taken for read-only."""
    import psycopg

    from app.db import _connect

    url = pg_server.create_database()
    try:
        plain = sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://"), connect_args={"cursor_factory": psycopg.ClientCursor}
        )
        sa.event.listen(plain, "do_connect", _connect)
        with plain.begin() as c:
            c.exec_driver_sql("CREATE TABLE t (id integer)")
        with plain.connect() as c:
            c.exec_driver_sql("SELECT 1")  # the transaction begins
            driver = c.connection.driver_connection
            with driver.cursor() as cursor:
                cursor.execute("INSERT INTO t VALUES (1)")
            c.rollback()
            assert c.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        plain.dispose()
    finally:
        pg_server.drop_database(url)


def test_the_app_calls_no_function_whose_effect_would_outlive_a_read_only_commit():
    """A read-only transaction ends with COMMIT: a SELECT of set_config(…, false) or pg_notify would then
    take effect where a ROLLBACK dropped it. None is in the app's code or its migrations."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}: {word}"
        for folder in ("app", "migrations")
        for path in (root / folder).rglob("*.py")
        if path != root / "app" / "db.py"  # where this rule is written down
        for word in ("set_config", "pg_notify", "NOTIFY ")
        if word in path.read_text(encoding="utf-8")
    ]
    assert found == []
