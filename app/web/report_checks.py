"""The report check page: upload a 自评报告, see its declared figures and what does not add up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from app.services import report_checks
from app.services.errors import ValidationFailed
from app.uploads import read_upload
from app.web.deps import PagePrincipal
from app.web.render import render

router = APIRouter()


def _limit_mb(request: Request) -> str:
    return f"{request.app.state.settings.report_check_max_bytes / 1048576:.0f} MB"


@router.get("/report-checks")
def report_check_page(request: Request, principal: PagePrincipal):
    """The upload form."""
    return render(request, "report_checks/index.html", {"result": None, "limit": _limit_mb(request)})


@router.post("/report-checks")
async def report_check_upload(request: Request, principal: PagePrincipal, file: Annotated[UploadFile, File()]):
    """Check the uploaded report and show its figures and flags, each with its line."""
    if not file.filename:
        raise ValidationFailed("请选择要核对的自评报告文件")
    data = await read_upload(file, request.app.state.settings.report_check_max_bytes)
    result = await run_in_threadpool(report_checks.check_file, data=data, filename=file.filename)
    ctx = {"result": result, "filename": file.filename, "limit": _limit_mb(request)}
    return render(request, "report_checks/index.html", ctx, block="result")
