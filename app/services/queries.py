"""Read queries for the finance bureau's API: units, projects, indicators, statistics.

Query shape follows shared/perf-notes.md: columns rather than ORM entities for lists,
keyset pagination by id (never an offset), and the keyset and year predicates written on both
sides of a join, because PostgreSQL does not carry an inequality across one. Tenancy always
goes through `unit_filter`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.domain.evaluation import APPROVED, FIRST_STATUS, HANDED_IN, STATUS_CODES
from app.domain.scoring import FLAG_LABELS, GRADES, TemplateSettings
from app.models import (
    Department,
    Indicator,
    IndicatorResult,
    Project,
    ScoringTemplate,
    SelfEvaluation,
    Unit,
    UnitStats,
)
from app.security import Principal
from app.services import csv_copy, templates
from app.services.accounts import name_key
from app.services.errors import FieldError, NotFound, ValidationFailed
from app.services.history import HistoryEntry, describe_project
from app.services.prebuilt import Prebuilt
from app.services.scope import filter_shape, shaped_filter, unit_filter
from app.sqltypes import ExactDecimal, page_limit

FLAGS = tuple(FLAG_LABELS)
# HANDED_IN (sent in and not sent back) is what counts as handed in in progress figures and
# score statistics; APPROVED what a reviewer approved. Both are the lifecycle's.
# Score distribution: ten bins of ten points; the last one includes 100.
SCORE_BINS = tuple((Decimal(lo), Decimal(lo + 10)) for lo in range(0, 100, 10))
_INT32_MAX = 2**31 - 1
_CENT = Decimal("0.01")


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeFilters:
    """year / department (id, code or name) / unit (id, code or name), shared by every list."""

    year: int | None = None
    department: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        # PostgreSQL refuses NUL in text; say so as a 422 before any query (or export) starts.
        problems = [
            FieldError(f.name, "不能包含空字符")
            for f in fields(self)
            if isinstance(getattr(self, f.name), str) and "\x00" in getattr(self, f.name)
        ]
        if problems:
            raise ValidationFailed("请求参数有误", errors=problems)


@dataclass(frozen=True)
class ProjectFilters(ScopeFilters):
    status: str | None = None
    grade: str | None = None
    min_score: Decimal | None = None
    max_score: Decimal | None = None
    max_execution_rate: Decimal | None = None
    q: str | None = None


@dataclass(frozen=True)
class IndicatorFilters(ScopeFilters):
    level1: str | None = None
    level2: str | None = None  # glossary slug or printed code ("quantity" or "11")
    met: bool | None = None
    flag: str | None = None
    kind: str | None = None


def project_matches(q: str) -> sa.ColumnElement[bool]:
    """The one project search of the pages and the API: the name or the project code contains what
    was typed, whatever the case of its Latin letters (the same on SQLite and PostgreSQL), % and _
    taken literally."""
    text = q.strip()
    return sa.or_(Project.name.icontains(text, autoescape=True), Project.project_code.icontains(text, autoescape=True))


def _as_id(value: str) -> int | None:
    value = value.strip()
    if value.isascii() and value.isdigit() and 0 < int(value) <= _INT32_MAX:
        return int(value)
    return None


def department_match(value: str) -> sa.ColumnElement[bool]:
    """Department given by id, code or name (needs Department in the FROM clause)."""
    value = value.strip()
    ident = _as_id(value)
    clauses = [Department.code == value, Department.name == value]
    if ident is not None:
        clauses.append(Department.id == ident)
    return sa.or_(*clauses)


def unit_match(value: str) -> sa.ColumnElement[bool]:
    """Unit given by id, code or name (needs Unit in the FROM clause)."""
    value = value.strip()
    ident = _as_id(value)
    clauses = [Unit.code == value, Unit.name_key == name_key(value)]
    if ident is not None:
        clauses.append(Unit.id == ident)
    return sa.or_(*clauses)


def _scope_where(filters: ScopeFilters) -> list[sa.ColumnElement[bool]]:
    where = []
    if filters.department:
        where.append(department_match(filters.department))
    if filters.unit:
        where.append(unit_match(filters.unit))
    return where


def _quantize(value: Decimal, places: str, rounding: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=rounding)


def _json_array_contains(dialect: str, column, item) -> sa.ColumnElement[bool]:
    """The JSON array `column` holds `item` (on PostgreSQL, `item` is a one-element list or a parameter
    bound to one)."""
    if dialect == "postgresql":
        return sa.type_coerce(column, JSONB).contains(item)
    each = sa.func.json_each(column).table_valued("value").alias("flag_each")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == item))


# --- units --------------------------------------------------------------------------------


def list_units(
    *, session: Session, principal: Principal, filters: ScopeFilters, after: int | None = None, limit: int = 100
) -> list[sa.RowMapping]:
    """Units the caller may see, with their department, ordered by id after the keyset `after`."""
    stmt = (
        select(
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.department_id,
            Department.code.label("department_code"),
            Department.name.label("department_name"),
        )
        .select_from(Unit)
        .outerjoin(Department, Department.id == Unit.department_id)
        .where(unit_filter(principal, Unit.id), *_scope_where(filters))
        .order_by(Unit.id)
        .limit(page_limit(limit))
    )
    if after is not None:
        stmt = stmt.where(Unit.id > after)
    if filters.year is not None:
        stmt = stmt.where(sa.exists(select(Project.id).where(Project.unit_id == Unit.id, Project.year == filters.year)))
    return list(session.exec(stmt).mappings())


# --- projects -----------------------------------------------------------------------------


def _project_columns():
    return (
        Project.id,
        Project.year,
        Project.project_code,
        Project.name,
        Project.unit_id,
        Unit.code.label("unit_code"),
        Unit.name.label("unit_name"),
        Unit.department_id,
        Department.name.label("department_name"),
        Project.initial_budget,
        Project.budget,
        Project.spent,
        SelfEvaluation.id.label("self_evaluation_id"),
        sa.func.coalesce(SelfEvaluation.status, FIRST_STATUS).label("status"),
        SelfEvaluation.execution_rate,
        SelfEvaluation.total_score,
        SelfEvaluation.score_places,
        SelfEvaluation.grade,
        SelfEvaluation.flags,
    )


def list_projects(
    *, session: Session, principal: Principal, filters: ProjectFilters, after: int | None = None, limit: int = 100
) -> list[sa.RowMapping]:
    """Projects with budget, spent, 执行率, status, total score and grade, ordered by id."""
    on_evaluation = [SelfEvaluation.project_id == Project.id]
    where = [unit_filter(principal, Project.unit_id), *_scope_where(filters)]
    if after is not None:
        where.append(Project.id > after)
        on_evaluation.append(SelfEvaluation.project_id > after)
    if filters.year is not None:
        where.append(Project.year == filters.year)
        on_evaluation.append(SelfEvaluation.year == filters.year)
    if filters.status == FIRST_STATUS:
        where.append(sa.or_(SelfEvaluation.id.is_(None), SelfEvaluation.status == FIRST_STATUS))
    elif filters.status is not None:
        where.append(SelfEvaluation.status == filters.status)
    if filters.grade is not None:
        where.append(SelfEvaluation.grade == filters.grade)
    # Scores carry two places and rates four: round the bound inward so the comparison is exact.
    if filters.min_score is not None:
        where.append(SelfEvaluation.total_score >= _quantize(filters.min_score, "0.01", ROUND_CEILING))
    if filters.max_score is not None:
        where.append(SelfEvaluation.total_score <= _quantize(filters.max_score, "0.01", ROUND_FLOOR))
    if filters.max_execution_rate is not None:
        where.append(SelfEvaluation.execution_rate <= _quantize(filters.max_execution_rate, "0.0001", ROUND_FLOOR))
    if filters.q and filters.q.strip():
        where.append(project_matches(filters.q))
    stmt = (
        select(*_project_columns())
        .select_from(Project)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .outerjoin(SelfEvaluation, sa.and_(*on_evaluation))
        .where(*where)
        .order_by(Project.id)
        .limit(page_limit(limit))
    )
    return list(session.exec(stmt).mappings())


@dataclass
class ProjectDetail:
    """One project as the API shows it: the list row with the project's and its evaluation's own
    columns, the indicators and the history, all plain values."""

    row: dict[str, Any]
    template: str | None  # the evaluation's template, "name@version"
    indicators: list[dict[str, Any]] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    # the name of the template in force for the project's year and department, and its rules (the
    # quality check's)
    template_in_force: str | None = None
    settings_in_force: TemplateSettings | None = None


# The detail's own columns beyond the list row's (the project's and its evaluation's).
_DETAIL_COLUMNS = (
    Project.target_status,
    Project.version,
    Project.fiscal_funds,
    Project.carried_over,
    Project.other_funds,
    Project.period_goal,
    Project.annual_goal,
    Project.warnings,
    SelfEvaluation.goal_completion,
    SelfEvaluation.execution_score,
    SelfEvaluation.department_score,
    SelfEvaluation.review_opinion,
    SelfEvaluation.submitted_at,
    SelfEvaluation.reviewed_at,
)
_DETAIL: dict[str, Prebuilt] = {}  # the project's statement by the caller's filter shape, built once


def _detail_statement(shape: str) -> Prebuilt:
    """The project with its list row, its evaluation, the evaluation's template, and the template in
    force (its name, and the settings of its current version as their JSON text): one statement, the
    project's id bound as `project_id` and the caller's unit or department as `scope_id`."""
    if shape not in _DETAIL:
        in_force = aliased(ScoringTemplate, name="in_force")
        name = templates.name_in_force(Project.year, Unit.department_id)
        _DETAIL[shape] = Prebuilt(
            select(
                *_project_columns(),
                *_DETAIL_COLUMNS,
                ScoringTemplate.name.label("template_name"),
                ScoringTemplate.version.label("template_version"),
                name.label("template_in_force"),
                sa.cast(in_force.settings, sa.Text).label("settings_in_force"),
            )
            .select_from(Project)
            .join(Unit, Unit.id == Project.unit_id)
            .outerjoin(Department, Department.id == Unit.department_id)
            .outerjoin(SelfEvaluation, SelfEvaluation.project_id == Project.id)
            .outerjoin(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
            .outerjoin(in_force, sa.and_(in_force.name == name, in_force.is_current))
            .where(Project.id == sa.bindparam("project_id"), shaped_filter(shape, Project.unit_id))
            .order_by(in_force.version.desc())  # as current_template: the newest current version
            .limit(1)
        )
    return _DETAIL[shape]


def project_detail(*, session: Session, principal: Principal, project_id: int) -> ProjectDetail:
    """One visible project with its indicators, results and review history; NotFound otherwise
    (no existence leak). Three statements, each built once and run on the driver (prebuilt.py): the
    project with its list row, its evaluation and the template in force; the indicators; the history
    (whose indicator names are the indicators just read). Rows are plain dicts."""
    shape, scope_params = filter_shape(principal)
    connection = session.connection()
    keys, rows = _detail_statement(shape).rows(connection, {"project_id": project_id, **scope_params})
    if not rows:
        raise NotFound("项目不存在或无权查看")
    row = dict(zip(keys, rows[0], strict=True))
    keys, rows = _DETAIL_INDICATORS.rows(connection, {"project_id": project_id})
    indicators = [dict(zip(keys, r, strict=True)) for r in rows]
    history = describe_project(
        session,
        project_id=project_id,
        evaluation_id=row["self_evaluation_id"],
        names={f"indicator:{r['id']}": r["name"] for r in indicators},
    )
    return ProjectDetail(
        row=row,
        template=f"{row['template_name']}@{row['template_version']}" if row["template_name"] is not None else None,
        indicators=indicators,
        history=history,
        template_in_force=row["template_in_force"],
        settings_in_force=_settings_in_force(session, row),
    )


def _settings_in_force(session: Session, row: dict[str, Any]) -> TemplateSettings:
    """The rules of the template in force, from the settings' JSON text read with the project (parsed
    once per text: PostgreSQL writes a jsonb value's text the same way every time); a built-in
    template not stored yet is stored now, as current_template does on first use."""
    text = row["settings_in_force"]
    if text is None:
        return templates.current_settings(session=session, name=row["template_in_force"])
    settings = _IN_FORCE.get(text)
    if settings is None:
        settings = templates.settings_from(json.loads(text))
        if len(_IN_FORCE) >= 64:
            _IN_FORCE.clear()
        _IN_FORCE[text] = settings
    return settings


# The rules of the templates in force by their settings' JSON text (few: a template per year and department)
_IN_FORCE: dict[str, TemplateSettings] = {}


# --- indicators ---------------------------------------------------------------------------


# An indicator's own columns with its result's, from `position` on: the list row's tail and the
# project detail's indicators select the same ones (one tuple, so the two cannot drift apart).
_INDICATOR_FIGURES = (
    Indicator.position,
    Indicator.level1,
    Indicator.level2,
    Indicator.level2_code,
    Indicator.level2_name,
    Indicator.name,
    Indicator.period_target,
    Indicator.annual_target,
    Indicator.target_kind,
    Indicator.target_op,
    Indicator.target_value,
    Indicator.target_value_max,
    Indicator.target_unit,
    Indicator.target_confidence,
    sa.func.coalesce(IndicatorResult.weight, Indicator.weight).label("weight"),
    Indicator.weight.label("given_weight"),
    IndicatorResult.actual,
    IndicatorResult.score,
    IndicatorResult.score_override,
    IndicatorResult.self_score,
    IndicatorResult.score_places,
    IndicatorResult.met,
    IndicatorResult.flags,
)


# The indicator list's columns, in this order (the API writes its rows by position).
INDICATOR_COLUMNS = (
    Indicator.id,
    Indicator.year,
    Indicator.project_id,
    Project.project_code,
    Project.name.label("project_name"),
    Project.unit_id,
    Unit.name.label("unit_name"),
    Unit.department_id,
    Department.name.label("department_name"),
    *_INDICATOR_FIGURES,
)


def _plain_numeric(column: sa.ColumnElement) -> sa.ColumnElement:
    """An ExactDecimal column read as PostgreSQL's NUMERIC is: psycopg's Decimal, already at the column's
    scale, is the value ExactDecimal's result processor would make of it again (a copy, quantized)."""
    if isinstance(column.type, ExactDecimal):
        return sa.type_coerce(column, sa.Numeric(asdecimal=True)).label(column.key)
    return column


