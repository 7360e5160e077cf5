"""离线填报 pages: download the 自评表 as a fill-in xlsx (one project or a year's), upload it filled —
thin handlers over app.services.offline."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app import timeouts
from app.db import SessionDep
from app.domain.evaluation import roles_for
from app.services import audit, evaluations, offline
from app.services.errors import ValidationFailed
from app.services.scope import require_role
from app.uploads import read_upload
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import YearQuery

router = APIRouter()

BACK = re.compile(r"/evaluations/\d{1,10}")  # where the page's 返回 link may point (never elsewhere)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(body: bytes, filename: str) -> Response:
    # An ASCII fallback name for old clients, the Chinese one (RFC 5987) for the rest.
    disposition = f"attachment; filename=\"offline.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/evaluations/offline.xlsx")
def download_year(principal: PagePrincipal, session: SessionDep, year: YearQuery = None):
    """The fill-in workbook of every 自评表 of the caller's year, one sheet per project."""
    timeouts.allow_long(session)
    year = year or evaluations.latest_year(session=session, principal=principal)
    views = offline.year_views(session=session, principal=principal, year=year)
    audit.exported(
        session=session, actor=principal, what="/evaluations/offline.xlsx", fmt="xlsx", filters={"year": year}
    )
    return xlsx_response(offline.workbook(views), f"{year or ''}年度自评表-离线填报.xlsx")


@router.get("/evaluations/{evaluation_id:int}/offline.xlsx")
def download_one(evaluation_id: int, principal: PagePrincipal, session: SessionDep):
    """The fill-in workbook of one 自评表."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    audit.exported(
        session=session,
        actor=principal,
        what=f"/evaluations/{evaluation_id}/offline.xlsx",
        fmt="xlsx",
        filters={"evaluation_id": evaluation_id},
    )
    name = f"{ev.project.year}年度自评表-离线填报-{ev.project.name[:40]}.xlsx"
    return xlsx_response(offline.workbook([ev]), name)


@router.post("/evaluations/offline")
async def upload(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    back: Annotated[str, Form()] = "",
):
    """Save a filled-in workbook, each project all or nothing; the page lists what was saved and
    every refused cell by sheet, row and column."""
    require_role(principal, *roles_for("save"))
    if not file.filename:
        raise ValidationFailed("请选择填好的离线填报表（.xlsx）")
    limits = offline.limits_of(request.app.state.settings)
    data = await read_upload(file, limits.max_bytes)
    report = await run_in_threadpool(
        lambda: offline.upload(session=session, principal=principal, data=data, limits=limits)
    )
    ctx = {"report": report, "filename": file.filename, "back": back if BACK.fullmatch(back) else "/"}
    return render(request, "evaluations/offline.html", ctx, status_code=200 if report.ok else 422)
