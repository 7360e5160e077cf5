"""All page routers."""

from fastapi import APIRouter

from app.web import api_docs, auth, evaluations, home, imports, overview, reviews, scoring, windows

web_router = APIRouter(include_in_schema=False)
web_router.include_router(api_docs.router)
web_router.include_router(auth.router)
web_router.include_router(home.router)
web_router.include_router(imports.router)
web_router.include_router(evaluations.router)
web_router.include_router(reviews.router)
web_router.include_router(overview.router)
web_router.include_router(windows.router)
web_router.include_router(scoring.router)
