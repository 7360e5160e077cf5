"""The special-fund pages (专项资金): create a fund, enter its allocation tree, import it, score it.

Every POST answers the page's `fund` block for htmx (or a 303 for a plain form); invalid input
answers 422 with the page and the messages beside the fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.db import SessionDep
from app.domain import evaluation as lifecycle
from app.domain.categories import LEVEL1_BY_SLUG, LEVEL2_BY_SLUG
from app.domain.funds import (
    FIGURE_LABELS,
    FUND_TEMPLATE_TITLES,
    FUND_TEMPLATES,
    GUANGDONG_FUND,
    IMPLEMENTATION_LABELS,
    METHOD_LABELS,
    NODE_KIND_LABELS,
    RECIPIENT_KIND_LABELS,
    UNCONFIRMED,
)
from app.domain.scoring import QUALITATIVE_LABELS
from app.services import fund_reports, funds, history
from app.services.errors import DomainError, FieldError, ValidationFailed
from app.services.imports import read_limits
from app.uploads import read_upload
from app.web.attachments import fund_block
from app.web.deps import PagePrincipal
from app.web.render import render, wants_fragment
from app.web.toolkit import HELPERS, FormFields, YearQuery, parse_id, parse_year, see_other

router = APIRouter()
WORDS = {
    "NODE_KIND_LABELS": NODE_KIND_LABELS,
    "IMPLEMENTATION_LABELS": IMPLEMENTATION_LABELS,
    "RECIPIENT_KIND_LABELS": RECIPIENT_KIND_LABELS,
    "METHOD_LABELS": METHOD_LABELS,
    "FIGURE_LABELS": FIGURE_LABELS,
    "ACTION_VERBS": lifecycle.ACTION_VERBS,
    "UNCONFIRMED": UNCONFIRMED,
    "TEMPLATE_TITLES": FUND_TEMPLATE_TITLES,
    **HELPERS,
}


def _errors(exc: ValidationFailed) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in exc.errors:
        out.setdefault(e.field.rsplit(".", 1)[-1], e.message)
    return out


@router.get("/funds")
def funds_page(request: Request, principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """The funds the caller may see, and (for the bureau and departments) a form to create one."""
    return _list(request, principal, session, year=year)


def _list(request, principal, session, *, year=None, errors=None, values=None, refusal=None, status_code=200):
    rows = [
        funds.fund_view(session=session, principal=principal, fund_id=f.id)  # type: ignore[arg-type]
        for f in funds.list_funds(session=session, principal=principal, year=year)
    ]
    return render(
        request,
        "funds/index.html",
        {
            **WORDS,
            "rows": rows,
            "year": year,
            "may_create": principal.role in ("finance", "admin", "department"),
            "departments": funds.departments(session=session, principal=principal),
            "templates_available": FUND_TEMPLATES,
            "default_template": GUANGDONG_FUND,
            "errors": errors or {},
            "values": values or {},
            "refusal": refusal,
        },
        status_code=status_code,
    )


@router.post("/funds")
def create_fund(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Create a fund, then open its page to enter the tree."""
    problems: list[FieldError] = []
    try:
        year = parse_year(form.get("year"))
        if year is None:
            problems.append(FieldError("year", "请填写年度"))
        department_id = parse_id(form.get("department_id"), "department_id")
        tasks = parse_id(form.get("policy_tasks"), "policy_tasks")
        declared = {k: form[f"declared_{k}"] for k in funds.DECLARED_KEYS if (form.get(f"declared_{k}") or "").strip()}
        if problems:
            raise ValidationFailed("输入有误，请按提示修改", errors=problems)
        fund = funds.create_fund(
            session=session,
            principal=principal,
            data=funds.FundFields(
                year=year,  # type: ignore[arg-type]
                name=form.get("name", ""),
                total=form.get("total", ""),
                department_id=department_id,
                fiscal_power=form.get("fiscal_power", ""),
                policy_tasks=tasks,
                template_name=form.get("template_name") or GUANGDONG_FUND,
                declared=declared,
            ),
        )
    except ValidationFailed as exc:
        session.rollback()
        return _list(
            request, principal, session, errors=_errors(exc), values=form, refusal=exc.message, status_code=422
        )
    return see_other(request, f"/funds/{fund.id}")


