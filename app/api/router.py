"""All /api/v1 routers, plus the health probes."""

from fastapi import APIRouter

from app.api import catalog, health, imports, reviews, self_evaluations, stats, target_tables, targets

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(targets.router)
api_router.include_router(imports.router)
api_router.include_router(self_evaluations.router)
api_router.include_router(catalog.router)
api_router.include_router(target_tables.router)
api_router.include_router(stats.router)
api_router.include_router(reviews.router)
