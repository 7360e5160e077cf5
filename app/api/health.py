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
