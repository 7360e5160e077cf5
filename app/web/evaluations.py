"""The unit's year-end self-evaluation pages: the 自评表 whose rows save themselves, 送审 and 撤回,
the print view and the xlsx export — thin handlers over app.services.evaluations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.db import SessionDep
from app.domain.scoring import FLAG_LABELS, score_text
from app.security import Principal
from app.services import evaluations, exports
from app.services.errors import FieldError, NotFound, ValidationFailed
from app.services.evaluations import LEVEL_LABELS, STATUS_LABELS, UNSET, EvaluationView, ResultInput
from app.web.deps import PagePrincipal
from app.web.render import render, templates, wants_fragment

router = APIRouter()

FORM = "evaluations/form.html"
ROW_FIELDS = ("actual", "qualitative_level", "score_in_band", "deviation_reason", "self_score", "self_score_reason")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YearQuery = Annotated[int | None, Query(ge=1900, le=2200, description="年度")]

# Short badge texts; the full sentence of FLAG_LABELS is the badge's title and the print legend.
FLAG_SHORT = {
    "unmet": "未达标",
    "over_achieved": "超额≥120%",
    "unit_mismatch": "单位不一致",
    "low_confidence_target": "指标值待核对",
    "direction_hint": "方向待核对",
    "actual_missing": "待填写",
    "actual_unparsed": "未识别",
    "target_unparsed": "按达成程度计分",
    "level_missing": "待选达成程度",
    "score_out_of_band": "得分超出区间",
    "late": "逾期",
    "zero_target_missed": "零目标未达成",
    "reason_missing": "缺偏差原因",
    "overridden": "审核调整",
    "execution_low": "执行率<90%",
    "execution_over": "执行率>100%",
    "budget_missing": "缺全年预算数",
    "spent_missing": "待填执行数",
    "no_indicators": "无指标",
    "weights_partial": "分值部分给出",
    "weights_scaled": "分值已折算",
    "self_scored": "单位自评",
    "self_score_differs": "自评≠计算",
    "self_score_reason_missing": "缺自评理由",
    "self_score_out_of_range": "自评超出分值",
    "self_score_not_allowed": "不允许自评",
}
FLAG_TONE = {
    "unmet": "bad",
    "unit_mismatch": "bad",
    "actual_unparsed": "bad",
    "score_out_of_band": "bad",
    "late": "bad",
    "zero_target_missed": "bad",
    "reason_missing": "bad",
    "over_achieved": "warn",
    "low_confidence_target": "warn",
    "direction_hint": "warn",
    "target_unparsed": "warn",
    "weights_partial": "warn",
    "weights_scaled": "warn",
    "self_score_differs": "warn",
    "self_score_reason_missing": "bad",
    "self_score_out_of_range": "bad",
    "self_score_not_allowed": "warn",
    "execution_low": "warn",
    "execution_over": "warn",
    "budget_missing": "warn",
}
OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "~": "约"}


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields; an empty field is kept (it clears), an absent one is not sent."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


# --- what the templates show -----------------------------------------------------------------


def money(value: Decimal | None) -> str:
    """万元 as written: exact, no exponent, trailing zeros dropped but at least 2 decimals."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        return f"{whole}.{frac}"
    return f"{text}.00"


def pct(value: Decimal, places: int = 2) -> Decimal:
    """Percentage points at the precision the template keeps (2 decimals by default)."""
    return value.quantize(Decimal(1).scaleb(-places))


def sc(value: Decimal | None, places: int) -> str:
    """A score or weight at the template's precision; empty when there is none."""
    return score_text(value, places) or ""


def describe(parsed: Any) -> str:
    """A parse (TargetParse or its JSON) in words: 数值 ≥ 12 份, 日期 2024-11-30, 文字."""
    if parsed is None:
        return ""
    get = parsed.get if isinstance(parsed, dict) else lambda key: getattr(parsed, key)
    kind = get("kind")
    if kind == "deadline":
        deadline = get("deadline")
        return f"日期 {OPS.get(get('op') or '', '')} {deadline}".replace("  ", " ") if deadline else "日期"
    if kind == "quantity":
        value, value_max, unit = get("value"), get("value_max"), get("unit_raw") or get("unit") or ""
        if value is None:
            return "数值"
        if get("op") == "range":
            return f"数值 {_plain(value)}–{_plain(value_max)} {unit}".rstrip()
        return f"数值 {OPS.get(get('op') or '=', '=')} {_plain(value)} {unit}".rstrip()
    return "文字（按达成程度计分）"


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


