"""Mid-year monitoring (绩效运行监控, 双监控): rounds, the units' reports, the overview.

The finance bureau opens a round for a year with a cut-off date and closes it; while it is open a
unit reports, for each of its projects, 执行数 as of the date and each indicator's progress. The
lights are the domain's (app/domain/monitoring.py), with the thresholds of the scoring template in
force for the project's year and department. Tenancy as everywhere (app/services/scope.py): a unit
sees and writes only its own projects, a department sees its units', the bureau all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain import monitoring as m
from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.domain.targets import parse_target
from app.models import (
    Department,
    FiscalYear,
    Indicator,
    MonitoringEntry,
    MonitoringReport,
    MonitoringRound,
    Project,
    Unit,
)
from app.security import Principal
from app.services import audit, engine, templates
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, Problems, ValidationFailed
from app.services.evaluations import parse_money
from app.services.scope import require_role, unit_filter, visible_project
from app.sqltypes import utcnow

MANAGERS = ("finance", "admin")  # who opens and closes a round
MAX_VALUE = 500
MAX_TEXT = 5000
ENTRY_FIELDS = ("progress", "expected_year_end", "expected_share", "judgement", "reason", "measure")
STALE = "这份监控表已被他人或其他窗口修改，请刷新页面后再填写（您的修改未保存）"
UNSET: Any = object()
FIELD_LABELS = {
    "spent": "执行数",
    "progress": "完成值",
    "expected_year_end": "年末预计值",
    "expected_share": "截至监控日应完成比例",
    "judgement": "进度判断",
    "reason": m.REASON_WORDS,
    "measure": m.MEASURE_WORDS,
}


# --- rounds ----------------------------------------------------------------------------------


def round_of(*, session: Session, year: int) -> MonitoringRound | None:
    """The year's monitoring round, if the bureau opened one."""
    return session.exec(select(MonitoringRound).where(MonitoringRound.year == year)).first()


def rounds(*, session: Session) -> list[MonitoringRound]:
    """Every round, the latest year first."""
    return list(session.exec(select(MonitoringRound).order_by(MonitoringRound.year.desc())).all())


def latest_year(*, session: Session) -> int | None:
    """The year of the latest round (what the pages show unless asked for another)."""
    return session.exec(select(sa.func.max(MonitoringRound.year))).first()


def open_round(*, session: Session, principal: Principal, year: int, cutoff_date: date | None) -> MonitoringRound:
    """Open (or reopen, or move the cut-off of) a year's round; the finance bureau or an administrator."""
    require_role(principal, *MANAGERS)
    problems = Problems()
    if not MIN_YEAR <= year <= MAX_YEAR:
        problems.add("year", f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    if cutoff_date is None:
        problems.add("cutoff_date", "请填写监控截止日期，如 2025-06-30")
    elif cutoff_date.year != year:
        problems.add("cutoff_date", f"监控截止日期须在 {year} 年内")
    problems.raise_if_any("开启运行监控的信息有误")
    assert cutoff_date is not None
    if session.get(FiscalYear, year) is None:
        session.add(FiscalYear(year=year))
        session.flush()
    row = round_of(session=session, year=year)
    before = None
    if row is None:
        row = MonitoringRound(year=year, cutoff_date=cutoff_date, opened_by_id=principal.user_id)
    else:
        before = {"cutoff_date": row.cutoff_date.isoformat(), "status": row.status}
        row.version += 1
    row.cutoff_date, row.status, row.closed_at = cutoff_date, m.ROUND_OPEN, None
    row.opened_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=principal,
        action="monitoring.open",
        entity_type="monitoring_round",
        entity_id=row.id,
        before=before,
        after={"year": year, "cutoff_date": cutoff_date.isoformat(), "status": m.ROUND_OPEN},
    )
    session.commit()
    return row


