"""The monitoring (双监控) API: the year's overview with lights, a unit's report, the bureau's rounds.

Thin handlers over app.services.monitoring, the same service as the pages (/monitoring).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.models import money
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain import monitoring as m
from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.models import MonitoringRound
from app.services import monitoring
from app.services.monitoring import UNSET, GroupLine, ReportLine

router = PrefixRouter(prefix="/api/v1/monitoring", tags=["monitoring"])

Light = Literal["green", "yellow", "red", "none"]
LIGHT_DOC = (
    "green 绿灯（进度正常）/ yellow 黄灯（进度偏慢）/ red 红灯（严重滞后或预计完不成）/ none 未亮灯（未填或无法判断）"
)


def points(value: Fraction | None) -> str | None:
    """A share or gap in percentage points as a decimal string, half-up to two places."""
    shown = m.points(value)
    return None if shown is None else format(shown, "f")


class RoundPublic(BaseModel):
    """一个年度的运行监控轮次。"""

    id: int = Field(description="轮次编号")
    year: int = Field(description="年度", examples=[2025])
    cutoff_date: date = Field(description="监控截止日期（截至该日的执行数与完成值）", examples=["2025-06-30"])
    status: Literal["open", "closed"] = Field(description="open 监控填报中 / closed 已结束")
    time_line: str = Field(description="截止日的时间进度（百分点，两位小数）", examples=["49.59"])
    version: int = Field(description="版本号")


def round_public(row: MonitoringRound) -> RoundPublic:
    return RoundPublic(
        id=row.id or 0,
        year=row.year,
        cutoff_date=row.cutoff_date,
        status=row.status,  # type: ignore[arg-type]
        time_line=points(m.time_share(row.year, row.cutoff_date)) or "0.00",
        version=row.version,
    )


class SpendingPublic(BaseModel):
    """支出进度：执行数 ÷ 全年预算数，对照时间进度。"""

    light: Light = Field(description=f"支出进度的灯：{LIGHT_DOC}")
    rate: str | None = Field(
        description="支出进度（百分点，两位小数）；无预算数或未填执行数时为 null", examples=["50.00"]
    )
    behind: str | None = Field(description="落后时间进度的百分点（负数为超前）", examples=["-0.27"])
    basis: str = Field(description="判断依据（中文）")


class IndicatorMonitoringPublic(BaseModel):
    """一个绩效指标的运行监控：完成值、年末预计值与灯。"""

    id: int = Field(description="指标编号")
    level1: str = Field(description="一级指标：output 产出 / outcome 效益 / satisfaction 满意度")
    name: str = Field(description="三级指标")
    annual_target: str | None = Field(description="年度指标值（原文）", examples=["≥100次"])
    progress: str | None = Field(description="截至监控日的完成值（原文）", examples=["50次"])
    expected_year_end: str | None = Field(description="单位填写的年末预计值（原文）；未填则按进度线性推算")
    expected_share: str | None = Field(description="季节性指标截至监控日应完成的比例（百分点）；空为按时间进度")
    judgement: Literal["green", "yellow", "red"] | None = Field(description="单位对无法量化比较的指标所作的进度判断")
    reason: str | None = Field(description="偏差原因")
    measure: str | None = Field(description="纠偏措施")
    light: Light = Field(description=f"灯：{LIGHT_DOC}")
    basis: str = Field(description="亮灯依据（中文）")
    expected_line: str | None = Field(description="截至监控日应完成的比例（百分点）")
    done_share: str | None = Field(description="已完成占年度指标值的比例（百分点）")
    behind: str | None = Field(description="落后的百分点（负数为超前）")
    projected: str | None = Field(description="年末值（单位填写的预计值，或按进度线性推算），按年度指标值的单位")
    projected_by_unit: bool = Field(description="projected 是否为单位自己填写的年末预计值")
    needs_reason: bool = Field(description="黄灯或红灯：须填写偏差原因和纠偏措施")


class ReportPublic(BaseModel):
    """一个项目的运行监控表（截至监控日）。金额单位：万元（十进制字符串）。"""

    project_id: int = Field(description="项目编号")
    project_code: str = Field(description="项目编码")
    project_name: str = Field(description="项目名称")
    unit: str = Field(description="资金使用单位")
    department: str | None = Field(description="主管部门")
    round: RoundPublic = Field(description="所属监控轮次")
    version: int = Field(description="版本号：保存时原样带回，用于防止互相覆盖")
    budget: str | None = Field(description="全年预算数（万元）", examples=["100.00"])
    spent: str | None = Field(description="截至监控日的执行数（万元）", examples=["56022.2398"])
    spending: SpendingPublic = Field(description="支出进度的灯")
    light: Light = Field(description=f"绩效目标进度的灯（最差的指标）：{LIGHT_DOC}")
    worst: Light = Field(description="目标灯与支出灯中较差者（筛选红灯所用）")
    indicators: list[IndicatorMonitoringPublic] = Field(description="绩效指标")


class GroupPublic(BaseModel):
    """一个主管部门或单位的汇总。"""

    id: int | None = Field(description="主管部门或单位编号；合计为 null")
    name: str = Field(description="名称")
    projects: int = Field(description="项目数")
    lights: dict[str, int] = Field(description="按绩效目标灯计的项目数：green / yellow / red / none")
    spending_lights: dict[str, int] = Field(description="按支出进度灯计的项目数")
    budget: str = Field(description="已填执行数的项目的全年预算数合计（万元）")
    spent: str = Field(description="执行数合计（万元）")
    spending_rate: str | None = Field(description="支出进度（百分点），对照 time_line")


class OverviewPublic(BaseModel):
    """一个年度的运行监控总览：按主管部门、单位汇总各灯的项目数与支出进度，附每个项目。"""

    round: RoundPublic
    thresholds: dict[str, str] = Field(description="亮灯阈值（落后时间进度的百分点）：yellow、red")
    rule: str = Field(description="亮灯规则（中文）")
    total: GroupPublic
    departments: list[GroupPublic]
    units: list[GroupPublic]
    projects: list[ReportPublic]


def group_public(g: GroupLine) -> GroupPublic:
    return GroupPublic(
        id=g.key,
        name=g.name,
        projects=g.projects,
        lights=dict(g.lights),
        spending_lights=dict(g.spending_lights),
        budget=money(g.budget) or "0.00",
        spent=money(g.spent) or "0.00",
        spending_rate=points(g.spending_rate),
    )


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def report_public(r: ReportLine) -> ReportPublic:
    inds = []
    for line in r.indicators:
        e, res = line.entry, line.result
        inds.append(
            IndicatorMonitoringPublic(
                id=line.indicator.id or 0,
                level1=line.indicator.level1,
                name=line.indicator.name,
                annual_target=line.indicator.annual_target,
                progress=e.progress if e else None,
                expected_year_end=e.expected_year_end if e else None,
                expected_share=_decimal(e.expected_share) if e else None,
                judgement=e.judgement if e else None,  # type: ignore[arg-type]
                reason=e.reason if e else None,
                measure=e.measure if e else None,
                light=res.light,  # type: ignore[arg-type]
                basis=res.basis,
                expected_line=points(res.expected_share),
                done_share=points(res.done_share),
                behind=points(res.behind),
                projected=_decimal(res.projected),
                projected_by_unit=res.projected_by_unit,
                needs_reason=res.needs_reason,
            )
        )
    return ReportPublic(
        project_id=r.project.id or 0,
        project_code=r.project.project_code,
        project_name=r.project.name,
        unit=r.unit.name,
        department=r.department.name if r.department else None,
        round=round_public(r.round),
        version=r.version,
        budget=money(r.project.budget),
        spent=money(r.report.spent) if r.report else None,
        spending=SpendingPublic(
            light=r.spending.light,  # type: ignore[arg-type]
            rate=points(r.spending.rate),
            behind=points(r.spending.behind),
            basis=r.spending.basis,
        ),
        light=r.light,  # type: ignore[arg-type]
        worst=r.worst,  # type: ignore[arg-type]
        indicators=inds,
    )


@router.get("", response_model=OverviewPublic, summary="某年度的运行监控总览（双监控）")
@requires("read")
def overview(
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度（必填）", examples=[2025])],
    department_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="只看某主管部门")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="只看某单位")] = None,
    light: Annotated[Light | None, Query(description="只看目标灯或支出灯为该灯的项目（如 red：红灯项目）")] = None,
) -> OverviewPublic:
    """Counts per light by department and unit, spending against the time line, every project's lights."""
    view = monitoring.overview(
        session=session, principal=principal, year=year, department_id=department_id, unit_id=unit_id, light=light
    )
    return OverviewPublic(
        round=round_public(view.round),
        thresholds={"yellow": format(view.thresholds.yellow, "f"), "red": format(view.thresholds.red, "f")},
        rule=m.light_doc(view.thresholds),
        total=group_public(view.total),
        departments=[group_public(g) for g in view.departments],
        units=[group_public(g) for g in view.units],
        projects=[report_public(r) for r in view.reports],
    )


