"""The 绩效目标表 pages: a unit drafts its tables (from scratch or from last year's), each value
understood and checked as it is typed, and submits them (申报); the department and the bureau
review them from a dashboard that lists the worst tables first — thin handlers over
app.services.target_tables."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.domain import evaluation as lifecycle
from app.domain.targets import parse_target
from app.models import Indicator
from app.security import Principal
from app.services import adjustments, target_tables
from app.services.errors import FieldError, ValidationFailed
from app.services.target_tables import ProjectInput, TableView
from app.web.deps import PagePrincipal
from app.web.render import render, templates, wants_fragment
from app.web.toolkit import HELPERS, FormFields, YearQuery, field_errors, parse_id, parse_version, see_other

router = APIRouter()

PAGE = "targets/form.html"
LIST = "targets/index.html"
TABLE = lifecycle.TARGET_TRANSITIONS
PROJECT_TEXT = ("name", "period_goal", "annual_goal")
PROJECT_MONEY = ("initial_budget", "budget", "fiscal_funds", "carried_over", "other_funds")
ROW_FIELDS = ("level1", "level2", "name", "period_target", "annual_target", "weight")
DONE = lifecycle.TARGET_NOTICES


def context(view: TableView, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        **HELPERS,
        "view": view,
        "p": view.project,
        "errors": {},
        "saved": None,
        "notice": None,
        "TARGET_STATUS": lifecycle.TARGET_STATUS,
        "VERBS": lifecycle.TARGET_ACTION_VERBS,
        "opinion_required": {r.action for r in TABLE if r.opinion_required},
        "ADJUSTMENT_TABLE": lifecycle.ADJUSTMENT_TRANSITIONS,
        "ADJUSTMENT_VERBS": lifecycle.ADJUSTMENT_VERBS,
        "changes_of": adjustments.changes_of,
        "adjust_errors": [],
        "adjust_typed": None,
    }
    ctx.update(extra)
    return ctx


def _fragments(request: Request, blocks: list[str], ctx: dict[str, Any], status_code: int = 200) -> Response:
    full = {"request": request, "principal": getattr(request.state, "principal", None), **ctx}
    response = templates.TemplateResponse(request, PAGE, full, status_code=status_code, block_names=blocks)
    response.headers["Vary"] = "HX-Request"
    return response


# --- the list: a unit's tables; the reviewers' dashboard, worst first ----------------------------


def _default_statuses(principal: Principal) -> tuple[str, ...]:
    """What waits for the viewer: the statuses from which this role may approve (none for a unit)."""
    return tuple(
        s.code
        for s in lifecycle.TARGET_STATUSES
        if lifecycle.may(lifecycle.RoleOnly(principal.role), "approve", s.code, table=TABLE)
    )


@router.get("/targets")
def table_list(request: Request, principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """A unit's 绩效目标表 of a year (new, copy from last year); for reviewers, the year's tables by
    quality, worst first, defaulting to those that wait for their review."""
    params = request.query_params
    year = year or target_tables.latest_year(session=session, principal=principal)
    reviewer = principal.role != "unit"
    status = params.get("status")
    if status is None:
        statuses = _default_statuses(principal) if reviewer else ()
        status = ",".join(statuses)
    else:
        statuses = tuple(s for s in status.split(",") if s in lifecycle.TARGET_STATUS)
    cursor = params.get("cursor") or None
    q = (params.get("q") or "").strip()[:100] or None
    page = (
        target_tables.list_tables(
            session=session,
            principal=principal,
            year=year,
            statuses=statuses,
            q=q,
            worst_first=reviewer,
            cursor=cursor,
            limit=100,
        )
        if year
        else None
    )
    last_year: list[Any] = []
    if not reviewer and year:
        mine = {r.project_code for r in page.rows} if page else set()
        previous = target_tables.list_tables(session=session, principal=principal, year=year - 1, limit=200)
        last_year = [r for r in previous.rows if r.project_code not in mine]
    ctx = {
        **HELPERS,
        "year": year,
        "page": page,
        "status": status,
        "q": q or "",
        "reviewer": reviewer,
        "last_year": last_year,
        "TARGET_STATUS": lifecycle.TARGET_STATUS,
        "TARGET_STATUSES": lifecycle.TARGET_STATUSES,
        "default_status": ",".join(_default_statuses(principal)),
        "may_create": principal.role in lifecycle.roles_for("save", TABLE) and principal.role == "unit",
        "notice": DONE.get(params.get("done", "")),
    }
    return render(request, LIST, ctx, block="tables")


@router.post("/targets")
def create_table(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """新建: a draft table with the project's name (and code); its indicators are added on its page."""
    problems: list[FieldError] = []
    year = None
    try:
        from app.web.toolkit import parse_year

        year = parse_year(form.get("year"))
    except ValidationFailed as exc:
        problems.extend(exc.errors)
    if year is None and not problems:
        problems.append(FieldError("year", "请填写年度"))
    if problems:
        raise ValidationFailed("新建目标表的信息有误", errors=problems)
    project = target_tables.create_project(
        session=session,
        principal=principal,
        data=ProjectInput(
            year=year,
            unit_id=None,
            project_code=(form.get("project_code") or "").strip() or None,
            fields={"name": form.get("name")},
            indicators=[],
        ),
    )
    return see_other(request, f"/targets/{project.id}?done=create")