# INDICATOR_COLUMNS as the list reads them on PostgreSQL: the same values, without a Python step per figure
_PG_INDICATOR_COLUMNS = tuple(_plain_numeric(c) for c in INDICATOR_COLUMNS)


def _indicator_detail_columns():
    return (
        Indicator.target_unit_raw,
        Indicator.target_unit_class,
        Indicator.target_deadline,
        Indicator.target_direction,
        Indicator.target_warnings,
        Indicator.warnings.label("indicator_warnings"),
        IndicatorResult.actual_parsed,
        IndicatorResult.qualitative_level,
        IndicatorResult.score_in_band,
        IndicatorResult.override_reason,
        IndicatorResult.self_score_reason,
        IndicatorResult.deviation_reason,
    )


# The project's indicators with their results, in table order: what the detail shows and the quality
# check reads (given_weight: the table's own 分值), built once, the project's id bound as `project_id`.
_DETAIL_INDICATORS = Prebuilt(
    select(
        Indicator.id,
        *_INDICATOR_FIGURES,
        *_indicator_detail_columns(),
    )
    .select_from(Indicator)
    .outerjoin(IndicatorResult, IndicatorResult.indicator_id == Indicator.id)
    .where(Indicator.project_id == sa.bindparam("project_id"))
    .order_by(Indicator.position, Indicator.id)
)


