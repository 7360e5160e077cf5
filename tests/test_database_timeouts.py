"""A hung database must not hang the app: per-transaction statement timeouts (SET LOCAL, so they
hold under a transaction pooler), bounded connect and checkout, /readyz answering 503 within its
bound with no details, and recovery. The freeze test stops a private PostgreSQL with SIGSTOP."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import timeouts
from app.db import make_engine
from app.main import create_app
from app.services import tokens
from app.settings import load_settings
from tests import pg
from tests.conftest import migrate

FAST = {
    "JIXIAO_DB_CONNECT_TIMEOUT": "2",
    "JIXIAO_DB_STATEMENT_TIMEOUT": "2",
    "JIXIAO_DB_LONG_STATEMENT_TIMEOUT": "7",
    "JIXIAO_DB_POOL_TIMEOUT": "2",
    "JIXIAO_READYZ_TIMEOUT": "2",
}
SLACK = 1.5  # a loaded shared machine: time to schedule threads, not time to wait for the database


def _settings(url: str, **extra):
    return load_settings(
        DATABASE_URL=url, JIXIAO_ENV="test", SECRET_KEY="test-secret-key-0123456789", **{**FAST, **extra}
    )


def _show(session: Session) -> str:
    return session.execute(sa.text("SHOW statement_timeout")).scalar_one()


@pytest.fixture
def pg_engine(pg_server) -> Iterator[sa.Engine]:
    url = pg_server.create_database().replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(_settings(url))
    yield engine
    engine.dispose()
    pg_server.drop_database(url.replace("postgresql+psycopg://", "postgresql://"))


def test_every_transaction_sets_its_own_statement_timeout(pg_engine):
    with Session(pg_engine) as session:
        assert _show(session) == "2s"
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            session.execute(sa.text("SELECT pg_sleep(3)"))
        session.rollback()
        assert _show(session) == "2s"  # the next transaction sets it again
        timeouts.allow_long(session)  # an import or an export
        assert _show(session) == "7s"
        session.execute(sa.text("SELECT pg_sleep(2.5)"))  # longer than a page's bound: allowed here
        session.commit()
        assert _show(session) == "7s"
    with Session(pg_engine) as session:
        assert _show(session) == "2s"  # the next user of the pooled connection has the default
    # Nothing is set for the server session: a transaction pooler handing the server connection to
    # another client leaks no setting, and each transaction carries its own.
    with pg_engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        connection.rollback()
        raw.autocommit = True
        assert raw.execute("SHOW statement_timeout").fetchone()[0] == "0"
        raw.autocommit = False


def test_probes_answer_head(client):
    for path in ("/healthz", "/readyz"):
        response = client.head(path)
        assert response.status_code == 200 and response.content == b"", path


def test_readyz_gives_no_database_details():
    settings = load_settings(DATABASE_URL="postgresql://jixiao:s3cret@127.0.0.1:1/secretdb", JIXIAO_ENV="test")
    with TestClient(create_app(settings)) as c:
        response = c.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "数据库暂时不可用"}
    for detail in ("127.0.0.1", "secretdb", "jixiao", "psycopg", "connection", "refused"):
        assert detail not in response.text


@pytest.fixture(scope="module")
def private_pg() -> Iterator[pg.PgServer]:
    server = pg.start_private()
    if server is None:
        pytest.fail("no PostgreSQL binaries under /usr/lib/postgresql: the freeze test needs its own server")
    yield server
    thaw(server)
    server.stop()


def freeze(server: pg.PgServer) -> None:
    for pid in server.processes():
        os.kill(pid, signal.SIGSTOP)


def thaw(server: pg.PgServer) -> None:
    for pid in server.processes():
        os.kill(pid, signal.SIGCONT)


def _timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


def test_a_frozen_database_gets_503_within_the_bounds_and_the_app_recovers(private_pg):
    url = private_pg.create_database().replace("postgresql://", "postgresql+psycopg://")
    migrate(url)
    settings = _settings(url)
    app = create_app(settings)
    with Session(app.state.engine) as session:
        _, secret = tokens.create_token(session=session, role="finance", name="探针")
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/units", headers=auth).status_code == 200
        assert client.get("/readyz").status_code == 200
        held = app.state.engine.connect()  # a request in the middle of its transaction
        held.execute(sa.text("SELECT 1"))

        freeze(private_pg)
        try:
            ready, took = _timed(lambda: client.get("/readyz"))
            assert ready.status_code == 503 and took < float(FAST["JIXIAO_READYZ_TIMEOUT"]) + SLACK, took
            assert ready.json() == {"status": "unavailable", "reason": "数据库暂时不可用"}
            head, took = _timed(lambda: client.head("/readyz"))
            assert head.status_code == 503 and took < float(FAST["JIXIAO_READYZ_TIMEOUT"]) + SLACK, took
            alive, took = _timed(lambda: client.get("/healthz"))
            assert alive.status_code == 200 and took < SLACK  # the process is alive: no restart would help

            # A new request: its pooled connection's ping is cut after the connect bound, then a new
            # connection times out too. A clear 503, not a hang.
            api, took = _timed(lambda: client.get("/api/v1/units", headers=auth))
            assert api.status_code == 503, api.text
            assert api.json()["error"] == "database_unavailable" and "数据库" in api.json()["message"]
            assert api.headers["retry-after"]
            assert took < 2 * float(FAST["JIXIAO_DB_CONNECT_TIMEOUT"]) + SLACK, took

            # A statement sent to the frozen server: the server cannot enforce its own timeout, the
            # watchdog cuts the connection just past it.
            with pytest.raises(sa.exc.OperationalError):
                _, took = _timed(lambda: held.execute(sa.text("SELECT 2")))
            held.close()

            page, took = _timed(lambda: client.get("/login"))  # pages that need no database still answer
            assert page.status_code == 200
        finally:
            thaw(private_pg)

        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready 20 s after the database came back"
            time.sleep(0.2)
        assert client.get("/api/v1/units", headers=auth).status_code == 200
    app.state.engine.dispose()


def test_a_statement_on_a_frozen_server_is_cut_past_its_timeout(private_pg):
    url = private_pg.create_database().replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(_settings(url))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            freeze(private_pg)
            try:
                start = time.monotonic()
                with pytest.raises(sa.exc.OperationalError):
                    connection.execute(sa.text("SELECT 2"))
                took = time.monotonic() - start
            finally:
                thaw(private_pg)
        assert 2 <= took < 2 + timeouts.GRACE_SECONDS + SLACK, took
        with engine.connect() as connection:  # the cut connection was discarded; a new one works
            assert connection.execute(sa.text("SELECT 3")).scalar_one() == 3
    finally:
        engine.dispose()


def test_batch_engines_of_the_cli_and_migrations_get_the_long_timeout(pg_server):
    """A migration or a CLI rescore over a province's rows must not be cut at a page's 2 s."""
    url = pg_server.create_database().replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(_settings(url), batch=True)
    try:
        with Session(engine) as session:
            assert _show(session) == "7s"
    finally:
        engine.dispose()
        pg_server.drop_database(url.replace("postgresql+psycopg://", "postgresql://"))


def test_the_pool_is_bounded_and_connections_go_back(client, app, settings):
    pool = app.state.engine.pool
    assert pool.size() == settings.db_pool_size and pool._max_overflow == settings.db_max_overflow
    assert pool._timeout == settings.db_pool_timeout_seconds
    for path in ("/readyz", "/api/v1/units", "/login"):
        client.get(path)
    assert pool.checkedout() == 0  # every request returned its connection
    if app.state.engine.dialect.name == "postgresql":
        assert pool._recycle == settings.db_pool_recycle_seconds


def test_a_connection_the_server_closed_is_replaced_even_when_just_used(pg_engine):
    """A checkout skips the ping for a connection used a moment ago only while its socket is quiet: one
    whose server ended it (a restart, pg_terminate_backend) is pinged, discarded and replaced."""
    with pg_engine.connect() as connection:
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    url = pg_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 5
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with pg_engine.connect() as connection:  # within a second of its last use
        assert connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
        assert connection.execute(sa.text("SHOW statement_timeout")).scalar_one() == "2s"
