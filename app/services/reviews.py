"""Review (审核) of self-evaluations by the supervising department and the finance bureau.

A department reviews the submitted evaluations of its units: 审核通过 (`approved`) or 退回
(`returned`, opinion required). The finance bureau's approval is final (终审, `final`); after
it nothing changes except an explicit, recorded reopen by the finance bureau. A reviewer may
override an indicator's score with a reason; the computed score is kept beside it and the
total counts the override. Every transition is an audit event, shown as the history.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.evaluation import QUEUE_FLAG_CODES, REVIEWERS, STATUS_CODES, STATUS_LABELS
from app.domain.scoring import GRADES
from app.models import (
    AuditEvent,
    Department,
    Indicator,
    IndicatorResult,
    Project,
    SelfEvaluation,
    Unit,
    User,
)
from app.security import Principal
from app.services import audit, engine, scope
from app.services.errors import DomainError, FieldError, Problems, ValidationFailed
from app.services.evaluations import (
    MAX_TEXT,
    EvaluationView,
    build_view,
    check_role,
    check_transition,
    check_version,
    claim_version,
    commit_versioned,
    decimal_text,
)
from app.services.history import HistoryEntry, ReviewRound, evaluation_history, review_rounds
from app.services.scope import require_role
from app.sqltypes import page_limit, utcnow

DECISIONS = ("approve", "return", "reopen")

SORTS = {
    "submitted_at": "送审时间",
    "score": "总分",
    "execution_rate": "执行率",
    "unit": "单位",
    "project": "项目",
}
PAGE_SIZE = 50


# --- decisions -------------------------------------------------------------------------------


@dataclass
class OverrideInput:
    """A reviewer's score for one indicator; score None or "" removes an earlier override."""

    indicator_id: int
    score: Any = None
    reason: str | None = None


def allowed_actions(principal: Principal, evaluation: SelfEvaluation) -> tuple[str, ...]:
    """What this caller may do to the evaluation now: approve / return / reopen (the lifecycle's table)."""
    return lifecycle.allowed_actions(
        principal, evaluation.status, reviewed=evaluation.reviewed_at is not None, actions=DECISIONS
    )


def approve(
    *,
    session: Session,
    principal: Principal,
    evaluation_id: int,
    version: int | None = None,
    opinion: str | None = None,
    overrides: list[OverrideInput] = (),
) -> EvaluationView:
    """审核通过: a department's approval sets `approved`, the finance bureau's is final (`final`)."""
    return _decide(session, principal, evaluation_id, "approve", version, opinion, overrides)


def return_(
    *,
    session: Session,
    principal: Principal,
    evaluation_id: int,
    opinion: str | None,
    version: int | None = None,
    overrides: list[OverrideInput] = (),
) -> EvaluationView:
    """退回: back to the unit, editable, with the opinion (required) shown."""
    return _decide(session, principal, evaluation_id, "return", version, opinion, overrides)


def reopen(
    *, session: Session, principal: Principal, evaluation_id: int, opinion: str | None, version: int | None = None
) -> EvaluationView:
    """Reopen a final evaluation (finance bureau only, opinion required): back to `returned`."""
    return _decide(session, principal, evaluation_id, "reopen", version, opinion, ())


