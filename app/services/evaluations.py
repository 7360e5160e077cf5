"""Self-evaluations (自评): view, save actuals, submit, withdraw — scored by the stored template.

Scores are never typed: they are recomputed from the actuals whenever something changes, with
the template version the evaluation records (a reviewer's override is kept beside them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain import scoring
from app.domain.categories import LEVEL2_BY_SLUG
from app.domain.evaluation import FIRST_STATUS, LEVEL_LABELS, RESCORABLE, RESCORABLE_SUBMITTED, STATUS_LABELS
from app.domain.scoring import FLAG_LABELS
from app.domain.targets import TargetParse, parse_target
from app.models import (
    Department,
    FilingWindow,
    Indicator,
    IndicatorResult,
    MonitoringRound,
    Project,
    ScoringTemplate,
    SelfEvaluation,
    Unit,
)
from app.security import Principal
from app.services import audit, engine, scope, templates
from app.services.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    Problems,
    ValidationFailed,
    WindowClosed,
)
from app.services.templates import current_template, label
from app.sqltypes import utcnow

MAX_ACTUAL = 500
MAX_TEXT = 5000
MONEY_PATTERN = re.compile(r"^\d+(\.\d+)?$")
UNSET: Any = object()


# --- what the pages and the API show ------------------------------------------------------


@dataclass
class IndicatorView:
    id: int
    position: int
    level1: str
    level2: str | None
    level2_name: str
    name: str
    period_target: str | None
    annual_target: str | None
    target: TargetParse
    actual: str | None
    actual_parsed: dict | None
    qualitative_level: str | None
    score_in_band: Decimal | None
    weight: Decimal
    score: Decimal | None
    score_override: Decimal | None
    override_reason: str | None
    met: bool | None
    flags: list[str]
    deviation_reason: str | None
    problems: list[str]
    band: tuple[Decimal, Decimal] | None  # allowed score range for the chosen level
    given_weight: Decimal | None = None  # 分值 as the table printed it, when it differs from the weight scored
    self_score: Decimal | None = None  # the unit's own score, as stored (counted unless flagged otherwise)
    self_score_reason: str | None = None
    unit_score: Decimal | None = None  # the unit's score that counts: its own, else the computed one

    @property
    def uses_levels(self) -> bool:
        """Qualitative targets are answered by choosing an achievement level."""
        return self.target.kind == "qualitative"

    @property
    def periods_differ(self) -> bool:
        return (self.period_target or "").strip() != (self.annual_target or "").strip()

    @property
    def reason_required(self) -> bool:
        final = self.score_override if self.score_override is not None else self.unit_score
        return (final is not None and final < self.weight) or "over_achieved" in self.flags


@dataclass
class Group:
    level1: str
    name: str
    points: Decimal
    indicators: list[IndicatorView]


@dataclass
class EvaluationView:
    evaluation: SelfEvaluation
    project: Project
    unit: Unit
    department_name: str
    template_label: str
    settings: scoring.TemplateSettings
    execution_weight: Decimal
    execution_flags: list[str]
    groups: list[Group]
    problems: list[FieldError]
    complete: bool
    editable: bool
    window: FilingWindow | None
    budget_editable: bool  # the unit reports 全年预算数 (the table's 年初预算数 stays beside it)
    filled: int = 0
    total: int = 0
    history: list = field(default_factory=list)
    weights_note: str | None = None  # how the table's 分值 were used, when not as written
    self_scores_allowed: bool = True  # the template lets a unit enter its own score on a row
    places: int = 2  # the template's rounding_places: scores are shown at this precision
    # values changed by 调整 that took effect: {indicator id (None: the project): {field: value before}}
    originals: dict = field(default_factory=dict)
    # every indicator of the project in the table's order (position, id), as loaded for scoring
    all_indicators: list[Indicator] = field(default_factory=list)
    # whether it or a row has an attachment, when the query that read it asked (page_view); None: not asked
    has_attachments: bool | None = None

    @property
    def indicators(self) -> list[IndicatorView]:
        return [i for g in self.groups for i in g.indicators]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.evaluation.status]

    @property
    def split_given(self) -> bool:
        """Whether the 其中 rows have any figure (the table's split of 年初预算数 or the unit's)."""
        p, e = self.project, self.evaluation
        return any(getattr(p, s) is not None for s in SOURCES) or any(getattr(e, n) is not None for n in SPLIT_FIELDS)

    @property
    def split_warnings(self) -> list[str]:
        """Where the 其中 rows given do not sum to their total: what and by how much (a warning, not a refusal)."""
        return split_warnings(self.project, self.evaluation)


# The 其中 rows of the money block (domain.md §5): the fund sources, as the table names them on
# project (the split of 年初预算数), and the unit's split of 全年预算数 and 全年执行数.
SOURCES = lifecycle.FUND_SOURCES
SPLIT_FIELDS = {
    f"{total}_{source}": f"{words}中的{label}"
    for total, words in (("budget", "全年预算数"), ("spent", "全年执行数"))
    for source, label in SOURCES.items()
}


def split_warnings(project: Project, evaluation: SelfEvaluation) -> list[str]:
    """Each total whose 其中 rows (any given) do not add up to it, with the difference, exactly."""
    found = []
    for total, words, value in (
        ("initial_budget", "年初预算数", project.initial_budget),
        ("budget", "全年预算数", project.budget),
        ("spent", "全年执行数", project.spent),
    ):
        if total == "initial_budget":
            parts = [getattr(project, source) for source in SOURCES]
        else:
            parts = [getattr(evaluation, f"{total}_{source}") for source in SOURCES]
        if all(part is None for part in parts):
            continue
        given = sum((part for part in parts if part is not None), Decimal(0))
        if value is None:
            found.append(f"{words}的其中各项已填（合计 {_wan(given)} 万元），但{words}未填")
        elif given != value:
            more = "多" if given > value else "少"
            diff = _wan(abs(given - value))
            total_text = f"{words}（{_wan(value)} 万元）"
            found.append(f"{words}的其中各项之和为 {_wan(given)} 万元，比{total_text}{more} {diff} 万元")
    return found


def _wan(value: Decimal) -> str:
    """An amount as people write it: 1305.500000 → 1305.5."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- queries ---------------------------------------------------------------------------------


