"""Liveness and readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="进程存活检查")
def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok"}


# Swagger UI sets style attributes from script; this one page allows inline styles (never scripts).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request):
    """The OpenAPI document in a browsable form (vendored Swagger UI, no CDN)."""
    from app.web.render import templates

    response = templates.TemplateResponse(request, "api/docs.html", {})
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@router.get("/readyz", summary="就绪检查（会访问数据库）")
def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers SELECT 1."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return JSONResponse({"status": "unavailable", "reason": f"数据库不可用：{reason}"}, status_code=503)
    return JSONResponse({"status": "ready"})
