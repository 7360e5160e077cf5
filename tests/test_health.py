"""Health probes and the pool/threadpool deadlock guard."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from app.main import create_app
from app.settings import load_settings
from tests import factories


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readyz_is_503_with_a_reason_when_the_database_is_unreachable():
    from fastapi.testclient import TestClient

    settings = load_settings(DATABASE_URL="postgresql://postgres@127.0.0.1:1/none", JIXIAO_ENV="test")
    with TestClient(create_app(settings)) as c:
        response = c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and "数据库" in response.json()["reason"]


def test_fifty_concurrent_requests_to_one_worker_are_all_answered(live_server, session):
    """perf-notes.md: a pool smaller than the threadpool stalls; every request must come back."""
    dept = factories.department(session)
    unit = factories.unit(session, "广州市无线电监测站", dept)
    factories.user(session, "jcz", "unit", unit_row=unit)
    with httpx.Client(base_url=live_server) as c:
        c.post("/login", data={"username": "jcz", "password": factories.PASSWORD})
        cookies = dict(c.cookies)

    def fetch(_):
        with httpx.Client(base_url=live_server, cookies=cookies, timeout=60) as c:
            return c.get("/").status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(fetch, range(50)))
    assert statuses == [200] * 50
