"""The 自评报告 pages of a project and of a 专项资金: write it section by section (autosaved), print it,
download .docx and PDF. One template and one save path for both; only the document's source differs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.domain.evaluation import STATUS_LABELS
from app.domain.report_document import NARRATIVE_KEYS, SIGN_OFF
from app.services import fund_reports, reports
from app.services.errors import ValidationFailed
from app.web.deps import PagePrincipal
from app.web.render import render, templates, wants_fragment
from app.web.toolkit import FormFields, parse_version, see_other

router = APIRouter()
EDIT = "reports/edit.html"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SIGN_OFF_FIELDS = (("filled_by", "填表人", "text"), ("phone", "联系电话", "tel"), ("report_date", "日期", "date"))


def _texts(rv: reports.ReportView) -> dict[str, str]:
    out = {key: getattr(rv.report, key) or "" for key in NARRATIVE_KEYS}
    out["filled_by"], out["phone"] = rv.report.filled_by or "", rv.report.phone or ""
    out["report_date"] = rv.report.report_date.isoformat() if rv.report.report_date else ""
    return out


def _context(rv: reports.ReportView, **extra: Any) -> dict[str, Any]:
    eid = rv.ev.evaluation.id
    return {
        "base": f"/evaluations/{eid}",
        "back_href": f"/evaluations/{eid}",
        "back_label": "返回自评表",
        "source_name": "自评表",
        "status_label": rv.ev.status_label,
        "rv": rv,
        "ev": rv.ev,
        "eid": eid,
        "doc": reports.document(rv),
        "texts": _texts(rv),
        "narrative_keys": NARRATIVE_KEYS,
        "sign_off_fields": SIGN_OFF_FIELDS,
        "sign_off_labels": SIGN_OFF,
        "max_section": reports.MAX_SECTION,
        "saved": [],
        "errors": {},
        **extra,
    }


@router.get("/evaluations/{evaluation_id:int}/report")
def report_page(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The report, section by section: the generated tables and the unit's text."""
    rv = reports.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return render(request, EDIT, _context(rv))


@router.post("/evaluations/{evaluation_id:int}/report/save")
def report_save(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save the fields a section sent (only those changed); answer the new version and the saved marks."""
    fields = {k: v for k, v in form.items() if k in reports.FIELDS}
    try:
        rv = reports.save(
            session=session,
            principal=principal,
            evaluation_id=evaluation_id,
            version=parse_version(form),
            fields=fields,
        )
    except ValidationFailed as exc:
        session.rollback()
        rv = reports.view(session=session, principal=principal, evaluation_id=evaluation_id)
        errors = {e.field: e.message for e in exc.errors}
        return _answer(request, evaluation_id, _context(rv, errors=errors), 422)
    marks = sorted({("sign_off" if k in reports.SIGN_OFF_FIELDS else k) for k in fields})
    return _answer(request, evaluation_id, _context(rv, saved=marks))


def _answer(request: Request, evaluation_id: int, ctx: dict[str, Any], status_code: int = 200) -> Response:
    if not wants_fragment(request):
        if status_code == 200:
            return see_other(request, f"{ctx['base']}/report")
        return render(request, EDIT, ctx, status_code=status_code)
    full = {"request": request, "principal": getattr(request.state, "principal", None), **ctx}
    response = templates.TemplateResponse(request, EDIT, full, status_code=status_code, block_names=["companions"])
    response.headers["Vary"] = "HX-Request"
    return response


def print_html(request: Request, rv: reports.ReportView | dict[str, Any], *, for_pdf: bool) -> str:
    ctx = {"request": request, **(rv if isinstance(rv, dict) else _context(rv)), "for_pdf": for_pdf}
    return templates.get_template("reports/print.html").render(ctx)


@router.get("/evaluations/{evaluation_id:int}/report/print")
def report_print(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The report as printed (A4 portrait): the same HTML the PDF is made from."""
    rv = reports.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return Response(print_html(request, rv, for_pdf=False), media_type="text/html; charset=utf-8")


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": "attachment; filename*=UTF-8''" + quote(name)}
    )


def _name(rv: reports.ReportView, suffix: str) -> str:
    return f"{rv.ev.project.year}年度项目支出绩效自评报告-{rv.ev.project.name[:40]}{suffix}"


