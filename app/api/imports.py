"""Importing 绩效目标表 through the API (finance bureau and administrators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.services import imports
from app.services.scope import require_role
from app.uploads import save_upload

router = PrefixRouter(prefix="/api/v1", tags=["imports"])


@router.post("/imports", summary="导入绩效目标表（xlsx / csv / 已发布表文本）")
@requires("admin")
async def create_import(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="绩效目标表文件")],
    year: Annotated[int | None, Form(ge=MIN_YEAR, le=MAX_YEAR, description="年度；文件有“年度”列时可省略")] = None,
    dry_run: Annotated[bool, Form(description="只检查不写入")] = False,
    force: Annotated[bool, Form(description="允许删除已填报实际完成值的指标")] = False,
    as_draft: Annotated[
        bool, Form(description="新表作为草稿导入，由单位修改后申报；默认作为已批复的目标表导入")
    ] = False,
    as_adjustment: Annotated[
        bool,
        Form(
            description="文件修改了已批复的目标表时，为每张表提交调整申请（经审核批准后生效）；"
            "不选则拒绝导入并列出这些项目"
        ),
    ] = False,
    adjustment_reason: Annotated[
        str | None, Form(max_length=5000, description="调整申请的原因；省略时写明按哪个文件重新导入")
    ] = None,
) -> JSONResponse:
    """Import one file as one transaction; 200 with the report, or 422 with every error and its place."""
    require_role(principal, *imports.IMPORT_ROLES)
    settings = request.app.state.settings
    path = await save_upload(file, settings.import_max_bytes)
    from starlette.concurrency import run_in_threadpool

    try:
        report = await run_in_threadpool(
            lambda: imports.import_file(
                session=session,
                path=path,  # streamed from disk: a province's table is never held whole
                filename=file.filename or "upload",
                year=year,
                dry_run=dry_run,
                force=force,
                actor=principal,
                as_draft=as_draft,
                as_adjustment=as_adjustment,
                adjustment_reason=adjustment_reason,
                max_bytes=settings.import_max_bytes,
                limits=imports.read_limits(settings),
            )
        )
    finally:
        path.unlink(missing_ok=True)
    return JSONResponse(report.to_json(), status_code=200 if report.ok else 422)
