"""Test fixtures: every database-backed test runs on SQLite and on a real PostgreSQL, each on a
schema built by `alembic upgrade head`, each test starting from empty tables."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from app.db import make_engine
from app.settings import Settings, load_settings
from tests import pg

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_pg_state: dict = {}


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:starlette.testclient")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:fastapi.testclient")


def pytest_terminal_summary(terminalreporter):
    if _pg_state.get("missing"):
        terminalreporter.write_sep("!", "PostgreSQL TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"reason: {_pg_state['missing']}", red=True)
        terminalreporter.write_line("set TEST_DATABASE_URL or install PostgreSQL (apt-get install postgresql)")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    server, why = pg.find_server()
    if server is None:
        _pg_state["missing"] = why
        if IN_CI:
            pytest.fail(f"CI=true and no PostgreSQL for the tests: {why}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {why}")
    yield server
    server.stop()


# On PostgreSQL the tests run as production does: migrations as the owner, the application as
# its own role, which may only INSERT and SELECT on the audit table (granted by migrations/env.py).
APP_ROLE = "jixiao_test_app"
APP_PASSWORD = "jixiao-test-app"


def migrate(url: str) -> None:
    from alembic import command

    from app.cli import alembic_config

    config = alembic_config(url)
    if url.startswith("postgresql"):
        config.attributes["app_role"] = APP_ROLE
        config.attributes["app_password"] = APP_PASSWORD
    command.upgrade(config, "head")
    if url.startswith("postgresql") and os.environ.get("JIXIAO_TEST_PARTITIONED"):
        # the operator's step `jixiao db partition` (README 横向扩展): the same tests on partitioned tables
        command.upgrade(alembic_config(url, "partition"), "head")


def as_app_role(owner_url: str) -> str:
    """The same database, reached as the application's role (what DATABASE_URL is in production)."""
    url = sa.engine.make_url(owner_url).set(username=APP_ROLE, password=APP_PASSWORD)
    return url.render_as_string(hide_password=False)


def new_database(request, kind: str, tmp_path_factory) -> tuple[str, callable]:
    """A fresh empty database of the given kind and a function that removes it."""
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / "jixiao.db"
        return f"sqlite:///{path}", lambda: None
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    return url.replace("postgresql://", "postgresql+psycopg://"), lambda: server.drop_database(url)


_owners: dict[str, str] = {}


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_url(request, tmp_path_factory) -> Iterator[str]:
    """A migrated database for this test run, on SQLite and on PostgreSQL, as the application
    reaches it: on PostgreSQL as its own restricted role, the migrations having run as the owner."""
    url, drop = new_database(request, request.param, tmp_path_factory)
    migrate(url)
    app_url = as_app_role(url) if url.startswith("postgresql") else url
    _owners[app_url] = url
    yield app_url
    drop()


@pytest.fixture(scope="session")
def owner_url(db_url) -> str:
    """The same database as the role that owns the schema (it ran the migrations)."""
    return _owners[db_url]


@pytest.fixture(scope="session")
def owner_engine(owner_url, db_url, engine) -> Iterator[sa.Engine]:
    """The schema owner's engine: what an administrator with the migration role could do."""
    if owner_url == db_url:
        yield engine
        return
    owner = sa.create_engine(owner_url, pool_size=2)
    yield owner
    owner.dispose()


@pytest.fixture(scope="session")
def settings(db_url) -> Settings:
    return load_settings(DATABASE_URL=db_url, JIXIAO_ENV="test", SECRET_KEY="test-secret-key-0123456789")


@pytest.fixture(scope="session")
def engine(settings) -> Iterator[sa.Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                conn.execute(sa.text(f'DELETE FROM "{name}"'))
            conn.execute(sa.text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn) -> bool:
    return bool(conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def db(engine, owner_engine) -> Iterator[sa.Engine]:
    """The test database, emptied after the test (by its owner: the app's role cannot empty the audit)."""
    yield engine
    _empty_tables(owner_engine)


@pytest.fixture
def session(db) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(db, settings):
    from app.main import create_app

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def live_server(db, settings) -> Iterator[str]:
    """A real uvicorn (one worker) on 127.0.0.1 serving the test database; yields its base URL."""
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, DATABASE_URL=settings.database_url, JIXIAO_ENV="test", SECRET_KEY=settings.secret_key)
    # The server's output goes to a file, not a pipe: a pipe nobody reads fills up and blocks the
    # server, and reading one before the process ends blocks the test run forever.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded shared machine starts a Python server slowly
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(10)
            log.seek(0)
            out = log.read().decode(errors="replace")
            log.close()
            pytest.fail(f"uvicorn did not start within 90 s:\n{out}")
        time.sleep(0.1)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    log.close()
