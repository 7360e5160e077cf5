"""The landing page after login: a unit's projects of the year to self-evaluate; others a greeting."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.domain.evaluation import ROLE_LABELS, SENT_BACK, roles_for
from app.services import accounts, evaluations
from app.services.errors import FieldError, ValidationFailed
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import FormFields, YearQuery, parse_year

router = APIRouter()


@router.get("/")
def home(request: Request, principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """Who is logged in; for a unit, this year's projects with status, progress, score and deadline
    (those whose name or code contains `q`, when searched)."""
    q = (request.query_params.get("q") or "").strip()[:200] or None
    return render(request, "home/index.html", _context(session, principal, year, q), block="projects")


@router.post("/evaluations/submit-all")
def submit_all(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """全部送审: every complete draft of the year is submitted, each on its own; the refused ones are
    listed with their reasons and left as they were."""
    require_role(principal, *roles_for("submit"))
    year = parse_year(form.get("year"))
    if year is None:
        raise ValidationFailed("请选择年度", errors=[FieldError("year", "请选择年度")])
    done, refused = evaluations.submit_all(session=session, principal=principal, year=year)
    ctx = _context(session, principal, year)
    names = {s.id: s.project_name for s in ctx.get("summaries", [])}
    ctx["batch"] = {
        "done": [names.get(i, str(i)) for i in done],
        "refused": [(names.get(i, str(i)), r) for i, r in refused],
    }
    return render(request, "home/index.html", ctx, block="projects")


def _context(session, principal, year, q: str | None = None):
    user, scope_name = accounts.whoami(session=session, principal=principal)
    ctx = {
        "user": user,
        "role_label": ROLE_LABELS.get(principal.role, ""),
        "scope_name": scope_name,
        "is_unit": principal.role == "unit",
    }
    if principal.role == "unit":
        latest = evaluations.latest_year(session=session, principal=principal)
        year = year or latest
        summaries = []
        if year is not None:
            evaluations.ensure_evaluations(session=session, year=year)
            summaries = evaluations.list_evaluations(session=session, principal=principal, year=year, q=q)
        window = evaluations.filing_window(session=session, year=year) if year else None
        # Returned evaluations first: the reviewer's opinion is what the unit must act on.
        summaries.sort(key=lambda s: s.status not in SENT_BACK)
        ctx.update(
            year=year,
            years=_years(evaluations.project_years(session=session, principal=principal), year),
            summaries=summaries,
            window=window,
            window_open=evaluations.window_is_open(window),
            today=date.today(),
            q=q,
        )
    elif principal.role in ("department", "finance", "admin"):
        ctx.update(_todo(session, principal, year))
    return ctx


def _todo(session, principal, year: int | None) -> dict:
    """A reviewer's to-do for the year: what waits for them, what was sent back and not yet
    resubmitted, the units that have not handed in (overdue once the window closed), the target
    tables waiting for their review, the filing window and the year's progress."""
    from app.domain import evaluation as lifecycle
    from app.services import queries, reviews, target_tables

    year = year or reviews.default_year(session=session, principal=principal)
    units: list[queries.GroupStats] = []
    after = None
    while True:  # the maintained per-unit figures, keyset-paged
        got = queries.unit_stats(
            session=session, principal=principal, filters=queries.ScopeFilters(year=year), after=after, limit=500
        )
        units += got
        if len(got) < 500:
            break
        after = got[-1].id
    awaiting = sum(
        reviews.awaiting_count(
            principal, u.by_status, direct=reviews.reports_directly(u.name, u.department_id, u.department_name)
        )
        for u in units
    )
    sent_back = sum(u.by_status.get(code, 0) for u in units for code in lifecycle.SENT_BACK)
    behind = [u for u in units if u.projects and u.submitted < u.projects]
    window = evaluations.filing_window(session=session, year=year)
    closed = bool(window and window.closes_date and window.closes_date < date.today())
    target_statuses = tuple(
        s.code
        for s in lifecycle.TARGET_STATUSES
        if lifecycle.may(lifecycle.RoleOnly(principal.role), "approve", s.code, table=lifecycle.TARGET_TRANSITIONS)
    )
    targets_waiting = (
        target_tables.list_tables(
            session=session, principal=principal, year=year, statuses=target_statuses, limit=1
        ).total
        if target_statuses
        else 0
    )
    return {
        "todo": {
            "year": year,
            "awaiting": awaiting,
            "sent_back": sent_back,
            "sent_back_status": lifecycle.SENT_BACK[0],
            "behind": sorted(behind, key=lambda u: (u.submitted / u.projects, u.name))[:10],
            "behind_count": len(behind),
            "closed": closed,
            "window": window,
            "projects": sum(u.projects for u in units),
            "handed_in": sum(u.submitted for u in units),
            "targets_waiting": targets_waiting,
        }
    }


def _years(with_data: list[int], chosen: int | None) -> list[int]:
    """The years offered in the selector: those with the unit's projects, and the one asked for."""
    if chosen and chosen not in with_data:
        return sorted([*with_data, chosen], reverse=True)
    return with_data
