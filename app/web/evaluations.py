"""The unit's year-end self-evaluation pages: the 自评表 whose rows save themselves, 送审 and 撤回,
the print view and the xlsx export — thin handlers over app.services.evaluations."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from jinja2.filters import do_truncate
from sqlmodel import Session

from app import timeouts
from app.db import SessionDep
from app.domain.evaluation import NOTICES
from app.security import Principal
from app.services import attachments, audit, evaluations, exports, monitoring, reports
from app.services.errors import FieldError, NotFound, ValidationFailed
from app.services.evaluations import SPLIT_FIELDS, UNSET, EvaluationView, IndicatorView, ResultInput
from app.web.attachments import evaluation_block
from app.web.deps import PagePrincipal
from app.web.render import flag_words, plain, render, templates, wants_fragment
from app.web.toolkit import (
    HELPERS,
    FormFields,
    YearQuery,
    describe,
    field_errors,
    parse_version,
    sc,
    see_other,
    understood,
)

router = APIRouter()

FORM = "evaluations/form.html"
ROW_FIELDS = ("actual", "qualitative_level", "score_in_band", "deviation_reason", "self_score", "self_score_reason")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DONE = NOTICES


# --- what the templates show -----------------------------------------------------------------


def subtotals(ev: EvaluationView) -> dict[str, Decimal | None]:
    """Each level-1 group's points so far (reviewer's overrides count), None when nothing is scored."""
    out: dict[str, Decimal | None] = {}
    for group in ev.groups:
        scores = [i.score_override if i.score_override is not None else i.unit_score for i in group.indicators]
        known = [s for s in scores if s is not None]
        out[group.level1] = sum(known, Decimal(0)) if known else None
    return out


def row_texts(ev: EvaluationView) -> Callable[[IndicatorView], dict[str, Any]]:
    """What an indicator row of the form shows, formatted once in Python (the template's row calls
    this once instead of a dozen helpers and macros). The same functions as the macros use."""
    places = ev.places

    def text(ind: IndicatorView) -> dict[str, Any]:
        final = ind.score_override if ind.score_override is not None else ind.unit_score
        example = truncate(ind.annual_target or "", 12, True, "")
        return {
            "weight": sc(ind.weight, places),
            "counted": "—" if final is None else sc(final, places),
            "score": "—" if ind.score is None else sc(ind.score, places),
            "given_weight": plain(ind.given_weight) if ind.given_weight is not None else None,
            "understood": understood(ind.target),
            "actual_words": describe(ind.actual_parsed) if ind.actual_parsed else "",
            "band": f"{ind.band[0]}–{ind.band[1]}" if ind.band else None,
            "placeholder": "完成日期，如 2024-11-30" if ind.target.kind == "deadline" else f"如 {example}",
            "uses_levels": ind.uses_levels,
            "periods_differ": ind.periods_differ,
            "reason_required": ind.reason_required,
        }

    return text


def truncate(text: str, length: int, killwords: bool, end: str) -> str:
    """Jinja's `truncate` filter with this environment's policies (what the row's placeholder used)."""
    return do_truncate(templates.env, text, length, killwords, end)


def context(ev: EvaluationView, **extra: Any) -> dict[str, Any]:
    ctx = {
        **HELPERS,
        **flag_words(ev.settings),
        "ev": ev,
        "row_text": row_texts(ev),
        "subtotals": subtotals(ev),
        "errors": {},
        "typed": {},
        "show_problems": False,
        "problem_list": [],
        "notice": None,
        "saved": None,
        "row_names": {i.id: f"{i.level2_name}·{i.name}" for i in ev.indicators},
        "monitoring_note": None,
    }
    ctx.update(extra)
    return ctx


def sheet_rows(ev: EvaluationView) -> list[dict[str, Any]]:
    """The indicator rows of the printed form, with the rowspans of 一级 (per group) and 二级 (per run)."""
    rows: list[dict[str, Any]] = []
    for group in ev.groups:
        start = len(rows)
        for n, ind in enumerate(group.indicators):
            rows.append({"ind": ind, "group": group, "l1_span": len(group.indicators) if n == 0 else 0, "l2_span": 0})
        run_start = start
        for k in range(start, len(rows) + 1):
            if k == len(rows) or rows[k]["ind"].level2_name != rows[run_start]["ind"].level2_name:
                rows[run_start]["l2_span"] = k - run_start
                run_start = k
    return rows


def print_context(
    views: list[EvaluationView],
    year: int | None,
    *,
    single: bool,
    session: Session | None = None,
    principal: Principal | None = None,
) -> dict[str, Any]:
    ids = [v.evaluation.id for v in views]
    evidence = {}
    if session is not None and principal is not None:
        for ev_id in ids:
            listing = attachments.evaluation_listing(session=session, principal=principal, evaluation_id=ev_id)
            evidence[ev_id] = attachments.evidence_rows(listing)
    return {
        "evidence": evidence,
        "EVIDENCE_HEADER": attachments.EVIDENCE_HEADER,
        **HELPERS,
        "sign_offs": reports.sign_offs(session=session, evaluation_ids=ids) if session is not None else {},
        "views": views,
        "year": year,
        "single": single,
        "rows": {v.evaluation.id: sheet_rows(v) for v in views},
        "actual_text": exports.actual_text,
    }


def fragments(request: Request, blocks: list[str], ctx: dict[str, Any], status_code: int = 200) -> Response:
    """Several blocks of the form in one answer: the swapped region and its out-of-band companions."""
    full = {"request": request, "principal": getattr(request.state, "principal", None), **ctx}
    response = templates.TemplateResponse(request, FORM, full, status_code=status_code, block_names=blocks)
    response.headers["Vary"] = "HX-Request"
    return response


def _row_of(ev: EvaluationView, indicator_id: int):
    for ind in ev.indicators:
        if ind.id == indicator_id:
            return ind
    raise NotFound("指标不存在或不属于这个项目")


def _back_to_form(evaluation_id: int) -> RedirectResponse:
    return RedirectResponse(f"/evaluations/{evaluation_id}", status_code=303)


# --- the unit-wide print and export (before /evaluations/{id} so "print" is never an id) --------


@router.get("/evaluations/print")
def print_year(request: Request, principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """All the caller's 自评表 of a year, one per page, for the browser's print."""
    year = year or evaluations.latest_year(session=session, principal=principal)
    views = _year_views(session, principal, year)
    return render(
        request,
        "evaluations/print.html",
        print_context(views, year, single=False, session=session, principal=principal),
        block="sheets",
    )


@router.get("/evaluations/export.xlsx")
def export_year(principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """All the caller's 自评表 of a year as one workbook: a summary sheet and one sheet per project."""
    timeouts.allow_long(session)  # a whole year of a province's self-evaluations
    year = year or evaluations.latest_year(session=session, principal=principal)
    views = _year_views(session, principal, year)
    audit.exported(
        session=session, actor=principal, what="/evaluations/export.xlsx", fmt="xlsx", filters={"year": year}
    )
    body = exports.evaluations_workbook(views, title=f"{year or ''}年度项目支出绩效自评表")
    return _xlsx(body, f"{year or ''}年度项目支出绩效自评表.xlsx")


def _year_views(session: Session, principal: Principal, year: int | None) -> list[EvaluationView]:
    if year is None:
        return []
    evaluations.ensure_evaluations(session=session, year=year)
    return [
        evaluations.view(session=session, principal=principal, evaluation_id=s.id)
        for s in evaluations.list_evaluations(session=session, principal=principal, year=year)
    ]


def _xlsx(body: bytes, filename: str) -> Response:
    from urllib.parse import quote

    # An ASCII fallback name for old clients, the Chinese one (RFC 5987) for the rest.
    disposition = f"attachment; filename=\"self-evaluation.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


# --- one evaluation ----------------------------------------------------------------------------


@router.get("/evaluations/{evaluation_id:int}")
def evaluation_page(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The 项目支出绩效自评表 of one project: editable while a draft inside the filing window."""
    ev, monitoring_round = evaluations.page_view(session=session, principal=principal, evaluation_id=evaluation_id)
    notice = DONE.get(request.query_params.get("done", ""))
    note = monitoring.beside_evaluation(session=session, project=ev.project, rnd=monitoring_round, unit=ev.unit)
    att = evaluation_block(request, session, principal, evaluation_id, ev)
    return render(request, FORM, context(ev, notice=notice, monitoring_note=note, **att), block="evaluation")


@router.post("/evaluations/{evaluation_id:int}/rows/{indicator_id:int}")
def save_row(
    request: Request,
    evaluation_id: int,
    indicator_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    form: FormFields,
):
    """Save one indicator row; answers only its computed cells, the new version and the totals, out of band
    (never the inputs, so a field the user is typing in is not replaced)."""
    typed = {name: form[name] for name in ROW_FIELDS if name in form}
    item = ResultInput(indicator_id=indicator_id, **{name: typed.get(name, UNSET) for name in ROW_FIELDS})
    try:
        ev = evaluations.save(
            session=session,
            principal=principal,
            evaluation_id=evaluation_id,
            version=parse_version(form),
            results=[item],
        )
    except ValidationFailed as exc:
        # The service raises before rolling back what it already assigned; drop it before re-reading.
        session.rollback()
        ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
        ind = _row_of(ev, indicator_id)
        errors = field_errors(
            [e if e.indicator_id is not None else FieldError(e.field, e.message, indicator_id) for e in exc.errors]
        )
        ctx = context(ev, ind=ind, errors=errors, typed={indicator_id: typed})
        return _answer(request, evaluation_id, ["row_cells", "companions"], ctx, 422)
    return _answer(
        request,
        evaluation_id,
        ["row_cells", "companions"],
        context(ev, ind=_row_of(ev, indicator_id), saved=indicator_id),
    )


@router.post("/evaluations/{evaluation_id:int}/money")
def save_money(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save 全年执行数 (and 全年预算数 when the table gave none); answers its computed cells and the totals."""
    typed = {name: form[name] for name in ("spent", "budget", *SPLIT_FIELDS) if name in form}
    return _save_block(request, evaluation_id, principal, session, form, typed, "money")


@router.post("/evaluations/{evaluation_id:int}/goal")
def save_goal(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save 实际完成情况 of the year's overall goal."""
    typed = {name: form[name] for name in ("goal_completion",) if name in form}
    return _save_block(request, evaluation_id, principal, session, form, typed, "goal")


def _save_block(request, evaluation_id, principal, session, form, typed, block):
    try:
        fields = {k: v for k, v in typed.items() if k not in SPLIT_FIELDS}
        split = {k: v for k, v in typed.items() if k in SPLIT_FIELDS}
        ev = evaluations.save(
            session=session,
            principal=principal,
            evaluation_id=evaluation_id,
            version=parse_version(form),
            split=split,
            **fields,
        )
    except ValidationFailed as exc:
        session.rollback()
        ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
        ctx = context(ev, errors=field_errors(exc.errors), typed={None: typed})
        return _answer(request, evaluation_id, [f"{block}_cells", "companions"], ctx, 422)
    return _answer(request, evaluation_id, [f"{block}_cells", "companions"], context(ev, saved=block))


def _answer(request: Request, evaluation_id: int, blocks: list[str], ctx: dict, status_code: int = 200):
    if not wants_fragment(request):
        if status_code == 200:
            return _back_to_form(evaluation_id)
        return render(request, FORM, ctx, status_code=status_code)
    return fragments(request, blocks, ctx, status_code)


@router.post("/evaluations/{evaluation_id:int}/submit")
def submit(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """送审: refused with every problem at its row, nothing changed; then the form is read-only."""
    try:
        ev = evaluations.submit(
            session=session, principal=principal, evaluation_id=evaluation_id, version=parse_version(form)
        )
    except ValidationFailed as exc:
        session.rollback()
        ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
        ctx = context(
            ev,
            errors=field_errors(exc.errors),
            show_problems=True,
            problem_list=exc.errors,
            refusal=exc.message,
            **evaluation_block(request, session, principal, evaluation_id),
        )
        return render(request, FORM, ctx, block="evaluation", status_code=422)
    if not wants_fragment(request):
        return see_other(request, f"/evaluations/{evaluation_id}?done=submit")
    att = evaluation_block(request, session, principal, evaluation_id)
    return render(request, FORM, context(ev, notice=DONE["submit"], **att), block="evaluation")


@router.post("/evaluations/{evaluation_id:int}/withdraw")
def withdraw(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """撤回 a submission nobody has reviewed yet: back to an editable draft."""
    ev = evaluations.withdraw(session=session, principal=principal, evaluation_id=evaluation_id)
    if not wants_fragment(request):
        return see_other(request, f"/evaluations/{evaluation_id}?done=withdraw")
    att = evaluation_block(request, session, principal, evaluation_id)
    return render(request, FORM, context(ev, notice=DONE["withdraw"], **att), block="evaluation")


@router.get("/evaluations/{evaluation_id:int}/print")
def print_one(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The 项目支出绩效自评表 of one project for the browser's print (A4 landscape)."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return render(
        request,
        "evaluations/print.html",
        print_context([ev], ev.project.year, single=True, session=session, principal=principal),
        block="sheets",
    )


@router.get("/evaluations/{evaluation_id:int}/export.xlsx")
def export_one(evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The same 自评表 as an xlsx workbook."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    audit.exported(
        session=session,
        actor=principal,
        what=f"/evaluations/{evaluation_id}/export.xlsx",
        fmt="xlsx",
        filters={"evaluation_id": evaluation_id},
    )
    body = exports.evaluations_workbook([ev], title="项目支出绩效自评表")
    return _xlsx(body, f"{ev.project.year}年度项目支出绩效自评表-{ev.project.name[:40]}.xlsx")
