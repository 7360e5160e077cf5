"""All /api/v1 routers, plus the health probes."""

from fastapi import APIRouter, Depends

from app.api import (
    adjustments,
    audit,
    catalog,
    funds,
    health,
    imports,
    report_checks,
    reviews,
    self_evaluations,
    stats,
    target_tables,
    targets,
)
from app.api.scopes import check_scope

api_router = APIRouter()
# Every /api/v1 route declares the token scope it needs (app/api/scopes.py); checked here.
SCOPED = [Depends(check_scope)]
api_router.include_router(health.router)
api_router.include_router(targets.router, dependencies=SCOPED)
api_router.include_router(imports.router, dependencies=SCOPED)
api_router.include_router(self_evaluations.router, dependencies=SCOPED)
api_router.include_router(catalog.router, dependencies=SCOPED)
api_router.include_router(target_tables.router, dependencies=SCOPED)
api_router.include_router(adjustments.router, dependencies=SCOPED)
api_router.include_router(stats.router, dependencies=SCOPED)
api_router.include_router(reviews.router, dependencies=SCOPED)
api_router.include_router(report_checks.router, dependencies=SCOPED)
api_router.include_router(funds.router, dependencies=SCOPED)
api_router.include_router(audit.router, dependencies=SCOPED)
