"""The OpenAPI document in a browsable form: a page, so it lives with the pages."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.web.render import templates

router = APIRouter()

# Swagger UI sets style attributes from script; this one page allows inline styles (never scripts).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@router.get("/api/docs", include_in_schema=False)
def api_docs(request: Request):
    """The OpenAPI document in a browsable form (vendored Swagger UI, no CDN)."""
    response = templates.TemplateResponse(request, "api/docs.html", {})
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
