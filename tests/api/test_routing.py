"""Routing a request tries only the routers whose routes' literal parts begin its path
(app/api/routing.py), and answers what it answered before: the route, 405, 404."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from tests.api.read_data import YEAR, build


@pytest.fixture
def tried(monkeypatch):
    """The modules of the endpoints whose routes a request was matched against."""
    seen: list[str] = []
    real = APIRoute.matches

    def counted(self, scope):
        seen.append(self.endpoint.__module__)
        return real(self, scope)

    monkeypatch.setattr(APIRoute, "matches", counted)
    return seen


@pytest.mark.parametrize(
    ("url", "module"),
    [
        (f"/api/v1/stats/units?year={YEAR}", "app.api.stats"),
        (f"/api/v1/stats/departments?year={YEAR}", "app.api.stats"),
        (f"/api/v1/indicators?year={YEAR}&limit=2", "app.api.catalog"),
    ],
)
def test_a_list_read_is_matched_against_its_own_routers_routes_only(client, session, tried, url, module):
    world = build(session)
    response = client.get(url, headers=world.auth("finance"))
    assert response.status_code == 200, response.text
    # before: every route of the seven (or four) routers included ahead of it, twice
    assert set(tried) == {module}, sorted(set(tried))


def test_what_the_routers_answer_is_unchanged(client, session):
    world = build(session)
    auth = world.auth("finance")
    assert client.post(f"/api/v1/stats/units?year={YEAR}", headers=auth).status_code == 405
    missing = client.get("/api/v1/stats/nothing", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"error": "http_404", "message": "接口不存在"}
    assert client.get("/healthz").status_code == 200
    project = world.projects["p1"].id
    assert client.get(f"/api/v1/projects/{project}", headers=auth).status_code == 200
    assert client.delete(f"/api/v1/projects/{project}/adjustments", headers=auth).status_code == 405