@router.get("/projects/{project_id}", response_model=ReportPublic, summary="一个项目的运行监控表")
@requires("read")
def get_report(project_id: int, principal: PrincipalDep, session: SessionDep) -> ReportPublic:
    """One project's report in its year's round, with the lights."""
    return report_public(monitoring.report_line(session=session, principal=principal, project_id=project_id))


class EntryUpdate(BaseModel):
    """一个指标的监控填报；未给出的字段保持不变，给出空字符串则清空。"""

    model_config = ConfigDict(extra="forbid")

    indicator_id: int = Field(description="指标编号")
    progress: str | None = Field(None, max_length=10000, description="截至监控日的完成值，如“50次”“96%”")
    expected_year_end: str | None = Field(None, max_length=10000, description="年末预计值（可选）")
    expected_share: str | None = Field(None, max_length=20, description="季节性指标应完成比例（百分点，如 40）")
    judgement: Literal["green", "yellow", "red", ""] | None = Field(
        None, description="无法量化比较时的进度判断：green 按计划推进 / yellow 进度偏慢 / red 难以完成"
    )
    reason: str | None = Field(None, max_length=10000, description="偏差原因")
    measure: str | None = Field(None, max_length=10000, description="纠偏措施")


class ReportUpdate(BaseModel):
    """保存运行监控（部分更新）。金额以字符串传递（万元）。"""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="读取时的版本号；已被他人修改时返回 409")
    spent: str | None = Field(None, max_length=40, description="截至监控日的执行数（万元）", examples=["50.00"])
    indicators: list[EntryUpdate] = Field(default_factory=list, max_length=2000, description="指标的填报")


