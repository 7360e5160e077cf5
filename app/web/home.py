"""The landing page after login."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.models import Department, Unit, User
from app.services.accounts import ROLE_LABELS
from app.web.deps import PagePrincipal
from app.web.render import render

router = APIRouter()


@router.get("/")
def home(request: Request, principal: PagePrincipal, session: SessionDep):
    """Who is logged in, and where to go from here."""
    user = session.get(User, principal.user_id) if principal.user_id else None
    scope_name = None
    if principal.unit_id:
        scope_name = session.get(Unit, principal.unit_id).name
    elif principal.department_id:
        scope_name = session.get(Department, principal.department_id).name
    return render(
        request,
        "home/index.html",
        {"user": user, "role_label": ROLE_LABELS.get(principal.role, ""), "scope_name": scope_name},
    )
