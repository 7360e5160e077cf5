"""A small, hand-checkable data set for the finance bureau's read API, built directly with the models.

Two departments, three units, six projects (five in 2025, one in 2024), indicators with results,
review history, and a token per role (plus a revoked one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal as D

from sqlmodel import Session

from app.models import (
    Department,
    FiscalYear,
    Indicator,
    IndicatorResult,
    Project,
    ScoringTemplate,
    SelfEvaluation,
    Unit,
)
from app.services import audit, tokens
from app.services.accounts import name_key
from tests import factories

YEAR = 2025
# Marks every row of the other department's unit, so a leak shows up in any response text.
SECRET_MARK = "公路秘密"


@dataclass
class World:
    dept_a: Department
    dept_b: Department
    a1: Unit  # 广州市无线电监测站
    a2: Unit  # 广州市工业和信息化产业发展中心
    b1: Unit  # the other department's unit (SECRET_MARK in its names)
    projects: dict[str, Project] = field(default_factory=dict)
    evaluations: dict[str, SelfEvaluation] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # role name -> raw Bearer token
    token_ids: dict[str, int] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}


def unit(session: Session, name: str, dept: Department, code: str) -> Unit:
    row = Unit(name=name, name_key=name_key(name), code=code, department_id=dept.id)
    session.add(row)
    session.commit()
    return row


def project(
    session: Session,
    world: World,
    key: str,
    unit_row: Unit,
    name: str,
    *,
    year: int = YEAR,
    budget: str | None = None,
    spent: str | None = None,
) -> Project:
    row = Project(
        year=year,
        unit_id=unit_row.id,
        project_code=f"P-{key}",
        name=name,
        budget=D(budget) if budget else None,
        spent=D(spent) if spent else None,
        initial_budget=D(budget) if budget else None,
        annual_goal=f"{name}的年度目标",
    )
    session.add(row)
    session.commit()
    world.projects[key] = row
    return row


def evaluation(
    session: Session,
    world: World,
    key: str,
    template: ScoringTemplate,
    *,
    status: str,
    rate: str | None = None,
    total: str | None = None,
    grade: str | None = None,
    flags: list[str] | None = None,
) -> SelfEvaluation:
    p = world.projects[key]
    row = SelfEvaluation(
        project_id=p.id,
        year=p.year,
        status=status,
        template_id=template.id,
        execution_rate=D(rate) if rate else None,
        total_score=D(total) if total else None,
        grade=grade,
        flags=flags or [],
    )
    session.add(row)
    session.commit()
    world.evaluations[key] = row
    return row


def indicator(
    session: Session,
    world: World,
    key: str,
    project_key: str,
    position: int,
    *,
    level1: str,
    level2: str | None,
    name: str,
    target: str,
    kind: str = "quantity",
    op: str | None = ">=",
    value: str | None = "12",
    unit_text: str | None = "份",
    result: dict | None = None,
) -> Indicator:
    p = world.projects[project_key]
    row = Indicator(
        project_id=p.id,
        year=p.year,
        position=position,
        level1=level1,
        level2=level2,
        level2_code={"quantity": "11", "social": "22", "timeliness": "13"}.get(level2 or ""),
        name=name,
        period_target=target,
        annual_target=target,
        target_kind=kind,
        target_op=op,
        target_value=value,
        target_unit=unit_text,
        target_unit_raw=unit_text,
        target_confidence="high",
    )
    session.add(row)
    session.commit()
    world.indicators[key] = row
    if result is not None:
        e = world.evaluations[project_key]
        session.add(
            IndicatorResult(
                self_evaluation_id=e.id,
                indicator_id=row.id,
                year=p.year,
                actual=result.get("actual"),
                weight=D(result.get("weight", "25")),
                score=D(result["score"]) if result.get("score") else None,
                met=result.get("met"),
                flags=result.get("flags", []),
                score_override=D(result["override"]) if result.get("override") else None,
                override_reason=result.get("override_reason"),
            )
        )
        session.commit()
    return row


def build(session: Session) -> World:
    """The data set; see the module docstring. Every figure below is checked by hand in the tests."""
    session.add_all([FiscalYear(year=2024), FiscalYear(year=YEAR)])
    template = ScoringTemplate(name="national-2020", version=1, settings={})
    session.add(template)
    session.commit()
    dept_a = factories.department(session, "广州市工业和信息化局", code="401")
    dept_b = factories.department(session, "广州市交通运输局", code="402")
    w = World(
        dept_a=dept_a,
        dept_b=dept_b,
        a1=unit(session, "广州市无线电监测站", dept_a, "401001"),
        a2=unit(session, "广州市工业和信息化产业发展中心", dept_a, "401002"),
        b1=unit(session, f"广州市{SECRET_MARK}事务中心", dept_b, "402001"),
    )
    project(session, w, "p1", w.a1, "无线电监测设备购置经费", budget="57550", spent="56022.2398")
    project(session, w, "p2", w.a1, "监测站运维经费", budget="100", spent="80")
    project(session, w, "p3", w.a2, "产业发展研究经费", budget="200")
    project(session, w, "p4", w.a2, "购置经费_100%")  # no budget, no evaluation: not_started
    project(session, w, "p5", w.b1, f"{SECRET_MARK}养护项目", budget="300", spent="300")
    project(session, w, "p6", w.b1, f"{SECRET_MARK}往年项目", year=2024, budget="10", spent="5")

    evaluation(session, w, "p1", template, status="approved", rate="97.3500", total="96.80", grade="优")
    evaluation(
        session,
        w,
        "p2",
        template,
        status="submitted",
        rate="80.0000",
        total="75.50",
        grade="中",
        flags=["execution_low"],
    )
    evaluation(session, w, "p3", template, status="draft", total="40.00")
    evaluation(session, w, "p5", template, status="final", rate="100.0000", total="88.00", grade="良")
    evaluation(
        session, w, "p6", template, status="final", rate="50.0000", total="59.99", grade="差", flags=["execution_low"]
    )

    indicator(
        session,
        w,
        "i1",
        "p1",
        1,
        level1="output",
        level2="quantity",
        name="监测报告",
        target="≥12份",
        result={"actual": "12份", "score": "25", "met": True},
    )
    indicator(
        session,
        w,
        "i2",
        "p1",
        2,
        level1="outcome",
        level2="social",
        name="监测能力",
        target="提升",
        kind="qualitative",
        op=None,
        value=None,
        unit_text=None,
        result={
            "actual": "部分提升",
            "score": "15",
            "met": False,
            "flags": ["unmet"],
            "override": "18",
            "override_reason": "有佐证材料",
        },
    )
    indicator(
        session,
        w,
        "i3",
        "p2",
        1,
        level1="output",
        level2="timeliness",
        name="按期完成",
        target="2025年12月前",
        kind="deadline",
        op=None,
        value=None,
        unit_text=None,
        result={"actual": "2026-01-15", "score": "10", "met": False, "flags": ["unmet", "late"]},
    )
    indicator(
        session,
        w,
        "i4",
        "p3",
        1,
        level1="satisfaction",
        level2=None,
        name="服务对象满意度",
        target="≥95%",
        value="95",
        unit_text="%",
    )
    indicator(
        session,
        w,
        "i5",
        "p5",
        1,
        level1="output",
        level2="quantity",
        name=f"{SECRET_MARK}养护里程",
        target="≥100公里",
        value="100",
        unit_text="公里",
        result={"actual": "130公里", "score": "50", "met": True, "flags": ["over_achieved"]},
    )
    indicator(
        session,
        w,
        "i6",
        "p5",
        2,
        level1="outcome",
        level2="social",
        name=f"{SECRET_MARK}通行效率",
        target="提高",
        kind="qualitative",
        op=None,
        value=None,
        unit_text=None,
        result={"actual": "未提高", "score": "5", "met": False, "flags": ["unmet"]},
    )

    e1 = w.evaluations["p1"]
    # Through the service: events carry their stream's place and hash (the audit chain).
    audit.record(
        session=session, actor="wxjcz", action="evaluation.submit", entity_type="self_evaluation", entity_id=e1.id
    )
    audit.record(
        session=session,
        actor="gxj_shenhe",
        action="evaluation.approve",
        entity_type="self_evaluation",
        entity_id=e1.id,
        note="同意",
    )
    audit.record(
        session=session,
        actor="gxj_shenhe",
        action="evaluation.approve",
        entity_type="self_evaluation",
        entity_id=w.evaluations["p5"].id,
        note=f"{SECRET_MARK}意见",
    )
    # A user with a password hash that must never appear in any response.
    factories.user(session, "gxj_shenhe", "department", dept=dept_a)
    session.commit()

    for who, role, kw in [
        ("finance", "finance", {}),
        ("dept_a", "department", {"department": "广州市工业和信息化局"}),
        ("unit_a1", "unit", {"unit": "广州市无线电监测站"}),
        ("unit_b1", "unit", {"unit": "402001"}),
        ("revoked", "finance", {}),
    ]:
        # Each with every scope its role may carry: these tests are about tenancy, not scopes.
        scope = " ".join(tokens.ROLE_SCOPES[role])
        row, secret = tokens.create_token(session=session, role=role, name=f"{who} 令牌", scope=scope, **kw)
        w.secrets[who], w.token_ids[who] = secret, row.id
    tokens.revoke_token(session=session, token_id=w.token_ids["revoked"])
    return w
