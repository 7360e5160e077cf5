"""The reviewers' pages: the review queue and one evaluation with approve / return / override controls
and its history — thin handlers over app.services.reviews."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.datastructures import QueryParams

from app.db import SessionDep
from app.domain.evaluation import ACTION_VERBS, NOTICES, STATUS_LABELS, roles_for
from app.domain.scoring import GRADES
from app.services import reviews
from app.services.errors import FieldError, ValidationFailed
from app.services.reviews import SORTS, OverrideInput, QueueFilters
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import flag_words, render
from app.web.toolkit import (
    FormFields,
    collect,
    field_errors,
    money,
    parse_id,
    parse_version,
    parse_year,
    pct,
    sc,
    see_other,
)

router = APIRouter()

QUEUE = "reviews/queue.html"
DETAIL = "reviews/detail.html"
DONE = NOTICES


def queue_filters(params: QueryParams, default_year: int) -> QueueFilters:
    """The queue's filters from the query string; empty fields mean "any"."""
    problems: list[FieldError] = []
    year = collect(problems, parse_year, params.get("year"))
    filters = QueueFilters(
        year=year if year is not None else default_year,
        status=(params.get("status") or reviews.AWAITING).strip(),
        department_id=collect(problems, parse_id, params.get("department"), "department"),
        unit_id=collect(problems, parse_id, params.get("unit"), "unit"),
        grade=(params.get("grade") or "").strip() or None,
        flags=tuple(dict.fromkeys(f for f in params.getlist("flag") if f)),
        sort=(params.get("sort") or "submitted_at").strip(),
        descending=params.get("desc") == "1",
        page_token=(params.get("page") or "").strip() or None,  # the opaque token of a page, not a number
        q=(params.get("q") or "").strip() or None,
    )
    if problems:
        raise ValidationFailed("筛选条件有误", errors=problems)
    filters.check()
    return filters


def queue_url(filters: QueueFilters, **changes: Any) -> str:
    """The queue's URL for these filters with some changed (back to the first page unless a page token is given)."""
    values = {
        "year": filters.year,
        "status": filters.status,
        "department": filters.department_id,
        "unit": filters.unit_id,
        "grade": filters.grade,
        "sort": filters.sort,
        "desc": "1" if filters.descending else None,
        "q": filters.q,
        "page": None,
    }
    values.update(changes)
    pairs = [(k, v) for k, v in values.items() if v not in (None, "")]
    pairs += [("flag", f) for f in (changes.get("flags") or filters.flags)]
    pairs = [(k, v) for k, v in pairs if k != "flags"]
    from urllib.parse import urlencode

    return "/reviews?" + urlencode(pairs)


def export_url(filters: QueueFilters, fmt: str = "xlsx") -> str:
    """The API's export of the queue as the page shows it (every page, these filters and this order):
    the download offered on the page is the same data as GET /api/v1/review-queue?format=xlsx."""
    from urllib.parse import urlencode

    values = {
        "year": filters.year,
        "status": filters.status,
        "department_id": filters.department_id,
        "unit_id": filters.unit_id,
        "grade": filters.grade,
        "sort": filters.sort,
        "descending": "true" if filters.descending else None,
        "q": filters.q,
    }
    pairs = [(k, v) for k, v in values.items() if v not in (None, "")]
    pairs += [("flag", f) for f in filters.flags]
    return "/api/v1/review-queue?" + urlencode([*pairs, ("format", fmt)])


def sort_url(filters: QueueFilters, key: str) -> str:
    """Clicking a column sorts by it; clicking it again reverses the order."""
    descending = not filters.descending if filters.sort == key else key in ("score", "submitted_at")
    return queue_url(filters, sort=key, desc="1" if descending else None)


@router.get("/reviews")
def queue_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """The review queue: what waits for the viewer's action by default, filtered, sorted, paged."""
    return _queue(request, principal, session, request.query_params)


async def _batch_form(request: Request) -> dict[str, Any]:
    """The picked rows ("id:version", several), the opinion and the queue's filters to show again."""
    form = await request.form()
    picks = [str(v) for v in form.getlist("pick")]
    keep = {k: str(v) for k, v in form.items() if k in QUEUE_KEYS and isinstance(v, str)}
    return {"picks": picks, "opinion": str(form.get("opinion") or ""), "keep": keep}


BatchForm = Annotated[dict[str, Any], Depends(_batch_form)]
QUEUE_KEYS = ("year", "status", "department", "unit", "grade", "sort", "desc", "q")