def score_rows(view: funds.FundView) -> list[dict[str, Any]]:
    """The score table's rows: each item and its parts, the category cell on its first row."""
    rows: list[dict[str, Any]] = []
    for category in view.score.categories if view.score else ():
        first = len(rows)
        for item in category.items:
            rows.append({"category": category, "item": item, "part": False, "span": 0})
            rows.extend({"category": category, "item": p, "part": True, "span": 0} for p in item.parts)
        if len(rows) > first:
            rows[first]["span"] = len(rows) - first
    return rows


def _page(
    request, principal, session, fund_id: int, *, errors=None, values=None, notice=None, refusal=None, status=200
):
    view = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    return render(
        request,
        "funds/detail.html",
        {
            **WORDS,
            "v": view,
            "score_rows": score_rows(view),
            "errors": errors or {},
            "values": values or {},
            "notice": notice,
            "refusal": refusal,
            "parents": [n for n in view.nodes if n.node.kind != "recipient"],
            "indicators": fund_reports.indicator_rows(session, view) if view.evaluation else [],
            "indicator_items": [row["item"] for row in score_rows(view) if row["item"].method == "indicators"],
            "LEVEL1_BY_SLUG": LEVEL1_BY_SLUG,
            "LEVEL2_BY_SLUG": LEVEL2_BY_SLUG,
            "QUALITATIVE_LABELS": QUALITATIVE_LABELS,
            # who changed which figure from what to what; a recipient sees only its own nodes, not this
            "history": history.fund_history(session, fund_id) if view.whole_tree else [],
            "editing": (values or {}).get("_form"),
            **fund_block(request, session, principal, fund_id),
        },
        block="fund",
        status_code=status,
    )


def _after(request, principal, session, fund_id: int, notice: str):
    if wants_fragment(request):
        return _page(request, principal, session, fund_id, notice=notice)
    return see_other(request, f"/funds/{fund_id}")


def _refused(request, principal, session, fund_id: int, exc: DomainError, form: dict[str, str], which: str):
    session.rollback()
    errors = _errors(exc) if isinstance(exc, ValidationFailed) else {}
    status = exc.status if exc.status in (409, 422) else 422
    if exc.status in (401, 403, 404):
        raise exc
    return _page(
        request,
        principal,
        session,
        fund_id,
        errors=errors,
        values={**form, "_form": which},
        refusal=exc.message,
        status=status,
    )


