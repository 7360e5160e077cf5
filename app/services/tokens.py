"""API tokens: create (shown once, stored hashed), list, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import ApiToken, Department, Unit
from app.security import Principal, new_token, token_digest
from app.services import audit
from app.services.accounts import find_department, find_unit
from app.services.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from app.sqltypes import utcnow

TOKEN_ROLES = ("finance", "department", "unit")
# What a token may do, besides what its role allows: read (queries, exports, report checks),
# write (a unit's own data entry), review (approve, return, reopen), admin (imports, filing
# windows, templates, accounts). Each /api/v1 route declares the one it needs.
SCOPE_LABELS = {"read": "查询", "write": "填报", "review": "审核", "admin": "管理"}
SCOPES = tuple(SCOPE_LABELS)
# The scopes a role can carry: a unit token never reviews nor administers.
ROLE_SCOPES = {
    "unit": ("read", "write"),
    "department": ("read", "write", "review"),
    "finance": ("read", "write", "review", "admin"),
}
DEFAULT_SCOPE = "read"
DEFAULT_LIFETIME_DAYS = 365
MAX_LIFETIME_DAYS = 3660
LAST_USED_PRECISION = timedelta(minutes=1)
PREFIX_LENGTH = 10  # "jx_" and 7 random characters: enough to tell tokens apart in a list


@dataclass(frozen=True)
class TokenListing:
    """One token as `jixiao tokens list` shows it (never its hash)."""

    id: int
    prefix: str
    name: str
    role: str
    scope: str  # the unit or department it is bound to, or "全部"
    created_at: object
    last_used_at: object
    revoked_at: object
    scopes: str = ""  # its powers, e.g. "read write"
    expires_at: object = None


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """A stored or typed scope ("read write", "read,review") as known scopes in a fixed order."""
    words = {w for w in (text or "").replace(",", " ").replace("，", " ").split() if w}
    return tuple(s for s in SCOPES if s in words)


def check_scopes(role: str, text: str | None) -> tuple[str, ...]:
    """The scopes asked for, refused when unknown, empty, or beyond what the role may carry."""
    words = [w for w in (text or "").replace(",", " ").replace("，", " ").split() if w]
    unknown = [w for w in words if w not in SCOPE_LABELS]
    if unknown:
        raise ValidationFailed(f"未知的令牌权限：{'、'.join(unknown)}；可选 {' / '.join(SCOPES)}")
    scopes = parse_scopes(text)
    if not scopes:
        raise ValidationFailed(f"令牌权限不能为空；可选 {' / '.join(SCOPES)}")
    allowed = ROLE_SCOPES[role]
    beyond = [s for s in scopes if s not in allowed]
    if beyond:
        names = "、".join(f"{SCOPE_LABELS[s]}（{s}）" for s in beyond)
        raise ValidationFailed(f"{ROLE_LABELS[role]}令牌不能有{names}权限；可选 {' / '.join(allowed)}")
    return scopes


ROLE_LABELS = {"finance": "财政局", "department": "主管部门", "unit": "单位"}


def create_token(
    *,
    session: Session,
    role: str,
    name: str,
    unit: str | None = None,
    department: str | None = None,
    scope: str = DEFAULT_SCOPE,
    days: int = DEFAULT_LIFETIME_DAYS,
    actor: Principal | str = "cli",
) -> tuple[ApiToken, str]:
    """A new token bound to its role and scope; returns the row and the secret, shown only this once."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed("令牌名称不能为空，且不超过 200 个字符")
    if role not in TOKEN_ROLES:
        raise ValidationFailed(f"令牌角色应为 {' / '.join(TOKEN_ROLES)} 之一")
    unit_row = find_unit(session=session, name_or_code=unit) if unit else None
    dept_row = find_department(session=session, name_or_code=department) if department else None
    if role == "unit":
        if unit_row is None:
            raise ValidationFailed("单位令牌必须用 --unit 指定所属单位")
        if dept_row is not None and unit_row.department_id != dept_row.id:
            raise ValidationFailed(f"单位「{unit_row.name}」不属于主管部门「{dept_row.name}」")
    elif role == "department":
        if unit_row is not None:
            raise ValidationFailed("主管部门令牌只用 --department 指定部门，不能指定 --unit")
        if dept_row is None:
            raise ValidationFailed("主管部门令牌必须用 --department 指定所属部门")
    elif unit_row is not None or dept_row is not None:
        raise ValidationFailed("财政局令牌可查看全部数据，不能指定 --unit 或 --department")
    scopes = check_scopes(role, scope)
    if not isinstance(days, int) or not 1 <= days <= MAX_LIFETIME_DAYS:
        raise ValidationFailed(f"令牌有效期应为 1 至 {MAX_LIFETIME_DAYS} 天")
    secret = new_token()
    row = ApiToken(
        name=name,
        token_hash=token_digest(secret),
        prefix=secret[:PREFIX_LENGTH],
        role=role,
        unit_id=unit_row.id if unit_row else None,
        department_id=dept_row.id if dept_row else (unit_row.department_id if unit_row else None),
        created_by_id=actor.user_id if isinstance(actor, Principal) else None,
        scope=" ".join(scopes),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=row.id,
        after={
            "name": name,
            "role": role,
            "prefix": row.prefix,
            "unit_id": row.unit_id,
            "department_id": row.department_id,
            "scope": row.scope,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    session.commit()
    return row, secret


def list_tokens(*, session: Session) -> list[TokenListing]:
    """Every token, newest first, with the unit or department it is bound to."""
    rows = session.exec(
        select(
            ApiToken.id,
            ApiToken.prefix,
            ApiToken.name,
            ApiToken.role,
            Unit.name,
            Department.name,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
            ApiToken.scope,
            ApiToken.expires_at,
        )
        .select_from(ApiToken)
        .outerjoin(Unit, Unit.id == ApiToken.unit_id)
        .outerjoin(Department, Department.id == ApiToken.department_id)
        .order_by(ApiToken.id.desc())
    ).all()
    return [
        TokenListing(
            id=r[0],
            prefix=r[1],
            name=r[2],
            role=r[3],
            scope=r[4] or r[5] or "全部",
            created_at=r[6],
            last_used_at=r[7],
            revoked_at=r[8],
            scopes=" ".join(parse_scopes(r[9])),
            expires_at=r[10],
        )
        for r in rows
    ]


def rotate_token(
    *, session: Session, token_id: int, days: int = DEFAULT_LIFETIME_DAYS, actor: Principal | str = "cli"
) -> tuple[ApiToken, str]:
    """A new token in place of an old one (same name, role, unit or department and scope, a new
    expiry), the old one revoked in the same transaction; returns the new row and its secret."""
    old = session.get(ApiToken, token_id)
    if old is None:
        raise NotFound(f"令牌 {token_id} 不存在")
    if old.revoked_at is not None:
        raise Conflict(f"令牌 {token_id}（{old.name}）已吊销，不能轮换；请用 tokens create 新建")
    scopes = check_scopes(old.role, old.scope)
    if not isinstance(days, int) or not 1 <= days <= MAX_LIFETIME_DAYS:
        raise ValidationFailed(f"令牌有效期应为 1 至 {MAX_LIFETIME_DAYS} 天")
    secret = new_token()
    now = utcnow()
    row = ApiToken(
        name=old.name,
        token_hash=token_digest(secret),
        prefix=secret[:PREFIX_LENGTH],
        role=old.role,
        unit_id=old.unit_id,
        department_id=old.department_id,
        created_by_id=actor.user_id if isinstance(actor, Principal) else None,
        scope=" ".join(scopes),
        expires_at=now + timedelta(days=days),
    )
    old.revoked_at = now
    session.add_all([row, old])
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="token.rotate",
        entity_type="api_token",
        entity_id=row.id,
        before={"token_id": old.id, "prefix": old.prefix},
        after={"token_id": row.id, "prefix": row.prefix, "scope": row.scope, "expires_at": row.expires_at.isoformat()},
    )
    session.commit()
    return row, secret


def revoke_token(*, session: Session, token_id: int, actor: Principal | str = "cli") -> ApiToken:
    """Revoke a token: every later call with it is refused (401)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在")
    if row.revoked_at is not None:
        raise Conflict(f"令牌 {token_id}（{row.name}）已于 {row.revoked_at:%Y-%m-%d %H:%M} 吊销")
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(
        session=session,
        actor=actor,
        action="token.revoke",
        entity_type="api_token",
        entity_id=row.id,
        before={"revoked_at": None},
        after={"revoked_at": row.revoked_at.isoformat()},
    )
    session.commit()
    return row


# The columns authenticate needs, not the entity: this runs on every API call, and so is built once
# (building it anew cost more than the database's answer), the token's digest as its parameter.
_BY_HASH = sa.select(
    ApiToken.id,
    ApiToken.name,
    ApiToken.role,
    ApiToken.scope,
    ApiToken.unit_id,
    ApiToken.department_id,
    ApiToken.last_used_at,
    ApiToken.revoked_at,
    ApiToken.expires_at,
).where(ApiToken.token_hash == sa.bindparam("token_hash"))


@dataclass(frozen=True)
class _TokenRow:
    id: int
    name: str
    role: str
    scope: str
    unit_id: int | None
    department_id: int | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


# _BY_HASH as PostgreSQL's SQL text, compiled once per process. SQLAlchemy's execution (a context, the
# statement's cache key, a result object and its row processors) cost about twice what the driver's
# own execute costs for this one-row read.
_PG_SQL: str | None = None


def _look_up(session: Session, digest: str) -> _TokenRow | None:
    """The token row of a digest, on the session's connection (its transaction begins here)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        row = connection.execute(_BY_HASH, {"token_hash": digest}).first()
        return None if row is None else _TokenRow(*row)
    global _PG_SQL
    if _PG_SQL is None:
        _PG_SQL = str(_BY_HASH.compile(dialect=connection.dialect))
    params = {"token_hash": digest}
    dbapi = connection.connection.dbapi_connection
    cursor = dbapi.cursor()
    # The engine's statement listeners (app/timeouts.py's watchdog) see this statement as any other.
    dispatch = connection.dispatch
    dispatch.before_cursor_execute(connection, cursor, _PG_SQL, params, None, False)
    try:
        cursor.execute(_PG_SQL, params)
        # before the row is fetched, as SQLAlchemy calls it: a listener may read the cursor's result
        dispatch.after_cursor_execute(connection, cursor, _PG_SQL, params, None, False)
        row = cursor.fetchone()
    except Exception as exc:
        # as SQLAlchemy would: wrapped (an OperationalError is a 503), the connection invalidated when lost
        connection._handle_dbapi_exception(exc, _PG_SQL, params, cursor, None)
        raise
    finally:
        cursor.close()
    if row is None:
        return None
    # UTCDateTime's reading: the stamps in UTC whatever the connection's time zone
    return _TokenRow(*row[:6], *(None if t is None else t.astimezone(UTC) for t in row[6:]))


def authenticate(*, session: Session, token: str) -> Principal | None:
    """The caller a Bearer token stands for, with the scopes it carries; None when unknown or
    revoked; refused (401) when expired."""
    row = _look_up(session, token_digest(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated(
            f"令牌「{row.name}」已于 {row.expires_at:%Y-%m-%d %H:%M}（UTC）过期，请联系管理员换发新令牌"
        )
    # A token can do what its role allows AND its stored scope grants (tokens made before
    # scopes were checked keep theirs, "read write"); the lifecycle and the routes ask `scopes`.
    principal = Principal(
        role=row.role,
        name=f"token:{row.name}",
        unit_id=row.unit_id,
        department_id=row.department_id,
        token_id=row.id,
        scopes=parse_scopes(row.scope),
    )
    # Kept to the minute, and audited as often: a read should not cost a write on every call.
    # The compare-and-set lets one of several simultaneous calls record the minute, not each.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        claimed = session.execute(
            sa.update(ApiToken)
            .where(
                ApiToken.id == row.id,
                sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_PRECISION),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            audit.record(
                session=session,
                actor=principal,
                action="token.use",
                entity_type="api_token",
                entity_id=row.id,
                after={"last_used_at": now.isoformat()},
            )
        session.commit()
    return principal
