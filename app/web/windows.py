"""The filing-window page (填报期): the administrator or the finance bureau sets each year's dates."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.services import windows
from app.services.errors import FieldError, ValidationFailed
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render, templates, wants_fragment
from app.web.toolkit import FormFields, see_other

router = APIRouter()


def _date(form: dict[str, str], name: str, label: str, problems: list[FieldError]) -> date | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(FieldError(name, f"{label}应为日期，如 2025-02-28"))
        return None


def _year(text: str) -> int:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or not windows.MIN_YEAR <= int(text) <= windows.MAX_YEAR:
        raise ValidationFailed("年度应为四位数字，如 2024", errors=[FieldError("year", "年度应为四位数字，如 2024")])
    return int(text)


@router.get("/admin/windows")
def windows_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """Every year's window, each row editable in place, and a form for a new year."""
    require_role(principal, *windows.MANAGERS)
    done = request.query_params.get("done")
    return render(
        request,
        "windows/index.html",
        {
            "rows": windows.list_windows(session=session),
            "errors": {},
            "values": {},
            "notice": f"{done} 年度填报期已保存。" if done and done.isdigit() else None,
        },
    )


@router.post("/admin/windows")
def save_window(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Set a year's dates: the row again (htmx), or back to the page; 422 with the message at the field."""
    require_role(principal, *windows.MANAGERS)
    problems: list[FieldError] = []
    year = _year(form.get("year", ""))
    opens = _date(form, "opens_date", "开始日期", problems)
    closes = _date(form, "closes_date", "截止日期", problems)
    try:
        if problems:
            raise ValidationFailed("日期有误", errors=problems)
        row = windows.set_window(session=session, principal=principal, year=year, opens_date=opens, closes_date=closes)
    except ValidationFailed as exc:
        session.rollback()
        errors = {e.field: e.message for e in exc.errors}
        current = windows.get_window(session=session, year=year)
        if wants_fragment(request):
            return _row(request, current, errors=errors, values=form, status_code=422)
        return render(
            request,
            "windows/index.html",
            {
                "rows": windows.list_windows(session=session),
                "errors": {year: errors},
                "values": {year: form},
                "refusal": exc.message,
            },
            status_code=422,
        )
    if wants_fragment(request):
        return _row(request, row, saved=True)
    return see_other(request, f"/admin/windows?done={year}")


def _row(request: Request, row: windows.WindowView, *, errors=None, values=None, saved=False, status_code=200):
    ctx = {
        "request": request,
        "principal": request.state.principal,
        "w": row,
        "row_errors": errors or {},
        "row_values": values or {},
        "saved": saved,
    }
    response = templates.TemplateResponse(request, "windows/_row.html", ctx, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response
