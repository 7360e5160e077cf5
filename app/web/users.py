"""The accounts page (账号): the administrator sees who is logged in and can log a user out everywhere."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.domain.evaluation import ROLE_LABELS
from app.services import accounts, sessions
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import see_other

router = APIRouter()


@router.get("/admin/users")
def users_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """Every account with its live sessions, and a button ending them."""
    require_role(principal, "admin")
    timeouts = sessions.timeouts_of(request.app.state.settings)
    counts = sessions.live_counts(session=session, timeouts=timeouts, now=request.app.state.clock())
    rows = []
    for user in accounts.list_users(session=session):
        scope = accounts.scope_name(session=session, unit_id=user.unit_id, department_id=user.department_id) or ""
        live, seen = counts.get(user.id, (0, None))
        rows.append(
            {"user": user, "role": ROLE_LABELS.get(user.role, user.role), "scope": scope, "live": live, "seen": seen}
        )
    ended = request.query_params.get("ended")
    notice = None
    if ended is not None and request.query_params.get("name"):
        notice = f"已结束 {request.query_params['name']} 的 {ended} 个登录会话，该账号需重新登录。"
    return render(
        request,
        "users/index.html",
        {"rows": rows, "notice": notice, "idle": timeouts.idle, "absolute": timeouts.absolute},
    )


@router.post("/admin/users/{user_id}/end-sessions")
def end_sessions(request: Request, principal: PagePrincipal, session: SessionDep, user_id: int):
    """Log a user out everywhere (a lost laptop, a person who left); back to the page with a notice."""
    require_role(principal, "admin")
    user = accounts.get_user(session=session, user_id=user_id)
    ended = accounts.end_sessions(session=session, user=user, actor=principal)
    return see_other(request, "/admin/users?" + urlencode({"ended": ended, "name": user.username}))
