"""The engine and the per-request session dependency.

Endpoints are sync (run in AnyIO's threadpool of 40), so the pool must be at least as large
as that limit or requests stall waiting for connections (shared/perf-notes.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlmodel import Session

from app import timeouts
from app.settings import Settings


def make_engine(settings: Settings, *, batch: bool = False) -> sa.Engine:
    """Create the engine for settings.database_url (SQLite in WAL mode, or PostgreSQL via psycopg).

    A batch engine (the CLI, migrations) gives every transaction the long statement timeout.
    """
    url = settings.database_url
    if settings.is_sqlite:
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # Bounded: at most pool_size + max_overflow connections; a checkout waits at most pool_timeout;
    # LIFO reuse leaves the surplus idle at the bottom, where pool_recycle replaces it. app/timeouts.py
    # bounds connecting, pinging (the pool_pre_ping of SQLAlchemy, with a bound) and every statement.
    engine = sa.create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        pool_use_lifo=True,
        connect_args={"connect_timeout": settings.db_connect_timeout_seconds},
    )
    timeouts.install(
        engine,
        timeouts.Limits(
            statement=settings.db_long_statement_timeout_seconds if batch else settings.db_statement_timeout_seconds,
            long_statement=settings.db_long_statement_timeout_seconds,
            ping=settings.db_connect_timeout_seconds,
        ),
    )
    return engine


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed at the end."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
