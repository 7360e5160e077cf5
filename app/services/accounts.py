"""Accounts: log in, add, list, change password, disable."""

from __future__ import annotations

import unicodedata

from sqlmodel import Session, or_, select

from app.domain.evaluation import ROLES
from app.models import Department, Unit, User
from app.security import Principal, burn_password_check, hash_password, verify_password
from app.services import audit, sessions
from app.services.errors import DomainError, NotFound, ValidationFailed
from app.sqltypes import utcnow

MIN_PASSWORD_LENGTH = 8


def name_key(name: str) -> str:
    """A name folded for matching: NFKC (full-width → half-width) and no whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (same cost either way)."""
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.is_active:
        burn_password_check(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    session.add(user)
    session.commit()
    return user


def find_unit(*, session: Session, name_or_code: str) -> Unit:
    """A unit by its code or its (normalised) name."""
    key = name_key(name_or_code)
    unit = session.exec(select(Unit).where(or_(Unit.code == name_or_code.strip(), Unit.name_key == key))).first()
    if unit is None:
        raise NotFound(f"找不到单位「{name_or_code}」")
    return unit


def find_department(*, session: Session, name_or_code: str) -> Department:
    """A department by its code or name."""
    value = name_or_code.strip()
    dept = session.exec(select(Department).where(or_(Department.code == value, Department.name == value))).first()
    if dept is None:
        raise NotFound(f"找不到主管部门「{name_or_code}」")
    return dept


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")


def add_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: str,
    unit: str | None = None,
    department: str | None = None,
    display_name: str = "",
    actor: str = "cli",
) -> User:
    """Create a user; a unit user needs its unit, a department user its department."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationFailed("用户名不能为空，且不超过 64 个字符")
    if role not in ROLES:
        raise ValidationFailed(f"角色应为 {' / '.join(ROLES)} 之一")
    check_password(password)
    if session.exec(select(User).where(User.username == username)).first():
        raise DomainError(f"用户名「{username}」已存在")
    unit_row = find_unit(session=session, name_or_code=unit) if unit else None
    dept_row = find_department(session=session, name_or_code=department) if department else None
    if role == "unit" and unit_row is None:
        raise ValidationFailed("单位用户必须用 --unit 指定所属单位")
    if role == "department" and dept_row is None:
        raise ValidationFailed("主管部门用户必须用 --department 指定所属部门")
    user = User(
        username=username,
        display_name=display_name or (unit_row.name if unit_row else dept_row.name if dept_row else username),
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_row.id if unit_row else None,
        department_id=dept_row.id if dept_row else (unit_row.department_id if unit_row else None),
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="user.add",
        entity_type="user",
        entity_id=user.id,
        after={"username": username, "role": role, "unit_id": user.unit_id, "department_id": user.department_id},
    )
    session.commit()
    return user


def list_users(*, session: Session) -> list[User]:
    """All users, by username."""
    return list(session.exec(select(User).order_by(User.username)))


def get_user(*, session: Session, user_id: int) -> User:
    """A user by id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户（编号 {user_id}）不存在")
    return user


def find_user(*, session: Session, username: str) -> User:
    """A user by username."""
    return _get_user(session, username)


def _get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise NotFound(f"用户「{username}」不存在")
    return user


def change_password(
    *, session: Session, username: str, password: str, actor: str = "cli", keep_session: str | None = None
) -> User:
    """Set a new password; the user's sessions end (but `keep_session`, the one that changed it)."""
    check_password(password)
    user = _get_user(session, username)
    user.password_hash = hash_password(password)
    session.add(user)
    ended = sessions.end_all(session=session, user=user, reason="password", now=utcnow(), keep=keep_session)
    audit.record(
        session=session,
        actor=actor,
        action="user.passwd",
        entity_type="user",
        entity_id=user.id,
        after={"sessions_ended": ended},
    )
    session.commit()
    return user


def disable_user(*, session: Session, username: str, actor: str = "cli") -> User:
    """Disable a user: it can no longer log in and its sessions end."""
    user = _get_user(session, username)
    user.is_active = False
    session.add(user)
    ended = sessions.end_all(session=session, user=user, reason="disabled", now=utcnow())
    audit.record(
        session=session,
        actor=actor,
        action="user.disable",
        entity_type="user",
        entity_id=user.id,
        before={"is_active": True},
        after={"is_active": False, "sessions_ended": ended},
    )
    session.commit()
    return user


def end_sessions(*, session: Session, user: User, actor="cli") -> int:
    """An administrator logs a user out everywhere: every session of the user ends; audited."""
    ended = sessions.end_all(session=session, user=user, reason="admin", now=utcnow(), actor=actor)
    session.commit()
    return ended


def scope_name(*, session: Session, unit_id: int | None, department_id: int | None) -> str | None:
    """The name of the unit or department an account belongs to (None for the bureau)."""
    if unit_id:
        unit = session.get(Unit, unit_id)
        return unit.name if unit else None
    if department_id:
        department = session.get(Department, department_id)
        return department.name if department else None
    return None


def whoami(*, session: Session, principal: Principal) -> tuple[User | None, str | None]:
    """The logged-in user and the name of the unit or department it belongs to (None for the bureau)."""
    user = session.get(User, principal.user_id) if principal.user_id else None
    scope_name = None
    if principal.unit_id:
        scope_name = session.get(Unit, principal.unit_id).name
    elif principal.department_id:
        scope_name = session.get(Department, principal.department_id).name
    return user, scope_name