def indicator_rows(
    *, session: Session, principal: Principal, filters: IndicatorFilters, after: int | None = None, limit: int = 100
) -> Sequence[sa.Row]:
    """Indicator rows across projects, with their result, ordered by id: plain tuples in
    INDICATOR_COLUMNS' order, by a statement built once per shape of the filters (values bound)."""
    key, params = _indicators_shape(session, principal, filters, after=after, limit=limit)
    stmt = _INDICATORS.get(key)
    if stmt is None:
        stmt = _INDICATORS[key] = _build_indicators_statement(key)
    return session.connection().execute(stmt, params).all()


def list_indicators(
    *, session: Session, principal: Principal, filters: IndicatorFilters, after: int | None = None, limit: int = 100
) -> list[sa.RowMapping]:
    """indicator_rows, each row by its columns' names."""
    return [
        r._mapping
        for r in indicator_rows(session=session, principal=principal, filters=filters, after=after, limit=limit)
    ]


def indicators_csv(
    *, session: Session, principal: Principal, filters: IndicatorFilters
) -> tuple[sa.Select, list[tuple[str, csv_copy.Cell]]]:
    """The indicator list as PostgreSQL writes its CSV (csv_copy): the list's own query (same
    tenancy, filters and order, no page limit), each column formatted as `indicator_public` and the
    Python export write it; the names are IndicatorPublic's fields."""
    c = csv_copy
    r = IndicatorResult
    places = r.score_places
    weight = sa.func.coalesce(r.weight, Indicator.weight)
    flags = sa.type_coerce(r.flags, JSONB)
    self_scored = sa.and_(r.self_score.is_not(None), flags.contains(sa.cast(sa.literal('["self_scored"]'), JSONB)))
    effective = sa.case(
        (r.score_override.is_not(None), c.score(r.score_override, places)),
        (self_scored, c.score(r.self_score, places)),
        else_=c.score(r.score, places),
    )
    cells = [
        ("id", c.number(Indicator.id)),
        ("year", c.number(Indicator.year)),
        ("project_id", c.number(Indicator.project_id)),
        ("project_code", c.text(Project.project_code)),
        ("project_name", c.text(Project.name)),
        ("unit_id", c.number(Project.unit_id)),
        ("unit", c.text(Unit.name)),
        ("department_id", c.number(Unit.department_id)),
        ("department", c.text(Department.name)),
        ("position", c.number(Indicator.position)),
        ("level1", c.text(Indicator.level1)),
        ("level2", c.text(Indicator.level2)),
        ("level2_code", c.text(Indicator.level2_code)),
        ("level2_name", c.text(Indicator.level2_name)),
        ("name", c.text(Indicator.name)),
        ("period_target", c.text(Indicator.period_target)),
        ("annual_target", c.text(Indicator.annual_target)),
        ("target_kind", c.text(Indicator.target_kind)),
        ("target_op", c.text(Indicator.target_op)),
        ("target_value", c.number(Indicator.target_value)),
        ("target_value_max", c.number(Indicator.target_value_max)),
        ("target_unit", c.text(Indicator.target_unit)),
        ("target_confidence", c.text(Indicator.target_confidence)),
        ("weight", c.number(c.score(weight, places))),
        ("given_weight", c.number(c.plain_decimal(Indicator.weight))),
        ("actual", c.text(r.actual)),
        ("score", c.number(c.score(r.score, places))),
        ("score_override", c.number(c.score(r.score_override, places))),
        ("self_score", c.number(c.score(r.self_score, places))),
        ("effective_score", c.number(effective)),
        ("met", c.yes_no(r.met)),
        ("flags", c.codes(flags)),
    ]
    key, params = _indicators_shape(session, principal, filters, after=None, limit=None)
    # COPY takes no parameters: a statement of its own, the values in it
    return _build_indicators_statement(key, params), cells


