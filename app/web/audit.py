"""The audit page (审计记录): finance and administrators read who did what, filtered, and download it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from app.db import SessionDep
from app.services import audit
from app.web.deps import PagePrincipal
from app.web.render import render

router = APIRouter()
PAGE = 100
MAX_ID = 2**63 - 1


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
):
    """The audit events, oldest first, a hundred a page; the same filters as GET /api/v1/audit."""
    audit.check_reader(principal)
    filters = audit.AuditFilters(
        action=action or None, actor=actor or None, entity_type=entity_type or None, entity_id=entity_id
    )
    rows = audit.list_events(session=session, principal=principal, filters=filters, after=after, limit=PAGE + 1)
    query = {k: v for k, v in vars(filters).items() if v is not None}
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render(
        request,
        "audit/index.html",
        {
            "rows": rows,
            "filters": query,
            "next_url": f"/admin/audit?{urlencode({**query, 'after': rows[-1]['id']})}" if more else None,
            "export_url": f"/api/v1/audit?{urlencode({**query, 'format': 'xlsx'})}",
        },
    )
