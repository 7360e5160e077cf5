"""Recording who did what: one audit event per change, append-only, hash-chained per stream.

Each event belongs to a stream (by default its entity, e.g. `self_evaluation:12`; an import's
changes to one target table share `project:7`). Within a stream events are numbered 1, 2, 3 …
(`seq`, unique with the stream) and each carries the SHA-256 of its content and of the event
before it (`prev_hash`), so an edited, removed or re-ordered event breaks the chain that
`jixiao audit verify` walks. Writers on different streams never wait for each other; two writers
appending to one stream at once collide on the unique (stream, seq): the loser re-reads the head
and appends after it (a savepoint, so the change being recorded is not lost).

The chain proves integrity against edits made without recomputing every later hash; the
database role the application runs as cannot UPDATE or DELETE this table at all (PostgreSQL,
see `grant_app_role`), so edits need the owner's role. See SECURITY.md.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from app.models import AuditEvent
from app.security import Principal
from app.sqltypes import page_limit, utcnow

GENESIS = "0" * 64
GENESIS_SEQ = 0  # the seq "before" a stream's first event
MAX_ATTEMPTS = 20
STREAM_MAX = 200


def stream_of(entity_type: str, entity_id: int | None, actor: str) -> str:
    """The chain an event joins: its entity's, or (an event about no single row) its actor's."""
    key = str(entity_id) if entity_id is not None else actor
    return f"{entity_type}:{key}"[:STREAM_MAX]


def _plain_json(value: Any) -> Any:
    """The value as the JSON column will give it back (so the hash matches after a round trip)."""
    if value is None or _json_as_is(value):
        return value
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _json_as_is(value: Any) -> bool:
    """Whether the JSON round trip gives the value back equal as it is: strings, None, and dicts of those
    under string keys (what most events record, e.g. a save's fields before and after), which then skip it."""
    if type(value) is dict:
        return all(type(k) is str and (v is None or type(v) is str or _json_as_is(v)) for k, v in value.items())
    return False


class Event(SimpleNamespace):
    """An audit event being appended: the columns of its audit_event row (id, seq and hashes set by _append)."""


def event_hash(event: AuditEvent | Event) -> str:
    """SHA-256 over the event's content and the hash of the event before it in its stream."""
    at: datetime = event.at
    content = {
        "stream": event.stream,
        "seq": event.seq,
        "prev_hash": event.prev_hash,
        "at": at.isoformat(),
        "user_id": event.user_id,
        "actor": event.actor,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "before": event.before,
        "after": event.after,
        "note": event.note,
    }
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cli_operator() -> str:
    """The operating-system account running the jixiao command (and who sudo'ed into it)."""
    try:
        import pwd

        name = pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        name = getpass.getuser()
    sudo = os.environ.get("SUDO_USER")
    return f"cli:{name}" + (f"（sudo：{sudo}）" if sudo and sudo != name else "")


def record(
    *,
    session: Session,
    actor: Principal | str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    stream: str | None = None,
    head: tuple[int, str] | None = None,
) -> Event:
    """Append an audit event to its stream (committed with the change it records). `head`: the
    stream's (seq, hash) as the caller read it earlier in the transaction (head_query), which saves
    reading it again; if another writer appended since, the append reads the new head and retries."""
    if isinstance(actor, Principal):
        user_id, name = actor.user_id, actor.name
    else:
        user_id, name = None, actor
    name = name[:200]
    # the row's values as a plain object, not an entity: it is written by its own INSERT (_insert), never
    # through the session, and building a table model's instance was a third of the cost of recording
    event = Event(
        id=None,
        user_id=user_id,
        actor=name,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=_plain_json(before),
        after=_plain_json(after),
        note=note,
        at=utcnow(),
        stream=stream or stream_of(entity_type, entity_id, name),
        seq=None,
        prev_hash=None,
        hash=None,
    )
    _append(session, event, head)
    return event


def exported(*, session: Session, actor: Principal | str, what: str, fmt: str, filters: dict[str, Any]) -> None:
    """A download of data (a list as csv/xlsx, a workbook of 自评表): who took what, with which filters."""
    record(
        session=session,
        actor=actor,
        action="export",
        entity_type="export",
        entity_id=None,
        after={"what": what, "format": fmt, "filters": {k: v for k, v in filters.items() if v is not None}},
    )
    session.commit()


# Who may read the audit (the admin page and GET /api/v1/audit).
READER_ROLES = ("finance", "admin")


@dataclass
class AuditFilters:
    """What the audit list can be narrowed by; every field optional."""

    action: str | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    actor: str | None = None
    stream: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def check_reader(principal: Principal) -> None:
    """Only the finance bureau and administrators read the audit."""
    from app.services.errors import PermissionDenied

    if principal.role not in READER_ROLES:
        raise PermissionDenied("只有财政局和管理员可以查看审计记录")


def list_events(
    *, session: Session, principal: Principal, filters: AuditFilters, after: int | None = None, limit: int = 100
) -> list[sa.RowMapping]:
    """Audit events matching the filters, by id after the keyset `after` (finance and admin only)."""
    check_reader(principal)
    t = AuditEvent
    stmt = select(
        t.id, t.at, t.actor, t.user_id, t.action, t.entity_type, t.entity_id, t.stream, t.seq,
        t.before, t.after, t.note, t.hash,
    ).order_by(t.id).limit(page_limit(limit))  # fmt: skip
    if after is not None:
        stmt = stmt.where(t.id > after)
    for column, value in (
        (t.action, filters.action),
        (t.entity_type, filters.entity_type),
        (t.entity_id, filters.entity_id),
        (t.actor, filters.actor),
        (t.stream, filters.stream),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.since is not None:
        stmt = stmt.where(t.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(t.at < filters.until)
    return list(session.exec(stmt).mappings())


def head_query(stream: str) -> sa.Select:
    """The last event of a stream: (seq, hash); no row for an empty stream (GENESIS_SEQ, GENESIS)."""
    return (
        sa.select(_TABLE.c.seq, _TABLE.c.hash).where(_TABLE.c.stream == stream).order_by(_TABLE.c.seq.desc()).limit(1)
    )


def _head(connection: sa.Connection, stream: str) -> tuple[int, str]:
    row = connection.execute(head_query(stream)).first()
    return (row[0], row[1]) if row else (GENESIS_SEQ, GENESIS)


_TABLE: sa.Table = AuditEvent.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.name for c in _TABLE.columns if c.name != "id")


def _insert(connection: sa.Connection, event: Event, *, skip_taken: bool) -> int | None:
    """INSERT the event's row on the connection (not through the unit of work: one statement, no flush
    of its own); its id, or None when `skip_taken` and another writer holds its (stream, seq)."""
    values = {name: getattr(event, name) for name in _COLUMNS}
    if not skip_taken:
        return connection.execute(_INSERT, values).inserted_primary_key[0]
    return connection.execute(_INSERT_UNLESS_TAKEN, values).scalar()


# Built once: a statement made per call spends more in SQLAlchemy's coercions than in the database.
_INSERT = sa.insert(_TABLE)
# ON CONFLICT DO NOTHING: a writer that took this seq (its commit ended our wait on the key) makes the
# insert answer no row instead of an error, so the transaction survives without a savepoint.
_INSERT_UNLESS_TAKEN = (
    postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["stream", "seq"]).returning(_TABLE.c.id)
)


def _append(session: Session, event: Event, head: tuple[int, str] | None = None) -> None:
    # What the event records is flushed first, outside the retry: its own errors are the caller's.
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite has one writer at a time: take the write lock before reading the head, so no one
        # can append between the read and the insert (a no-op when this transaction already wrote).
        raw = connection.connection.dbapi_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        event.seq, event.prev_hash = _head_next(connection, event.stream)
        event.hash = event_hash(event)
        event.id = _insert(connection, event, skip_taken=False)
        return
    for _ in range(MAX_ATTEMPTS):
        seq, last = head or _head(connection, event.stream)
        head = None  # a second attempt reads the head
        event.seq, event.prev_hash = seq + 1, last
        event.hash = event_hash(event)
        new_id = _insert(connection, event, skip_taken=True)
        if new_id is not None:
            event.id = new_id
            return
        # Another writer took this seq and committed: read the new head and append after it.
    raise RuntimeError(f"审计记录无法追加到 {event.stream}：{MAX_ATTEMPTS} 次都与其他写入冲突")


def _head_next(connection: sa.Connection, stream: str) -> tuple[int, str]:
    seq, last = _head(connection, stream)
    return seq + 1, last


# --- verification ------------------------------------------------------------------------------


@dataclass
class Break:
    """One place where a stream's chain does not hold."""

    stream: str
    seq: int
    event_id: int | None
    problem: str


@dataclass
class Verification:
    streams: int
    events: int
    breaks: list[Break]
    digest: str  # SHA-256 over every stream's head: record it elsewhere to notice a truncated tail

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(*, session: Session, batch: int = 5000) -> Verification:
    """Walk every stream's chain: contiguous numbers from 1, each hash recomputed and linked."""
    breaks: list[Break] = []
    heads = hashlib.sha256()
    streams = events = 0
    current: str | None = None
    expected_seq, expected_prev = 1, GENESIS
    last_key: tuple[str, int] | None = None

    def close(stream: str, seq: int, last_hash: str) -> None:
        heads.update(f"{stream}\n{seq}\n{last_hash}\n".encode())

    last_hash = GENESIS
    while True:
        query = select(AuditEvent).order_by(AuditEvent.stream, AuditEvent.seq).limit(batch)
        if last_key is not None:
            query = query.where(sa.tuple_(AuditEvent.stream, AuditEvent.seq) > sa.tuple_(*last_key))
        rows = session.exec(query).all()
        if not rows:
            break
        for event in rows:
            events += 1
            if event.stream != current:
                if current is not None:
                    close(current, expected_seq - 1, last_hash)
                current, expected_seq, expected_prev = event.stream, 1, GENESIS
                streams += 1
            if event.seq != expected_seq:
                breaks.append(
                    Break(
                        event.stream,
                        event.seq,
                        event.id,
                        f"序号不连续：应为 {expected_seq}，实为 {event.seq}（其间的记录被删除）",
                    )
                )
            if event.prev_hash != expected_prev:
                breaks.append(
                    Break(event.stream, event.seq, event.id, "与前一条记录的摘要不衔接（前一条被改动或删除）")
                )
            actual = event_hash(event)
            if actual != event.hash:
                breaks.append(Break(event.stream, event.seq, event.id, "内容与其摘要不符（这条记录被改动过）"))
            expected_seq, expected_prev, last_hash = event.seq + 1, event.hash, event.hash
        last_key = (rows[-1].stream, rows[-1].seq)
        session.expunge_all()
    if current is not None:
        close(current, expected_seq - 1, last_hash)
    return Verification(streams=streams, events=events, breaks=breaks, digest=heads.hexdigest())


# --- the database role the application runs as (PostgreSQL) ------------------------------------

AUDIT_TABLE = "audit_event"


def grant_app_role(connection: sa.Connection, role: str) -> None:
    """Give the application's role what it needs and no more on the audit: every table's rows,
    but on the audit table only SELECT and INSERT (never UPDATE, DELETE or TRUNCATE). Run after
    every migration (migrations/env.py), so tables added later are granted too."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        raise RuntimeError(
            f"数据库中没有角色「{role}」（JIXIAO_DB_APP_ROLE）：请先建立它，"
            f"例如 CREATE ROLE {quoted} LOGIN PASSWORD '…'，或同时设置 JIXIAO_DB_APP_PASSWORD 由迁移建立"
        )
    connection.execute(sa.text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    connection.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
    connection.execute(sa.text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    connection.execute(sa.text(f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {quoted}"))
    connection.execute(sa.text(f"REVOKE ALL ON alembic_version FROM {quoted}"))
    connection.execute(sa.text(f"GRANT SELECT ON alembic_version TO {quoted}"))


def ensure_app_role(connection: sa.Connection, role: str, password: str | None) -> None:
    """Create the application's login role if it is missing and a password is given; set the
    password when given (so a changed password in .env takes effect at the next migration)."""
    quoted = connection.dialect.identifier_preparer.quote(role)
    if not password:
        return
    literal = "'" + password.replace("'", "''") + "'"
    exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    statement = "ALTER" if exists else "CREATE"
    try:
        with connection.begin_nested():
            connection.execute(sa.text(f"{statement} ROLE {quoted} LOGIN PASSWORD {literal}"))
    except sa.exc.DBAPIError:
        # Another migration (of another database in the cluster: roles are per cluster) created or
        # altered it at the same moment, with the password it was given; grant_app_role checks it exists.
        pass
