"""The upload page for 绩效目标表, with real progress (rows done / total)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile

from app.db import SessionDep
from app.services import import_runs, imports
from app.services.errors import ValidationFailed
from app.services.scope import require_role
from app.uploads import save_upload
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import parse_year, see_other

router = APIRouter()
# What to do about a refusal, in this page's words (the service says only what is wrong).
PAGE_REMEDIES = {
    "year_missing": "请在“年度”中填写年度后重新上传",
    "removes_actuals": "确认删除请勾选“允许删除已填报实际完成值的指标”后重新上传",
    "approved_table": "如需按文件修改已批复的表，请勾选“修改已批复的表时提交调整申请”后重新上传",
}


@router.get("/admin/imports")
def imports_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """The upload form and the latest imports."""
    require_role(principal, "admin", "finance")
    return render(request, "imports/index.html", {"runs": import_runs.recent(session=session, principal=principal)})


@router.post("/admin/imports")
async def upload(
    request: Request,
    principal: PagePrincipal,
    file: Annotated[UploadFile, File()],
    year: Annotated[str, Form()] = "",
    dry_run: Annotated[str | None, Form()] = None,
    force: Annotated[str | None, Form()] = None,
    as_draft: Annotated[str | None, Form()] = None,
    as_adjustment: Annotated[str | None, Form()] = None,
    adjustment_reason: Annotated[str, Form(max_length=5000)] = "",
):
    """Start an import in the background and show its progress."""
    require_role(principal, *imports.IMPORT_ROLES)
    settings = request.app.state.settings
    year_value = parse_year(year)
    if not file.filename:
        raise ValidationFailed("请选择要导入的文件")
    path = await save_upload(file, settings.import_max_bytes)
    run_id = import_runs.start(
        engine=request.app.state.engine,
        path=path,
        filename=file.filename,
        year=year_value,
        dry_run=dry_run is not None,
        force=force is not None,
        principal=principal,
        max_bytes=settings.import_max_bytes,
        limits=imports.read_limits(settings),
        heartbeat_seconds=settings.import_heartbeat_seconds,
        options={
            "as_draft": as_draft is not None,
            "as_adjustment": as_adjustment is not None,
            "adjustment_reason": adjustment_reason.strip() or None,
        },
    )
    return see_other(request, f"/admin/imports/{run_id}")


@router.get("/admin/imports/template.xlsx")
def template_download(principal: PagePrincipal):
    """The empty import template, with an example row and a sheet explaining each column."""
    import tempfile
    from pathlib import Path
    from urllib.parse import quote

    from fastapi.responses import Response

    from app.importers.template import write_template

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.xlsx"
        write_template(path)
        body = path.read_bytes()
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''" + quote("绩效目标表导入模板.xlsx")},
    )


@router.post("/admin/imports/{run_id:int}/cancel")
def cancel_import(request: Request, run_id: int, principal: PagePrincipal):
    """取消导入: the running import stops at its next step and writes nothing."""
    import_runs.cancel(engine=request.app.state.engine, run_id=run_id, principal=principal)
    return see_other(request, f"/admin/imports/{run_id}")


@router.get("/admin/imports/{run_id:int}")
def import_run_page(request: Request, run_id: int, principal: PagePrincipal, session: SessionDep):
    """One import: its progress while it runs, its report when it is done."""
    require_role(principal, "admin", "finance")
    run = import_runs.get_run(
        session=session,
        run_id=run_id,
        principal=principal,
        heartbeat_seconds=request.app.state.settings.import_heartbeat_seconds,
    )
    ctx = {"run": run, "phase": import_runs.phase_of(run.id), "remedies": PAGE_REMEDIES}
    return render(request, "imports/run.html", ctx, block="progress")