def _decide(
    session: Session,
    principal: Principal,
    evaluation_id: int,
    action: str,
    version: int | None,
    opinion: str | None,
    overrides,
) -> EvaluationView:
    check_role(principal, action)
    evaluation = scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
    row = check_transition(principal, evaluation, action)
    if version is not None:
        check_version(evaluation, version)
    claim_version(session, evaluation)  # the row lock first: no collision or deadlock with a save

    problems = Problems()
    text = (opinion or "").strip() or None
    if text is None and row.opinion_required:
        problems.add("opinion", "退回时必须填写审核意见" if action == "return" else "重新打开时必须填写原因")
    elif text and len(text) > MAX_TEXT:
        problems.add("opinion", f"审核意见不能超过 {MAX_TEXT} 个字符")

    parts = engine.load(session, evaluation)
    project, indicators, results = parts.project, parts.indicators, parts.results
    pending: list[tuple[str, int, Decimal]] = []  # overrides whose cap (the weight) is known after scoring
    by_id = {i.id: i for i in indicators}
    before: dict[str, Any] = {
        "status": evaluation.status,
        "total_score": decimal_text(evaluation.total_score),
        "grade": evaluation.grade,
    }
    after: dict[str, Any] = {}
    changed: list[IndicatorResult] = []
    seen: set[int] = set()
    for item in overrides:
        prefix = f"overrides[{item.indicator_id}]"
        ind = by_id.get(item.indicator_id)
        if ind is None:
            problems.add(f"{prefix}.indicator_id", "该指标不属于这个项目")
            continue
        if ind.id in seen:
            problems.add(f"{prefix}.indicator_id", "同一指标只能调整一次", ind.id)
            continue
        seen.add(ind.id)
        score = _parse_override(item.score, f"{prefix}.score", ind.id, problems, places=parts.settings.rounding_places)
        if score is not None and score is not _INVALID:
            pending.append((f"{prefix}.score", ind.id, score))
        reason = (item.reason or "").strip() or None
        if score is not None and reason is None:
            problems.add(f"{prefix}.reason", "调整得分必须说明理由", ind.id)
        elif reason and len(reason) > MAX_TEXT:
            problems.add(f"{prefix}.reason", f"调整理由不能超过 {MAX_TEXT} 个字符", ind.id)
        if score is _INVALID:
            continue
        res = results.get(ind.id) or IndicatorResult(
            self_evaluation_id=evaluation.id, indicator_id=ind.id, year=project.year, flags=[]
        )
        old = {"score_override": decimal_text(res.score_override), "override_reason": res.override_reason}
        new = {"score_override": decimal_text(score), "override_reason": reason if score is not None else None}
        if old != new:
            res.score_override = score
            res.override_reason = new["override_reason"]
            res.override_by_id = principal.user_id if score is not None else None
            results[ind.id] = res
            changed.append(res)
            before[f"indicator:{ind.id}"], after[f"indicator:{ind.id}"] = old, new
    if problems.items:
        session.rollback()
        problems.raise_if_any()

    # One scoring, with the overrides in place: the weights do not depend on them.
    result = engine.score(parts)
    weights = {row.key: row.weight for row in result.indicators}
    for field_name, indicator_id, score in pending:
        if score > weights[str(indicator_id)]:
            weight = decimal_text(weights[str(indicator_id)])
            problems.add(field_name, f"调整后的得分不能超过该指标的分值 {weight} 分", indicator_id)
    if problems.items:
        session.rollback()
        problems.raise_if_any()
    for res in changed:
        session.add(res)
    engine.store(session, parts, result)
    evaluation.status = lifecycle.target_status(row, evaluation.status)
    if action == "approve" and principal.role == "department":
        evaluation.department_score = evaluation.total_score
    evaluation.reviewed_by_id = principal.user_id
    evaluation.reviewed_at = utcnow()
    evaluation.review_opinion = text
    evaluation.updated_at = utcnow()
    session.add(evaluation)
    after.update(
        {
            "status": evaluation.status,
            "total_score": decimal_text(evaluation.total_score),
            "grade": evaluation.grade,
            "opinion": text,
        }
    )
    audit.record(
        session=session,
        actor=principal,
        action=f"evaluation.{action}",
        entity_type="self_evaluation",
        entity_id=evaluation.id,
        before=before,
        after=after,
        note=text,
    )
    commit_versioned(session, evaluation)
    return build_view(session, principal, evaluation, parts, result)


_INVALID: Any = object()


def _parse_override(raw: Any, field_name: str, indicator_id: int, problems: Problems, *, places: int = 2):
    """The override score: None to clear; a number from 0, at most the template's places (a
    region scoring in whole points is not silently rounded); the cap, the indicator's weight,
    is checked once scored."""
    if raw is None or str(raw).strip() == "":
        return None
    try:
        score = Decimal(str(raw).strip())
        if not score.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problems.add(field_name, "调整后的得分应为数字", indicator_id)
        return _INVALID
    if score < 0:
        problems.add(field_name, "调整后的得分不能为负数", indicator_id)
        return _INVALID
    if score != score.quantize(Decimal(1).scaleb(-places)):
        words = {0: "须为整数", 1: "最多保留一位小数"}.get(places, "最多保留两位小数")
        problems.add(field_name, f"调整后的得分{words}（评分模板的保留位数）", indicator_id)
        return _INVALID
    return score