# Formatting helpers and labels every template of this screen family uses.
HELPERS: dict[str, Any] = {
    "money": money,
    "pct": pct,
    "sc": sc,
    "plain": _plain,
    "describe": describe,
    "FLAG_LABELS": FLAG_LABELS,
    "FLAG_SHORT": FLAG_SHORT,
    "FLAG_TONE": FLAG_TONE,
    "LEVEL_LABELS": LEVEL_LABELS,
    "STATUS_LABELS": STATUS_LABELS,
}


def subtotals(ev: EvaluationView) -> dict[str, Decimal | None]:
    """Each level-1 group's points so far (reviewer's overrides count), None when nothing is scored."""
    out: dict[str, Decimal | None] = {}
    for group in ev.groups:
        scores = [i.score_override if i.score_override is not None else i.unit_score for i in group.indicators]
        known = [s for s in scores if s is not None]
        out[group.level1] = sum(known, Decimal(0)) if known else None
    return out


def field_errors(errors: list[FieldError]) -> dict[int | None, dict[str, str]]:
    """Messages by indicator (None: the money and goal blocks) and by field name."""
    out: dict[int | None, dict[str, str]] = {}
    for error in errors:
        name = error.field.rsplit(".", 1)[-1]
        out.setdefault(error.indicator_id, {}).setdefault(name, error.message)
    return out


def context(ev: EvaluationView, **extra: Any) -> dict[str, Any]:
    ctx = {
        **HELPERS,
        "ev": ev,
        "subtotals": subtotals(ev),
        "errors": {},
        "typed": {},
        "show_problems": False,
        "problem_list": [],
        "notice": None,
        "saved": None,
        "row_names": {i.id: f"{i.level2_name}·{i.name}" for i in ev.indicators},
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


def print_context(views: list[EvaluationView], year: int | None, *, single: bool) -> dict[str, Any]:
    return {
        **HELPERS,
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


def _version(form: dict[str, str]) -> int | None:
    text = (form.get("version") or "").strip()
    return int(text) if text.isdigit() else None


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
    return render(request, "evaluations/print.html", print_context(views, year, single=False), block="sheets")


@router.get("/evaluations/export.xlsx")
def export_year(principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """All the caller's 自评表 of a year as one workbook: a summary sheet and one sheet per project."""
    year = year or evaluations.latest_year(session=session, principal=principal)
    views = _year_views(session, principal, year)
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
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    notice = {"submitted": "已送审，等待主管部门审核。", "withdrawn": "已撤回，可以继续修改后再送审。"}.get(
        request.query_params.get("done", "")
    )
    return render(request, FORM, context(ev, notice=notice), block="evaluation")


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
            version=_version(form),
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
    typed = {name: form[name] for name in ("spent", "budget") if name in form}
    return _save_block(request, evaluation_id, principal, session, form, typed, "money")


@router.post("/evaluations/{evaluation_id:int}/goal")
def save_goal(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save 实际完成情况 of the year's overall goal."""
    typed = {name: form[name] for name in ("goal_completion",) if name in form}
    return _save_block(request, evaluation_id, principal, session, form, typed, "goal")


def _save_block(request, evaluation_id, principal, session, form, typed, block):
    try:
        ev = evaluations.save(
            session=session, principal=principal, evaluation_id=evaluation_id, version=_version(form), **typed
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
            session=session, principal=principal, evaluation_id=evaluation_id, version=_version(form)
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
        )
        return render(request, FORM, ctx, block="evaluation", status_code=422)
    if not wants_fragment(request):
        return RedirectResponse(f"/evaluations/{evaluation_id}?done=submitted", status_code=303)
    return render(request, FORM, context(ev, notice="已送审，等待主管部门审核。"), block="evaluation")


@router.post("/evaluations/{evaluation_id:int}/withdraw")
def withdraw(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """撤回 a submission nobody has reviewed yet: back to an editable draft."""
    ev = evaluations.withdraw(session=session, principal=principal, evaluation_id=evaluation_id)
    if not wants_fragment(request):
        return RedirectResponse(f"/evaluations/{evaluation_id}?done=withdrawn", status_code=303)
    return render(request, FORM, context(ev, notice="已撤回，可以继续修改后再送审。"), block="evaluation")


@router.get("/evaluations/{evaluation_id:int}/print")
def print_one(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The 项目支出绩效自评表 of one project for the browser's print (A4 landscape)."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return render(request, "evaluations/print.html", print_context([ev], ev.project.year, single=True), block="sheets")


@router.get("/evaluations/{evaluation_id:int}/export.xlsx")
def export_one(evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The same 自评表 as an xlsx workbook."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    body = exports.evaluations_workbook([ev], title="项目支出绩效自评表")
    return _xlsx(body, f"{ev.project.year}年度项目支出绩效自评表-{ev.project.name[:40]}.xlsx")
