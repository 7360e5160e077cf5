"""Demonstration data: the department and units of the published Guangzhou table, one login each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import Department, Project, Unit, User
from app.services import accounts
from app.services.errors import DomainError
from app.settings import ROOT

DEMO_PASSWORD = "jixiao-demo"
DEPARTMENT = "广州市工业和信息化局"
# The units named exactly as the published table names them; the department's own office
# (局本级) is a unit under itself.
UNITS = ("广州市工业和信息化局", "广州市工业和信息化产业发展中心", "广州市无线电监测站")
DEMO_SEED = ROOT / "tests" / "data" / "seed_003.txt"
DEMO_YEAR = 2024


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str


LOGINS = (
    DemoLogin("admin", "admin", ""),
    DemoLogin("caizhengju", "finance", ""),
    DemoLogin("gongxinju", "department", DEPARTMENT),
    DemoLogin("gongxinju_benji", "unit", UNITS[0]),
    DemoLogin("chanye_zhongxin", "unit", UNITS[1]),
    DemoLogin("wuxian_jiancezhan", "unit", UNITS[2]),
)


def demo_loaded(*, session: Session) -> bool:
    """Whether the demo department already exists."""
    return session.exec(select(Department).where(Department.name == DEPARTMENT)).first() is not None


def load_demo(*, session: Session) -> list[DemoLogin]:
    """Create the demo department, units and logins, and import seed 003 as 2024 (idempotent)."""
    department = session.exec(select(Department).where(Department.name == DEPARTMENT)).first()
    if department is None:
        department = Department(name=DEPARTMENT)
        session.add(department)
        session.flush()
    for name in UNITS:
        key = accounts.name_key(name)
        if session.exec(select(Unit).where(Unit.name_key == key)).first() is None:
            session.add(Unit(name=name, name_key=key, department_id=department.id))
    session.commit()
    for login in LOGINS:
        if session.exec(select(User).where(User.username == login.username)).first() is not None:
            continue
        accounts.add_user(
            session=session,
            username=login.username,
            password=DEMO_PASSWORD,
            role=login.role,
            unit=login.scope if login.role == "unit" else None,
            department=login.scope if login.role == "department" else None,
            display_name={"admin": "系统管理员", "finance": "广州市财政局"}.get(login.role, ""),
            actor="demo",
        )
    if DEMO_SEED.is_file() and session.exec(select(Project).where(Project.year == DEMO_YEAR)).first() is None:
        from app.services import imports

        report = imports.import_file(session=session, data=DEMO_SEED.read_bytes(), filename=DEMO_SEED.name,
                                     year=DEMO_YEAR, actor="demo")
        if not report.ok:
            raise DomainError("演示数据导入失败：" + "；".join(e["message"] for e in report.errors[:3]))
    return list(LOGINS)