def ensure_evaluations(*, session: Session, year: int | None = None) -> int:
    """Create the missing evaluation rows (one per project); returns how many were created."""
    missing = (
        select(Project.id, Project.year, Unit.department_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(~sa.exists().where(SelfEvaluation.project_id == Project.id))
    )
    if year is not None:
        missing = missing.where(Project.year == year)
    rows = session.execute(missing).all()
    if not rows:
        return 0
    # the template the bureau chose for the year (or the project's department), national-2020 if none
    resolvers = {y: templates.resolver(session=session, year=y) for y in {r[1] for r in rows}}
    ids: dict[str, int] = {}

    def template_id(y: int, department_id: int | None) -> int:
        name = resolvers[y](department_id)
        if name not in ids:
            ids[name] = current_template(session=session, name=name).id
        return ids[name]

    now = utcnow()
    session.execute(
        sa.insert(SelfEvaluation),
        [
            {
                "project_id": pid,
                "year": y,
                "status": FIRST_STATUS,
                "template_id": template_id(y, department_id),
                "flags": [],
                "declared": {},
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for pid, y, department_id in rows
        ],
    )
    session.commit()
    return len(rows)


@dataclass
class EvaluationSummary:
    id: int
    project_id: int
    project_code: str
    project_name: str
    unit: str
    status: str
    total_score: Decimal | None
    grade: str | None
    version: int
    filled: int
    indicators: int
    review_opinion: str | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def list_evaluations(
    *, session: Session, principal: Principal, year: int, q: str | None = None
) -> list[EvaluationSummary]:
    """The caller's evaluations for a year, one per project, in table order (those whose project
    name or code contains `q`, when given)."""
    filled = (
        select(IndicatorResult.self_evaluation_id, sa.func.count().label("n"))
        .where(
            IndicatorResult.year == year,
            sa.or_(IndicatorResult.actual.is_not(None), IndicatorResult.qualitative_level.is_not(None)),
        )
        .group_by(IndicatorResult.self_evaluation_id)
        .subquery()
    )
    counts = (
        select(Indicator.project_id, sa.func.count().label("n"))
        .where(Indicator.year == year)
        .group_by(Indicator.project_id)
        .subquery()
    )
    query = (
        select(
            SelfEvaluation.id,
            Project.id,
            Project.project_code,
            Project.name,
            Unit.name,
            SelfEvaluation.status,
            SelfEvaluation.total_score,
            SelfEvaluation.grade,
            SelfEvaluation.version,
            sa.func.coalesce(filled.c.n, 0),
            sa.func.coalesce(counts.c.n, 0),
            SelfEvaluation.review_opinion,
        )
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(filled, filled.c.self_evaluation_id == SelfEvaluation.id)
        .outerjoin(counts, counts.c.project_id == Project.id)
        .where(Project.year == year, scope.unit_filter(principal, Project.unit_id))
        .order_by(Unit.name, Project.position, Project.id)
    )
    if q and q.strip():
        from app.services.queries import project_matches

        query = query.where(project_matches(q))
    return [EvaluationSummary(*row) for row in session.execute(query)]


def latest_year(*, session: Session, principal: Principal) -> int | None:
    """The latest year in which the caller can see projects."""
    return session.exec(select(sa.func.max(Project.year)).where(scope.unit_filter(principal, Project.unit_id))).one()


def project_years(*, session: Session, principal: Principal) -> list[int]:
    """The years in which the caller can see projects, latest first (the pages' year list)."""
    years = select(Project.year).where(scope.unit_filter(principal, Project.unit_id)).distinct()
    return sorted(session.exec(years).all(), reverse=True)


def filing_window(*, session: Session, year: int) -> FilingWindow | None:
    return session.exec(select(FilingWindow).where(FilingWindow.year == year)).first()


def window_is_open(window: FilingWindow | None, today: date | None = None) -> bool:
    """A year without a window is open; otherwise between its dates (inclusive)."""
    if window is None:
        return True
    today = today or date.today()
    if window.opens_date and today < window.opens_date:
        return False
    return not (window.closes_date and today > window.closes_date)


def view(*, session: Session, principal: Principal, evaluation_id: int) -> EvaluationView:
    """Everything the 自评表 shows, for a caller who may see it."""
    evaluation = visible_with_parts(session=session, principal=principal, evaluation_id=evaluation_id)
    return build_view(session, principal, evaluation)


def visible_with_parts(*, session: Session, principal: Principal, evaluation_id: int) -> SelfEvaluation:
    """scope.visible_evaluation, with its project, template, unit and department read in the same query:
    they land in the session's identity map, so the session.get()s of engine.load and build_view that
    follow answer from it instead of a query each (five queries become one on every save and page)."""
    return _with_parts(session, principal, evaluation_id)[0]


def _with_parts(session: Session, principal: Principal, evaluation_id: int, *extra: Any, head: bool = False) -> tuple:
    """The row of visible_with_parts, with `extra` entities outer-joined on the project's year, and,
    with `head`, the (seq, hash) of the evaluation's audit stream as its last two columns (its genesis head
    when the stream has no event yet). One statement per shape (the extras, the caller's kind of scope), built
    once with its evaluation, scope and stream as parameters: building it anew was a tenth of a save."""
    shape, params = scope.filter_shape(principal)
    statement = _PARTS_STATEMENTS.get((extra, head, shape))
    if statement is None:
        statement = _PARTS_STATEMENTS[(extra, head, shape)] = _parts_statement(extra, head, shape)
    params["evaluation_id"] = evaluation_id
    if head:
        params["stream"] = audit.stream_of("self_evaluation", evaluation_id, "")
    row = session.execute(statement, params).first()
    if row is None:
        raise NotFound("自评不存在或无权查看")
    # the identity map holds its objects weakly: kept here, for the session's life (one request)
    session.info.setdefault("jixiao.evaluation_parts", []).append(tuple(row))
    return tuple(row)


_PARTS_STATEMENTS: dict[tuple, Any] = {}


def _parts_statement(extra: tuple, head: bool, shape: str) -> Any:
    columns: list[Any] = []
    if head:
        last = audit.head_query(sa.bindparam("stream", type_=sa.String)).subquery()
        columns += [
            sa.func.coalesce(last.c.seq, audit.GENESIS_SEQ).label("seq"),
            sa.func.coalesce(last.c.hash, audit.GENESIS).label("head_hash"),
        ]
    query = (
        select(SelfEvaluation, Project, ScoringTemplate, Unit, Department, *extra, *columns)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
    )
    for entity in extra:
        query = query.outerjoin(entity, entity.year == Project.year)
    if head:
        query = query.outerjoin(last, sa.true())
    return query.where(SelfEvaluation.id == sa.bindparam("evaluation_id"), scope.shaped_filter(shape, Project.unit_id))


def page_view(
    *, session: Session, principal: Principal, evaluation_id: int
) -> tuple[EvaluationView, MonitoringRound | None]:
    """view(), and the year's monitoring round, for the 自评表 page: the year's filing window and
    monitoring round (one row each per year, or none) come in the same query as the evaluation, and
    whether the evaluation or any of its rows has an attachment (most have none: then the page's
    attachments block reads nothing more). A page only reads: its rows are read as columns into plain
    objects, not as the ORM's entities (building those and their identity map was a third of a page)."""
    shape, params = scope.filter_shape(principal)
    params["evaluation_id"] = evaluation_id
    connection = session.connection()
    head, tables = _page_statement(shape)
    row = connection.execute(head, params).first()
    if row is None:
        raise NotFound("自评不存在或无权查看")
    evaluation, project, template, unit, department, window, monitoring_round = _plain_objects(tables, row)
    indicators, results = [], {}
    for r in connection.execute(_PAGE_ROWS[0], {"evaluation_id": evaluation.id, "project_id": project.id}):
        indicator, result = _plain_objects(_PAGE_ROWS[1], r)
        indicators.append(indicator)
        if result is not None:
            results[indicator.id] = result
    parts = engine.Parts(evaluation, project, indicators, results, template, templates.settings_of(template))
    ev = view_of(
        principal,
        evaluation,
        parts,
        engine.score(parts),
        unit=unit,
        department_name=department.name if department is not None else "",
        window=window,
        originals=_originals(session, project),
    )
    ev.has_attachments = bool(row[-1])
    return ev, monitoring_round


_PAGE_TABLES = (SelfEvaluation, Project, ScoringTemplate, Unit, Department, FilingWindow, MonitoringRound)
_PAGE_STATEMENTS: dict[str, tuple[Any, tuple]] = {}


def _page_statement(shape: str) -> tuple[Any, tuple]:
    """_with_parts's statement for the page (its window, round and `attached`), as the tables' columns."""
    found = _PAGE_STATEMENTS.get(shape)
    if found is None:
        tables = tuple(model.__table__ for model in _PAGE_TABLES)  # type: ignore[attr-defined]
        query = (
            sa.select(*tables, _has_attachments().label("attached"))
            .join_from(SelfEvaluation, Project, Project.id == SelfEvaluation.project_id)
            .join(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
            .join(Unit, Unit.id == Project.unit_id)
            .outerjoin(Department, Department.id == Unit.department_id)
            .outerjoin(FilingWindow, FilingWindow.year == Project.year)
            .outerjoin(MonitoringRound, MonitoringRound.year == Project.year)
            .where(SelfEvaluation.id == sa.bindparam("evaluation_id"), scope.shaped_filter(shape, Project.unit_id))
        )
        found = _PAGE_STATEMENTS[shape] = (query, tables)
    return found


def _page_rows() -> tuple[Any, tuple]:
    """engine's indicators-with-their-results statement, as the tables' columns."""
    tables = (Indicator.__table__, IndicatorResult.__table__)  # type: ignore[attr-defined]
    query = (
        sa.select(*tables)
        .join_from(
            Indicator,
            IndicatorResult,
            sa.and_(
                IndicatorResult.indicator_id == Indicator.id,
                IndicatorResult.self_evaluation_id == sa.bindparam("evaluation_id"),
            ),
            isouter=True,
        )
        .where(Indicator.project_id == sa.bindparam("project_id"))
        .order_by(Indicator.position, Indicator.id)
    )
    return query, tables


_PAGE_ROWS = _page_rows()


def _plain_objects(tables: tuple, row: Any) -> list[Any]:
    """A row of several tables' columns as one plain object per table (None for an outer join's missing row)."""
    out = []
    for names, start, end, id_at in _layout(tables):
        out.append(None if row[id_at] is None else SimpleNamespace(**dict(zip(names, row[start:end], strict=True))))
    return out


# each table's column names and where its columns (and its id) sit in such a row, by the tuple of tables:
# worked out once (they were asked of the tables again on every row read)
_LAYOUTS: dict[tuple, tuple[tuple[tuple[str, ...], int, int, int], ...]] = {}


def _layout(tables: tuple) -> tuple[tuple[tuple[str, ...], int, int, int], ...]:
    found = _LAYOUTS.get(tables)
    if found is None:
        spans, at = [], 0
        for table in tables:
            names = tuple(table.columns.keys())
            spans.append((names, at, at + len(names), at + names.index("id")))
            at += len(names)
        found = _LAYOUTS[tables] = tuple(spans)
    return found


def _has_attachments() -> Any:
    """Whether the evaluation of the row, or an indicator of its project, has an attachment (the rows
    app.services.attachments.evaluation_listing reads, by the same rule)."""
    from app.services import attachments  # it imports this module's neighbours (funds → evaluations)

    # correlated to the outer query's project explicitly: left to itself, this subquery two levels down
    # listed project in its own FROM, i.e. the indicators of every project (true whenever any row of
    # any 自评表 had an attachment: the page then read the attachments for nothing)
    indicators = select(Indicator.id).where(Indicator.project_id == Project.id).correlate(Project)
    return sa.exists().where(attachments.attached_to({"evaluation": SelfEvaluation.id, "indicator": indicators}))


def _visible_for_save(
    session: Session, principal: Principal, evaluation_id: int
) -> tuple[SelfEvaluation, FilingWindow | None, tuple[int, str]]:
    """visible_with_parts, plus what a save reads next — the year's filing window and the head of the
    evaluation's audit stream — in the same query: a save's round trips and statements are most of
    its cost. The head may be stale by the time the event is appended (read before the version is
    claimed): that only costs the append a second read (audit.record's `head`)."""
    row = _with_parts(session, principal, evaluation_id, FilingWindow, head=True)
    return row[0], row[5], (row[-2], row[-1])


def build_view(
    session: Session,
    principal: Principal,
    evaluation: SelfEvaluation,
    parts: engine.Parts | None = None,
    result: scoring.EvaluationScore | None = None,
    *,
    window: FilingWindow | None | Any = UNSET,
) -> EvaluationView:
    """The view of an evaluation; given the parts (and their result) a use case already has, it
    neither loads nor scores again, and given the filing window it checked, reads it not again."""
    parts = parts or engine.load(session, evaluation)
    result = result or engine.score(parts)
    project = parts.project
    unit = session.get(Unit, project.unit_id)
    dept = session.get(Department, unit.department_id) if unit.department_id else None
    if window is UNSET:
        window = filing_window(session=session, year=project.year)
    return view_of(
        principal,
        evaluation,
        parts,
        result,
        unit=unit,
        department_name=dept.name if dept else "",
        window=window,
        originals=_originals(session, project),
    )


def view_of(
    principal: Principal,
    evaluation: SelfEvaluation,
    parts: engine.Parts,
    result: scoring.EvaluationScore,
    *,
    unit: Unit,
    department_name: str,
    window: FilingWindow | None,
    originals: dict,
) -> EvaluationView:
    """The view of an evaluation from what was read and scored already: no I/O (the bench's floor of the
    page builds the same view from its plain rows with it, bench/floor_page.py)."""
    project, indicators, results = parts.project, parts.indicators, parts.results
    template, settings = parts.template, parts.settings
    by_key = {row.key: row for row in result.indicators}
    categories = [c for c in settings.structure.categories if c.scoring == "indicators"]
    views: dict[str, list[IndicatorView]] = {c.slug: [] for c in categories}
    filled = 0
    for ind in indicators:
        res = results.get(ind.id)
        s = by_key[str(ind.id)]
        level = res.qualitative_level if res else None
        if res and (res.actual or res.qualitative_level):
            filled += 1
        views.setdefault(ind.level1, []).append(
            IndicatorView(
                id=ind.id,
                position=ind.position,
                level1=ind.level1,
                level2=ind.level2,
                level2_name=(
                    LEVEL2_BY_SLUG[ind.level2].name if ind.level2 in LEVEL2_BY_SLUG else ind.level2_name or ""
                ),
                name=ind.name,
                period_target=ind.period_target,
                annual_target=ind.annual_target,
                target=parts.target(ind),
                actual=res.actual if res else None,
                actual_parsed=res.actual_parsed if res else None,
                qualitative_level=level,
                score_in_band=res.score_in_band if res else None,
                weight=s.weight,
                score=s.score,
                score_override=s.override,
                override_reason=res.override_reason if res else None,
                met=s.met,
                flags=list(s.flags),
                deviation_reason=res.deviation_reason if res else None,
                problems=[p.message for p in s.problems],
                band=scoring.band_limits(settings, level, s.weight) if level else None,
                given_weight=ind.weight if ind.weight is not None and ind.weight != s.weight else None,
                self_score=res.self_score if res else None,
                self_score_reason=res.self_score_reason if res else None,
                unit_score=s.unit_score,
            )
        )
    groups = [
        Group(c.slug, c.short, result.category_points.get(c.slug, Decimal(0)), views[c.slug])
        for c in categories
        if views.get(c.slug)
    ]
    problems = [
        FieldError(
            p.field if p.key is None else f"results[{p.key}].{p.field}", p.message, int(p.key) if p.key else None
        )
        for p in scoring.submission_problems(result)
    ]
    editable = lifecycle.may(principal, "save", evaluation.status) and window_is_open(window)
    return EvaluationView(
        evaluation=evaluation,
        project=project,
        unit=unit,
        department_name=department_name,
        template_label=label(template),
        settings=settings,
        execution_weight=result.execution_weight,
        execution_flags=list(result.execution_flags),
        groups=groups,
        problems=problems,
        complete=result.complete,
        editable=editable,
        window=window,
        budget_editable=editable,
        filled=filled,
        total=len(indicators),
        weights_note=_weights_note(settings, result, indicators),
        self_scores_allowed=settings.allow_self_scores,
        places=settings.rounding_places,
        originals=originals,
        all_indicators=indicators,
    )


def _originals(session: Session, project: Project) -> dict:
    if project.target_version <= 1:  # never adjusted: no query
        return {}
    from app.services.adjustments import originals

    return originals(session, project.id)


def _weights_note(settings: scoring.TemplateSettings, result: scoring.EvaluationScore, indicators) -> str | None:
    """The sentence the form and the print show when the table's 分值 were scaled (both are shown)."""
    if "weights_scaled" not in result.flags:
        return None
    given = sum((ind.weight for ind in indicators), Decimal(0))
    total = scoring.indicator_total(settings)
    return (
        f"表中各指标分值合计 {scoring.plain(given)} 分，不是 {scoring.plain(total)} 分："
        f"已按比例折算为 {scoring.plain(total)} 分计分（各指标之间的比例不变），“分值”栏括号内为表中原分值。"
    )


# --- changes ---------------------------------------------------------------------------------


@dataclass
class ResultInput:
    indicator_id: int
    actual: Any = UNSET
    qualitative_level: Any = UNSET
    score_in_band: Any = UNSET
    deviation_reason: Any = UNSET
    self_score: Any = UNSET  # the unit's own score for the row ("" clears it)
    self_score_reason: Any = UNSET


def check_role(principal: Principal, action: str) -> None:
    """403 when the principal's role never takes this action (asked before the object is looked up)."""
    roles = lifecycle.roles_for(action)
    if principal.role not in roles:
        who = "或".join(lifecycle.ROLE_LABELS[r] for r in roles) or "（无人）"
        raise PermissionDenied(f"只有{who}可以{lifecycle.ACTION_VERBS.get(action, action)}自评")


def check_transition(principal: Principal, evaluation: SelfEvaluation, action: str) -> lifecycle.Transition:
    """The lifecycle's row for this action now; refused (403 by role or scope, 409 by status) otherwise."""
    check_role(principal, action)
    reviewed = evaluation.reviewed_at is not None
    row = lifecycle.transition(principal, action, evaluation.status, reviewed=reviewed)
    if row is not None:
        return row
    if lifecycle.transition(lifecycle.RoleOnly(principal.role), action, evaluation.status, reviewed=reviewed):
        raise PermissionDenied("令牌的权限范围（scope）不允许此操作")
    raise Conflict(lifecycle.refusal(action, evaluation.status))


def _check_editable(
    session: Session, principal: Principal, evaluation: SelfEvaluation, project: Project, action: str = "save"
) -> lifecycle.Transition:
    return _check_editable_in(session, principal, evaluation, project, action)[0]


def _check_editable_in(
    session: Session,
    principal: Principal,
    evaluation: SelfEvaluation,
    project: Project,
    action: str = "save",
    window: FilingWindow | None | Any = UNSET,
) -> tuple[lifecycle.Transition, FilingWindow | None]:
    """The transition, and the filing window it was checked against (the view after the change shows
    it); the window is read unless given (read by the caller in this transaction)."""
    row = check_transition(principal, evaluation, action)
    if window is UNSET:
        window = filing_window(session=session, year=project.year)
    if not window_is_open(window):
        raise WindowClosed(_window_message(window))
    return row, window


def check_editable(*, session: Session, principal: Principal, evaluation_id: int) -> None:
    """Refused, with the reason (its status, the filing window, the role), when the caller may not
    change this evaluation now."""
    evaluation = scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
    project = session.get(Project, evaluation.project_id)
    _check_editable(session, principal, evaluation, project)


def _window_message(window: FilingWindow) -> str:
    opens = window.opens_date.isoformat() if window.opens_date else "不限"
    closes = window.closes_date.isoformat() if window.closes_date else "不限"
    return f"当前不在 {window.year} 年度填报期内（{opens} 至 {closes}），不能填报或送审"


# 执行率 is stored with 4 places in 12 digits (百分点): the largest it can hold.
MAX_EXECUTION_RATE = Decimal("99999999.9999")


def _check_rate_fits(project: Project, field_name: str, problems: Problems) -> None:
    """An execution rate beyond what can be recorded is a typing or unit mistake: said at the field."""
    budget, spent = project.budget, project.spent
    if budget is None or spent is None or budget <= 0:
        return
    if spent * 100 / budget > MAX_EXECUTION_RATE:
        times = (spent / budget).quantize(Decimal(1))
        problems.add(
            field_name,
            f"全年执行数（{decimal_text(spent)} 万元）是全年预算数（{decimal_text(budget)} 万元）的约 {times} 倍，"
            "请核对金额和单位（万元）",
        )


def check_version(evaluation: SelfEvaluation, version: int | None) -> None:
    if version is None or version != evaluation.version:
        raise Conflict(STALE)


def parse_money(value: Any, field_name: str, label_text: str, problems: Problems) -> Decimal | None:
    """A 万元 amount typed by a person: plain digits, at most six decimals (one fen), not negative."""
    if value is None:
        return None
    text = str(value).strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    if text.startswith("-"):
        problems.add(field_name, f"{label_text}不能为负数")
        return None
    if not MONEY_PATTERN.match(text):
        problems.add(field_name, f"{label_text}应为数字（单位：万元），如 56022.2398")
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        problems.add(field_name, f"{label_text}应为数字（单位：万元）")
        return None
    if amount.as_tuple().exponent < -6:
        problems.add(field_name, f"{label_text}最多保留 6 位小数（万元精确到分）")
        return None
    if amount >= Decimal("1e12"):
        problems.add(field_name, f"{label_text}数值过大")
        return None
    return amount


def _check_actual(text: str, ind: Indicator, year: int, field_name: str, problems: Problems) -> dict | None:
    if len(text) > MAX_ACTUAL:
        problems.add(field_name, f"实际完成值不能超过 {MAX_ACTUAL} 个字符", ind.id)
        return None
    if re.search(r"\d[eE][+-]?\d", text):
        problems.add(field_name, "请直接写出数字，不要用科学计数法（如 1e9）", ind.id)
        return None
    parsed = parse_target(text, year=year)
    if ind.target_kind == "quantity":
        if parsed.kind != "quantity" or parsed.value is None:
            problems.add(field_name, f"年度指标值为数值（{ind.annual_target}），请填写数字，如“12份”“97.5%”", ind.id)
            return None
        if parsed.value < 0 and (ind.target_value is None or Decimal(ind.target_value) >= 0):
            problems.add(field_name, "实际完成值不能为负数", ind.id)
            return None
    if ind.target_kind == "deadline" and parsed.kind != "deadline":
        problems.add(field_name, "年度指标值为完成期限，请填写完成日期，如 2024-11-30", ind.id)
        return None
    return parsed.to_json()


def save(
    *,
    session: Session,
    principal: Principal,
    evaluation_id: int,
    version: int | None,
    spent: Any = UNSET,
    budget: Any = UNSET,
    goal_completion: Any = UNSET,
    results: list[ResultInput] = (),
    split: Mapping[str, Any] | None = None,
) -> EvaluationView:
    """Save what the unit typed (any subset of fields), rescore, and bump the version.

    Refused whole, with a message at each bad field, when anything is invalid; refused with a
    conflict when someone saved in between (stale version).
    """
    evaluation, window, audit_head, parts, unit, department = _read_for_save(session, principal, evaluation_id)
    project, indicators, existing = parts.project, parts.indicators, parts.results
    row, window = _check_editable_in(session, principal, evaluation, project, window=window)
    check_version(evaluation, version)
    saved_at = utcnow()
    by_id = {i.id: i for i in indicators}
    problems = Problems()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}

    if spent is not UNSET:
        amount = parse_money(spent, "spent", "全年执行数", problems)
        if not problems.items and amount != project.spent:
            before["spent"], after["spent"] = decimal_text(project.spent), decimal_text(amount)
            project.spent = amount
    if budget is not UNSET:
        # 全年预算数 is the year's figure after adjustments: the unit reports it; the table's
        # 年初预算数 stays beside it (domain.md §1)
        amount = parse_money(budget, "budget", "全年预算数", problems)
        if amount is not None and amount == 0:
            problems.add("budget", "全年预算数不能为 0")
        elif not problems.items and amount != project.budget:
            before["budget"], after["budget"] = decimal_text(project.budget), decimal_text(amount)
            project.budget = amount
            project.budget_entered_by_unit = amount is not None and amount != project.initial_budget
    for name, value in (split or {}).items():
        if name not in SPLIT_FIELDS:
            problems.add(name, "不是可填写的资金来源")
            continue
        amount = parse_money(value, name, SPLIT_FIELDS[name], problems)
        if not problems.items and amount != getattr(evaluation, name):
            before[name], after[name] = decimal_text(getattr(evaluation, name)), decimal_text(amount)
            setattr(evaluation, name, amount)
    if (spent is not UNSET or budget is not UNSET) and not problems.items:
        _check_rate_fits(project, "spent" if spent is not UNSET else "budget", problems)
    if goal_completion is not UNSET:
        text = (goal_completion or "").strip() or None
        if text and len(text) > MAX_TEXT:
            problems.add("goal_completion", f"实际完成情况不能超过 {MAX_TEXT} 个字符")
        elif text != evaluation.goal_completion:
            before["goal_completion"], after["goal_completion"] = evaluation.goal_completion, text
            evaluation.goal_completion = text

    settings = parts.settings
    changed_results: list[IndicatorResult] = []
    for item in results:
        ind = by_id.get(item.indicator_id)
        prefix = f"results[{item.indicator_id}]"  # rows are named by indicator id, as on submission
        if ind is None:
            problems.add(f"{prefix}.indicator_id", "该指标不属于这个项目")
            continue
        res = existing.get(ind.id) or _new_result(evaluation.id, ind.id, project.year)
        old = _result_state(res)
        if item.actual is not UNSET:
            text = (item.actual or "").strip()
            if not text:
                res.actual, res.actual_parsed = None, None
            else:
                parsed = _check_actual(text, ind, project.year, f"{prefix}.actual", problems)
                if parsed is not None:
                    res.actual, res.actual_parsed = text, parsed
        if item.qualitative_level is not UNSET:
            level = item.qualitative_level or None
            if level is not None and level not in LEVEL_LABELS:
                problems.add(f"{prefix}.qualitative_level", "达成程度应为 achieved / partial / not_achieved", ind.id)
            else:
                res.qualitative_level = level
                if level is None:
                    res.score_in_band = None
        if item.score_in_band is not UNSET:
            raw = item.score_in_band
            if raw is None or str(raw).strip() == "":
                res.score_in_band = None
            else:
                try:
                    chosen = Decimal(str(raw).strip())
                    if not chosen.is_finite():
                        raise InvalidOperation
                except InvalidOperation:
                    problems.add(f"{prefix}.score_in_band", "得分应为数字", ind.id)
                    chosen = None
                if chosen is not None:
                    res.score_in_band = chosen
        # A chosen score needs its level; whether it lies inside the band depends on the weight,
        # so that is checked after scoring, below.
        if res.score_in_band is not None and res.qualitative_level is None:
            problems.add(f"{prefix}.score_in_band", "请先选择达成程度，再在其分值区间内打分", ind.id)
        if item.deviation_reason is not UNSET:
            reason = (item.deviation_reason or "").strip() or None
            if reason and len(reason) > MAX_TEXT:
                problems.add(f"{prefix}.deviation_reason", f"偏差原因不能超过 {MAX_TEXT} 个字符", ind.id)
            else:
                res.deviation_reason = reason
        if item.self_score is not UNSET:
            raw = "" if item.self_score is None else str(item.self_score).strip()
            if raw == "":
                res.self_score = None
            elif not settings.allow_self_scores:
                problems.add(f"{prefix}.self_score", "评分模板不允许单位自评得分，请留空（得分按规则计算）", ind.id)
            else:
                try:
                    own = Decimal(raw)
                    if not own.is_finite():
                        raise InvalidOperation
                except InvalidOperation:
                    problems.add(f"{prefix}.self_score", "自评得分应为数字，如 8 或 8.5", ind.id)
                else:
                    places = settings.rounding_places
                    if own != own.quantize(Decimal(1).scaleb(-places)):
                        problems.add(f"{prefix}.self_score", f"自评得分最多保留 {places} 位小数", ind.id)
                    else:
                        res.self_score = own  # its range (0..分值) is checked after the weights are known
        if item.self_score_reason is not UNSET:
            reason = (item.self_score_reason or "").strip() or None
            if reason and len(reason) > MAX_TEXT:
                problems.add(f"{prefix}.self_score_reason", f"自评理由不能超过 {MAX_TEXT} 个字符", ind.id)
            else:
                res.self_score_reason = reason
        if res.self_score is not None and not res.self_score_reason:
            problems.add(f"{prefix}.self_score_reason", "填写自评得分时须说明理由（为何不同于计算得分）", ind.id)
        if _result_state(res) != old:
            before[f"indicator:{ind.id}"], after[f"indicator:{ind.id}"] = old, _result_state(res)
            existing[ind.id] = res
            changed_results.append(res)
    if problems.items:
        session.rollback()  # nothing typed before the bad field stays half-applied in the session
        problems.raise_if_any()

    result = engine.score(parts)
    by_key = {row.key: row for row in result.indicators}
    for item in results:
        res = existing.get(item.indicator_id)
        if res is not None and res.self_score is not None:
            weight = by_key[str(item.indicator_id)].weight
            if not 0 <= res.self_score <= weight:
                problems.add(
                    f"results[{item.indicator_id}].self_score",
                    f"自评得分应在 0 至 {weight} 分之间（本指标分值 {weight} 分）",
                    item.indicator_id,
                )
        if res is not None and res.qualitative_level and res.score_in_band is not None:
            weight = by_key[str(item.indicator_id)].weight
            lo, hi = scoring.band_limits(settings, res.qualitative_level, weight)
            if not lo <= res.score_in_band <= hi:
                level = LEVEL_LABELS[res.qualitative_level]
                problems.add(
                    f"results[{item.indicator_id}].score_in_band",
                    f"“{level}”的得分应在 {lo} 至 {hi} 分之间",
                    item.indicator_id,
                )
    if problems.items:
        session.rollback()
        problems.raise_if_any()

    if not after:
        session.rollback()
        return _saved_view(session, principal, evaluation, parts, result, unit, department, window)
    for res in changed_results:
        res.updated_at = saved_at
    rescored = engine.apply(parts, result)
    evaluation.status = lifecycle.target_status(row, evaluation.status)
    evaluation.updated_at = saved_at
    try:
        _write_save(session, evaluation, project, "spent" in after or "budget" in after, changed_results, rescored)
        audit.record(
            session=session,
            actor=principal,
            action="evaluation.save",
            entity_type="self_evaluation",
            entity_id=evaluation.id,
            before=before,
            after=after,
            head=audit_head,
        )
        session.commit()
    except sa.exc.DBAPIError as exc:
        _collided(session, exc)
        raise
    evaluation.version += 1
    _expire_entities(session, evaluation.id, project.id)
    return _saved_view(session, principal, evaluation, parts, result, unit, department, window)


def _expire_entities(session: Session, evaluation_id: int, project_id: int) -> None:
    """The save wrote with statements, not through the unit of work: entities of its rows that the session
    loaded before (a caller that read them first) are expired, so that they are read again when used."""
    for obj in list(session.identity_map.values()) if session.identity_map else ():
        if (
            (isinstance(obj, SelfEvaluation) and obj.id == evaluation_id)
            or (isinstance(obj, Project) and obj.id == project_id)
            or (isinstance(obj, IndicatorResult) and obj.self_evaluation_id == evaluation_id)
        ):
            session.expire(obj)


def _saved_view(session, principal, evaluation, parts, result, unit, department, window) -> EvaluationView:
    return view_of(
        principal,
        evaluation,
        parts,
        result,
        unit=unit,
        department_name=department.name if department is not None else "",
        window=window,
        originals=_originals(session, parts.project),
    )


# --- a save's reads and writes: columns into plain objects, and prebuilt statements --------------------
#
# A save reads its evaluation (with its project, template, unit, department, the year's filing window and
# the head of its audit stream) in one statement and its indicators with their results in a second, as
# the tables' columns into plain objects (as page_view does): building the ORM's entities and their identity
# map was a third of a save. It writes with prebuilt statements instead of the unit of work: one UPDATE of
# the evaluation that claims its version (a compare-and-set: a stale version is a 409, and the row stays
# locked until commit, so concurrent writers queue on it before writing anything else), then the project
# when its figures changed, then the result rows that changed (typed, or re-scored), then the audit event.

_SAVE_TABLES = (SelfEvaluation, Project, ScoringTemplate, Unit, Department, FilingWindow)
_SAVE_STATEMENTS: dict[str, tuple[Any, tuple]] = {}
_RESULT_TABLE: sa.Table = IndicatorResult.__table__  # type: ignore[attr-defined]
_EVALUATION_TABLE: sa.Table = SelfEvaluation.__table__  # type: ignore[attr-defined]
_PROJECT_TABLE: sa.Table = Project.__table__  # type: ignore[attr-defined]
# what a save may change on a result row (typed, or its figures re-scored)
_RESULT_WRITES = (
    "actual",
    "actual_parsed",
    "qualitative_level",
    "score_in_band",
    "deviation_reason",
    "self_score",
    "self_score_reason",
    "weight",
    "score",
    "met",
    "flags",
    "score_places",
    "updated_at",
)
_EVALUATION_WRITES = (
    "updated_at",
    "status",
    "goal_completion",
    *SPLIT_FIELDS,
    "score_places",
    "target_version",
    "execution_rate",
    "execution_score",
    "total_score",
    "grade",
    "flags",
)
_PROJECT_WRITES = ("spent", "budget", "budget_entered_by_unit")


def _save_statement(shape: str) -> tuple[Any, tuple]:
    found = _SAVE_STATEMENTS.get(shape)
    if found is None:
        tables = tuple(model.__table__ for model in _SAVE_TABLES)  # type: ignore[attr-defined]
        last = audit.head_query(sa.bindparam("stream", type_=sa.String)).subquery()
        query = (
            sa.select(
                *tables,
                sa.func.coalesce(last.c.seq, audit.GENESIS_SEQ).label("seq"),
                sa.func.coalesce(last.c.hash, audit.GENESIS).label("head_hash"),
            )
            .join_from(SelfEvaluation, Project, Project.id == SelfEvaluation.project_id)
            .join(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
            .join(Unit, Unit.id == Project.unit_id)
            .outerjoin(Department, Department.id == Unit.department_id)
            .outerjoin(FilingWindow, FilingWindow.year == Project.year)
            .outerjoin(last, sa.true())
            .where(SelfEvaluation.id == sa.bindparam("evaluation_id"), scope.shaped_filter(shape, Project.unit_id))
        )
        found = _SAVE_STATEMENTS[shape] = (query, tables)
    return found


def _read_for_save(session: Session, principal: Principal, evaluation_id: int) -> tuple:
    """(evaluation, window, audit head, parts, unit, department) as plain objects, in two statements."""
    shape, params = scope.filter_shape(principal)
    params["evaluation_id"] = evaluation_id
    params["stream"] = audit.stream_of("self_evaluation", evaluation_id, "")
    connection = session.connection()
    statement, tables = _save_statement(shape)
    row = connection.execute(statement, params).first()
    if row is None:
        raise NotFound("自评不存在或无权查看")
    evaluation, project, template, unit, department, window = _plain_objects(tables, row)
    indicators, results = [], {}
    for r in connection.execute(_PAGE_ROWS[0], {"evaluation_id": evaluation.id, "project_id": project.id}):
        indicator, result = _plain_objects(_PAGE_ROWS[1], r)
        indicators.append(indicator)
        if result is not None:
            results[indicator.id] = result
    parts = engine.Parts(evaluation, project, indicators, results, template, templates.settings_of(template))
    return evaluation, window, (row[-2], row[-1]), parts, unit, department


def _new_result(evaluation_id: int, indicator_id: int, year: int) -> SimpleNamespace:
    """A result row not written yet, with the columns' defaults (as IndicatorResult(...) would have)."""
    values = {name: None for name in _RESULT_TABLE.columns.keys()}
    values.update(self_evaluation_id=evaluation_id, indicator_id=indicator_id, year=year, flags=[], score_places=2)
    return SimpleNamespace(**values)


def _write_save(
    session: Session,
    evaluation: Any,
    project: Any,
    project_changed: bool,
    changed: list[Any],
    rescored: list[Any],
) -> None:
    connection = session.connection()
    params = {name: getattr(evaluation, name) for name in _EVALUATION_WRITES}
    params.update(claim_id=evaluation.id, claim_version=evaluation.version, claim_next=evaluation.version + 1)
    if connection.execute(_SAVE_EVALUATION, params).rowcount != 1:
        session.rollback()
        raise Conflict(STALE)
    if project_changed:
        connection.execute(
            _SAVE_PROJECT, {"project_id": project.id, **{n: getattr(project, n) for n in _PROJECT_WRITES}}
        )
    rows, seen = [], set()
    for res in (*changed, *rescored):
        if id(res) not in seen:
            seen.add(id(res))
            rows.append(res)
    updates = [{"result_id": res.id, **{name: getattr(res, name) for name in _RESULT_WRITES}} for res in rows if res.id]
    if updates:
        connection.execute(_SAVE_RESULT, updates)
    for res in rows:
        if res.id is None:
            values = {name: getattr(res, name) for name in _RESULT_INSERTS}
            res.id = connection.execute(_INSERT_RESULT, values).inserted_primary_key[0]


_SAVE_EVALUATION = (
    sa.update(_EVALUATION_TABLE)
    .where(
        _EVALUATION_TABLE.c.id == sa.bindparam("claim_id"),
        _EVALUATION_TABLE.c.version == sa.bindparam("claim_version"),
    )
    .values(version=sa.bindparam("claim_next"), **{name: sa.bindparam(name) for name in _EVALUATION_WRITES})
)
_SAVE_PROJECT = (
    sa.update(_PROJECT_TABLE)
    .where(_PROJECT_TABLE.c.id == sa.bindparam("project_id"))
    .values(**{name: sa.bindparam(name) for name in _PROJECT_WRITES})
)
_SAVE_RESULT = (
    sa.update(_RESULT_TABLE)
    .where(_RESULT_TABLE.c.id == sa.bindparam("result_id"))
    .values(**{name: sa.bindparam(name) for name in _RESULT_WRITES})
)
_RESULT_INSERTS = ("self_evaluation_id", "indicator_id", "year", *_RESULT_WRITES)
_INSERT_RESULT = sa.insert(_RESULT_TABLE)


STALE = "这份自评已被他人或其他窗口修改，请刷新页面后再填写（您的修改未保存）"
# PostgreSQL's answers to writers that collided: unique key taken, deadlock, serialization
# failure, lock not available. Each means "someone else wrote first": the client may retry.
COLLISIONS = {"23505", "40P01", "40001", "55P03"}
_CLAIMED = "jixiao.claimed_versions"


def claim_version(session: Session, evaluation: SelfEvaluation, **values: Any) -> None:
    """Take the evaluation's version before writing anything else: a compare-and-set that also
    locks the row until commit, so that concurrent writers queue here (one wins, the others get
    a 409) instead of colliding later on a result row's unique key or deadlocking on each other.
    Other columns given (`values`) are written by the same statement (a save's updated_at)."""
    expected = evaluation.version
    claims = session.info.setdefault(_CLAIMED, {})
    transaction = session.get_transaction()
    if transaction is not None and claims.get(evaluation.id) == (expected, transaction):
        return  # claimed earlier in this same transaction
    try:
        # On the connection, not through the ORM: nothing pending is flushed before the lock.
        statement = _CLAIMS.get(tuple(values))
        if statement is None:
            statement = _CLAIMS[tuple(values)] = _claim_statement(tuple(values))
        params = {"claim_id": evaluation.id, "claim_version": expected, "claim_next": expected + 1}
        params.update({f"claim_{name}": value for name, value in values.items()})
        updated = session.connection().execute(statement, params).rowcount
    except sa.exc.DBAPIError as exc:
        _collided(session, exc)
        raise
    if updated != 1:
        session.rollback()
        raise Conflict(STALE)
    for name, value in values.items():
        set_committed_value(evaluation, name, value)
    claims[evaluation.id] = (expected, session.get_transaction())


# claim_version's UPDATE by the other columns it writes: built once (the values are parameters)
_CLAIMS: dict[tuple[str, ...], sa.Update] = {}


def _claim_statement(names: tuple[str, ...]) -> sa.Update:
    table = SelfEvaluation.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("claim_id"), table.c.version == sa.bindparam("claim_version"))
        .values(version=sa.bindparam("claim_next"), **{name: sa.bindparam(f"claim_{name}") for name in names})
    )


def commit_versioned(session: Session, evaluation: SelfEvaluation) -> None:
    """Commit only if nobody saved meanwhile: a compare-and-set on the row's version (taken
    here unless the caller claimed it before writing). A collision with another writer that
    the database reports (unique key, deadlock) is a 409 too, after the rollback."""
    expected = evaluation.version
    claim_version(session, evaluation)
    try:
        session.flush()
        session.commit()
    except sa.exc.DBAPIError as exc:
        _collided(session, exc)
        raise
    finally:
        session.info.get(_CLAIMED, {}).pop(evaluation.id, None)
    set_committed_value(evaluation, "version", expected + 1)


def collided(exc: sa.exc.DBAPIError) -> bool:
    """The database error is a collision with another writer (unique key, deadlock, serialization,
    lock not available, or SQLite's busy writer past its timeout): a 409, not a 500."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in COLLISIONS or "database is locked" in str(exc.orig)


def _collided(session: Session, exc: sa.exc.DBAPIError) -> None:
    """Raise Conflict (after the rollback) when the error is a collision with another writer."""
    if collided(exc):
        session.rollback()
        raise Conflict(STALE) from exc


def _result_state(res: IndicatorResult) -> dict:
    return {
        "actual": res.actual,
        "qualitative_level": res.qualitative_level,
        "score_in_band": decimal_text(res.score_in_band),
        "deviation_reason": res.deviation_reason,
        "self_score": decimal_text(res.self_score),
        "self_score_reason": res.self_score_reason,
    }


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def submit(*, session: Session, principal: Principal, evaluation_id: int, version: int | None = None) -> EvaluationView:
    """送审: refused with every problem at its row when anything is missing; then read-only."""
    evaluation = scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
    parts = engine.load(session, evaluation)
    project, indicators = parts.project, parts.indicators
    row = _check_editable(session, principal, evaluation, project, "submit")
    if version is not None:
        check_version(evaluation, version)
    claim_version(session, evaluation)
    result = engine.score(parts)
    problems = scoring.submission_problems(result)
    if not indicators:
        raise ValidationFailed(f"{FLAG_LABELS['no_indicators']}，不能送审")
    if problems:
        raise ValidationFailed(
            f"还有 {len(problems)} 处需要完善，未送审",
            errors=[
                FieldError(
                    p.field if p.key is None else f"results[{p.key}].{p.field}",
                    p.message,
                    int(p.key) if p.key else None,
                )
                for p in problems
            ],
        )
    before = evaluation.status
    engine.store(session, parts, result)
    evaluation.status = lifecycle.target_status(row, before)
    evaluation.submitted_at = utcnow()
    evaluation.submitted_by_id = principal.user_id
    evaluation.reviewed_at = None
    evaluation.reviewed_by_id = None
    session.add(evaluation)
    audit.record(
        session=session,
        actor=principal,
        action="evaluation.submit",
        entity_type="self_evaluation",
        entity_id=evaluation.id,
        before={"status": before},
        after={
            "status": evaluation.status,
            "total_score": decimal_text(evaluation.total_score),
            "grade": evaluation.grade,
        },
    )
    commit_versioned(session, evaluation)
    return build_view(session, principal, evaluation)


def withdraw(*, session: Session, principal: Principal, evaluation_id: int) -> EvaluationView:
    """撤回: back to draft, possible until a reviewer has acted."""
    evaluation = scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
    row = check_transition(principal, evaluation, "withdraw")
    before = evaluation.status
    evaluation.status = lifecycle.target_status(row, before)
    session.add(evaluation)
    audit.record(
        session=session,
        actor=principal,
        action="evaluation.withdraw",
        entity_type="self_evaluation",
        entity_id=evaluation.id,
        before={"status": before},
        after={"status": evaluation.status},
    )
    commit_versioned(session, evaluation)
    return build_view(session, principal, evaluation)


def rescore(*, session: Session, evaluation_id: int, to_current: bool = True, actor: Any = "cli") -> SelfEvaluation:
    """Rescore on purpose, optionally moving the evaluation to its template's current version."""
    evaluation = session.get(SelfEvaluation, evaluation_id)
    old = session.get(ScoringTemplate, evaluation.template_id)
    if to_current:
        evaluation.template_id = current_template(session=session, name=old.name).id
    parts = engine.load(session, evaluation)
    result = engine.score(parts)
    before = {"template_id": old.id, "total_score": decimal_text(evaluation.total_score)}
    if evaluation.status != FIRST_STATUS:  # nothing typed yet means nothing scored to keep
        engine.store(session, parts, result)
    evaluation.version += 1
    session.add(evaluation)
    audit.record(
        session=session,
        actor=actor,
        action="evaluation.rescore",
        entity_type="self_evaluation",
        entity_id=evaluation.id,
        before=before,
        after={"template_id": evaluation.template_id, "total_score": decimal_text(evaluation.total_score)},
    )
    session.commit()
    return evaluation


def rescore_year(
    *,
    session: Session,
    year: int,
    name: str = templates.DEFAULT_TEMPLATE,
    include_submitted: bool = False,
    actor: str = "cli",
) -> int:
    """Move a year's evaluations to the current version of their template and rescore them, on purpose.

    Approved and final evaluations are never touched; submitted ones only when asked.
    """
    statuses = RESCORABLE_SUBMITTED if include_submitted else RESCORABLE
    current = templates.current_template(session=session, name=name)
    ids = session.exec(
        select(SelfEvaluation.id)
        .join(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
        .where(
            SelfEvaluation.year == year,
            SelfEvaluation.status.in_(statuses),
            ScoringTemplate.name == name,
            SelfEvaluation.template_id != current.id,
        )
    ).all()
    for evaluation_id in ids:
        rescore(session=session, evaluation_id=evaluation_id, actor=actor)
    return len(ids)


def submit_all(*, session: Session, principal: Principal, year: int) -> tuple[list[int], list[tuple[int, str]]]:
    """送审 every evaluation of the caller's year that may be submitted now, each in its own
    transaction; (submitted ids, [(id, reason)] refused — a refused one is left exactly as it was)."""
    done: list[int] = []
    refused: list[tuple[int, str]] = []
    for summary in list_evaluations(session=session, principal=principal, year=year):
        if not lifecycle.may(principal, "submit", summary.status):
            continue
        try:
            submit(session=session, principal=principal, evaluation_id=summary.id, version=summary.version)
        except DomainError as exc:
            session.rollback()
            details = "；".join(e.message for e in exc.errors[:3])
            more = f"等 {len(exc.errors)} 处" if len(exc.errors) > 3 else ""
            refused.append((summary.id, f"{exc.message}{'：' + details + more if details else ''}"))
        else:
            done.append(summary.id)
    return done, refused
