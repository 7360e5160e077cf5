"""Tenancy: which units a caller may see. Enforced in queries, never in templates.

A unit sees only itself; a department sees the units under it; the finance bureau and
administrators see everything.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import Project, SelfEvaluation, Unit
from app.security import Principal
from app.services.errors import NotFound, PermissionDenied


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise PermissionDenied("您的账号没有执行此操作的权限")


def sees_everything(principal: Principal) -> bool:
    return principal.role in ("finance", "admin")


def unit_filter(principal: Principal, unit_id_column) -> sa.ColumnElement[bool]:
    """A WHERE clause restricting `unit_id_column` to the units the caller may see (shaped_filter's rule,
    the caller's unit or department bound as a parameter of its own, so two filters fit one statement)."""
    shape, params = filter_shape(principal)
    return shaped_filter(shape, unit_id_column, params.get("scope_id"))


def filter_shape(principal: Principal) -> tuple[str, dict[str, int]]:
    """unit_filter's shape for this caller ("all", "unit", "department" or "none") and the value it binds
    (as `scope_id`): with shaped_filter, one prebuilt statement serves every caller of a shape."""
    if sees_everything(principal):
        return "all", {}
    if principal.role == "unit" and principal.unit_id is not None:
        return "unit", {"scope_id": principal.unit_id}
    if principal.role == "department" and principal.department_id is not None:
        return "department", {"scope_id": principal.department_id}
    return "none", {}


def shaped_filter(shape: str, unit_id_column, value: int | None = None) -> sa.ColumnElement[bool]:
    """The visibility rule for a shape of filter_shape: the unit or department bound as `scope_id`
    (given at execution, for a prebuilt statement), or, given `value`, bound to it under a unique name."""
    if shape == "all":
        return sa.true()
    if shape not in ("unit", "department"):
        return sa.false()
    scope_id = sa.bindparam("scope_id") if value is None else sa.bindparam("scope_id", value, unique=True)
    if shape == "unit":
        return unit_id_column == scope_id
    return unit_id_column.in_(select(Unit.id).where(Unit.department_id == scope_id))


def visible_project(*, session: Session, principal: Principal, project_id: int) -> Project:
    """The project if the caller may see it; otherwise NotFound (no existence leak)."""
    project = session.exec(
        select(Project).where(Project.id == project_id, unit_filter(principal, Project.unit_id))
    ).first()
    if project is None:
        raise NotFound("项目不存在或无权查看")
    return project


def visible_evaluation(*, session: Session, principal: Principal, evaluation_id: int) -> SelfEvaluation:
    """The self-evaluation if the caller may see it; otherwise NotFound (no existence leak)."""
    row = session.exec(
        select(SelfEvaluation)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .where(SelfEvaluation.id == evaluation_id, unit_filter(principal, Project.unit_id))
    ).first()
    if row is None:
        raise NotFound("自评不存在或无权查看")
    return row