def close_round(*, session: Session, principal: Principal, round_id: int) -> MonitoringRound:
    """Close a round: the reports become read-only (reopening is opening again)."""
    require_role(principal, *MANAGERS)
    row = session.exec(select(MonitoringRound).where(MonitoringRound.id == round_id)).first()
    if row is None:
        raise NotFound("监控轮次不存在")
    if row.status == m.ROUND_CLOSED:
        return row
    row.status, row.closed_at = m.ROUND_CLOSED, utcnow()
    row.version += 1
    session.add(row)
    audit.record(
        session=session,
        actor=principal,
        action="monitoring.close",
        entity_type="monitoring_round",
        entity_id=row.id,
        before={"status": m.ROUND_OPEN},
        after={"status": m.ROUND_CLOSED},
    )
    session.commit()
    return row


# --- what the pages and the API show ------------------------------------------------------------


@dataclass
class IndicatorLine:
    indicator: Indicator
    entry: MonitoringEntry | None
    result: m.IndicatorLight

    @property
    def light(self) -> str:
        return self.result.light


@dataclass
class ReportLine:
    """One project's monitoring: its report, every indicator's light and the spending light."""

    round: MonitoringRound
    project: Project
    unit: Unit
    department: Department | None
    report: MonitoringReport | None
    indicators: list[IndicatorLine]
    spending: m.SpendingLight
    thresholds: m.Thresholds

    @property
    def light(self) -> str:
        return m.project_light([i.result for i in self.indicators])

    @property
    def version(self) -> int:
        return self.report.version if self.report else 1  # a report starts at version 1 on its first save

    @property
    def worst(self) -> str:
        """The worse of the target light and the spending light (what "the reds" filter)."""
        return m.worst([self.light, self.spending.light])

    def line(self, indicator_id: int) -> IndicatorLine:
        for line in self.indicators:
            if line.indicator.id == indicator_id:
                return line
        raise NotFound("指标不存在或无权查看")


@dataclass
class GroupLine:
    """A department's or a unit's figures: projects per light, spending against the time line."""

    key: int | None
    name: str
    projects: int = 0
    lights: dict[str, int] = field(default_factory=lambda: m.counts([]))
    spending_lights: dict[str, int] = field(default_factory=lambda: m.counts([]))
    budget: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    reported: int = 0  # projects with both a budget and 执行数

    @property
    def spending_rate(self) -> Fraction | None:
        return Fraction(self.spent) / Fraction(self.budget) * 100 if self.budget else None


@dataclass
class Overview:
    round: MonitoringRound
    line: Fraction  # the time line at the cut-off, points
    thresholds: m.Thresholds
    reports: list[ReportLine]
    departments: list[GroupLine]
    units: list[GroupLine]
    total: GroupLine


def _settings_lookup(session: Session, year: int) -> Callable[[int | None], m.Thresholds]:
    resolve = templates.resolver(session=session, year=year)
    cache: dict[str, m.Thresholds] = {}

    def lookup(department_id: int | None) -> m.Thresholds:
        name = resolve(department_id)
        if name not in cache:
            cache[name] = m.thresholds_of(templates.current_settings(session=session, name=name))
        return cache[name]

    return lookup


def _parse(text: str | None, year: int):
    return parse_target(text, year=year) if text and text.strip() else None


