"""调整: changing an approved 绩效目标表 on request. A unit asks with a reason; the request is
reviewed like the table (app/domain/evaluation.py ADJUSTMENT_TRANSITIONS); the bureau's approval
applies it: the rows keep their ids (results stay tied to them), the table's version goes up, the
self-evaluation is scored again against the new values and records the version it used, and each
changed value keeps the one before it so pages and prints show the original beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.evaluation import FIRST_STATUS
from app.models import Indicator, Project, SelfEvaluation, TargetAdjustment, Unit, User
from app.security import Principal
from app.services import audit, engine, scope, target_tables
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, Problems, ValidationFailed
from app.services.templates import settings_of
from app.sqltypes import utcnow

TABLE = lifecycle.ADJUSTMENT_TRANSITIONS
# what an adjustment may change: target values, 分值 and goals (money is reported in the self-evaluation)
INDICATOR_FIELDS = ("period_target", "annual_target", "weight")
PROJECT_FIELDS = ("period_goal", "annual_goal")
LABELS = {
    "period_target": "实施周期指标值",
    "annual_target": "年度指标值",
    "weight": "分值",
    "period_goal": "实施周期目标",
    "annual_goal": "年度目标",
}
STALE = "这份调整申请已被他人处理或修改，请重新读取后再操作"


@dataclass(frozen=True)
class Change:
    indicator_id: int | None
    name: str
    field: str
    old: str | None
    new: str | None

    @property
    def label(self) -> str:
        return LABELS.get(self.field, self.field)


def changes_of(adjustment: TargetAdjustment) -> list[Change]:
    return [Change(**c) for c in adjustment.changes]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = target_tables._plain(value) if not isinstance(value, str) else value
    text = str(text).strip()
    return text or None


def _role_check(principal: Principal, action: str) -> None:
    roles = lifecycle.roles_for(action, TABLE)
    if principal.role not in roles:  # asked before anything is looked up: no existence leak
        who = "或".join(lifecycle.ROLE_LABELS[r] for r in roles)
        raise PermissionDenied(f"只有{who}可以{lifecycle.ADJUSTMENT_VERBS[action]}")


def pending(session: Session, project_id: int) -> TargetAdjustment | None:
    return session.exec(
        select(TargetAdjustment).where(
            TargetAdjustment.project_id == project_id, TargetAdjustment.status.in_(lifecycle.ADJUSTMENT_PENDING)
        )
    ).first()


def request(
    *,
    session: Session,
    principal: Principal,
    project_id: int,
    reason: str | None,
    indicators: dict[int, dict[str, Any]],
    project_fields: dict[str, Any] | None = None,
) -> TargetAdjustment:
    """申请调整 of an approved table: only the values that differ from the table's are kept."""
    _role_check(principal, "request")
    project = scope.visible_project(session=session, principal=principal, project_id=project_id)
    if lifecycle.transition(principal, "request", project.target_status, table=TABLE) is None:
        if lifecycle.may(lifecycle.RoleOnly(principal.role), "request", project.target_status, table=TABLE):
            raise PermissionDenied("令牌的权限范围（scope）不允许此操作")
    adjustment = file_request(
        session=session,
        actor=principal,
        project=project,
        reason=reason,
        indicators=indicators,
        project_fields=project_fields,
    )
    session.commit()
    return adjustment