# --- history ---------------------------------------------------------------------------------


def history(*, session: Session, principal: Principal, evaluation_id: int) -> list[HistoryEntry]:
    """Every recorded event of an evaluation the caller may see, oldest first."""
    scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
    return evaluation_history(session, evaluation_id)


@dataclass
class ReviewView:
    """The 自评表 with what the reviewer may do, the history and the rounds (送审 → decisions)."""

    view: EvaluationView
    actions: tuple[str, ...]
    history: list[HistoryEntry]
    reviewed_by: str | None

    @property
    def rounds(self) -> list[ReviewRound]:
        return review_rounds(self.history)


def submission_counts(session: Session, evaluation_ids: list[int]) -> dict[int, int]:
    """How many times each of these evaluations was handed in (its 送审 events)."""
    if not evaluation_ids:
        return {}
    rows = session.exec(
        select(AuditEvent.entity_id, sa.func.count())
        .where(
            AuditEvent.entity_type == "self_evaluation",
            AuditEvent.entity_id.in_(evaluation_ids),
            AuditEvent.action == "evaluation.submit",
        )
        .group_by(AuditEvent.entity_id)
    ).all()
    return {int(i): int(n) for i, n in rows if i is not None}


def review_view(
    *, session: Session, principal: Principal, evaluation_id: int, view: EvaluationView | None = None
) -> ReviewView:
    """The evaluation for a reviewer's page (or a unit reading its own history); `view`, when a
    decision just built it, is reused rather than scored again."""
    if view is None:
        evaluation = scope.visible_evaluation(session=session, principal=principal, evaluation_id=evaluation_id)
        view = build_view(session, principal, evaluation)
    evaluation = view.evaluation
    reviewer = session.get(User, evaluation.reviewed_by_id) if evaluation.reviewed_by_id else None
    return ReviewView(
        view=view,
        actions=allowed_actions(principal, evaluation),
        history=evaluation_history(session, evaluation.id),
        reviewed_by=(reviewer.display_name or reviewer.username) if reviewer else None,
    )


# --- the review queue ------------------------------------------------------------------------


# The queue's status filter beyond the statuses: everything, and what waits for the viewer's action.
ALL_STATUSES = "all"
AWAITING = "awaiting"
AWAITING_LABEL = "待我审核"


def awaiting_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """What waits for this reviewer, from the lifecycle's table: a department, what it may
    approve (its units' submissions); the finance bureau, what it may approve that a department
    already reviewed (awaiting 终审) plus first submissions of the units reporting to it
    directly (a department's own office, named as the department, or a unit under no
    department)."""
    mine = lifecycle.sources_for("approve", principal.role) or lifecycle.sources_for("approve")
    if principal.role != "finance":
        return SelfEvaluation.status.in_(mine)
    own = aliased(Department)  # the queue's query joins Department already
    direct = sa.or_(
        Unit.department_id.is_(None),
        sa.exists(sa.select(own.id).where(own.id == Unit.department_id, own.name == Unit.name)),
    )
    reviewed = [s for s in mine if s not in lifecycle.AWAITING_REVIEW]
    first = [s for s in mine if s in lifecycle.AWAITING_REVIEW]
    return sa.or_(SelfEvaluation.status.in_(reviewed), sa.and_(SelfEvaluation.status.in_(first), direct))


def waits_for(principal: Principal, status: str, *, direct: bool) -> bool:
    """awaiting_condition for one evaluation (`direct`: its unit reports to the bureau directly)."""
    mine = lifecycle.sources_for("approve", principal.role) or lifecycle.sources_for("approve")
    if status not in mine:
        return False
    return principal.role != "finance" or status not in lifecycle.AWAITING_REVIEW or direct


def reports_directly(unit_name: str, department_id: int | None, department_name: str | None) -> bool:
    """A unit under no department, or a department's own office (named as the department)."""
    return department_id is None or unit_name == department_name