@router.put(
    "/projects/{project_id}",
    response_model=ReportPublic,
    summary="保存本单位项目的运行监控（部分更新）",
    responses={
        409: {"description": "版本已过期（他人已修改），或监控已结束"},
        422: {"description": "输入有误，errors 中逐字段说明（如 indicators[12].progress）"},
    },
)
@requires("write")
def put_report(project_id: int, body: ReportUpdate, principal: PrincipalDep, session: SessionDep) -> ReportPublic:
    """Save 执行数 and indicator progress; all or nothing; answers the report with its new lights."""
    entries = {
        e.indicator_id: {k: getattr(e, k) for k in e.model_fields_set if k != "indicator_id"} for e in body.indicators
    }
    line = monitoring.save(
        session=session,
        principal=principal,
        project_id=project_id,
        version=body.version,
        spent=body.spent if "spent" in body.model_fields_set else UNSET,
        entries=entries,
    )
    return report_public(line)


class RoundOpen(BaseModel):
    """开启（或重新开启、改截止日期）某年度的运行监控。"""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="年度", examples=[2025])
    cutoff_date: date = Field(description="监控截止日期，须在该年度内", examples=["2025-06-30"])


@router.post(
    "/rounds",
    response_model=RoundPublic,
    summary="开启运行监控（财政局、管理员）",
    responses={422: {"description": "年度或截止日期有误"}},
)
@requires("admin")
def open_round(body: RoundOpen, principal: PrincipalDep, session: SessionDep) -> RoundPublic:
    """Open a year's round with its cut-off date (again: move the date, reopen a closed round)."""
    return round_public(
        monitoring.open_round(session=session, principal=principal, year=body.year, cutoff_date=body.cutoff_date)
    )


@router.post("/rounds/{round_id}/close", response_model=RoundPublic, summary="结束运行监控（财政局、管理员）")
@requires("admin")
def close_round(round_id: int, principal: PrincipalDep, session: SessionDep) -> RoundPublic:
    """Close a round: the units' reports become read-only."""
    return round_public(monitoring.close_round(session=session, principal=principal, round_id=round_id))
