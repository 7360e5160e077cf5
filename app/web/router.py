"""All page routers."""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.settings import ROOT
from app.web import (
    api_docs,
    attachments,
    audit,
    auth,
    evaluations,
    funds,
    home,
    imports,
    monitoring,
    offline,
    overview,
    report_checks,
    reports,
    reviews,
    scoring,
    targets,
    users,
    windows,
)

web_router = APIRouter(include_in_schema=False)
web_router.include_router(api_docs.router)
web_router.include_router(auth.router)
web_router.include_router(home.router)
web_router.include_router(imports.router)
web_router.include_router(evaluations.router)
web_router.include_router(offline.router)
web_router.include_router(targets.router)
web_router.include_router(reviews.router)
web_router.include_router(overview.router)
web_router.include_router(windows.router)
web_router.include_router(audit.router)
web_router.include_router(scoring.router)
web_router.include_router(users.router)
web_router.include_router(report_checks.router)
web_router.include_router(funds.router)
web_router.include_router(reports.router)
web_router.include_router(attachments.router)
web_router.include_router(monitoring.router)


@web_router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The site's icon where browsers ask for it (an SVG, vendored with the static files)."""
    return FileResponse(ROOT / "app" / "static" / "favicon.svg", media_type="image/svg+xml")