def awaiting_count(principal: Principal, by_status: dict[str, int], *, direct: bool) -> int:
    """How many of a unit's evaluations (counted by status) wait for this reviewer."""
    return sum(n for status, n in by_status.items() if waits_for(principal, status, direct=direct))


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows: status `submitted` by default; "all" for every status; "awaiting" for
    what waits for the viewer's action (the pages' default)."""

    year: int | None = None
    status: str = lifecycle.QUEUE_DEFAULT_STATUS
    department_id: int | None = None
    unit_id: int | None = None
    grade: str | None = None
    flags: tuple[str, ...] = ()
    sort: str = "submitted_at"
    descending: bool = False
    page_token: str | None = None  # opaque: the next_token / previous_token of a page (first page: none)
    page_size: int = PAGE_SIZE
    q: str | None = None  # project name or code contains this (queries.project_matches)

    def check(self) -> None:
        """Unknown filter values are refused with a message, never ignored silently."""
        problems = Problems()
        if self.status not in (ALL_STATUSES, AWAITING) and self.status not in STATUS_CODES:
            problems.add("status", "状态取值无效")
        if self.grade is not None and self.grade not in GRADES:
            problems.add("grade", f"等级应为 {' / '.join(GRADES)}")
        for flag in self.flags:
            if flag not in QUEUE_FLAG_CODES:
                problems.add("flag", f"未知的提示类型：{flag}")
        if self.sort not in SORTS:
            problems.add("sort", "排序字段无效")
        if self.q is not None and (len(self.q) > 200 or "\x00" in self.q):
            problems.add("q", "查找的文字不能超过 200 个字，也不能包含空字符")
        if not 1 <= self.page_size <= 500:
            problems.add("page_size", "每页条数应在 1 至 500 之间")
        problems.raise_if_any("筛选条件有误")


@dataclass
class QueueRow:
    id: int
    project_code: str
    project_name: str
    unit_id: int
    unit: str
    department: str | None
    status: str
    submitted_at: datetime | None
    total_score: Decimal | None
    grade: str | None
    execution_rate: Decimal | None
    flags: list[str]
    has_satisfaction: bool
    version: int
    rounds: int = 1  # how many times it was handed in (送审): more than one is 重新送审

    @property
    def resubmitted(self) -> bool:
        return self.rounds > 1

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def queue_flags(self) -> list[str]:
        """The flags the queue filters on, as shown in its rows."""
        present = [f for f in QUEUE_FLAG_CODES if f in self.flags]
        if not self.has_satisfaction:
            present.append("no_satisfaction")
        return present


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int  # its number, for the reader (the tokens carry it)
    pages: int
    filters: QueueFilters
    next_token: str | None = None
    previous_token: str | None = None


# --- keyset pages ----------------------------------------------------------------------------
# A page token names the row a page starts after (or before): the sort column's value (or that it
# is empty) and the id, with the sort it belongs to and the page's number. The query asks for rows
# past it in the queue's order — never an offset: the deepest page costs what the first does.

_SORT_KINDS = {
    "submitted_at": "time",
    "score": "decimal",
    "execution_rate": "decimal",
    "unit": "text",
    "project": "text",
}
BAD_TOKEN = "翻页标记无效或已过期（排序已改变），请从第一页重新翻页"


@dataclass(frozen=True)
class _Mark:
    sort: str
    descending: bool
    empty: bool  # the sort value is empty (those rows come last)
    value: Any
    id: int
    page: int
    forward: bool  # the rows after the mark (next page) or before it (previous page)


def _encode(mark: _Mark) -> str:
    value = mark.value.isoformat() if isinstance(mark.value, datetime) else mark.value
    data = [mark.sort, int(mark.descending), int(mark.empty), None if value is None else str(value)]
    data += [mark.id, mark.page, int(mark.forward)]
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str, filters: QueueFilters) -> _Mark:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        sort, descending, empty, value, ident, page, forward = raw
        if sort != filters.sort or bool(descending) != filters.descending:
            raise ValueError("another sort")
        if not all(isinstance(n, int) for n in (ident, page)) or page < 1 or not 0 < ident < 2**31:
            raise ValueError("numbers")
        kind = _SORT_KINDS[sort]
        if empty:
            parsed: Any = None
        elif kind == "time":
            parsed = datetime.fromisoformat(value)
        elif kind == "decimal":
            parsed = Decimal(value)
            if not parsed.is_finite():
                raise ValueError("decimal")
        else:
            parsed = str(value)
    except (ValueError, TypeError, KeyError, InvalidOperation, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("筛选条件有误", errors=[FieldError("page_token", BAD_TOKEN)]) from None
    return _Mark(sort, bool(descending), bool(empty), parsed, ident, page, bool(forward))


def _past(column, id_column, mark: _Mark) -> sa.ColumnElement[bool]:
    """Rows after the mark in the queue's order (empty values last, ties by id), or before it."""
    smaller = mark.descending == mark.forward  # the wanted rows have smaller values (and ids)
    ahead = (lambda a, b: a < b) if smaller else (lambda a, b: a > b)
    if mark.forward:
        if mark.empty:
            return sa.and_(column.is_(None), ahead(id_column, mark.id))
        return sa.or_(
            column.is_(None),
            ahead(column, mark.value),
            sa.and_(column == mark.value, ahead(id_column, mark.id)),
        )
    if mark.empty:
        return sa.or_(column.is_not(None), sa.and_(column.is_(None), ahead(id_column, mark.id)))
    return sa.and_(
        column.is_not(None),
        sa.or_(ahead(column, mark.value), sa.and_(column == mark.value, ahead(id_column, mark.id))),
    )


