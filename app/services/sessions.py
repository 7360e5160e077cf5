"""Login sessions kept in the database: started at login, checked on every request, ended by logout,
a password change, disabling the user, an administrator, or the idle and absolute timeouts.

A row per session rather than a per-user generation number: logout ends only the browser that
logged out, the idle timeout needs a per-session last-seen, and an administrator can see which
sessions a user has before ending them. Every replica of the app reads the same rows, so a session
ended on one is refused by all at once. last_seen_at is written at most once a minute (SEEN_EVERY),
so a busy page costs one small UPDATE a minute, not one per request; the idle timeout is therefore
exact to within that minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from app.models import LoginSession, User
from app.security import new_session_secret, session_digest
from app.services import audit

SEEN_EVERY = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=30)


@dataclass(frozen=True)
class Timeouts:
    """How long a session lives: unused (idle) and at most (absolute, from login)."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


def timeouts_of(settings) -> Timeouts:
    return Timeouts(
        idle=timedelta(minutes=settings.session_idle_minutes), absolute=timedelta(hours=settings.session_hours)
    )


def start(
    *,
    session: Session,
    user: User,
    address: str,
    now: datetime,
    replaces: str | None = None,
    timeouts: Timeouts = Timeouts(),
) -> str:
    """A new session for a user who just logged in; returns the cookie's secret.

    The secret is always new (a session id chosen before login is never promoted), and the session
    the browser came with, if any, ends.
    """
    if replaces:
        _end_where(session, LoginSession.secret_hash == session_digest(replaces), "replaced", now)
    # Sessions past their absolute lifetime are over whatever their row says; after KEEP_ENDED more
    # they go (logins themselves stay in the audit), so the table does not grow for ever.
    session.execute(sa.delete(LoginSession).where(LoginSession.created_at < now - timeouts.absolute - KEEP_ENDED))
    secret = new_session_secret()
    session.add(
        LoginSession(
            secret_hash=session_digest(secret), user_id=user.id, created_at=now, last_seen_at=now, address=address[:100]
        )
    )
    session.commit()
    return secret


def _expired(row: LoginSession, timeouts: Timeouts, now: datetime) -> str | None:
    if now - row.created_at >= timeouts.absolute:
        return "absolute"
    if now - row.last_seen_at >= timeouts.idle:
        return "idle"
    return None


# The session and its user in one statement (every page and session-authenticated call starts here),
# built once, as the columns the checks and the caller need rather than the two entities (building the
# statement and the entities was most of the lookup's cost); the user's as their own names, under the
# table's name in the SQL (the bench's floor reads them so).
_RESOLVE = (
    sa.select(
        LoginSession.id.label("session_id"),
        LoginSession.ended_at,
        LoginSession.created_at.label("session_created_at"),
        LoginSession.last_seen_at,
        User.id,
        User.username,
        User.role,
        User.unit_id,
        User.department_id,
        User.is_active,
    )
    .select_from(LoginSession)
    .outerjoin(User, User.id == LoginSession.user_id)
    .where(LoginSession.secret_hash == sa.bindparam("secret_hash"))
)


def resolve(*, session: Session, secret: str | None, timeouts: Timeouts, now: datetime) -> Any:
    """The user of a live session (its id, username, role, unit_id, department_id and is_active), noting
    it was seen (at most once a minute); None when it is not live."""
    if not secret or len(secret) > 200:
        return None
    found = session.connection().execute(_RESOLVE, {"secret_hash": session_digest(secret)}).first()
    if found is None or found.ended_at is not None:
        return None
    row = SimpleNamespace(id=found.session_id, created_at=found.session_created_at, last_seen_at=found.last_seen_at)
    user = found if found.id is not None else None
    reason = _expired(row, timeouts, now)  # type: ignore[arg-type]
    if reason is None and (user is None or not user.is_active):
        reason = "disabled"
    if reason is not None:
        _end_where(session, LoginSession.id == row.id, reason, now)
        session.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        # Conditional, so that parallel requests (or replicas) write it once.
        session.execute(
            sa.update(LoginSession)
            .where(LoginSession.id == row.id, LoginSession.last_seen_at <= now - SEEN_EVERY)
            .values(last_seen_at=now)
        )
        session.commit()
    return user


def _end_where(session: Session, condition, reason: str, now: datetime) -> int:
    result = session.execute(
        sa.update(LoginSession)
        .where(condition, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return result.rowcount or 0


def end(*, session: Session, secret: str | None, now: datetime) -> None:
    """Logout: the session of this cookie ends (nothing happens for an unknown or ended one)."""
    if secret and len(secret) <= 200:
        _end_where(session, LoginSession.secret_hash == session_digest(secret), "logout", now)
        session.commit()


def end_all(*, session: Session, user: User, reason: str, now: datetime, actor=None, keep: str | None = None) -> int:
    """End every live session of a user (but `keep`, the caller's own); audited when an actor is named.

    Does not commit: a password change or a disabling ends the sessions in its own transaction.
    """
    condition = LoginSession.user_id == user.id
    if keep:
        condition = sa.and_(condition, LoginSession.secret_hash != session_digest(keep))
    ended = _end_where(session, condition, reason, now)
    if actor is not None:
        audit.record(
            session=session,
            actor=actor,
            action="session.end_all",
            entity_type="user",
            entity_id=user.id,
            after={"username": user.username, "ended": ended, "reason": reason},
        )
    return ended


def live(*, session: Session, user: User, timeouts: Timeouts, now: datetime) -> list[LoginSession]:
    """A user's sessions that have not ended or expired, newest first."""
    rows = session.exec(
        select(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.created_at.desc())
    )
    return [row for row in rows if _expired(row, timeouts, now) is None]


def live_counts(*, session: Session, timeouts: Timeouts, now: datetime) -> dict[int, tuple[int, datetime | None]]:
    """user id → (live sessions, last seen) for every user with one."""
    rows = session.exec(
        select(LoginSession.user_id, func.count(), func.max(LoginSession.last_seen_at))
        .where(
            LoginSession.ended_at.is_(None),
            LoginSession.created_at > now - timeouts.absolute,
            LoginSession.last_seen_at > now - timeouts.idle,
        )
        .group_by(LoginSession.user_id)
    )
    return {user_id: (count, seen) for user_id, count, seen in rows}
