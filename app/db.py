"""The engine, the per-request session dependency, and the gate that keeps requests from
waiting on the pool.

Endpoints are sync: FastAPI runs a request's dependencies and its handler in AnyIO's threadpool
(40 threads), one piece at a time, and the request's session keeps its connection in between. With
more requests in flight than pooled connections, threads that hold a connection wait for a thread
while threads wait for a connection: the whole worker stalls until the pool times out
(shared/perf-notes.md: 0.5 req/s, pool timeouts, 5xx). DatabaseGate admits at most DB_POOL_SIZE
requests at once; the others wait in line without a thread or a connection, so a request never
waits on the pool. Of those, at most JIXIAO_REQUEST_CONCURRENCY run at once (a long one steps
aside). The overflow connections stay free for what runs beside requests (imports in the background,
a streamed export's second connection, /readyz).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import anyio
import orjson
import psycopg
import sqlalchemy as sa
from fastapi import Depends, Request
from psycopg import pq
from psycopg.types.json import set_json_loads
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
        connect_args=connect_args(settings),
    )
    sa.event.listen(engine, "connect", _fast_json)
    sa.event.listen(engine, "do_connect", _connect)
    if settings.db_pool_idle_seconds > 0:
        release_when_idle(engine, settings.db_pool_idle_seconds)
    timeouts.install(
        engine,
        timeouts.Limits(
            statement=settings.db_long_statement_timeout_seconds if batch else settings.db_statement_timeout_seconds,
            long_statement=settings.db_long_statement_timeout_seconds,
            ping=settings.db_connect_timeout_seconds,
        ),
    )
    return engine


def _json_loads(data):
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # what orjson refuses and json takes (an integer past 64 bits)
        return json.loads(data)


def _fast_json(dbapi_connection, _record) -> None:
    """json/jsonb values (indicator flags and warnings, audit bodies) parsed by orjson: the standard
    library's json.loads was about a millisecond of every 100-row indicator page. Same values."""
    set_json_loads(_json_loads, dbapi_connection)


class _Cursor(psycopg.Cursor):
    """psycopg's cursor, noting on its connection any statement that may change something: all but a
    SELECT, a SET LOCAL or a SHOW (a COPY, whichever way, counts as a change, and so does a statement
    not given as plain text)."""

    def execute(self, query, params=None, **kwargs):
        if not _reads(query):
            self.connection.jixiao_changed = True
        return super().execute(query, params, **kwargs)

    def executemany(self, query, params_seq, **kwargs):
        self.connection.jixiao_changed = True
        return super().executemany(query, params_seq, **kwargs)

    def stream(self, query, params=None, **kwargs):
        if not _reads(query):
            self.connection.jixiao_changed = True
        return super().stream(query, params, **kwargs)

    def copy(self, statement, params=None, **kwargs):
        self.connection.jixiao_changed = True
        return super().copy(statement, params, **kwargs)


_READS = (b"SELECT", b"SET LOCAL", b"SHOW")


def _reads(query) -> bool:
    if isinstance(query, str):
        query = query.encode()
    elif not isinstance(query, bytes):
        return False
    return query.lstrip()[:9].upper().startswith(_READS)


class _Connection(psycopg.Connection):
    """A psycopg connection that ends a transaction which only read with COMMIT where ROLLBACK was asked.

    The two are the same for such a transaction (nothing to undo; its locks and its SET LOCAL go
    either way), but psycopg forgets every prepared statement on a ROLLBACK (and sends DEALLOCATE
    ALL): SQLAlchemy ends each read request's transaction with one, so no statement was ever
    prepared and PostgreSQL parsed and planned every statement of every request anew. A transaction
    that may have changed anything (any statement but SELECT, SET LOCAL and SHOW, through SQLAlchemy
    or on the driver), or that failed, is rolled back as asked; so is any transaction on a connection
    whose cursors are not _Cursor (given another cursor_factory, its statements go unseen).

    A SELECT can still reach outside its transaction through a function (set_config(…, false), a
    NOTIFY): the app calls none such, and tests/test_prepared_statements.py keeps it so."""

    jixiao_changed = False

    def rollback(self) -> None:
        try:
            if (
                not self.jixiao_changed
                and self.pgconn.transaction_status == pq.TransactionStatus.INTRANS
                and issubclass(self.cursor_factory, _Cursor)
            ):
                super().commit()
            else:
                super().rollback()
        finally:
            self.jixiao_changed = False

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.jixiao_changed = False


def _connect(_dialect, _record, cargs, cparams) -> psycopg.Connection:
    cparams.setdefault("cursor_factory", _Cursor)
    return _Connection.connect(*cargs, **cparams)


def release_when_idle(engine: sa.Engine, seconds: float) -> None:
    """Close the pool's connections once none has been used for `seconds`: SQLAlchemy's pool keeps
    DB_POOL_SIZE connections open for ever otherwise, and N idle replicas would hold N pools."""
    last_use = [time.monotonic()]

    @sa.event.listens_for(engine.pool, "checkout")
    def _out(*_):
        last_use[0] = time.monotonic()

    @sa.event.listens_for(engine.pool, "checkin")
    def _in(*_):
        last_use[0] = time.monotonic()

    alive = weakref.ref(engine)

    def watch() -> None:
        while True:
            time.sleep(min(seconds / 2, 30))
            current = alive()
            if current is None:  # the engine is gone (tests, the CLI): so is this thread
                return
            pool = current.pool
            if pool.checkedout() == 0 and pool.checkedin() > 0 and time.monotonic() - last_use[0] >= seconds:
                pool.dispose()  # closes the checked-in connections only; the next checkout connects anew
            del current, pool

    threading.Thread(target=watch, name="jixiao-db-idle", daemon=True).start()