@router.get("/evaluations/{evaluation_id:int}/report.docx")
def report_docx(evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The report as Word (.docx)."""
    rv = reports.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return _download(reports.docx(rv), DOCX, _name(rv, ".docx"))


@router.get("/evaluations/{evaluation_id:int}/report.pdf")
def report_pdf(request: Request, evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The report as PDF, made by WeasyPrint from the print view."""
    rv = reports.view(session=session, principal=principal, evaluation_id=evaluation_id)
    return _download(reports.pdf(print_html(request, rv, for_pdf=True)), "application/pdf", _name(rv, ".pdf"))


# --- a 专项资金's report: the same pages, the fund's data ------------------------------------------


def _fund_texts(rv: fund_reports.FundReportView) -> dict[str, str]:
    return _texts(rv)  # type: ignore[arg-type]  # the same columns


def _fund_context(session, rv: fund_reports.FundReportView, **extra: Any) -> dict[str, Any]:
    fund_id = rv.fv.fund.id
    status = rv.fv.evaluation.status if rv.fv.evaluation else None
    return {
        "base": f"/funds/{fund_id}",
        "back_href": f"/funds/{fund_id}",
        "back_label": "返回专项资금",
        "source_name": "资金分配和评分",
        "status_label": STATUS_LABELS.get(status or "", ""),
        "rv": rv,
        "doc": fund_reports.document(rv, fund_reports.indicator_rows(session, rv.fv)),
        "texts": _fund_texts(rv),
        "narrative_keys": NARRATIVE_KEYS,
        "sign_off_fields": SIGN_OFF_FIELDS,
        "sign_off_labels": SIGN_OFF,
        "max_section": reports.MAX_SECTION,
        "saved": [],
        "errors": {},
        **extra,
    }


@router.get("/funds/{fund_id:int}/report")
def fund_report_page(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund's report, section by section: the tables from its data and the evaluator's text."""
    rv = fund_reports.view(session=session, principal=principal, fund_id=fund_id)
    return render(request, EDIT, _fund_context(session, rv))


@router.post("/funds/{fund_id:int}/report/save")
def fund_report_save(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save the fields a section sent (only those changed); answer the new version and the saved marks."""
    fields = {k: v for k, v in form.items() if k in reports.FIELDS}
    try:
        rv = fund_reports.save(
            session=session, principal=principal, fund_id=fund_id, version=parse_version(form), fields=fields
        )
    except ValidationFailed as exc:
        session.rollback()
        rv = fund_reports.view(session=session, principal=principal, fund_id=fund_id)
        errors = {e.field: e.message for e in exc.errors}
        return _answer(request, fund_id, _fund_context(session, rv, errors=errors), 422)
    marks = sorted({("sign_off" if k in reports.SIGN_OFF_FIELDS else k) for k in fields})
    return _answer(request, fund_id, _fund_context(session, rv, saved=marks))


@router.get("/funds/{fund_id:int}/report/print")
def fund_report_print(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund's report as printed (A4 portrait) with its 自评表 and 评分表: the HTML the PDF is made from."""
    rv = fund_reports.view(session=session, principal=principal, fund_id=fund_id)
    html = print_html(request, _fund_context(session, rv), for_pdf=False)
    return Response(html, media_type="text/html; charset=utf-8")


def _fund_name(rv: fund_reports.FundReportView, suffix: str) -> str:
    return f"{rv.fv.fund.year}年度专项资金绩效自评报告-{rv.fv.fund.name[:40]}{suffix}"


@router.get("/funds/{fund_id:int}/report.docx")
def fund_report_docx(fund_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund's report as Word (.docx), with its 自评表 and 评分表."""
    rv = fund_reports.view(session=session, principal=principal, fund_id=fund_id)
    body = fund_reports.docx(rv, fund_reports.indicator_rows(session, rv.fv))
    return _download(body, DOCX, _fund_name(rv, ".docx"))


@router.get("/funds/{fund_id:int}/report.pdf")
def fund_report_pdf(request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep):
    """The fund's report as PDF, made by WeasyPrint from the print view."""
    rv = fund_reports.view(session=session, principal=principal, fund_id=fund_id)
    html = print_html(request, _fund_context(session, rv), for_pdf=True)
    return _download(reports.pdf(html), "application/pdf", _fund_name(rv, ".pdf"))
