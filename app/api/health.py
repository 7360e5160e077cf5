"""Liveness and readiness probes (GET and HEAD, no login).

/healthz says the process is alive and answers from the event loop, even when every worker thread
is stuck: restarting the app would not cure a hung database. /readyz touches the database from a
small thread pool of its own and answers 503 within JIXIAO_READYZ_TIMEOUT whatever the database
does; its reply names no host, driver or error text (the reason goes to the log).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import JSONResponse

from app.api.routing import PrefixRouter

router = PrefixRouter(tags=["health"])
log = logging.getLogger("jixiao")
# Probes stuck on a hung database wait here, not in the request threadpool.
_PROBES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jixiao-readyz")
UNAVAILABLE = {"status": "unavailable", "reason": "数据库暂时不可用"}


@router.get("/healthz", summary="进程存活检查（也接受 HEAD）")
@router.head("/healthz", include_in_schema=False)
async def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok"}


def _select_one(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


@router.get(
    "/readyz",
    summary="就绪检查（会访问数据库；也接受 HEAD）",
    responses={503: {"description": "数据库在限定时间内没有应答（不给出细节）"}},
)
@router.head("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers SELECT 1 within the bound."""
    settings = request.app.state.settings
    loop = asyncio.get_running_loop()
    probe = loop.run_in_executor(_PROBES, _select_one, request.app.state.engine)
    try:
        await asyncio.wait_for(probe, timeout=settings.readyz_timeout_seconds)
    except TimeoutError:
        log.warning("readyz: the database did not answer within %s s", settings.readyz_timeout_seconds)
        return JSONResponse(UNAVAILABLE, status_code=503)
    except Exception as exc:  # any driver error means not ready
        log.warning("readyz: database unavailable: %s", exc)
        return JSONResponse(UNAVAILABLE, status_code=503)
    return JSONResponse({"status": "ready"})
