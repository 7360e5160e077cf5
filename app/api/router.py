"""All /api/v1 routers, plus the health probes."""

from fastapi import APIRouter

from app.api import health, imports, targets

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(targets.router)
api_router.include_router(imports.router)