# The list's statements by the shape of their filters (see _indicators_statement), built once.
_INDICATORS: dict[tuple, sa.Select] = {}


def _indicators_shape(
    session: Session, principal: Principal, filters: IndicatorFilters, *, after: int | None, limit: int | None
) -> tuple[tuple, dict]:
    """The shape of the list's statement for these filters (which filters are given, the caller's filter
    shape: all the statement depends on) and the values it binds."""
    if filters.level1 is not None:
        # a category of any template (成本 is guideline-2021's): years may use different templates
        known = tuple(dict.fromkeys(slug for _, st in templates.structures(session=session) for slug in st.slugs))
        if filters.level1 not in known:
            message = f"一级指标应为评分模板中的类别：{'、'.join(known)}"
            raise ValidationFailed("请求参数有误", errors=[FieldError("level1", message)])
    # Only results can be unmet: for an unmet list the result leads, through the partial indexes
    # WHERE NOT met — (year, department_id, indicator_id) when the list is one department's.
    unmet = filters.met is False and filters.year is not None
    departments = _departments_of(session, principal, filters) if unmet else None
    shape, params = filter_shape(principal)
    params = dict(params)
    by_departments = None
    if departments is not None:
        by_departments = "one" if len(departments) == 1 else "many"
        params["departments"] = departments[0] if len(departments) == 1 else departments
    department = None
    if filters.department and departments is None:
        value = filters.department.strip()
        ident = _as_id(value)
        department = ident is not None
        params.update(department=value, **({"department_id": ident} if department else {}))
    unit = None
    if filters.unit:
        value = filters.unit.strip()
        ident = _as_id(value)
        unit = ident is not None
        params.update(unit=value, unit_key=name_key(value), **({"unit_id": ident} if unit else {}))
    values = {
        "after": after,
        "year": filters.year,
        "level1": filters.level1,
        "level2": filters.level2.strip() if filters.level2 else None,
        "kind": filters.kind,
        "flag": filters.flag,
        "limit": limit,
    }
    params.update((k, v) for k, v in values.items() if v is not None)
    if "flag" in params and session.get_bind().dialect.name == "postgresql":
        params["flag"] = [params["flag"]]
    key = (
        session.get_bind().dialect.name,
        shape,
        unmet,
        by_departments,
        department,
        unit,
        filters.met,
        *(k in params for k in values),
    )
    return key, params


