"""佐证材料 on the pages: the upload form of a 自评表 (the table or one indicator row) and of a fund
page (the fund or one node), the download, the delete. Each answers the page's `attachments` block for
htmx, or a 303 back to the page (at #attachments) for a plain form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from sqlmodel import Session

from app.db import SessionDep
from app.security import Principal
from app.services import attachments
from app.services.errors import DomainError
from app.services.evaluations import EvaluationView
from app.uploads import download_response, read_chunks
from app.web.deps import PagePrincipal
from app.web.render import render, wants_fragment
from app.web.toolkit import see_other

router = APIRouter()
BLOCK = "attachments/block.html"


def block_context(request: Request, listing: attachments.Listing, action: str, error: str | None = None) -> dict:
    """What the attachments block shows (the 自评表 and fund pages put it in their context too)."""
    return listing_context(listing, action, request.app.state.settings.attachment_max_bytes, error)


def listing_context(listing: attachments.Listing, action: str, max_bytes: int, error: str | None = None) -> dict:
    """block_context from the upload limit itself (the bench's floor of the 自评表 page has no app)."""
    return {
        "att": listing,
        "att_action": action,
        "att_error": error,
        "att_max": attachments.size_text(max_bytes),
        "att_allowed": attachments.ALLOWED_TEXT,
        "size_text": attachments.size_text,
        "type_label": attachments.type_label,
    }


def evaluation_block(
    request: Request, session: Session, principal: Principal, evaluation_id: int, ev: EvaluationView | None = None
) -> dict:
    """The 自评表's attachments block; given the page's view, the evaluation and its rows are not read again."""
    if ev is None:
        listing = attachments.evaluation_listing(session=session, principal=principal, evaluation_id=evaluation_id)
    else:
        listing = attachments.listing_of_visible(
            session=session,
            principal=principal,
            evaluation=ev.evaluation,
            unit_id=ev.project.unit_id,
            indicators=ev.all_indicators,
            none_attached=ev.has_attachments is False,
        )
    return block_context(request, listing, f"/evaluations/{evaluation_id}/attachments")


def fund_block(request: Request, session: Session, principal: Principal, fund_id: int) -> dict:
    listing = attachments.fund_listing(session=session, principal=principal, fund_id=fund_id)
    return block_context(request, listing, f"/funds/{fund_id}/attachments")


def _answer(request: Request, session, principal, kind: str, top_id: int, error: DomainError | None = None):
    page = f"/evaluations/{top_id}" if kind == "evaluation" else f"/funds/{top_id}"
    if error is not None and not wants_fragment(request):
        raise error  # a plain form: the Chinese error page, with the reason
    if not wants_fragment(request):
        return see_other(request, f"{page}#attachments")
    ctx = (evaluation_block if kind == "evaluation" else fund_block)(request, session, principal, top_id)
    if error is not None:
        ctx["att_error"] = error.message
    return render(request, BLOCK, ctx, block="attachments", status_code=error.status if error else 200)


def _upload(request, session, principal, listing: attachments.Listing, target: str | None, file: UploadFile) -> None:
    kind, parent_id = attachments.parse_target(target, listing)
    parent = attachments.visible_parent(session=session, principal=principal, kind=kind, parent_id=parent_id)
    attachments.check_writable(principal, parent, "上传")
    settings = request.app.state.settings
    chunks = read_chunks(file, settings.attachment_max_bytes, "JIXIAO_ATTACHMENT_MAX_BYTES")
    temp, size, digest = attachments.write_temp(settings.files_dir, chunks)
    attachments.add(
        session=session,
        principal=principal,
        files_dir=settings.files_dir,
        kind=kind,
        parent_id=parent_id,
        name=file.filename,
        temp=temp,
        size=size,
        sha256=digest,
    )


Upload = Annotated[UploadFile, File()]
Target = Annotated[str | None, Form()]


@router.post("/evaluations/{evaluation_id:int}/attachments")
def upload_to_evaluation(
    request: Request,
    evaluation_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    file: Upload,
    target: Target = None,
):
    """Attach a file to the 自评表 or one of its indicator rows (the form's 附于 choice)."""
    listing = attachments.evaluation_listing(session=session, principal=principal, evaluation_id=evaluation_id)
    try:
        _upload(request, session, principal, listing, target or f"evaluation:{evaluation_id}", file)
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        session.rollback()
        return _answer(request, session, principal, "evaluation", evaluation_id, exc)
    return _answer(request, session, principal, "evaluation", evaluation_id)


@router.post("/funds/{fund_id:int}/attachments")
def upload_to_fund(
    request: Request, fund_id: int, principal: PagePrincipal, session: SessionDep, file: Upload, target: Target = None
):
    """Attach a file to the fund or one of its nodes (the form's 附于 choice)."""
    listing = attachments.fund_listing(session=session, principal=principal, fund_id=fund_id)
    try:
        _upload(request, session, principal, listing, target or f"fund:{fund_id}", file)
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        session.rollback()
        return _answer(request, session, principal, "fund", fund_id, exc)
    return _answer(request, session, principal, "fund", fund_id)


@router.get("/attachments/{attachment_id:int}")
def download(request: Request, attachment_id: int, principal: PagePrincipal, session: SessionDep):
    """The file, as a download (never shown in place); 404 unless the caller may see what it is attached to."""
    row, _ = attachments.visible(session=session, principal=principal, attachment_id=attachment_id)
    return download_response(request, row)


@router.post("/attachments/{attachment_id:int}/delete")
def delete(request: Request, attachment_id: int, principal: PagePrincipal, session: SessionDep):
    """Delete an attachment while what it is attached to is not submitted (409 with the reason after)."""
    row, _ = attachments.visible(session=session, principal=principal, attachment_id=attachment_id)
    kind, top_id = attachments.top_of(session=session, row=row)
    try:
        attachments.delete(session=session, principal=principal, attachment_id=attachment_id)
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        session.rollback()
        return _answer(request, session, principal, kind, top_id, exc)
    return _answer(request, session, principal, kind, top_id)
