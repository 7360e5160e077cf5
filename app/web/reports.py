"""The 自评报告 pages: write it section by section (autosaved), print it, download .docx and PDF."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.domain.report_document import NARRATIVE_KEYS, SIGN_OFF
from app.services import reports
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
    return {
        "rv": rv,
        "ev": rv.ev,
        "eid": rv.ev.evaluation.id,
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
            return see_other(request, f"/evaluations/{evaluation_id}/report")
        return render(request, EDIT, ctx, status_code=status_code)
    full = {"request": request, "principal": getattr(request.state, "principal", None), **ctx}
    response = templates.TemplateResponse(request, EDIT, full, status_code=status_code, block_names=["companions"])
    response.headers["Vary"] = "HX-Request"
    return response


def print_html(request: Request, rv: reports.ReportView, *, for_pdf: bool) -> str:
    ctx = {"request": request, **_context(rv), "for_pdf": for_pdf}
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