def file_request(
    *,
    session: Session,
    actor: Any,
    project: Project,
    reason: str | None,
    indicators: dict[int, dict[str, Any]],
    project_fields: dict[str, Any] | None = None,
) -> TargetAdjustment:
    """File a request for an approved table, checked, in the caller's transaction (flushed, not
    committed): the unit's 申请调整 above, and a re-import filed as an adjustment (whose caller,
    the bureau's import, was allowed by the import's roles)."""
    if not any(row.action == "request" and project.target_status in row.sources for row in TABLE):
        label = lifecycle.TARGET_STATUS[project.target_status].label
        raise Conflict(f"目标表当前为“{label}”：批复后才能申请调整，批复前请直接修改")
    # one request at a time: the table's row is held while the pending one is looked for and this
    # one numbered, so two requests at once cannot both pass (the second waits, then sees the first)
    target_tables.lock_table(session, project.id, "同时有另一份调整申请提交，请刷新后查看")
    if pending(session, project.id) is not None:
        raise Conflict("这张目标表已有一份调整申请在审核中：审核完成后才能再次申请")
    problems = Problems()
    reason = (reason or "").strip()
    if not reason:
        problems.add("reason", "请写明调整的原因")
    elif len(reason) > 5000:
        problems.add("reason", "调整原因不能超过 5000 个字符")
    rows = {
        i.id: i
        for i in session.exec(
            select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.position, Indicator.id)
        )
    }
    unit = session.get(Unit, project.unit_id)
    settings = settings_of(target_tables._template(session, project.year, unit))
    changes: list[Change] = []
    for indicator_id, fields in indicators.items():
        ind = rows.get(indicator_id)
        if ind is None:
            problems.add(f"indicators[{indicator_id}]", "指标不存在或不属于这张目标表")
            continue
        unknown = sorted(set(fields) - set(INDICATOR_FIELDS))
        if unknown:
            problems.add(f"indicators[{indicator_id}]", f"调整只能改指标值和分值，不能改：{'、'.join(unknown)}")
            continue
        merged = {k: getattr(ind, k) for k in target_tables.INDICATOR_FIELDS}
        merged["level2"] = ind.level2
        merged.update(fields)
        checked = target_tables._indicator_input(
            settings, project.year, merged, problems, prefix=f"indicators[{indicator_id}]."
        )
        if not checked:
            continue
        for key in INDICATOR_FIELDS:
            old, new = _text(getattr(ind, key)), _text(checked.get(key))
            if key in fields and old != new:
                changes.append(Change(ind.id, ind.name, key, old, new))
    for key, value in (project_fields or {}).items():
        if key not in PROJECT_FIELDS:
            problems.add(key, "调整只能改实施周期目标和年度目标（资金在自评中如实填报）")
            continue
        old, new = _text(getattr(project, key)), _text(value)
        if new is not None and len(new) > 20000:
            problems.add(key, f"{LABELS[key]}不能超过 20000 个字符")
        elif old != new:
            changes.append(Change(None, project.name, key, old, new))
    if not changes and not problems.items:
        problems.add("indicators", "没有改动：请至少修改一个指标值、分值或目标")
    problems.raise_if_any()
    number = (
        session.exec(
            select(sa.func.coalesce(sa.func.max(TargetAdjustment.number), 0)).where(
                TargetAdjustment.project_id == project.id
            )
        ).one()
        + 1
    )
    adjustment = TargetAdjustment(
        project_id=project.id,
        number=number,
        status="declared",
        reason=reason,
        changes=[c.__dict__ for c in changes],
        requested_by_id=getattr(actor, "user_id", None),
    )
    try:
        session.add(adjustment)
        session.flush()
    except sa.exc.DBAPIError as exc:  # two requests at once: the number is taken (or the writers collided)
        target_tables._collided(session, exc, "同时有另一份调整申请提交，请刷新后查看")
        raise
    audit.record(
        session=session,
        actor=actor,
        action="adjustment.request",
        entity_type="project",
        entity_id=project.id,
        after={"adjustment": number, "changes": adjustment.changes},
        note=reason,
    )
    return adjustment


def visible(*, session: Session, principal: Principal, adjustment_id: int) -> tuple[TargetAdjustment, Project]:
    adjustment = session.get(TargetAdjustment, adjustment_id)
    if adjustment is None:
        raise NotFound("调整申请不存在或无权查看")
    try:
        project = scope.visible_project(session=session, principal=principal, project_id=adjustment.project_id)
    except NotFound:
        raise NotFound("调整申请不存在或无权查看") from None
    return adjustment, project