@router.post("/targets/{project_id:int}/copy")
def copy_table(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """从上年复制: the source table's goals and indicators as next year's draft."""
    year = parse_id(form.get("year"), "year")
    project = target_tables.copy_table(session=session, principal=principal, source_id=project_id, year=year)
    return see_other(request, f"/targets/{project.id}?done=copy")


# --- one table ---------------------------------------------------------------------------------


@router.get("/targets/{project_id:int}")
def table_page(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep):
    """One 绩效目标表: editable rows while a draft (or returned), review actions for reviewers."""
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    notice = DONE.get(request.query_params.get("done", ""))
    return render(request, PAGE, context(view, notice=notice), block="table")


@router.post("/targets/{project_id:int}/project")
def save_project(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save the project fields typed (name, goals, money); answers the computed parts out of band."""
    fields = {k: form[k] for k in (*PROJECT_TEXT, *PROJECT_MONEY) if k in form}
    try:
        target_tables.update_project(
            session=session, principal=principal, project_id=project_id, version=parse_version(form), fields=fields
        )
    except ValidationFailed as exc:
        session.rollback()
        view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
        ctx = context(view, errors=field_errors(exc.errors))
        return _answer(request, project_id, ["project_cells", "companions"], ctx, 422)
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    return _answer(request, project_id, ["project_cells", "companions"], context(view, saved="project"))


@router.post("/targets/{project_id:int}/rows/{indicator_id:int}")
def save_row(
    request: Request,
    project_id: int,
    indicator_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    form: FormFields,
):
    """Save one indicator row: answers what was understood of its values, its checks, the table's
    checks and version — out of band, never the inputs."""
    fields = {k: form[k] for k in ROW_FIELDS if k in form}
    target_tables.check_row_of(session=session, project_id=project_id, indicator_id=indicator_id)
    try:
        target_tables.update_indicator(
            session=session,
            principal=principal,
            indicator_id=indicator_id,
            version=parse_version(form),
            fields=fields,
        )
    except ValidationFailed as exc:
        session.rollback()
        view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
        errors = {indicator_id: {e.field.rsplit(".", 1)[-1]: e.message for e in exc.errors}}
        ctx = context(view, ind=_row(view, indicator_id), errors=errors, typed={indicator_id: fields})
        return _answer(request, project_id, ["row_cells", "companions"], ctx, 422)
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    ctx = context(view, ind=_row(view, indicator_id), saved=indicator_id)
    return _answer(request, project_id, ["row_cells", "companions"], ctx)


def _row(view: TableView, indicator_id: int) -> Indicator:
    for ind in view.indicators:
        if ind.id == indicator_id:
            return ind
    from app.services.errors import NotFound

    raise NotFound("指标不存在或无权查看")


@router.post("/targets/{project_id:int}/rows")
def add_row(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """添加指标: a complete new row at the end of the table; the table is shown again."""
    data = {k: form.get(k) for k in ROW_FIELDS}
    try:
        target_tables.add_indicator(
            session=session, principal=principal, project_id=project_id, version=parse_version(form), data=data
        )
    except ValidationFailed as exc:
        session.rollback()
        view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
        ctx = context(view, errors={"new": {e.field.rsplit(".", 1)[-1]: e.message for e in exc.errors}}, new=data)
        return render(request, PAGE, ctx, block="table", status_code=422)
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    return _whole(request, project_id, context(view, saved="new"))


@router.post("/targets/{project_id:int}/rows/{indicator_id:int}/delete")
def delete_row(
    request: Request,
    project_id: int,
    indicator_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    form: FormFields,
):
    """删除 one row of a draft table."""
    target_tables.check_row_of(session=session, project_id=project_id, indicator_id=indicator_id)
    target_tables.delete_indicator(
        session=session, principal=principal, indicator_id=indicator_id, version=parse_version(form)
    )
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    return _whole(request, project_id, context(view))


@router.post("/targets/{project_id:int}/act/{action}")
def act(
    request: Request, project_id: int, action: str, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """申报, 审核通过, 批复 or 退回 (with an opinion): one row of the target table's transitions."""
    if action not in {r.action for r in TABLE if r.action != "save"}:
        from app.services.errors import NotFound

        raise NotFound("没有这个操作")
    try:
        target_tables.act(
            session=session,
            principal=principal,
            project_id=project_id,
            action=action,
            version=parse_version(form),
            opinion=form.get("opinion"),
        )
    except ValidationFailed as exc:
        session.rollback()
        view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
        ctx = context(view, errors=field_errors(exc.errors), refusal=exc.message, problem_list=exc.errors)
        return render(request, PAGE, ctx, block="table", status_code=422)
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    if not wants_fragment(request):
        return see_other(request, f"/targets/{project_id}?done={action}")
    return render(request, PAGE, context(view, notice=DONE.get(action)), block="table")


@router.get("/targets/{project_id:int}/print")
def print_table(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep):
    """The 项目支出绩效目标申报表 for the browser's print (A4 portrait), with its status, approval
    date, version and, beside every adjusted value, the value before it."""
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    approved = [h for h in view.history if h.action == "target_table.approve"]
    ctx = {
        **HELPERS,
        "view": view,
        "p": view.project,
        "originals": adjustments.originals(session, project_id),
        "approved_at": approved[-1].at if view.status.approved and approved else None,
    }
    return render(request, "targets/print.html", ctx)


# --- 调整: requests to change an approved table --------------------------------------------------


@router.post("/targets/{project_id:int}/adjustments")
def request_adjustment(
    request: Request, project_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """申请调整: the values typed that differ from the approved table, with the reason."""
    indicators: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        name, _, rest = key.partition("-")
        if name in adjustments.INDICATOR_FIELDS and rest.isdigit():
            indicators.setdefault(int(rest), {})[name] = value
    fields = {k: form[k] for k in adjustments.PROJECT_FIELDS if k in form}
    try:
        adjustments.request(
            session=session,
            principal=principal,
            project_id=project_id,
            reason=form.get("reason"),
            indicators=indicators,
            project_fields=fields,
        )
    except ValidationFailed as exc:
        session.rollback()
        view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
        names = {ind.id: ind.name for ind in view.indicators}
        named = []
        for e in exc.errors:
            match = re.match(r"indicators\[(\d+)\]", e.field)
            where = names.get(int(match.group(1))) if match else None
            named.append(FieldError(e.field, f"“{where}”：{e.message}" if where else e.message))
        ctx = context(view, adjust_errors=named, adjust_typed=form)
        return render(request, PAGE, ctx, block="table", status_code=422)
    return _done(request, principal, session, project_id, "adjustment.request")


@router.post("/targets/adjustments/{adjustment_id:int}/approve")
def approve_adjustment(
    request: Request, adjustment_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """同意 an adjustment request (the bureau's approval applies it)."""
    return _act_on_adjustment(request, adjustment_id, "approve", principal, session, form)


@router.post("/targets/adjustments/{adjustment_id:int}/return")
def return_adjustment(
    request: Request, adjustment_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """退回 an adjustment request (an opinion is required); the table stays as it is."""
    return _act_on_adjustment(request, adjustment_id, "return", principal, session, form)


def _act_on_adjustment(request: Request, adjustment_id: int, action: str, principal, session, form) -> Response:
    try:
        adjustment = adjustments.act(
            session=session,
            principal=principal,
            adjustment_id=adjustment_id,
            action=action,
            version=parse_version(form),
            opinion=form.get("opinion"),
        )
    except ValidationFailed as exc:
        session.rollback()
        adjustment, project = adjustments.visible(session=session, principal=principal, adjustment_id=adjustment_id)
        view = target_tables.page_view(session=session, principal=principal, project_id=project.id)
        ctx = context(view, adjust_errors=exc.errors)
        return render(request, PAGE, ctx, block="table", status_code=422)
    done = "adjustment.apply" if adjustment.applied_version else f"adjustment.{action}"
    return _done(request, principal, session, adjustment.project_id, done)


def _done(request: Request, principal, session, project_id: int, done: str) -> Response:
    if not wants_fragment(request):
        return see_other(request, f"/targets/{project_id}?done={done}")
    view = target_tables.page_view(session=session, principal=principal, project_id=project_id)
    return render(request, PAGE, context(view, notice=DONE.get(done)), block="table")


@router.get("/targets/understand")
def understand(request: Request, principal: PagePrincipal, year: YearQuery = None):
    """What jixiao understands of a value being typed in the new-row form (no save)."""
    if not wants_fragment(request):  # only the new-row form asks (htmx); opened directly: the list
        return see_other(request, "/targets")
    text = (request.query_params.get("annual_target") or "")[: target_tables.MAX_TARGET]
    words = HELPERS["understood"](parse_target(text, year=year)) if text.strip() else ""
    return render(request, PAGE, {**HELPERS, "words": words}, block="understood")


def _whole(request: Request, project_id: int, ctx: dict[str, Any]) -> Response:
    if not wants_fragment(request):
        return see_other(request, f"/targets/{project_id}")
    return render(request, PAGE, ctx, block="table")


def _answer(request: Request, project_id: int, blocks: list[str], ctx: dict, status_code: int = 200) -> Response:
    if not wants_fragment(request):
        if status_code == 200:
            return see_other(request, f"/targets/{project_id}")
        return render(request, PAGE, ctx, status_code=status_code)
    return _fragments(request, blocks, ctx, status_code)
