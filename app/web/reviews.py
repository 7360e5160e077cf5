"""The reviewers' pages: the review queue and one evaluation with approve / return / override controls
and its history — thin handlers over app.services.reviews."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.datastructures import QueryParams
from fastapi.responses import RedirectResponse, Response

from app.db import SessionDep
from app.security import require_role
from app.services import reviews
from app.services.errors import FieldError, ValidationFailed
from app.services.evaluations import LEVEL_LABELS, STATUS_LABELS
from app.services.reviews import QUEUE_FLAGS, SORTS, OverrideInput, QueueFilters
from app.web.deps import PagePrincipal
from app.web.evaluations import FLAG_SHORT, FLAG_TONE, FormFields, money, pct, sc
from app.web.render import render, wants_fragment

router = APIRouter()

QUEUE = "reviews/queue.html"
DETAIL = "reviews/detail.html"
QUEUE_FLAG_SHORT = {"no_satisfaction": "缺满意度", **{k: FLAG_SHORT.get(k, v) for k, v in QUEUE_FLAGS.items()}}
DONE = {
    "approved": "已审核通过。",
    "final": "已终审通过。",
    "returned": "已退回，单位可修改后重新送审。",
    "reopened": "已重新打开，退回单位修改。",
}
STATUS_TONE = {"submitted": "info", "approved": "ok", "final": "ok", "returned": "bad"}


def _int(params: QueryParams, name: str, problems: list[FieldError]) -> int | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        problems.append(FieldError(name, "应为正整数"))
        return None
    return int(text)


def queue_filters(params: QueryParams, default_year: int) -> QueueFilters:
    """The queue's filters from the query string; empty fields mean "any"."""
    problems: list[FieldError] = []
    year = _int(params, "year", problems)
    filters = QueueFilters(
        year=year if year is not None else default_year,
        status=(params.get("status") or reviews.AWAITING).strip(),
        department_id=_int(params, "department", problems),
        unit_id=_int(params, "unit", problems),
        grade=(params.get("grade") or "").strip() or None,
        flags=tuple(dict.fromkeys(f for f in params.getlist("flag") if f)),
        sort=(params.get("sort") or "submitted_at").strip(),
        descending=params.get("desc") == "1",
        page=_int(params, "page", problems) or 1,
    )
    if problems:
        raise ValidationFailed("筛选条件有误", errors=problems)
    filters.check()
    return filters


def queue_url(filters: QueueFilters, **changes: Any) -> str:
    """The queue's URL for these filters with some changed (page back to 1 unless given)."""
    values = {
        "year": filters.year,
        "status": filters.status,
        "department": filters.department_id,
        "unit": filters.unit_id,
        "grade": filters.grade,
        "sort": filters.sort,
        "desc": "1" if filters.descending else None,
        "page": None,
    }
    values.update(changes)
    pairs = [(k, v) for k, v in values.items() if v not in (None, "")]
    pairs += [("flag", f) for f in (changes.get("flags") or filters.flags)]
    pairs = [(k, v) for k, v in pairs if k != "flags"]
    from urllib.parse import urlencode

    return "/reviews?" + urlencode(pairs)


def sort_url(filters: QueueFilters, key: str) -> str:
    """Clicking a column sorts by it; clicking it again reverses the order."""
    descending = not filters.descending if filters.sort == key else key in ("score", "submitted_at")
    return queue_url(filters, sort=key, desc="1" if descending else None)


@router.get("/reviews")
def queue_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """The review queue: what waits for the viewer's action by default, filtered, sorted, paged."""
    require_role(principal, *reviews.REVIEWERS, "admin")
    filters = queue_filters(request.query_params, reviews.default_year(session=session, principal=principal))
    page = reviews.review_queue(session=session, principal=principal, filters=filters)
    options = reviews.queue_options(session=session, principal=principal)
    return render(
        request,
        QUEUE,
        {
            "page": page,
            "f": filters,
            "options": options,
            "queue_url": queue_url,
            "sort_url": sort_url,
            "SORTS": SORTS,
            "QUEUE_FLAGS": QUEUE_FLAGS,
            "QUEUE_FLAG_SHORT": QUEUE_FLAG_SHORT,
            "STATUS_LABELS": STATUS_LABELS,
            "AWAITING_LABEL": reviews.AWAITING_LABEL,
            "STATUS_TONE": STATUS_TONE,
            "GRADES": reviews.GRADES,
            "pct": pct,
        },
        block="queue",
    )


def detail_context(r: reviews.ReviewView, **extra: Any) -> dict[str, Any]:
    return {
        "r": r,
        "v": r.view,
        "s": r.view.evaluation,
        "STATUS_LABELS": STATUS_LABELS,
        "STATUS_TONE": STATUS_TONE,
        "LEVEL_LABELS": LEVEL_LABELS,
        "FLAG_SHORT": FLAG_SHORT,
        "FLAG_TONE": FLAG_TONE,
        "money": money,
        "pct": pct,
        "sc": sc,
        "errors": {},
        "values": {},
        **extra,
    }


@router.get("/reviews/{evaluation_id:int}")
def review_page(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """One evaluation, read-only, with the reviewer's controls and the history."""
    r = reviews.review_view(session=session, principal=principal, evaluation_id=evaluation_id)
    if not r.actions:
        require_role(principal, *reviews.REVIEWERS, "admin")
    done = DONE.get(request.query_params.get("done") or "")
    return render(request, DETAIL, detail_context(r, notice=done))


def _overrides(form: dict[str, str], r: reviews.ReviewView) -> list[OverrideInput]:
    """One override per indicator row whose fields were posted."""
    items = []
    for ind in r.view.indicators:
        key = f"override_score_{ind.id}"
        if key in form:
            items.append(
                OverrideInput(indicator_id=ind.id, score=form[key], reason=form.get(f"override_reason_{ind.id}"))
            )
    return items


def _version(form: dict[str, str]) -> int | None:
    text = (form.get("version") or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


@router.post("/reviews/{evaluation_id:int}")
def decide(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """审核通过 / 退回 / 重新打开, by the button pressed; 422 with the messages beside the fields."""
    action = form.get("action", "")
    r = reviews.review_view(session=session, principal=principal, evaluation_id=evaluation_id)
    opinion, version = form.get("opinion"), _version(form)
    try:
        if action == "approve":
            v = reviews.approve(
                session=session,
                principal=principal,
                evaluation_id=evaluation_id,
                version=version,
                opinion=opinion,
                overrides=_overrides(form, r),
            )
        elif action == "return":
            v = reviews.return_(
                session=session,
                principal=principal,
                evaluation_id=evaluation_id,
                version=version,
                opinion=opinion,
                overrides=_overrides(form, r),
            )
        elif action == "reopen":
            v = reviews.reopen(
                session=session, principal=principal, evaluation_id=evaluation_id, version=version, opinion=opinion
            )
        else:
            raise ValidationFailed("请选择操作：审核通过、退回或重新打开")
    except ValidationFailed as exc:
        session.rollback()
        r = reviews.review_view(session=session, principal=principal, evaluation_id=evaluation_id)
        errors = {
            e.field if e.indicator_id is None else f"{e.field.rsplit('.', 1)[-1]}:{e.indicator_id}": e.message
            for e in exc.errors
        }
        ctx = detail_context(r, errors=errors, values=form, refusal=exc.message)
        return render(request, DETAIL, ctx, block="review", status_code=422)
    done = "reopened" if action == "reopen" else v.evaluation.status
    target = f"/reviews/{evaluation_id}?done={done}"
    if wants_fragment(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
