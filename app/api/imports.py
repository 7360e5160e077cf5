"""Importing 绩效目标表 through the API (finance bureau and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from app.db import SessionDep
from app.security import PrincipalDep, require_role
from app.services import imports
from app.services.errors import ValidationFailed

router = APIRouter(prefix="/api/v1", tags=["imports"])


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read an upload in chunks, refusing it as soon as it passes the size limit."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise ValidationFailed(f"文件过大：上限为 {max_bytes // 1048576} MB")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/imports", summary="导入绩效目标表（xlsx / csv / 已发布表文本）")
async def create_import(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="绩效目标表文件")],
    year: Annotated[int | None, Form(ge=1900, le=2200, description="年度；文件有“年度”列时可省略")] = None,
    dry_run: Annotated[bool, Form(description="只检查不写入")] = False,
    force: Annotated[bool, Form(description="允许删除已填报实际完成值的指标")] = False,
) -> JSONResponse:
    """Import one file as one transaction; 200 with the report, or 422 with every error and its place."""
    require_role(principal, *imports.IMPORT_ROLES)
    settings = request.app.state.settings
    data = await read_upload(file, settings.import_max_bytes)
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(
        lambda: imports.import_file(
            session=session,
            data=data,
            filename=file.filename or "upload",
            year=year,
            dry_run=dry_run,
            force=force,
            actor=principal,
            max_bytes=settings.import_max_bytes,
            limits=imports.read_limits(settings),
        )
    )
    return JSONResponse(report.to_json(), status_code=200 if report.ok else 422)