def connect_args(settings: Settings) -> dict:
    """psycopg's connection options: the connect bound and, behind a transaction pooler, no prepared
    statements (a statement prepared on one server connection is unknown on the next one)."""
    args: dict = {"connect_timeout": settings.db_connect_timeout_seconds}
    if settings.db_transaction_pooler:
        args["prepare_threshold"] = None
    return args


# The request's replica session (get_read_session), closed with the request's own session.
REPLICA = "jixiao.replica_session"


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, closed at the end (with the request's replica session, if any).

    async: making a Session does no I/O, so the request pays no threadpool hop for it (a sync
    generator costs two, in and out). Closing a session that still holds a connection talks to the
    database (the pool's rollback on return), so that goes to the threadpool; an endpoint that hands
    the connection back in its own thread (`release`) spares the request that hop as well."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        replica = request.scope.pop(REPLICA, None)
        try:
            if replica is not None:
                await anyio.to_thread.run_sync(replica.close)
        finally:
            if session.in_transaction():
                await anyio.to_thread.run_sync(session.close)
            else:
                session.close()  # no connection held: nothing but memory to free


def release(session: Session) -> None:
    """End the session's transaction and return its connection to the pool, here, in the endpoint's
    own thread: the request's end then has nothing left to do on the database. For endpoints whose
    answer is complete (built from plain rows or loaded objects) before they return; the session may
    still be used afterwards (it starts a new transaction)."""
    session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def make_read_engine(settings: Settings, primary: sa.Engine) -> sa.Engine:
    """The engine of DATABASE_READ_URL (a read replica), or the primary's when none is set."""
    if not settings.database_read_url:
        return primary
    return make_engine(settings.model_copy(update={"database_url": settings.database_read_url}))


async def get_read_session(request: Request, session: SessionDep) -> Session:
    """A session on the read replica, for read-only endpoints only (DATABASE_READ_URL). It may lag the
    primary by the replication delay; what the request writes (the audit of an export) goes through the
    primary. Without a replica it is the request's own session: one connection per request, as
    DatabaseGate counts.

    async and no generator: making a Session does no I/O, so this costs no hop to the threadpool, and
    no context of its own to enter and leave; get_session closes the replica session (on a thread, as it
    may talk to the database) when it closes the request's."""
    engine = request.app.state.read_engine
    request.state.read_engine = engine
    if engine is request.app.state.engine:
        return session
    replica = Session(engine, expire_on_commit=False)
    request.scope[REPLICA] = replica
    return replica


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


# Paths that never wait behind the gate: files, and the probes (a probe that queued behind a busy
# worker would get it restarted).
UNGATED_PREFIXES = ("/static/", "/healthz", "/readyz", "/favicon")


class DatabaseGate:
    """Two limits per process. At most `limit` requests hold a place at once (DB_POOL_SIZE: one pooled
    connection each, so a request never waits on the pool), and at most `running` of them are running
    (JIXIAO_REQUEST_CONCURRENCY): the rest wait their turn, in order and without a thread, for at most
    `wait_seconds` in all, then get `busy(scope)` (a 503 that says so).

    Why fewer running than connections: two cores shared by two workers gain nothing from ten requests
    interleaving their Python on one interpreter lock, and lose a lot — every request takes as long as
    the slowest share, and the threads' switching is paid by all (bench/RESULTS.md: 200 closed-loop
    savers, 4 running against 10: about a quarter more saves a second). A request still running after
    `long_seconds` (an export streaming, an import's upload, a report rendered) steps aside: it keeps
    its place and its connection but gives its running turn to the next, so the long ones never hold
    the short ones behind them.
    """

    def __init__(
        self, app, limit: int, wait_seconds: float, busy, *, running: int | None = None, long_seconds: float = 1.0
    ) -> None:
        self.app = app
        self.limit = limit
        self.running = min(running or limit, limit)
        self.wait_seconds = wait_seconds
        self.long_seconds = long_seconds
        self.busy = busy
        self._slots: anyio.Semaphore | None = None  # made on first use, inside the event loop
        self._turns: anyio.Semaphore | None = None

    async def _enter(self) -> bool:
        """A place and a running turn, in that order, within wait_seconds in all; False if not."""
        assert self._slots is not None and self._turns is not None
        deadline = None
        for sem in (self._slots, self._turns):
            try:
                sem.acquire_nowait()  # free: in at once, without setting up a timeout
                continue
            except anyio.WouldBlock:
                pass
            if deadline is None:
                deadline = anyio.current_time() + self.wait_seconds
            admitted = False
            try:
                with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                    await sem.acquire()
                    admitted = True  # no await in between: a timeout cannot fall after the acquire
            finally:
                # timed out, or cancelled while waiting (a shutdown, a caller's cancel scope): the place
                # taken first goes back, never lost to the process
                if not admitted and sem is self._turns:
                    self._slots.release()
            if not admitted:
                return False
        return True

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNGATED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
            self._turns = anyio.Semaphore(self.running)
        if not await self._enter():
            await self.busy(scope)(scope, receive, send)
            return
        turns = self._turns
        assert turns is not None
        turn = [True]  # the request holds its running turn until it ends or steps aside

        def step_aside() -> None:
            if turn[0]:
                turn[0] = False
                turns.release()

        # on the event loop's thread, like the release at the end: no lock needed between the two
        timer = asyncio.get_running_loop().call_later(self.long_seconds, step_aside)
        try:
            await self.app(scope, receive, send)
        finally:
            timer.cancel()
            step_aside()
            self._slots.release()
