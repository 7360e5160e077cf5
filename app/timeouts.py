"""Bounds on waiting for PostgreSQL, so that a hung database cannot hang the app.

- connect: libpq's connect_timeout bounds the whole handshake (a frozen server accepts the TCP
  connection in its kernel and then never answers);
- checkout: the pool's pool_timeout; every checkout pings the connection under the watchdog below;
- statements: `SET LOCAL statement_timeout` at the start of every transaction, so that it holds
  under a transaction pooler (PgBouncer in transaction mode hands each transaction to any server
  connection and drops session-level SETs and startup options); imports and exports ask for a
  longer one with `allow_long(session)`;
- a server that does not answer at all cannot enforce its own statement_timeout: a watchdog thread
  shuts the socket of a statement still unanswered a few seconds past its timeout, so the driver
  raises at once (the connection is then discarded by the pool) instead of waiting for ever.

No web framework here: services call `allow_long`; app/db.py installs the rest on the engine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("jixiao.db")

LONG = "jixiao_long_statements"
# Past its own statement_timeout, how long the server still has to answer before the watchdog cuts.
GRACE_SECONDS = 2.0


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


def install(engine: sa.Engine, limits: Limits) -> None:
    """Put the timeouts and the watchdog on a PostgreSQL engine."""
    engine.jixiao_limits = limits  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _statement_timeout(connection):
        _set_local(connection, limits.statement)

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

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection, record, proxy):
        # What pool_pre_ping does, but bounded: a connection to a frozen server would never answer.
        # Pinged in autocommit (set on the client only), so that no transaction is left open.
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


@event.listens_for(Session, "after_begin")
def _long_statements(session, transaction, connection):
    limits = getattr(connection.engine, "jixiao_limits", None)
    if limits is not None and session.info.get(LONG):
        _set_local(connection, limits.long_statement)
