"""Small factories for test data."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Department, Unit, User
from app.security import hash_password
from app.services.accounts import name_key

PASSWORD = "correct-horse-9"


def department(session: Session, name: str = "测试主管部门", code: str | None = None) -> Department:
    row = Department(name=name, code=code)
    session.add(row)
    session.commit()
    return row


def unit(session: Session, name: str, dept: Department | None = None, code: str | None = None) -> Unit:
    row = Unit(name=name, name_key=name_key(name), code=code, department_id=dept.id if dept else None)
    session.add(row)
    session.commit()
    return row


def user(
    session: Session,
    username: str,
    role: str,
    *,
    unit_row: Unit | None = None,
    dept: Department | None = None,
    password: str = PASSWORD,
    active: bool = True,
) -> User:
    row = User(
        username=username,
        display_name=username,
        password_hash=hash_password(password),
        role=role,
        unit_id=unit_row.id if unit_row else None,
        department_id=dept.id if dept else (unit_row.department_id if unit_row else None),
        is_active=active,
    )
    session.add(row)
    session.commit()
    return row


def login(client, username: str, password: str = PASSWORD):
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response
