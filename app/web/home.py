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
    """Who is logged in; for a unit, this year's projects with status, progress, score and deadline."""
    return render(request, "home/index.html", _context(session, principal, year), block="projects")


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


def _context(session, principal, year):
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
            summaries = evaluations.list_evaluations(session=session, principal=principal, year=year)
        window = evaluations.filing_window(session=session, year=year) if year else None
        # Returned evaluations first: the reviewer's opinion is what the unit must act on.
        summaries.sort(key=lambda s: s.status not in SENT_BACK)
        ctx.update(
            year=year,
            years=_years(latest, year),
            summaries=summaries,
            window=window,
            window_open=evaluations.window_is_open(window),
            today=date.today(),
        )
    return ctx


def _years(latest: int | None, chosen: int | None) -> list[int]:
    """The years offered in the selector: a few back from the latest one."""
    if latest is None:
        return []
    years = list(range(latest, latest - 5, -1))
    if chosen and chosen not in years:
        years.append(chosen)
    return years
