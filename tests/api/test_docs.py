"""The API is documented: OpenAPI with Chinese descriptions, browsable at /api/docs without a CDN."""

from __future__ import annotations


def test_openapi_documents_every_route_with_chinese_summaries(client):
    spec = client.get("/api/v1/openapi.json").json()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert len(operations) >= 20
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in op.get("summary", "")) for op in operations)
    described = spec["components"]["schemas"]["EvaluationPublic"]["properties"]
    assert all(field.get("description") for field in described.values())
    assert "unit_mismatch" in described["flags"]["description"]


def test_docs_page_uses_the_vendored_swagger_ui(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.split("<body")[0]  # nothing fetched from another site
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
