"""Login throttling and the login audit: growing delays, never a lockout an attacker can impose.

Every attempt is counted three ways, in the database (replicas share the counts):
- per account from one address ("pair"): a guesser at one account from one machine slows down
  after a few failures, up to the longest delay;
- per address: one machine guessing at many accounts slows down too (the threshold is higher, as
  an office behind one NAT address shares it);
- per account from every address: a guesser spread over many machines slows down, but only up to
  a minute, and never for an address that has logged into that account recently — so an attacker
  cannot lock the real user out.
A waiting attempt is refused before the password is checked (no argon2 work for it). An attempt
is counted as a failure before its password is checked, so parallel guessers see each other's
attempts at once; a right password then undoes it. Counts without a new failure for an hour start
again. Every attempt — success, failure, refused while waiting — is an audit event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import LoginThrottle, User
from app.security import principal_for_user
from app.services import audit
from app.sqltypes import utcnow

FORGET_AFTER = timedelta(hours=1)
ACCOUNT_FREE_FAILURES = 20
ACCOUNT_MAX_DELAY = 60  # seconds
KNOWN_ADDRESS = timedelta(days=90)


@dataclass(frozen=True)
class Policy:
    """The throttle's settings (JIXIAO_LOGIN_FREE_FAILURES, _ADDRESS_FREE_FAILURES, _MAX_DELAY_SECONDS)."""

    free_failures: int = 5
    address_free_failures: int = 30
    max_delay: int = 900  # seconds


def policy_of(settings) -> Policy:
    return Policy(
        free_failures=settings.login_free_failures,
        address_free_failures=settings.login_address_free_failures,
        max_delay=settings.login_max_delay_seconds,
    )


def _delay(failures: int, free: int, cap: int) -> timedelta | None:
    """1 s after the first failure past the free ones, then doubling, up to the cap."""
    over = failures - free
    if over <= 0:
        return None
    return timedelta(seconds=min(cap, 2 ** min(over - 1, 30)))


def _keys(username: str, address: str, policy: Policy) -> list[tuple[str, str, int, int]]:
    name = username.strip().lower()[:200]
    return [
        ("pair", f"{name}\n{address}"[:500], policy.free_failures, policy.max_delay),
        ("address", address[:500], policy.address_free_failures, policy.max_delay),
        ("account", name, ACCOUNT_FREE_FAILURES, min(ACCOUNT_MAX_DELAY, policy.max_delay)),
    ]


def _rows(session: Session, keys, *, lock: bool = False) -> dict[str, LoginThrottle]:
    condition = sa.or_(*[sa.and_(LoginThrottle.scope == scope, LoginThrottle.key == key) for scope, key, *_ in keys])
    query = select(LoginThrottle).where(condition).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return {row.scope: row for row in session.exec(query)}


def wait_seconds(*, session: Session, username: str, address: str, policy: Policy) -> int:
    """How many seconds this attempt must still wait; 0 when it may go ahead."""
    now = utcnow()
    rows = _rows(session, _keys(username, address, policy))
    pair = rows.get("pair")
    known = pair is not None and pair.last_success_at is not None and now - pair.last_success_at < KNOWN_ADDRESS
    waits = [
        math.ceil((row.blocked_until - now).total_seconds())
        for scope, row in rows.items()
        if row.blocked_until is not None and row.blocked_until > now and not (scope == "account" and known)
    ]
    return max(waits, default=0)


def _duration(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分钟"


def wait_text(seconds: int, policy: Policy) -> str:
    """The refusal, in Chinese, with the wait in seconds or minutes."""
    return (
        f"登录失败次数过多，请 {_duration(seconds)}后再试。等待时间随失败次数增加，"
        f"最长 {_duration(policy.max_delay)}；账号不会被锁定。"
    )


def count_attempt(*, session: Session, username: str, address: str, policy: Policy) -> None:
    """Count the attempt as a failure before its password is checked, and commit at once."""
    now = utcnow()
    keys = _keys(username, address, policy)
    table = LoginThrottle.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for scope, key, *_ in keys:
        session.execute(
            insert(table)
            .values(scope=scope, key=key, failures=0)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
    rows = _rows(session, keys, lock=True)
    for scope, _key, free, cap in keys:
        row = rows[scope]
        if row.last_failure_at is None or now - row.last_failure_at > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        delay = _delay(row.failures, free, cap)
        row.blocked_until = now + delay if delay else None
        session.add(row)
    session.commit()


def _undo_one(row: LoginThrottle, free: int, cap: int) -> None:
    row.failures = max(row.failures - 1, 0)
    delay = _delay(row.failures, free, cap)
    row.blocked_until = row.last_failure_at + delay if delay and row.last_failure_at else None


def succeeded(*, session: Session, user: User, username: str, address: str, policy: Policy) -> None:
    """A right password: the account's counts start again, the address's lose this attempt; audited."""
    now = utcnow()
    keys = _keys(username, address, policy)
    rows = _rows(session, keys, lock=True)
    for scope, _key, free, cap in keys:
        row = rows.get(scope)
        if row is None:
            continue
        if scope == "address":
            _undo_one(row, free, cap)
        else:
            row.failures, row.blocked_until = 0, None
        if scope == "pair":
            row.last_success_at = now
        session.add(row)
    _audit(session, principal_for_user(user), "login.success", user.id, address)
    session.commit()


def failed(*, session: Session, username: str, address: str) -> None:
    """A wrong username or password (already counted): audited."""
    _audit(session, username, "login.failure", None, address)
    session.commit()


def refused(*, session: Session, username: str, address: str, wait: int) -> None:
    """An attempt refused while it must wait (its password never checked): audited."""
    _audit(session, username, "login.throttled", None, address, note=f"需等待 {wait} 秒")
    session.commit()


def _audit(session: Session, actor, action: str, user_id: int | None, address: str, note: str | None = None):
    if isinstance(actor, str):
        actor = actor.strip()[:200] or "（未填用户名）"
    audit.record(
        session=session,
        actor=actor,
        action=action,
        entity_type="user",
        entity_id=user_id,
        after={"address": address},
        note=note,
    )