def _build_indicators_statement(key: tuple, values: dict | None = None) -> sa.Select:
    """The list's statement of a shape (_indicators_shape's key), every value a named parameter: bound at
    execution, or, given `values`, in the statement."""
    dialect, shape, unmet, by_departments, department, unit, met, after, year, level1, level2, kind, flag, limit = key

    def bp(name: str, **kw) -> sa.BindParameter:
        return sa.bindparam(name, **kw) if values is None else sa.bindparam(name, values[name], **kw)

    scope_value = None if values is None else values.get("scope_id")
    if by_departments is not None:
        # The department resolved to ids once, compared to the results' maintained copy of their
        # unit's department (database triggers keep it). That predicate alone also enforces a
        # department's tenancy (its own id, see _departments_of): a second, equal predicate on the
        # units would make the planner count the same selectivity twice and walk the units instead.
        if by_departments == "one":  # an equality, so that the index also gives the order
            where = [IndicatorResult.department_id == bp("departments")]
        else:
            where = [IndicatorResult.department_id.in_(bp("departments", expanding=True))]
        if shape != "department":
            where.append(shaped_filter(shape, Project.unit_id, scope_value))
    else:
        where = [shaped_filter(shape, Project.unit_id, scope_value)]
    if department is not None:
        where.append(_department_bound(department, bp))
    if unit is not None:
        clauses = [Unit.code == bp("unit"), Unit.name_key == bp("unit_key")]
        if unit:
            clauses.append(Unit.id == bp("unit_id"))
        where.append(sa.or_(*clauses))
    on_result = [IndicatorResult.indicator_id == Indicator.id]
    if after:
        where.append(Indicator.id > bp("after"))
        on_result.append(IndicatorResult.indicator_id > bp("after"))
    if year:
        where += [Indicator.year == bp("year"), Project.year == bp("year")]
        on_result.append(IndicatorResult.year == bp("year"))
    if level1:
        where.append(Indicator.level1 == bp("level1"))
    if level2:
        where.append(sa.or_(Indicator.level2 == bp("level2"), Indicator.level2_code == bp("level2")))
    if kind:
        where.append(Indicator.target_kind == bp("kind"))
    if met is not None:
        where.append(IndicatorResult.met.is_(met))
    if flag:
        where.append(_json_array_contains(dialect, IndicatorResult.flags, bp("flag")))
    if unmet:
        # written as the partial indexes' own WHERE: SQLite renders not_(met) as "met = 0", which its
        # planner does not match with "NOT met"
        where.append(sa.text("NOT indicator_result.met"))
    stmt = (
        select(*(_PG_INDICATOR_COLUMNS if dialect == "postgresql" else INDICATOR_COLUMNS))
        .select_from(Indicator)
        .join(Project, Project.id == Indicator.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .join(IndicatorResult, sa.and_(*on_result), isouter=not unmet)
        .where(*where)
        # the same ids (an inner join on them): ordered by the result, its index gives the order
        .order_by(IndicatorResult.indicator_id if unmet else Indicator.id)
    )
    return stmt.limit(page_limit(name="limit") if values is None else page_limit(values["limit"])) if limit else stmt


def _department_bound(by_id: bool, bp=sa.bindparam) -> sa.ColumnElement[bool]:
    """department_match with the value bound as `department` (and `department_id` when it is an id)."""
    clauses = [Department.code == bp("department"), Department.name == bp("department")]
    if by_id:
        clauses.append(Department.id == bp("department_id"))
    return sa.or_(*clauses)


# the departments given by id, code or name (see _departments_of), built once per kind of value
_DEPARTMENT_IDS = {
    by_id: select(Department.id).where(_department_bound(by_id)).order_by(Department.id) for by_id in (False, True)
}


def _departments_of(session: Session, principal: Principal, filters: ScopeFilters) -> list[int] | None:
    """The department ids a list is limited to (by its filter and, for a department, its own id and
    nothing else), None when it is not limited to departments."""
    found: set[int] | None = None
    if principal.role == "unit":
        return None
    if filters.department:
        value = filters.department.strip()
        ident = _as_id(value)
        params = {"department": value, **({} if ident is None else {"department_id": ident})}
        found = set(session.connection().execute(_DEPARTMENT_IDS[ident is not None], params).scalars())
    if principal.role == "department":
        own = {principal.department_id} if principal.department_id is not None else set()
        found = own if found is None else found & own
    return None if found is None else sorted(found)


# --- statistics ---------------------------------------------------------------------------


@dataclass
class GroupStats:
    """Figures for one unit or department in one year; money exact, averages as sum / count."""

    id: int
    code: str | None
    name: str
    department_id: int | None
    department_name: str | None
    year: int
    projects: int
    by_status: dict[str, int]
    submitted: int
    approved: int
    scored: int
    average_score: Decimal | None
    score_distribution: list[tuple[Decimal, Decimal, int]]
    grades: dict[str, int]
    budget: Decimal | None
    spent: Decimal | None
    execution_rate: Decimal | None
    unmet_indicators: int


def _stats_columns():
    status = sa.func.coalesce(SelfEvaluation.status, FIRST_STATUS)
    score = SelfEvaluation.total_score
    counted = sa.and_(SelfEvaluation.status.in_(HANDED_IN), score.is_not(None))

    def count_if(condition, label):
        return sa.func.count(sa.case((condition, 1))).label(label)

    columns = [
        sa.func.count(Project.id).label("projects"),
        *[count_if(status == s, f"status_{s}") for s in STATUS_CODES],
        count_if(SelfEvaluation.status.in_(HANDED_IN), "handed_in_count"),
        count_if(SelfEvaluation.status.in_(APPROVED), "approved_count"),
        count_if(counted, "scored"),
        # SUM, never AVG: on SQLite ExactDecimal is a scaled integer and AVG would be a float.
        sa.func.sum(sa.case((counted, score))).label("score_sum"),
        *[count_if(sa.and_(counted, SelfEvaluation.grade == g), f"grade_{i}") for i, g in enumerate(GRADES)],
        sa.func.sum(Project.budget).label("budget"),
        sa.func.sum(Project.spent).label("spent"),
        # 执行率 over the projects that report spending: a budget with nothing reported yet would
        # otherwise pull the rate down.
        sa.func.sum(sa.case((Project.spent.is_not(None), Project.budget))).label("budget_reported"),
    ]
    for i, (lo, hi) in enumerate(SCORE_BINS):
        upper = score <= hi if i == len(SCORE_BINS) - 1 else score < hi
        columns.append(count_if(sa.and_(counted, score >= lo, upper), f"bin_{i}"))
    return columns


def _finish(
    row: sa.RowMapping, *, ident: int, code, name, department_id, department_name, year: int, unmet: int
) -> GroupStats:
    scored = row["scored"]
    average = None
    if scored:
        average = (Decimal(row["score_sum"]) / scored).quantize(_CENT, rounding=ROUND_HALF_UP)
    rate = None
    basis = row["budget_reported"]
    if basis is not None and basis > 0 and row["spent"] is not None:
        rate = (Decimal(row["spent"]) * 100 / Decimal(basis)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return GroupStats(
        id=ident,
        code=code,
        name=name,
        department_id=department_id,
        department_name=department_name,
        year=year,
        projects=row["projects"],
        by_status={s: row[f"status_{s}"] for s in STATUS_CODES},
        submitted=row["handed_in_count"],
        approved=row["approved_count"],
        scored=scored,
        average_score=average,
        score_distribution=[(lo, hi, row[f"bin_{i}"]) for i, (lo, hi) in enumerate(SCORE_BINS)],
        grades={g: row[f"grade_{i}"] for i, g in enumerate(GRADES)},
        budget=row["budget"],
        spent=row["spent"],
        execution_rate=rate,
        unmet_indicators=unmet,
    )


def _unmet_counts(
    session: Session, principal: Principal, filters: ScopeFilters, group_column, ids: list[int]
) -> dict[int, int]:
    year = filters.year
    if not ids:
        return {}
    rows = session.exec(
        select(group_column, sa.func.count(IndicatorResult.id))
        .select_from(IndicatorResult)
        .join(Indicator, sa.and_(Indicator.id == IndicatorResult.indicator_id, Indicator.year == year))
        .join(Project, Project.id == Indicator.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .where(
            IndicatorResult.year == year,
            Project.year == year,
            IndicatorResult.met.is_(False),
            unit_filter(principal, Project.unit_id),
            group_column.in_(ids),
            *_scope_where(filters),
        )
        .group_by(group_column)
    ).all()
    return {ident: count for ident, count in rows}


_STAT_COUNTS = tuple(
    c.name for c in UnitStats.__table__.columns if c.name not in ("year", "unit_id") and not c.name.endswith("_sum")
)
_STAT_SUMS = tuple(c.name for c in UnitStats.__table__.columns if c.name.endswith("_sum"))
# A statistics row (unit_stats_rows, department_stats_rows) ends with the year and the maintained
# figures, in _STAT_FIGURES' order. They are read by position (a row's mapping view costs more than its
# figures): STAT_AT is where each one is among the row's last len(_STAT_FIGURES) columns.
_STAT_FIGURES = ("year", *_STAT_COUNTS, *_STAT_SUMS)
STAT_AT = {name: i - len(_STAT_FIGURES) for i, name in enumerate(_STAT_FIGURES)}
_STATUS_AT = tuple((s, STAT_AT[f"status_{s}"]) for s in STATUS_CODES)
_GRADE_AT = tuple((g, STAT_AT[f"grade_{i}"]) for i, g in enumerate(GRADES))
_BIN_AT = tuple((lo, hi, STAT_AT[f"bin_{i}"]) for i, (lo, hi) in enumerate(SCORE_BINS))
_YEAR, _PROJECTS, _SCORED, _SCORE_SUM, _UNMET = (
    STAT_AT[c] for c in ("year", "projects", "scored", "score_sum", "unmet")
)
_BUDGET_SUM, _BUDGET_N, _SPENT_SUM, _SPENT_N, _REPORTED_SUM, _REPORTED_N = (
    STAT_AT[c] for c in ("budget_sum", "budget_n", "spent_sum", "spent_n", "budget_reported_sum", "budget_reported_n")
)


def _run(positions: Sequence[int]) -> slice:
    """The slice of a row holding these consecutive figures, in their order."""
    assert list(positions) == list(range(positions[0], positions[0] + len(positions))), positions
    return slice(positions[0], positions[-1] + 1 if positions[-1] != -1 else None)


# by status (STATUS_CODES' order), by grade (GRADES') and by bin (SCORE_BINS'), the maintained counts
# are consecutive columns: a row's counts are three slices of it.
STATUS_RUN, GRADE_RUN, BIN_RUN = (_run([i for *_, i in at]) for at in (_STATUS_AT, _GRADE_AT, _BIN_AT))
_BIN_LOWS, _BIN_HIGHS = (tuple(lo for lo, _ in SCORE_BINS), tuple(hi for _, hi in SCORE_BINS))


def row_average_score(v: Sequence) -> Decimal | None:
    """A statistics row's average score: its score sum over its scored evaluations, half up to cents
    (as the full scan's `_finish`); None when none is scored."""
    scored = v[_SCORED]
    if not scored:
        return None
    return (v[_SCORE_SUM] / scored).quantize(_CENT, rounding=ROUND_HALF_UP)


def row_money(v: Sequence) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """A statistics row's budget, spending and execution rate (spending over the budgets of the
    projects that report it, in percent, half up to cents): None where no project gives the figure."""
    budget = v[_BUDGET_SUM] if v[_BUDGET_N] else None
    spent = v[_SPENT_SUM] if v[_SPENT_N] else None
    basis = v[_REPORTED_SUM] if v[_REPORTED_N] else None
    rate = None
    if basis is not None and basis > 0 and spent is not None:
        rate = (spent * 100 / basis).quantize(_CENT, rounding=ROUND_HALF_UP)
    return budget, spent, rate


def _maintained(row: Sequence, *, ident: int, code, name, department_id, department_name) -> GroupStats:
    """A statistics row (its figures are its last columns, in _STAT_FIGURES' order) as the full scan's
    `_finish` makes it."""
    v = tuple(row)
    projects = v[_PROJECTS]
    by_status = dict(zip(STATUS_CODES, v[STATUS_RUN], strict=True))
    # a project whose evaluation row does not exist yet counts as not started, as in the scan
    by_status[FIRST_STATUS] += projects - sum(v[STATUS_RUN])
    budget, spent, rate = row_money(v)
    return GroupStats(
        id=ident,
        code=code,
        name=name,
        department_id=department_id,
        department_name=department_name,
        year=v[_YEAR],
        projects=projects,
        by_status=by_status,
        submitted=sum([by_status[s] for s in HANDED_IN]),
        approved=sum([by_status[s] for s in APPROVED]),
        scored=v[_SCORED],
        average_score=row_average_score(v),
        score_distribution=list(zip(_BIN_LOWS, _BIN_HIGHS, v[BIN_RUN], strict=True)),
        grades=dict(zip(GRADES, v[GRADE_RUN], strict=True)),
        budget=budget,
        spent=spent,
        execution_rate=rate,
        unmet_indicators=v[_UNMET],
    )


def unit_row_stats(r: Sequence) -> GroupStats:
    """A row of unit_stats_rows as GroupStats."""
    return _maintained(r, ident=r[0], code=r[1], name=r[2], department_id=r[3], department_name=r[4])


def department_row_stats(r: Sequence) -> GroupStats:
    """A row of department_stats_rows as GroupStats."""
    return _maintained(r, ident=r[0], code=r[1], name=r[2], department_id=r[0], department_name=r[2])


# The two statistics statements without a department or unit filter (the bureau's pages), by the
# caller's filter shape and whether a cursor is given, built once: the year, the cursor (`after`), the
# page size (`limit`) and the caller's unit or department (`scope_id`) bound at execution.
_STATS: dict[tuple[str, str, str, bool], sa.Select] = {}


def _read_as_is(column, dialect: str, label: str):
    """A maintained sum (or a sum of them) as the driver reads it, on PostgreSQL: NUMERIC(24, s) (and
    SUM of it) comes back as a Decimal with exactly s places already, so ExactDecimal's quantize of each
    value changes nothing and is skipped (a call per value, four per row). On SQLite, the scaled integer
    still goes through ExactDecimal."""
    if dialect != "postgresql":
        return column.label(label)
    return sa.type_coerce(column, sa.Numeric(24, UnitStats.__table__.c[label].type.scale)).label(label)


def _unit_stats_statement(
    shape: str, filters: ScopeFilters, after: bool, scope_value=None, *, dialect: str = "postgresql"
) -> sa.Select:
    stmt = (
        select(
            UnitStats.unit_id,
            Unit.code,
            Unit.name,
            Unit.department_id,
            Department.name.label("department_name"),
            *[getattr(UnitStats, c) for c in ("year", *_STAT_COUNTS)],
            *[_read_as_is(getattr(UnitStats, c), dialect, c) for c in _STAT_SUMS],
        )
        .select_from(UnitStats)
        .join(Unit, Unit.id == UnitStats.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .where(
            UnitStats.year == sa.bindparam("year"),
            UnitStats.projects > 0,
            shaped_filter(shape, UnitStats.unit_id, scope_value),
            *_scope_where(filters),
        )
        .order_by(UnitStats.unit_id)
        .limit(page_limit(name="limit"))
    )
    if after:
        stmt = stmt.where(UnitStats.unit_id > sa.bindparam("after"))
    return stmt


def _department_stats_statement(
    shape: str, filters: ScopeFilters, after: bool, scope_value=None, *, dialect: str = "postgresql"
) -> sa.Select:
    stmt = (
        select(
            Department.id.label("department_id"),
            Department.code,
            Department.name,
            UnitStats.year,
            *[sa.func.sum(getattr(UnitStats, c)).label(c) for c in _STAT_COUNTS],
            *[_read_as_is(sa.func.sum(getattr(UnitStats, c)), dialect, c) for c in _STAT_SUMS],
        )
        .select_from(UnitStats)
        .join(Unit, Unit.id == UnitStats.unit_id)
        .join(Department, Department.id == Unit.department_id)
        .where(
            UnitStats.year == sa.bindparam("year"),
            shaped_filter(shape, UnitStats.unit_id, scope_value),
            *_scope_where(filters),
        )
        .group_by(Department.id, Department.code, Department.name, UnitStats.year)
        .having(sa.func.sum(UnitStats.projects) > 0)
        .order_by(Department.id)
        .limit(page_limit(name="limit"))
    )
    if after:
        stmt = stmt.where(Department.id > sa.bindparam("after"))
    return stmt


def _stats_rows(session: Session, kind: str, build, principal: Principal, filters: ScopeFilters, after, limit):
    """The rows of a statistics statement: prebuilt when there is no department or unit filter, else
    built for this request (its filter values bound under names of their own)."""
    shape, scope_params = filter_shape(principal)
    params = {"year": filters.year, "limit": limit, **({} if after is None else {"after": after})}
    connection = session.connection()
    dialect = connection.dialect.name
    if filters.department or filters.unit:
        stmt = build(shape, filters, after is not None, scope_params.get("scope_id"), dialect=dialect)
    else:
        key = (kind, dialect, shape, after is not None)
        stmt = _STATS.get(key)
        if stmt is None:
            stmt = _STATS[key] = build(shape, filters, after is not None, dialect=dialect)
        params.update(scope_params)
    # plain rows through the session's connection: no ORM result machinery for tuples of values
    return connection.execute(stmt, params).all()


def unit_stats_rows(
    *, session: Session, principal: Principal, filters: ScopeFilters, after: int | None = None, limit: int = 100
) -> Sequence[sa.Row]:
    """unit_stats' plain rows: (unit id, code, name, department id, department name, year, then the
    figures, at STAT_AT); unit_row_stats makes one a GroupStats."""
    return _stats_rows(session, "units", _unit_stats_statement, principal, filters, after, limit)


def unit_stats(
    *, session: Session, principal: Principal, filters: ScopeFilters, after: int | None = None, limit: int = 100
) -> list[GroupStats]:
    """Per unit, for one year: progress, scores, grades, money, unmet indicators; ordered by unit id.

    Read from the maintained unit_stats rows (kept by database triggers), not from a scan."""
    rows = unit_stats_rows(session=session, principal=principal, filters=filters, after=after, limit=limit)
    return [unit_row_stats(r) for r in rows]


def department_stats_rows(
    *, session: Session, principal: Principal, filters: ScopeFilters, after: int | None = None, limit: int = 100
) -> Sequence[sa.Row]:
    """department_stats' plain rows: (department id, code, name, year, then the figures, at STAT_AT);
    department_row_stats makes one a GroupStats."""
    return _stats_rows(session, "departments", _department_stats_statement, principal, filters, after, limit)


def department_stats(
    *, session: Session, principal: Principal, filters: ScopeFilters, after: int | None = None, limit: int = 100
) -> list[GroupStats]:
    """Per department, for one year, over the units the caller may see; ordered by department id.

    The sum of the maintained unit_stats rows of the department's units (a few thousand rows at
    province scale), not a scan of projects and results."""
    rows = department_stats_rows(session=session, principal=principal, filters=filters, after=after, limit=limit)
    return [department_row_stats(r) for r in rows]


# --- the same figures counted from the base tables -------------------------------------------
# What the maintained rows must always equal: the check after random writes (tests), and
# `jixiao stats check`.


def recount_unit_stats(*, session: Session, principal: Principal, filters: ScopeFilters) -> list[GroupStats]:
    """unit_stats counted from projects, evaluations and results (a full scan of the year)."""
    year = filters.year
    stmt = (
        select(
            Unit.id.label("unit_id"),
            Unit.code,
            Unit.name,
            Unit.department_id,
            Department.name.label("department_name"),
            *_stats_columns(),
        )
        .select_from(Project)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .outerjoin(SelfEvaluation, sa.and_(SelfEvaluation.project_id == Project.id, SelfEvaluation.year == year))
        .where(Project.year == year, unit_filter(principal, Project.unit_id), *_scope_where(filters))
        .group_by(Unit.id, Unit.code, Unit.name, Unit.department_id, Department.name)
        .order_by(Unit.id)
    )
    rows = list(session.exec(stmt).mappings())
    unmet = _unmet_counts(session, principal, filters, Project.unit_id, [r["unit_id"] for r in rows])
    return [
        _finish(
            r,
            ident=r["unit_id"],
            code=r["code"],
            name=r["name"],
            department_id=r["department_id"],
            department_name=r["department_name"],
            year=year,
            unmet=unmet.get(r["unit_id"], 0),
        )
        for r in rows
    ]


def recount_department_stats(*, session: Session, principal: Principal, filters: ScopeFilters) -> list[GroupStats]:
    """department_stats counted from the base tables (a full scan of the year)."""
    year = filters.year
    stmt = (
        select(Department.id.label("department_id"), Department.code, Department.name, *_stats_columns())
        .select_from(Project)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == Unit.department_id)
        .outerjoin(SelfEvaluation, sa.and_(SelfEvaluation.project_id == Project.id, SelfEvaluation.year == year))
        .where(Project.year == year, unit_filter(principal, Project.unit_id), *_scope_where(filters))
        .group_by(Department.id, Department.code, Department.name)
        .order_by(Department.id)
    )
    rows = list(session.exec(stmt).mappings())
    unmet = _unmet_counts(session, principal, filters, Unit.department_id, [r["department_id"] for r in rows])
    return [
        _finish(
            r,
            ident=r["department_id"],
            code=r["code"],
            name=r["name"],
            department_id=r["department_id"],
            department_name=r["name"],
            year=year,
            unmet=unmet.get(r["department_id"], 0),
        )
        for r in rows
    ]
