"""Bounds on waiting for PostgreSQL, so that a hung database cannot hang the app.

- connect: libpq's connect_timeout bounds the whole handshake (a frozen server accepts the TCP
  connection in its kernel and then never answers);
- checkout: the pool's pool_timeout; a checkout pings the connection under the watchdog below, unless
  it was in use less than PING_AFTER_SECONDS ago and its socket has nothing to read (a server that
  closed the connection, restarted or terminated it, leaves it readable: that one is pinged, fails
  and is replaced);
- statements: `SET LOCAL statement_timeout` at the start of every transaction, so that it holds
  under a transaction pooler (PgBouncer in transaction mode hands each transaction to any server
  connection and drops session-level SETs and startup options), sent with the transaction's BEGIN
  in one round trip; imports and exports ask for a longer one with `allow_long(session)`;
- a server that does not answer at all cannot enforce its own statement_timeout: a watchdog thread
  shuts the socket of a statement still unanswered a few seconds past its timeout, so the driver
  raises at once (the connection is then discarded by the pool) instead of waiting for ever.

No web framework here: services call `allow_long`; app/db.py installs the rest on the engine.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from psycopg import errors as pg_errors
from psycopg import generators, pq
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("jixiao.db")

LONG = "jixiao_long_statements"
# Past its own statement_timeout, how long the server still has to answer before the watchdog cuts.
GRACE_SECONDS = 2.0
# A connection back in the pool for less than this is handed out without a ping round trip when its
# socket has nothing to read. Under load a connection is reused within milliseconds: the ping was a
# round trip on every request. A frozen server is then met by the first statement, which the
# watchdog cuts past its timeout (the same bound as a request's statements).
PING_AFTER_SECONDS = 1.0
_USED = "jixiao_used"


@dataclass(frozen=True)
class Limits:
    """The per-transaction statement timeouts and the ping bound, in seconds."""

    statement: float
    long_statement: float
    ping: float


class Watchdog:
    """Cuts the connection of a statement its server has left unanswered past a deadline."""

    def __init__(self, tick: float = 0.2):
        self._tick = tick
        self._lock = threading.Lock()
        self._due: dict[int, tuple[float, int]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, key: int, fd: int, seconds: float) -> None:
        with self._lock:
            self._due[key] = (time.monotonic() + seconds, fd)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="jixiao-db-watchdog", daemon=True)
                self._thread.start()

    def release(self, key: int) -> None:
        with self._lock:
            self._due.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(self._tick)
            now = time.monotonic()
            with self._lock:
                late = [(key, fd) for key, (deadline, fd) in self._due.items() if deadline <= now]
                for key, fd in late:
                    del self._due[key]
                    _cut(fd)


def _cut(fd: int) -> None:
    # shutdown() acts on the socket, not on the descriptor: the driver's blocked read sees the end of
    # the stream and raises. Done under the watchdog's lock, so `release` cannot race a reused fd.
    log.warning("database did not answer in time: cutting its connection (fd %s)", fd)
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.close()


WATCHDOG = Watchdog()


def allow_long(session: Session) -> None:
    """This session's transactions (the current one included) get the long statement timeout: an
    import or an export, which legitimately runs long statements."""
    session.info[LONG] = True
    bind = session.get_bind()
    limits = getattr(bind, "jixiao_limits", None)
    if limits is not None and session.in_transaction():
        _set_local(session.connection(), limits.long_statement)


def _set_local(connection: sa.Connection, seconds: float) -> None:
    connection.info["jixiao_timeout"] = seconds
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")


def _begin(connection: sa.Connection, seconds: float) -> None:
    """Start the transaction with its statement timeout: `BEGIN; SET LOCAL …` in one simple-query
    message (one round trip), where psycopg would send its BEGIN and then the SET. Anything unusual
    (autocommit, pipeline, a transaction option, a transaction already open) takes the plain way."""
    dbapi = connection.connection.dbapi_connection
    pgconn = getattr(dbapi, "pgconn", None)
    if (
        pgconn is None
        or dbapi.autocommit
        or dbapi._pipeline is not None
        or dbapi.isolation_level is not None
        or dbapi.read_only is not None
        or dbapi.deferrable is not None
        or pgconn.transaction_status != pq.TransactionStatus.IDLE
    ):
        _set_local(connection, seconds)
        return
    connection.info["jixiao_timeout"] = seconds
    key = id(dbapi)
    WATCHDOG.watch(key, dbapi.fileno(), seconds + GRACE_SECONDS)
    try:
        pgconn.send_query(b"BEGIN; SET LOCAL statement_timeout = %d" % int(seconds * 1000))
        results = dbapi.wait(generators.execute(pgconn))
        failed = next((r for r in results if r.status != pq.ExecStatus.COMMAND_OK), None)
        if failed is not None or len(results) != 2:
            raise pg_errors.OperationalError("could not begin the transaction")
    except Exception:
        # The connection is broken (or was cut): the plain way meets the same error through
        # SQLAlchemy, which wraps it (a 503) and invalidates the connection.
        if pgconn.transaction_status == pq.TransactionStatus.INTRANS:
            return  # both statements ran; only the reading of their answers failed
        _set_local(connection, seconds)
    finally:
        WATCHDOG.release(key)


def install(engine: sa.Engine, limits: Limits) -> None:
    """Put the timeouts and the watchdog on a PostgreSQL engine."""
    engine.jixiao_limits = limits  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _statement_timeout(connection):
        _begin(connection, limits.statement)

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(connection, cursor, statement, parameters, context, executemany):
        seconds = connection.info.get("jixiao_timeout", limits.statement)
        dbapi = connection.connection.dbapi_connection
        WATCHDOG.watch(id(dbapi), dbapi.fileno(), seconds + GRACE_SECONDS)

    @event.listens_for(engine, "after_cursor_execute")
    def _done(connection, cursor, statement, parameters, context, executemany):
        WATCHDOG.release(id(connection.connection.dbapi_connection))

    @event.listens_for(engine, "handle_error")
    def _failed(context):
        try:
            WATCHDOG.release(id(context.connection.connection.dbapi_connection))
        except Exception:  # no connection (it failed to connect, or was invalidated): nothing watched
            pass

    @event.listens_for(engine.pool, "checkin")
    def _used(dbapi_connection, record):
        record.info[_USED] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection, record, proxy):
        # What pool_pre_ping does, but bounded: a connection to a frozen server would never answer.
        # Pinged in autocommit (set on the client only), so that no transaction is left open.
        if time.monotonic() - record.info.get(_USED, -PING_AFTER_SECONDS) < PING_AFTER_SECONDS and _quiet(
            dbapi_connection
        ):
            return
        key = id(dbapi_connection)
        try:
            WATCHDOG.watch(key, dbapi_connection.fileno(), limits.ping)
            dbapi_connection.autocommit = True
            try:
                dbapi_connection.execute("SELECT 1")
            finally:
                dbapi_connection.autocommit = False
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"ping failed: {exc}") from exc
        finally:
            WATCHDOG.release(key)


def _quiet(dbapi_connection) -> bool:
    """The socket has nothing to read (an idle connection's server has said nothing: no FATAL
    message, no end of stream)."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:
        return False


@event.listens_for(Session, "after_begin")
def _long_statements(session, transaction, connection):
    limits = getattr(connection.engine, "jixiao_limits", None)
    if limits is not None and session.info.get(LONG):
        _set_local(connection, limits.long_statement)
