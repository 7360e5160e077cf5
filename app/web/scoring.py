"""The scoring-template page (评分模板): the current version's settings, and the precision scores are kept at.

A change stores a new template version (the CLI's `jixiao scoring set` does the same); evaluations
already scored keep their version until rescored on purpose.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.domain.scoring import MAX_PLACES
from app.services import templates as scoring_templates
from app.services.errors import DomainError, ValidationFailed
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import FormFields, see_other

router = APIRouter()
MANAGERS = ("admin", "finance")
PAGE = "scoring/index.html"


def _context(session, name: str = scoring_templates.DEFAULT_TEMPLATE, **extra) -> dict:
    current = scoring_templates.current_template(session=session, name=name)
    settings = scoring_templates.settings_of(current)
    session.commit()  # a built-in template's version 1 is created on first use
    return {
        "template": current,
        "choices": scoring_templates.choices(session=session),
        "template_names": [name for name, _ in scoring_templates.structures(session=session)],
        "short_title": scoring_templates.short_title,
        "departments": scoring_templates.department_names(session=session),
        "choice_form": {},
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
    chosen = request.query_params.get("chosen")
    notice = f"已保存为新版本 {done}。" if done else (f"已选定：{chosen}。" if chosen else None)
    name = request.query_params.get("name") or scoring_templates.DEFAULT_TEMPLATE
    return render(request, PAGE, _context(session, name, notice=notice))


@router.post("/admin/scoring")
def save_scoring(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Store a new version with the posted settings; 422 with the message at the field."""
    require_role(principal, *MANAGERS)
    name = (form.get("name") or "").strip() or scoring_templates.DEFAULT_TEMPLATE
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
        return render(request, PAGE, _context(session, name, errors=errors), status_code=422)
    current = scoring_templates.current_template(session=session, name=name)
    if all(current.settings.get(k) == v for k, v in changes.items()):
        return see_other(request, f"/admin/scoring?{urlencode({'name': name})}")
    try:
        row = scoring_templates.new_version(session=session, name=current.name, changes=changes, actor=principal)
    except ValidationFailed as exc:
        session.rollback()
        errors = {"rounding_places": exc.message}
        return render(request, PAGE, _context(session, name, errors=errors), status_code=422)
    return see_other(
        request, f"/admin/scoring?{urlencode({'name': name, 'done': scoring_templates.label(row)}, safe='@')}"
    )


@router.post("/admin/scoring/choices")
def choose_template(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Choose the template of a year (optionally of one department); 422 with the reason."""
    require_role(principal, *MANAGERS)
    year_text = (form.get("year") or "").strip()
    name = (form.get("template") or "").strip()
    department = (form.get("department") or "").strip() or None
    values = {"year": year_text, "template": name, "department": department or ""}
    if not (year_text.isascii() and year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        errors = {"choice_year": "年度应为 2000 至 2100 之间的四位数"}
        return render(request, PAGE, _context(session, errors=errors, choice_form=values), status_code=422)
    try:
        scoring_templates.choose(
            session=session, year=int(year_text), name=name, department=department, actor=principal
        )
    except DomainError as exc:
        session.rollback()
        errors = {"choice": exc.message}
        return render(request, PAGE, _context(session, errors=errors, choice_form=values), status_code=422)
    scope = f"{year_text} 年度" + (f"“{department}”" if department else "")
    return see_other(request, f"/admin/scoring?{urlencode({'chosen': f'{scope}用 {name}'})}")