def _lines(
    session: Session,
    rnd: MonitoringRound,
    rows: list[tuple[Project, Unit, Department | None]],
) -> list[ReportLine]:
    """Build each project's report line from four queries, whatever the number of projects."""
    if not rows:
        return []
    ids = [p.id for p, _, _ in rows]
    indicators: dict[int, list[Indicator]] = {}
    for chunk in _chunks(ids):
        for ind in session.exec(
            select(Indicator).where(Indicator.project_id.in_(chunk)).order_by(Indicator.position, Indicator.id)
        ):
            indicators.setdefault(ind.project_id, []).append(ind)
    reports: dict[int, MonitoringReport] = {}
    for chunk in _chunks(ids):
        for rep in session.exec(
            select(MonitoringReport).where(MonitoringReport.round_id == rnd.id, MonitoringReport.project_id.in_(chunk))
        ):
            reports[rep.project_id] = rep
    entries: dict[tuple[int, int], MonitoringEntry] = {}
    for chunk in _chunks([r.id for r in reports.values()]):
        for e in session.exec(select(MonitoringEntry).where(MonitoringEntry.report_id.in_(chunk))):
            entries[(e.report_id, e.indicator_id)] = e
    lookup = _settings_lookup(session, rnd.year)
    out = []
    for project, unit, department in rows:
        thresholds = lookup(unit.department_id)
        report = reports.get(project.id)
        lines = []
        for ind in indicators.get(project.id, []):
            entry = entries.get((report.id, ind.id)) if report else None
            inp = m.IndicatorInput(
                target=engine.target_of(ind),
                progress=_parse(entry.progress, rnd.year) if entry else None,
                expected_year_end=_parse(entry.expected_year_end, rnd.year) if entry else None,
                expected_share=entry.expected_share if entry else None,
                judgement=entry.judgement if entry else None,
            )
            lines.append(
                IndicatorLine(ind, entry, m.assess(inp, year=rnd.year, cutoff=rnd.cutoff_date, thresholds=thresholds))
            )
        spending = m.assess_spending(
            spent=report.spent if report else None,
            budget=project.budget,
            year=rnd.year,
            cutoff=rnd.cutoff_date,
            thresholds=thresholds,
        )
        out.append(ReportLine(rnd, project, unit, department, report, lines, spending, thresholds))
    return out


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _require_round(session: Session, year: int) -> MonitoringRound:
    rnd = round_of(session=session, year=year)
    if rnd is None:
        raise NotFound(f"{year} 年度尚未开启运行监控")
    return rnd


def report_line(*, session: Session, principal: Principal, project_id: int) -> ReportLine:
    """One project's monitoring in its year's round (NotFound when it is not visible or no round)."""
    project = visible_project(session=session, principal=principal, project_id=project_id)
    rnd = _require_round(session, project.year)
    unit = session.exec(select(Unit).where(Unit.id == project.unit_id)).one()
    department = (
        session.exec(select(Department).where(Department.id == unit.department_id)).first()
        if unit.department_id
        else None
    )
    return _lines(session, rnd, [(project, unit, department)])[0]


def editable(line: ReportLine, principal: Principal) -> bool:
    """Whether this caller may write this report now: its own unit, while the round is open."""
    return (
        principal.role == "unit"
        and principal.unit_id == line.unit.id
        and line.round.status == m.ROUND_OPEN
        and (principal.scopes is None or "write" in principal.scopes)
    )


def overview(
    *,
    session: Session,
    principal: Principal,
    year: int,
    department_id: int | None = None,
    unit_id: int | None = None,
    light: str | None = None,
) -> Overview:
    """The year's monitoring as the caller may see it: every project's lights, and by department and unit."""
    rnd = _require_round(session, year)
    if light is not None and light not in (*m.LIGHTS, m.NO_LIGHT):
        raise ValidationFailed("筛选条件有误", errors=[_field("light", "应为 green、yellow、red 或 none")])
    query = (
        select(Project, Unit, Department)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == Unit.department_id, isouter=True)
        .where(Project.year == year, unit_filter(principal, Project.unit_id))
        .order_by(Department.name, Unit.name, Project.position, Project.id)
    )
    if department_id is not None:
        query = query.where(Unit.department_id == department_id)
    if unit_id is not None:
        query = query.where(Project.unit_id == unit_id)
    lines = _lines(session, rnd, list(session.exec(query).all()))
    if light is not None:
        # a light filters the projects whose target light or spending light is it (red: "the reds")
        lines = [r for r in lines if light in (r.light, r.spending.light)]
    departments: dict[int | None, GroupLine] = {}
    units: dict[int, GroupLine] = {}
    total = GroupLine(None, "合计")
    for r in lines:
        dept_key = r.department.id if r.department else None
        dept = departments.setdefault(
            dept_key, GroupLine(dept_key, r.department.name if r.department else "（无主管部门）")
        )
        unit = units.setdefault(r.unit.id, GroupLine(r.unit.id, r.unit.name))
        for group in (dept, unit, total):
            _add(group, r)
    thresholds = _settings_lookup(session, year)(None)
    return Overview(
        rnd,
        m.time_share(rnd.year, rnd.cutoff_date),
        thresholds,
        lines,
        list(departments.values()),
        list(units.values()),
        total,
    )