def _json_contains(session: Session, column, item: str) -> sa.ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return sa.type_coerce(column, JSONB).contains([item])
    each = sa.func.json_each(column).table_valued("value").alias(f"flag_{item}")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == item))


def _queue_where(session: Session, principal: Principal, filters: QueueFilters, has_satisfaction):
    where = [scope.unit_filter(principal, Project.unit_id)]
    if filters.year is not None:
        where += [SelfEvaluation.year == filters.year, Project.year == filters.year]
    if filters.status == AWAITING:
        where.append(awaiting_condition(principal))
    elif filters.status != ALL_STATUSES:
        where.append(SelfEvaluation.status == filters.status)
    if filters.department_id is not None:
        where.append(Unit.department_id == filters.department_id)
    if filters.unit_id is not None:
        where.append(Project.unit_id == filters.unit_id)
    if filters.grade is not None:
        where.append(SelfEvaluation.grade == filters.grade)
    if filters.q and filters.q.strip():
        from app.services.queries import project_matches

        where.append(project_matches(filters.q))
    for flag in filters.flags:
        if flag == "no_satisfaction":
            where.append(sa.not_(has_satisfaction))
        else:
            where.append(_json_contains(session, SelfEvaluation.flags, flag))
    return where


def review_queue(*, session: Session, principal: Principal, filters: QueueFilters) -> QueuePage:
    """The evaluations to review, filtered, sorted (ties by id, so pages never overlap) and paged by keyset."""
    require_role(principal, *REVIEWERS, "admin")
    filters.check()
    mark = _decode(filters.page_token, filters) if filters.page_token else None
    has_satisfaction = sa.exists().where(Indicator.project_id == Project.id, Indicator.level1 == "satisfaction")
    where = _queue_where(session, principal, filters, has_satisfaction)
    base = (
        select(SelfEvaluation.id)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(*where)
    )
    total = session.exec(select(sa.func.count()).select_from(base.subquery())).one()
    pages = max(1, -(-total // filters.page_size))
    sort_column = {
        "submitted_at": SelfEvaluation.submitted_at,
        "score": SelfEvaluation.total_score,
        "execution_rate": SelfEvaluation.execution_rate,
        "unit": Unit.name,
        "project": Project.name,
    }[filters.sort]
    forward = mark is None or mark.forward
    # Empty values last whichever the direction, the same on SQLite and PostgreSQL; a previous page
    # reads the order backwards from its mark, then turns its rows round.
    descending = filters.descending != (not forward)
    direction = sort_column.desc() if descending else sort_column.asc()
    tie = SelfEvaluation.id.desc() if descending else SelfEvaluation.id.asc()
    empty_last = sort_column.is_(None) if forward else sort_column.is_not(None)
    if mark is not None:
        where.append(_past(sort_column, SelfEvaluation.id, mark))
    query = (
        select(
            SelfEvaluation.id,
            Project.project_code,
            Project.name,
            Unit.id,
            Unit.name,
            Department.name,
            SelfEvaluation.status,
            SelfEvaluation.submitted_at,
            SelfEvaluation.total_score,
            SelfEvaluation.grade,
            SelfEvaluation.execution_rate,
            SelfEvaluation.flags,
            has_satisfaction.label("has_satisfaction"),
            SelfEvaluation.version,
            sort_column.label("sort_value"),
        )
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .where(*where)
        .order_by(empty_last, direction, tie)
        .limit(page_limit(filters.page_size + 1))
    )
    found = list(session.exec(query))
    more = len(found) > filters.page_size
    found = found[: filters.page_size]
    if not forward:
        found.reverse()
    rows = [QueueRow(*row[:11], list(row[11] or []), bool(row[12]), row[13]) for row in found]
    by_id = {r.id: r for r in rows}
    for ident, count in submission_counts(session, list(by_id)).items():
        by_id[ident].rounds = count
    page = 1 if mark is None else max(1, mark.page + (1 if forward else -1))
    if not forward and not more:
        page = 1  # walked back to the start, whatever the token said

    def token(row, ahead: bool) -> str:
        value = row[14]
        return _encode(_Mark(filters.sort, filters.descending, value is None, value, row[0], page, ahead))

    has_next = more if forward else True
    has_previous = (mark is not None) if forward else more
    return QueuePage(
        rows=rows,
        total=total,
        page=min(page, pages),
        pages=pages,
        filters=filters,
        next_token=token(found[-1], True) if found and has_next else None,
        previous_token=token(found[0], False) if found and has_previous else None,
    )


@dataclass
class QueueOptions:
    years: list[int]
    departments: list[tuple[int, str]]
    units: list[tuple[int, str, int | None]]


def queue_options(*, session: Session, principal: Principal) -> QueueOptions:
    """The choices of the queue's filters, limited to what the caller may see."""
    visible = scope.unit_filter(principal, Unit.id)
    units = session.exec(select(Unit.id, Unit.name, Unit.department_id).where(visible).order_by(Unit.name)).all()
    dept_ids = {d for _, _, d in units if d is not None}
    departments = (
        session.exec(
            select(Department.id, Department.name).where(Department.id.in_(dept_ids)).order_by(Department.name)
        ).all()
        if dept_ids
        else []
    )
    years = session.exec(
        select(Project.year)
        .where(scope.unit_filter(principal, Project.unit_id))
        .distinct()
        .order_by(Project.year.desc())
    ).all()
    return QueueOptions(years=list(years), departments=[tuple(d) for d in departments], units=[tuple(u) for u in units])


def default_year(*, session: Session, principal: Principal) -> int:
    """The latest year the caller has projects in, else this year."""
    year = session.exec(select(sa.func.max(Project.year)).where(scope.unit_filter(principal, Project.unit_id))).one()
    return year or utcnow().year


# --- batch: several decisions at once, each its own transaction -----------------------------------


@dataclass(frozen=True)
class BatchOutcome:
    """What a batch did: the evaluations that went through, and each refused one with its reason
    (a refused one is left exactly as it was)."""

    done: list[int]
    refused: list[tuple[int, str]]


def batch_approve(
    *, session: Session, principal: Principal, items: list[tuple[int, int]], opinion: str | None = None
) -> BatchOutcome:
    """审核通过 several evaluations with one opinion; each (id, version the reviewer saw) is its own
    transaction through the same service and transition table as one approval."""
    check_role(principal, "approve")
    done: list[int] = []
    refused: list[tuple[int, str]] = []
    for evaluation_id, version in items:
        try:
            approve(session=session, principal=principal, evaluation_id=evaluation_id, version=version, opinion=opinion)
        except DomainError as exc:
            session.rollback()
            details = "；".join(e.message for e in exc.errors[:3])
            refused.append((evaluation_id, f"{exc.message}{'：' + details if details else ''}"))
        else:
            done.append(evaluation_id)
    return BatchOutcome(done, refused)


def project_names(*, session: Session, principal: Principal, evaluation_ids: list[int]) -> dict[int, str]:
    """The project name of each evaluation the caller may see (a batch's result names no other)."""
    if not evaluation_ids:
        return {}
    rows = session.exec(
        select(SelfEvaluation.id, Project.name)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .where(SelfEvaluation.id.in_(evaluation_ids), scope.unit_filter(principal, Project.unit_id))
    ).all()
    return dict(rows)
