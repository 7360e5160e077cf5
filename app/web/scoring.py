"""The scoring-template page (评分模板): the current version's settings, and the precision scores are kept at.

A change stores a new template version (the CLI's `jixiao scoring set` does the same); evaluations
already scored keep their version until rescored on purpose.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.domain.scoring import MAX_PLACES
from app.services import templates as scoring_templates
from app.services.errors import ValidationFailed
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import FormFields, see_other

router = APIRouter()
MANAGERS = ("admin", "finance")
PAGE = "scoring/index.html"


def _context(session, **extra) -> dict:
    current = scoring_templates.current_template(session=session)
    settings = scoring_templates.settings_of(current)
    session.commit()  # national-2020@1 is created on first use
    return {
        "template": current,
        "label": scoring_templates.label(current),
        "settings": settings,
        "places_choices": range(MAX_PLACES + 1),
        "errors": {},
        "notice": None,
        **extra,
    }


@router.get("/admin/scoring")
def scoring_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """The current template version and the settings a bureau changes most."""
    require_role(principal, *MANAGERS)
    done = request.query_params.get("done")
    return render(request, PAGE, _context(session, notice=f"已保存为新版本 {done}。" if done else None))


@router.post("/admin/scoring")
def save_scoring(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Store a new version with the posted settings; 422 with the message at the field."""
    require_role(principal, *MANAGERS)
    text = (form.get("rounding_places") or "").strip()
    errors = {}
    changes: dict = {}
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PLACES:
        errors["rounding_places"] = f"得分保留的小数位数应为 0 至 {MAX_PLACES}"
    else:
        changes["rounding_places"] = int(text)
    for key in ("given_weights_absolute", "allow_self_scores"):
        changes[key] = form.get(key) == "on"
    if errors:
        return render(request, PAGE, _context(session, errors=errors), status_code=422)
    current = scoring_templates.current_template(session=session)
    if all(current.settings.get(k) == v for k, v in changes.items()):
        return see_other(request, "/admin/scoring")
    try:
        row = scoring_templates.new_version(session=session, name=current.name, changes=changes, actor=principal)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, PAGE, _context(session, errors={"rounding_places": exc.message}), status_code=422)
    return see_other(request, f"/admin/scoring?done={scoring_templates.label(row)}")
