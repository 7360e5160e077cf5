"""A planted monitoring round: one unit's three projects, one green, one yellow, one red.

The cut-off 2024-06-30 is day 182 of 366: the time line stands at 49.73 points. Each project has
one indicator of ≥100 and a budget of 100 万元.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from app.models import Indicator, User
from app.security import principal_for_user
from app.services import monitoring
from tests import factories
from tests.services.evaluation_data import YEAR, project_with, two_units

CUTOFF = date(YEAR, 6, 30)
# project name → (indicator, target, 完成值 planted, the light it gives)
PLANTED = {
    "设备运维": ("设备巡检", "≥100次", "50次", "green"),  # 50 against 49.73: on track
    "监测报告编制": ("监测报告", "≥100份", "38份", "yellow"),  # 11.73 points behind
    "业务培训": ("培训人次", "≥100人次", "20人次", "red"),  # 29.73 points behind
}


def planted(session: Session, *, fill: bool = True):
    """The world: departments, units, users, the three projects, an open round and (fill) the values."""
    dept, mine, other = two_units(session)
    finance = principal_for_user(factories.user(session, "czj", "finance"))
    department = principal_for_user(factories.user(session, "gxj", "department", dept=dept))
    unit = principal_for_user(session.exec(select(User).where(User.username == "jcz")).one())
    other_unit = principal_for_user(session.exec(select(User).where(User.username == "zx")).one())
    projects = {}
    for name, (ind_name, target, _, _) in PLANTED.items():
        projects[name] = project_with(session, mine, [("output", ind_name, target)], name=name)
    elsewhere = project_with(session, other, [("output", "别人的指标", "≥10个")], name="别人的项目")
    monitoring.open_round(session=session, principal=finance, year=YEAR, cutoff_date=CUTOFF)
    if fill:
        for name, (_, _, progress, _) in PLANTED.items():
            fill_progress(session, unit, projects[name].id, progress, spent=Decimal("50"))
    return {
        "dept": dept,
        "mine": mine,
        "other": other,
        "finance": finance,
        "department": department,
        "unit": unit,
        "other_unit": other_unit,
        "projects": projects,
        "elsewhere": elsewhere,
    }


def indicator_of(session: Session, project_id: int) -> Indicator:
    return session.exec(select(Indicator).where(Indicator.project_id == project_id)).one()


def fill_progress(session: Session, unit, project_id: int, progress: str, spent: Decimal | None = None):
    line = monitoring.report_line(session=session, principal=unit, project_id=project_id)
    ind = indicator_of(session, project_id)
    kwargs = {} if spent is None else {"spent": str(spent)}
    return monitoring.save(
        session=session,
        principal=unit,
        project_id=project_id,
        version=line.version,
        entries={ind.id: {"progress": progress}},
        **kwargs,
    )
