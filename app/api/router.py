"""All /api/v1 routers, plus the health probes."""

from fastapi import APIRouter, Depends

from app.api import (
    adjustments,
    attachments,
    audit,
    catalog,
    funds,
    health,
    imports,
    monitoring,
    report_checks,
    reviews,
    scoring,
    self_evaluations,
    stats,
    target_tables,
    targets,
)
from app.api.scopes import check_scope

api_router = APIRouter()
# Every /api/v1 route declares the token scope it needs (app/api/scopes.py); checked here.
SCOPED = [Depends(check_scope)]
# Answers any /api/v1 route may give, documented once (schemathesis found them undocumented).
COMMON = {
    401: {"description": "未提供令牌或会话，或令牌无效、已吊销、已过期"},
    403: {"description": "角色或令牌权限不允许此操作（消息中说明缺哪项权限）"},
    404: {"description": "对象不存在，或不在您可查看的范围内"},
    409: {"description": "当前状态不允许此操作，或已被他人修改（可重新读取后再试）"},
}
api_router.include_router(health.router)
api_router.include_router(targets.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(imports.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(self_evaluations.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(catalog.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(target_tables.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(adjustments.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(stats.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(reviews.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(report_checks.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(funds.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(audit.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(scoring.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(attachments.router, dependencies=SCOPED, responses=COMMON)
api_router.include_router(monitoring.router, dependencies=SCOPED, responses=COMMON)