@router.get("/funds/{fund_id}")
def fund_page(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund: its tree with every computed figure and flag, its score, deductions and actions."""
    return _page(request, principal, session, fund_id)


def _version(form: dict[str, str]) -> int | None:
    """The fund version the page's form was based on (every form of the fund page carries it)."""
    return parse_id(form.get("fund_version"), "fund_version")


def _node_fields(form: dict[str, str]) -> funds.NodeFields:
    def text(key: str) -> str | None:
        value = (form.get(key) or "").strip()
        return value or None

    return funds.NodeFields(
        kind=form.get("kind", ""),
        name=form.get("name", ""),
        allocated=form.get("allocated", ""),
        parent_id=parse_id(form.get("parent_id"), "parent_id"),
        recipient_kind=text("recipient_kind"),
        unit_id=parse_id(form.get("unit_id"), "unit_id"),
        arrived=text("arrived"),
        arrival_dates=text("arrival_dates"),
        spent=text("spent"),
        implementation=text("implementation"),
        purpose=text("purpose"),
        own_score=text("own_score"),
        own_score_note=text("own_score_note"),
    )


@router.post("/funds/{fund_id}/nodes")
def add_node(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Add a node under the fund or one of its nodes."""
    try:
        node = funds.add_node(
            session=session, principal=principal, fund_id=fund_id, data=_node_fields(form), version=_version(form)
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, form, "add")
    return _after(request, principal, session, fund_id, f"已添加“{node.name}”。")


@router.get("/fund-nodes/{node_id}/edit")
def edit_node_page(request: Request, node_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund page with one node's fields in the form, to change them."""
    node = funds.visible_node(session=session, principal=principal, node_id=node_id)
    values = {
        "_form": f"edit-{node.id}",
        "kind": node.kind,
        "name": node.name,
        "parent_id": str(node.parent_id or ""),
        "allocated": HELPERS["plain"](node.allocated),
        "arrived": HELPERS["plain"](node.arrived) if node.arrived is not None else "",
        "arrival_dates": node.arrival_dates or "",
        "spent": HELPERS["plain"](node.spent) if node.spent is not None else "",
        "implementation": node.implementation or "",
        "recipient_kind": node.recipient_kind or "",
        "unit_id": str(node.unit_id or ""),
        "purpose": node.purpose or "",
        "own_score": HELPERS["plain"](node.own_score) if node.own_score is not None else "",
        "own_score_note": node.own_score_note or "",
        "node_id": str(node.id),
    }
    return _page(request, principal, session, node.fund_id, values=values)


@router.post("/fund-nodes/{node_id}")
def save_node(request: Request, node_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Replace one node's fields."""
    node = funds.visible_node(session=session, principal=principal, node_id=node_id)
    fund_id = node.fund_id
    try:
        funds.update_node(
            session=session, principal=principal, node_id=node_id, data=_node_fields(form), version=_version(form)
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, {**form, "node_id": str(node_id)}, f"edit-{node_id}")
    return _after(request, principal, session, fund_id, f"已保存“{form.get('name', '')}”。")


@router.post("/fund-nodes/{node_id}/spending")
def report_spending(request: Request, node_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """A recipient reports its own node's 实际支出 and 到位."""
    node = funds.visible_node(session=session, principal=principal, node_id=node_id)
    fund_id = node.fund_id
    try:
        funds.report_spending(
            session=session,
            principal=principal,
            node_id=node_id,
            spent=form.get("spent"),
            arrived=form.get("arrived"),
            arrival_dates=form.get("arrival_dates"),
            version=_version(form),
        )
    except DomainError as exc:
        return _refused(
            request, principal, session, fund_id, exc, {**form, "node_id": str(node_id)}, f"report-{node_id}"
        )
    return _after(request, principal, session, fund_id, f"已填报“{node.name}”的实际支出。")


@router.post("/fund-nodes/{node_id}/delete")
def delete_node(request: Request, node_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Remove a node and everything below it."""
    node = funds.visible_node(session=session, principal=principal, node_id=node_id)
    fund_id, name = node.fund_id, node.name
    try:
        funds.delete_node(session=session, principal=principal, node_id=node_id, version=_version(form))
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, {}, "")
    return _after(request, principal, session, fund_id, f"已删除“{name}”及其下级。")


@router.post("/funds/{fund_id}/deductions")
def add_deduction(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Record one deduction (item, points, reason, optionally the indicator or node it concerns)."""
    try:
        funds.add_deduction(
            session=session,
            principal=principal,
            fund_id=fund_id,
            item_code=form.get("item_code", ""),
            points=form.get("points", ""),
            reason=form.get("reason", ""),
            indicator=(form.get("indicator") or "").strip() or None,
            node_id=parse_id(form.get("node_id"), "node_id"),
            version=_version(form),
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, form, "deduction")
    return _after(request, principal, session, fund_id, "已记录扣分。")


@router.post("/funds/{fund_id}/deductions/{deduction_id}/delete")
def remove_deduction(
    request: Request, fund_id: int, deduction_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """Take back one deduction."""
    try:
        funds.remove_deduction(
            session=session,
            principal=principal,
            fund_id=fund_id,
            deduction_id=deduction_id,
            version=_version(form),
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, {}, "")
    return _after(request, principal, session, fund_id, "已撤销该项扣分。")


@router.post("/funds/{fund_id}/act")
def act(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """送审 / 撤回 / 审核通过 / 退回 / 重新打开: one row of the fund's transitions."""
    action = form.get("action", "")
    try:
        ev = funds.act(
            session=session,
            principal=principal,
            fund_id=fund_id,
            action=action,
            opinion=form.get("opinion"),
            version=parse_id(form.get("version"), "version"),
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, form, "act")
    notice = lifecycle.NOTICES.get(action, "").format(status=lifecycle.STATUS_LABELS[ev.status])
    return _after(request, principal, session, fund_id, notice or "已完成。")


@router.get("/funds/{fund_id}/tree.xlsx")
def export_tree(fund_id: int, principal: PagePrincipal, session: SessionDep) -> Response:
    """The tree as the import template."""
    view = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    return Response(
        funds.tree_xlsx(view),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''fund-{fund_id}-tree.xlsx"},
    )


@router.post("/funds/{fund_id}/tree")
async def import_tree(
    request: Request,
    fund_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    fund_version: Annotated[str | None, Form()] = None,
) -> Any:
    """Replace the tree from an uploaded xlsx, all or nothing; the errors listed by row and column."""
    settings = request.app.state.settings
    try:
        data = await read_upload(file, settings.fund_tree_max_bytes, "JIXIAO_FUND_TREE_MAX_BYTES")
        count = await run_in_threadpool(
            lambda: funds.import_tree(
                session=session,
                principal=principal,
                fund_id=fund_id,
                data=data,
                filename=file.filename or "upload.xlsx",
                limits=read_limits(settings),
                version=_version({"fund_version": fund_version or ""}),
            )
        )
    except ValidationFailed as exc:
        await run_in_threadpool(session.rollback)
        view_errors = [f"{e.field}：{e.message}" for e in exc.errors]
        message = exc.message
        return await run_in_threadpool(
            lambda: _page(
                request,
                principal,
                session,
                fund_id,
                values={"_form": "import", "import_errors": view_errors},
                refusal=message,
                status=422,
            )
        )
    return await run_in_threadpool(
        lambda: _after(request, principal, session, fund_id, f"已导入 {count} 个节点（原有的资金分配已整体替换）。")
    )


def _indicator_fields(form: dict[str, str]) -> funds.IndicatorFields:
    def text(key: str) -> str | None:
        value = (form.get(key) or "").strip()
        return value or None

    return funds.IndicatorFields(
        level1=form.get("level1", ""),
        name=form.get("name", ""),
        annual_target=form.get("annual_target", ""),
        level2=text("level2"),
        item_code=text("item_code"),
        actual=text("actual"),
        qualitative_level=text("qualitative_level"),
        weight=text("weight"),
        deviation_reason=text("deviation_reason"),
    )


@router.post("/funds/{fund_id}/indicators")
def add_indicator(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Add one of the fund's 绩效目标 indicators (scored under an item, or listed only)."""
    try:
        row = funds.add_indicator(
            session=session, principal=principal, fund_id=fund_id, data=_indicator_fields(form), version=_version(form)
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, form, "indicator")
    return _after(request, principal, session, fund_id, f"已添加指标“{row.name}”。")


@router.post("/fund-indicators/{indicator_id}")
def save_indicator(
    request: Request, indicator_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """Save one indicator's fields (at year end: its actual, level reached, deviation reason)."""
    fund_id = funds.indicator_fund(session=session, principal=principal, indicator_id=indicator_id)
    try:
        row = funds.update_indicator(
            session=session,
            principal=principal,
            indicator_id=indicator_id,
            data=_indicator_fields(form),
            version=_version(form),
        )
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, form, f"indicator-{indicator_id}")
    return _after(request, principal, session, fund_id, f"已保存指标“{row.name}”。")


@router.post("/fund-indicators/{indicator_id}/delete")
def delete_indicator(
    request: Request, indicator_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields
):
    """Remove one indicator."""
    fund_id = funds.indicator_fund(session=session, principal=principal, indicator_id=indicator_id)
    try:
        funds.delete_indicator(session=session, principal=principal, indicator_id=indicator_id, version=_version(form))
    except DomainError as exc:
        return _refused(request, principal, session, fund_id, exc, {}, "")
    return _after(request, principal, session, fund_id, "已删除该指标。")
