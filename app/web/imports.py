"""The upload page for 绩效目标表, with real progress (rows done / total)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlmodel import select

from app.api.imports import read_upload
from app.db import SessionDep
from app.models import ImportRun
from app.security import require_role
from app.services import import_runs, imports
from app.services.errors import ValidationFailed
from app.web.deps import PagePrincipal
from app.web.render import render, wants_fragment

router = APIRouter()


@router.get("/admin/imports")
def imports_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """The upload form and the latest imports."""
    require_role(principal, "admin", "finance")
    runs = session.exec(select(ImportRun).order_by(ImportRun.id.desc()).limit(20)).all()
    return render(request, "imports/index.html", {"runs": runs})


@router.post("/admin/imports")
async def upload(
    request: Request,
    principal: PagePrincipal,
    file: Annotated[UploadFile, File()],
    year: Annotated[str, Form()] = "",
    dry_run: Annotated[str | None, Form()] = None,
    force: Annotated[str | None, Form()] = None,
):
    """Start an import in the background and show its progress."""
    require_role(principal, *imports.IMPORT_ROLES)
    settings = request.app.state.settings
    year_value = None
    if year.strip():
        if not year.strip().isdigit() or not 1900 <= int(year) <= 2200:
            raise ValidationFailed("年度应为四位数字，如 2024")
        year_value = int(year)
    if not file.filename:
        raise ValidationFailed("请选择要导入的文件")
    data = await read_upload(file, settings.import_max_bytes)
    run_id = import_runs.start(
        engine=request.app.state.engine,
        data=data,
        filename=file.filename,
        year=year_value,
        dry_run=dry_run is not None,
        force=force is not None,
        principal=principal,
        max_bytes=settings.import_max_bytes,
        limits=imports.read_limits(settings),
    )
    target = f"/admin/imports/{run_id}"
    if wants_fragment(request):
        response = RedirectResponse(target, status_code=303)
        response.headers["HX-Redirect"] = target
        return response
    return RedirectResponse(target, status_code=303)


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


@router.get("/admin/imports/{run_id:int}")
def import_run_page(request: Request, run_id: int, principal: PagePrincipal, session: SessionDep):
    """One import: its progress while it runs, its report when it is done."""
    require_role(principal, "admin", "finance")
    run = import_runs.get_run(session=session, run_id=run_id, principal=principal)
    return render(request, "imports/run.html", {"run": run, "phase": import_runs.phase_of(run.id)}, block="progress")