def _add(group: GroupLine, r: ReportLine) -> None:
    group.projects += 1
    group.lights[r.light] += 1
    group.spending_lights[r.spending.light] += 1
    spent = r.report.spent if r.report else None
    if r.project.budget and spent is not None:
        group.budget += r.project.budget
        group.spent += spent
        group.reported += 1


def _field(name: str, message: str, indicator_id: int | None = None) -> FieldError:
    return FieldError(name, message, indicator_id)


# --- the unit's writes -----------------------------------------------------------------------------


def _ensure_report(session: Session, rnd: MonitoringRound, project: Project) -> MonitoringReport:
    report = session.exec(
        select(MonitoringReport).where(MonitoringReport.round_id == rnd.id, MonitoringReport.project_id == project.id)
    ).first()
    if report is not None:
        return report
    report = MonitoringReport(round_id=rnd.id, project_id=project.id)
    try:
        with session.begin_nested():  # a savepoint: a concurrent first save may create it too
            session.add(report)
    except sa.exc.IntegrityError:
        return session.exec(
            select(MonitoringReport).where(
                MonitoringReport.round_id == rnd.id, MonitoringReport.project_id == project.id
            )
        ).one()
    return report


def _check_value(text: str, ind: Indicator, name: str, key: str, problems: Problems) -> dict | None:
    """A 完成值 or a year-end value as typed: parsed as the 自评表 parses actuals, checked against the target's kind."""
    label = FIELD_LABELS[name]
    if len(text) > MAX_VALUE:
        problems.add(key, f"{label}不能超过 {MAX_VALUE} 个字符", ind.id)
        return None
    if re.search(r"\d[eE][+-]?\d", text):
        problems.add(key, "请直接写出数字，不要用科学计数法（如 1e9）", ind.id)
        return None
    parsed = parse_target(text, year=ind.year)
    if ind.target_kind == "quantity" and ind.target_value is not None:
        if parsed.kind != "quantity" or parsed.value is None:
            problems.add(key, f"年度指标值为数值（{ind.annual_target}），{label}请填写数字，如“6份”“96%”", ind.id)
            return None
        if parsed.value < 0:
            problems.add(key, f"{label}不能为负数", ind.id)
            return None
    if ind.target_kind == "deadline" and ind.target_deadline is not None and parsed.kind != "deadline":
        problems.add(
            key, "年度指标值为完成期限：已完成请填写完成日期（如 2025-06-20），未完成请留空并选择进度判断", ind.id
        )
        return None
    return parsed.to_json()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def save(
    *,
    session: Session,
    principal: Principal,
    project_id: int,
    version: int | None,
    spent: Any = UNSET,
    entries: dict[int, dict[str, Any]] | None = None,
) -> ReportLine:
    """Save what a unit typed: 执行数 and/or some indicators' fields (only the fields given).

    All or nothing: a field that fails is a 422 naming it (`indicators[<id>].progress`), and nothing
    is stored; a stale version is a 409.
    """
    project = visible_project(session=session, principal=principal, project_id=project_id)
    if principal.role != "unit" or principal.unit_id != project.unit_id:
        raise PermissionDenied("只有项目所属单位可以填报运行监控")
    rnd = _require_round(session, project.year)
    if rnd.status != m.ROUND_OPEN:
        raise Conflict(f"{rnd.year} 年度的运行监控已结束，不能再修改")
    report = _ensure_report(session, rnd, project)
    problems = Problems()
    changes: dict[str, Any] = {}
    before: dict[str, Any] = {}
    if spent is not UNSET:
        amount = parse_money(spent, "spent", FIELD_LABELS["spent"], problems)
        if amount != report.spent and not any(p.field == "spent" for p in problems.items):
            before["spent"] = _money_text(report.spent)
            changes["spent"] = _money_text(amount)
            report.spent = amount
    indicators = {i.id: i for i in session.exec(select(Indicator).where(Indicator.project_id == project.id)).all()}
    existing = (
        {
            e.indicator_id: e
            for e in session.exec(select(MonitoringEntry).where(MonitoringEntry.report_id == report.id)).all()
        }
        if report.id
        else {}
    )
    touched: list[MonitoringEntry] = []
    for indicator_id, fields in (entries or {}).items():
        ind = indicators.get(indicator_id)
        if ind is None:
            problems.add(f"indicators[{indicator_id}]", "该指标不属于这个项目", indicator_id)
            continue
        entry = existing.get(indicator_id) or MonitoringEntry(report_id=report.id or 0, indicator_id=indicator_id)
        row_before: dict[str, Any] = {}
        row_after: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in ENTRY_FIELDS:
                problems.add(f"indicators[{indicator_id}].{name}", "不认识的字段", indicator_id)
                continue
            key = f"indicators[{indicator_id}].{name}"
            text = _text(value).strip()
            new: Any
            if name in ("progress", "expected_year_end"):
                parsed = None
                if text:
                    errors_before = len(problems.items)
                    parsed = _check_value(text, ind, name, key, problems)
                    if len(problems.items) > errors_before:
                        continue
                new = text or None
                if new != getattr(entry, name):
                    setattr(entry, "progress_parsed" if name == "progress" else "expected_parsed", parsed)
            elif name == "expected_share":
                try:
                    new = m.parse_share(text)
                except ValueError as exc:
                    problems.add(key, str(exc), indicator_id)
                    continue
            elif name == "judgement":
                if text and text not in m.LIGHTS:
                    problems.add(key, "应为 green（按计划推进）、yellow（进度偏慢）或 red（难以完成）", indicator_id)
                    continue
                new = text or None
            else:
                if len(text) > MAX_TEXT:
                    problems.add(key, f"{FIELD_LABELS[name]}不能超过 {MAX_TEXT} 个字符", indicator_id)
                    continue
                new = text or None
            old = getattr(entry, name)
            if new != old:
                row_before[name] = _plain(old)
                row_after[name] = _plain(new)
                setattr(entry, name, new)
        if row_after:
            entry.updated_at = utcnow()
            touched.append(entry)
            before[f"indicators[{indicator_id}]"] = row_before
            changes[f"indicators[{indicator_id}]"] = row_after
    if problems.items:
        session.rollback()
        problems.raise_if_any()
    if version is None or version != report.version:
        session.rollback()
        raise Conflict(STALE)
    if changes:
        # compare-and-set on the report's version: a concurrent save of the same version loses (409)
        table = MonitoringReport.__table__
        session.flush()
        updated = (
            session.connection()
            .execute(
                sa.update(table)
                .where(table.c.id == report.id, table.c.version == version)
                .values(version=version + 1, updated_by_id=principal.user_id, updated_at=utcnow())
            )
            .rowcount
        )
        if updated != 1:
            session.rollback()
            raise Conflict(STALE)
        for entry in touched:
            entry.report_id = report.id
            session.add(entry)
        session.add(report)
        audit.record(
            session=session,
            actor=principal,
            action="monitoring.save",
            entity_type="monitoring_report",
            entity_id=report.id,
            before=before,
            after=changes,
            stream=f"project:{project.id}",
        )
        session.commit()
        session.expire_all()
    else:
        session.commit()
    return report_line(session=session, principal=principal, project_id=project_id)


def _money_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


# --- beside the year-end self-evaluation ----------------------------------------------------------


@dataclass
class MonitoringNote:
    cutoff_date: date
    values: dict[int, tuple[str | None, str]]  # indicator id → (完成值 as typed, light)


def beside_evaluation(
    *, session: Session, project: Project, rnd: MonitoringRound | None | Any = UNSET, unit: Unit | None = None
) -> MonitoringNote | None:
    """What the year's monitoring recorded for each indicator, to show beside the actual; None without a round.
    Given the year's round (or None) and the unit a caller already read, reads them not again."""
    if rnd is UNSET:
        rnd = round_of(session=session, year=project.year)
    if rnd is None:
        return None
    if unit is None:
        unit = session.exec(select(Unit).where(Unit.id == project.unit_id)).one()
    line = _lines(session, rnd, [(project, unit, None)])[0]
    return MonitoringNote(
        rnd.cutoff_date, {i.indicator.id: (i.entry.progress if i.entry else None, i.light) for i in line.indicators}
    )
