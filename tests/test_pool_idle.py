"""A quiet process gives its database connections back (JIXIAO_DB_POOL_IDLE_SECONDS)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from app.db import make_engine
from app.settings import load_settings


@pytest.fixture
def database(pg_server) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


def _connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def _engine(url: str, idle: str) -> sa.Engine:
    settings = load_settings(
        DATABASE_URL=url,
        JIXIAO_ENV="test",
        SECRET_KEY="test-secret-key-0123456789",
        DB_POOL_SIZE="4",
        JIXIAO_DB_POOL_IDLE_SECONDS=idle,
    )
    return make_engine(settings)


def _burst(engine: sa.Engine, n: int = 4) -> None:
    held = [engine.connect() for _ in range(n)]
    for c in held:
        c.execute(sa.text("SELECT 1"))
    for c in held:
        c.close()


@pytest.mark.parametrize("idle, left", [("1", 0), ("0", 4)])
def test_idle_connections_are_returned_to_postgresql(database, idle, left):
    engine = _engine(database, idle)
    try:
        _burst(engine)
        assert _connections(database) == 4  # the pool keeps them while requests come
        time.sleep(2.5)
        assert _connections(database) == left
        _burst(engine, 1)  # and a request after the quiet spell simply connects again
    finally:
        engine.dispose()
