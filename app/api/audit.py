"""GET /api/v1/audit: the audit events, filtered, paged, exported (finance and admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from pydantic import BaseModel, Field

from app.api.deps import ERRORS, EXPORT_RESPONSES, MAX_LIMIT
from app.api.export import Listing, filters_of, list_response
from app.api.models import AuditEventPublic, AuditEventsPublic
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.services import audit

router = PrefixRouter(prefix="/api/v1", tags=["审计"])
MAX_ID = 2**63 - 1


class AuditQuery(BaseModel):
    """Filters of the audit list, paging and the export format."""

    action: str | None = Field(None, max_length=64, description="操作，如 import.update、login.failure、export")
    entity_type: str | None = Field(None, max_length=64, description="对象类型，如 project、self_evaluation、user")
    entity_id: int | None = Field(None, ge=1, le=MAX_ID, description="对象编号")
    actor: str | None = Field(None, max_length=200, description="操作者：用户名、token:令牌名 或 cli:系统账号")
    stream: str | None = Field(None, max_length=200, description="记录流，如 project:7")
    since: datetime | None = Field(None, description="自此时刻起（含），ISO 8601，如 2024-12-01T00:00:00+08:00")
    until: datetime | None = Field(None, description="到此时刻前（不含）")
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}，默认 100")
    cursor: str | None = Field(None, max_length=500, description="分页游标：上一页返回的 next_cursor")
    format: Literal["json", "csv", "xlsx"] = Field(
        "json", description="json（分页）；csv 或 xlsx 下载全部符合条件的记录"
    )


def event_public(r) -> AuditEventPublic:
    return AuditEventPublic(**{k: r[k] for k in AuditEventPublic.model_fields})


AUDIT = Listing(
    route="audit",
    item=AuditEventPublic,
    envelope=AuditEventsPublic,
    to_public=event_public,
    sheet="审计记录",
    filters=filters_of(audit.AuditFilters),
    source=audit.list_events,
)


@router.get(
    "/audit",
    response_model=AuditEventsPublic,
    summary="审计记录（财政局、管理员）",
    responses={**ERRORS, **EXPORT_RESPONSES},
)
@requires("read")
def list_audit(
    request: Request, session: SessionDep, principal: PrincipalDep, query: Annotated[AuditQuery, Query()]
) -> Any:
    """谁在何时对什么做了什么，含修改前后的值；按编号升序。只增不改，`jixiao audit verify` 核对其摘要链。"""
    audit.check_reader(principal)  # before a download starts streaming
    return list_response(request, session, principal, AUDIT, query)