@router.post("/reviews/batch")
def batch_approve(request: Request, principal: PagePrincipal, session: SessionDep, form: BatchForm):
    """批量审核通过: the rows picked (each with the version the reviewer saw) approved one by one with
    one opinion; the refused ones listed with their reasons and left as they were."""
    require_role(principal, *roles_for("approve"))
    items: list[tuple[int, int]] = []
    for pick in form["picks"][:500]:
        ident, _, version = pick.partition(":")
        if not (ident.isdigit() and version.isdigit() and len(ident) < 10 and len(version) < 10):
            raise ValidationFailed("所选的自评有误，请刷新页面后重选", errors=[FieldError("pick", "应为 编号:版本")])
        items.append((int(ident), int(version)))
    if not items:
        raise ValidationFailed("请先勾选要审核通过的自评", errors=[FieldError("pick", "未选择任何自评")])
    outcome = reviews.batch_approve(session=session, principal=principal, items=items, opinion=form["opinion"])
    names = reviews.project_names(session=session, principal=principal, evaluation_ids=[i for i, _ in items])
    batch = {
        "done": [names.get(i, str(i)) for i in outcome.done],
        "refused": [(names.get(i, f"自评 {i}"), reason) for i, reason in outcome.refused],
    }
    return _queue(request, principal, session, QueryParams(form["keep"]), batch=batch)


def _queue(request: Request, principal, session, params, batch=None):
    require_role(principal, *reviews.REVIEWERS, "admin")
    filters = queue_filters(params, reviews.default_year(session=session, principal=principal))
    page = reviews.review_queue(session=session, principal=principal, filters=filters)
    options = reviews.queue_options(session=session, principal=principal)
    keep = {k: v for k, v in params.items() if k in QUEUE_KEYS}
    return render(
        request,
        QUEUE,
        {
            "batch": batch,
            "batch_keep": keep,
            "page": page,
            "f": filters,
            "options": options,
            "queue_url": queue_url,
            "export_url": export_url,
            "sort_url": sort_url,
            "SORTS": SORTS,
            "AWAITING_LABEL": reviews.AWAITING_LABEL,
            "GRADES": GRADES,
            "pct": pct,
        },
        block="queue",
    )


def detail_context(r: reviews.ReviewView, **extra: Any) -> dict[str, Any]:
    return {
        "r": r,
        "v": r.view,
        "s": r.view.evaluation,
        **flag_words(r.view.settings),
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
    if done:
        done = done.format(status=STATUS_LABELS[r.view.evaluation.status])
    return render(request, DETAIL, detail_context(r, notice=done))


OVERRIDE_KEY = re.compile(r"^override_score_(\d{1,10})$")


def _overrides(form: dict[str, str]) -> list[OverrideInput]:
    """One override per indicator row whose fields were posted (the service refuses a row that
    is not the project's)."""
    items = []
    for key, value in form.items():
        m = OVERRIDE_KEY.match(key)
        if m:
            ind = int(m.group(1))
            items.append(OverrideInput(indicator_id=ind, score=value, reason=form.get(f"override_reason_{ind}")))
    return items


@router.post("/reviews/{evaluation_id:int}")
def decide(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """审核通过 / 退回 / 重新打开, by the button pressed; 422 with the messages beside the fields."""
    action = form.get("action", "")
    opinion, version = form.get("opinion"), parse_version(form)
    try:
        if action == "approve":
            reviews.approve(
                session=session,
                principal=principal,
                evaluation_id=evaluation_id,
                version=version,
                opinion=opinion,
                overrides=_overrides(form),
            )
        elif action == "return":
            reviews.return_(
                session=session,
                principal=principal,
                evaluation_id=evaluation_id,
                version=version,
                opinion=opinion,
                overrides=_overrides(form),
            )
        elif action == "reopen":
            reviews.reopen(
                session=session, principal=principal, evaluation_id=evaluation_id, version=version, opinion=opinion
            )
        else:
            raise ValidationFailed(f"请选择操作：{'、'.join(ACTION_VERBS[a] for a in reviews.DECISIONS)}")
    except ValidationFailed as exc:
        session.rollback()
        r = reviews.review_view(session=session, principal=principal, evaluation_id=evaluation_id)
        ctx = detail_context(r, errors=field_errors(exc.errors), values=form, refusal=exc.message)
        return render(request, DETAIL, ctx, block="review", status_code=422)
    return see_other(request, f"/reviews/{evaluation_id}?done={action}")
