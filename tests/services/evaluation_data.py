"""A small, hand-checkable project for the evaluation tests."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from app.domain.targets import parse_target
from app.models import FiscalYear, Indicator, Project
from app.services import evaluations
from app.services.imports import target_columns
from tests import factories

YEAR = 2024


def indicator(
    project: Project,
    position: int,
    level1: str,
    name: str,
    target: str,
    level2: str | None = None,
    weight: Decimal | None = None,
) -> Indicator:
    return Indicator(
        project_id=project.id,
        year=project.year,
        position=position,
        level1=level1,
        level2=level2,
        name=name,
        period_target=target,
        annual_target=target,
        weight=weight,
        **target_columns(parse_target(target, year=project.year)),
    )


def project_with(
    session: Session,
    unit,
    targets: list[tuple[str, str, str]],
    budget: Decimal | None = Decimal("100"),
    name: str = "测试项目",
) -> Project:
    """A project of `unit` with indicators (level1, name, annual target) and its evaluation row."""
    if session.get(FiscalYear, YEAR) is None:
        session.add(FiscalYear(year=YEAR))
        session.commit()
    project = Project(
        year=YEAR,
        unit_id=unit.id,
        project_code=f"P{unit.id}-{name}",
        name=name,
        budget=budget,
        annual_goal="完成年度监测任务",
    )
    session.add(project)
    session.commit()
    for n, (level1, ind_name, target) in enumerate(targets, start=1):
        session.add(indicator(project, n, level1, ind_name, target))
    session.commit()
    evaluations.ensure_evaluations(session=session, year=YEAR)
    return project


def two_units(session: Session):
    dept = factories.department(session, "广州市工业和信息化局")
    mine = factories.unit(session, "广州市无线电监测站", dept)
    other = factories.unit(session, "广州市工业和信息化产业发展中心", dept)
    factories.user(session, "jcz", "unit", unit_row=mine)
    factories.user(session, "zx", "unit", unit_row=other)
    return dept, mine, other


STANDARD = [
    ("output", "监测报告", "≥12份"),
    ("outcome", "监测能力", "提升"),
    ("satisfaction", "服务对象满意度", "≥95%"),
]