def act(
    *,
    session: Session,
    principal: Principal,
    adjustment_id: int,
    action: str,
    version: int | None,
    opinion: str | None = None,
) -> TargetAdjustment:
    """同意 (approve) or 退回 (return) a request; the bureau's approval applies it."""
    if action not in ("approve", "return"):
        raise NotFound("没有这个操作")
    _role_check(principal, action)
    adjustment, project = visible(session=session, principal=principal, adjustment_id=adjustment_id)
    row = lifecycle.transition(principal, action, adjustment.status, table=TABLE)
    if row is None:
        if lifecycle.may(lifecycle.RoleOnly(principal.role), action, adjustment.status, table=TABLE):
            raise PermissionDenied("令牌的权限范围（scope）不允许此操作")
        label = lifecycle.TARGET_STATUS[adjustment.status].label
        raise Conflict(f"调整申请当前为“{label}”，不能{lifecycle.ADJUSTMENT_VERBS[action]}")
    if version is None or version != adjustment.version:
        raise Conflict(STALE)
    opinion = (opinion or "").strip() or None
    if row.opinion_required and opinion is None:
        raise ValidationFailed("退回须写明意见", errors=[FieldError("opinion", "请写明退回的原因")])
    before = adjustment.status
    try:
        # the request's version is claimed before anything is written: a compare-and-set that holds
        # its row, so that concurrent reviewers queue here (one wins, the others get a 409)
        claimed = (
            session.connection()
            .execute(
                sa.update(TargetAdjustment.__table__)
                .where(
                    TargetAdjustment.__table__.c.id == adjustment.id, TargetAdjustment.__table__.c.version == version
                )
                .values(version=version + 1)
            )
            .rowcount
        )
        if claimed != 1:
            session.rollback()
            raise Conflict(STALE)
        set_committed_value(adjustment, "version", version + 1)
        adjustment.status = lifecycle.target_status(row, before)
        adjustment.opinion = opinion or adjustment.opinion
        adjustment.updated_at = utcnow()
        audit.record(
            session=session,
            actor=principal,
            action=f"adjustment.{action}",
            entity_type="project",
            entity_id=project.id,
            before={"adjustment": adjustment.number, "status": before},
            after={"adjustment": adjustment.number, "status": adjustment.status},
            note=opinion,
        )
        if adjustment.status == lifecycle.ADJUSTMENT_APPLIED:
            _apply(session, principal, adjustment, project)
        session.add(adjustment)
        session.commit()
    except sa.exc.DBAPIError as exc:
        target_tables._collided(session, exc, STALE)
        raise
    session.refresh(adjustment)
    return adjustment


def _apply(session: Session, principal: Principal, adjustment: TargetAdjustment, project: Project) -> None:
    """The table's next version: each change written (the value before it must still be there),
    the targets parsed again, the quality checked, the self-evaluation scored again."""
    unit = session.get(Unit, project.unit_id)
    settings = settings_of(target_tables._template(session, project.year, unit))
    rows = {i.id: i for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    problems = Problems()
    for change in changes_of(adjustment):
        if change.indicator_id is None:
            if _text(getattr(project, change.field)) != change.old:
                raise Conflict(f"{LABELS[change.field]}已不是申请时的值，请退回后重新申请")
            setattr(project, change.field, change.new)
            continue
        ind = rows.get(change.indicator_id)
        if ind is None or _text(getattr(ind, change.field)) != change.old:
            raise Conflict(f"指标“{change.name}”的{change.label}已不是申请时的值，请退回后重新申请")
        merged = {k: getattr(ind, k) for k in target_tables.INDICATOR_FIELDS}
        merged["level2"] = ind.level2
        merged[change.field] = change.new
        columns = target_tables._indicator_input(settings, project.year, merged, problems)
        for key, value in columns.items():
            setattr(ind, key, value)
        session.add(ind)
    problems.raise_if_any()
    project.target_version += 1
    adjustment.applied_version = project.target_version
    session.add(project)
    target_tables._recheck(session, project)
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).first()
    if evaluation is not None:
        session.flush()
        parts = engine.load(session, evaluation)
        if evaluation.status != FIRST_STATUS:
            engine.store(session, parts, engine.score(parts))
        else:
            evaluation.target_version = project.target_version
        evaluation.version += 1
        session.add(evaluation)
    audit.record(
        session=session,
        actor=principal,
        action="adjustment.apply",
        entity_type="project",
        entity_id=project.id,
        after={"adjustment": adjustment.number, "target_version": project.target_version},
    )


def list_for(*, session: Session, principal: Principal, project_id: int) -> list[tuple[TargetAdjustment, str | None]]:
    """The table's adjustment requests, newest first, with the requester's name."""
    scope.visible_project(session=session, principal=principal, project_id=project_id)
    rows = session.exec(
        select(TargetAdjustment, User.display_name, User.username)
        .outerjoin(User, User.id == TargetAdjustment.requested_by_id)
        .where(TargetAdjustment.project_id == project_id)
        .order_by(TargetAdjustment.number.desc())
    ).all()
    return [(a, display or username) for a, display, username in rows]


def originals(session: Session, project_id: int) -> dict[int | None, dict[str, str | None]]:
    """For each value changed by an adjustment that took effect: the value as first approved."""
    out: dict[int | None, dict[str, str | None]] = {}
    applied = session.exec(
        select(TargetAdjustment)
        .where(TargetAdjustment.project_id == project_id, TargetAdjustment.status == lifecycle.ADJUSTMENT_APPLIED)
        .order_by(TargetAdjustment.number)
    ).all()
    for adjustment in applied:
        for change in changes_of(adjustment):
            out.setdefault(change.indicator_id, {}).setdefault(change.field, change.old)
    return out
