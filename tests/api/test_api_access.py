"""Who sees what, generated over every /api/v1 route the app serves (introspected, not hand-picked).

For every route and method: anonymous → 401; a revoked or malformed token → 401; a unit token
(and a department token) never sees the rows of another department's unit — 404 or filtered;
and no response to anyone carries a password hash, a token hash or another token.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import select

from app.models import ApiToken, User
from tests.api.read_data import SECRET_MARK, YEAR, build

# Served to anyone by design: the OpenAPI document itself.
PUBLIC = {("GET", "/api/v1/openapi.json")}
# Routes this file's data set knows must answer 200 to a finance token (guards against a test
# that passes because every call failed).
MUST_ANSWER = {
    "/api/v1/units",
    "/api/v1/projects",
    "/api/v1/projects/{project_id}",
    "/api/v1/indicators",
    "/api/v1/stats/units",
    "/api/v1/stats/departments",
}
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route under /api/v1, HEAD aside (it mirrors GET)."""
    routes = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not path.startswith("/api/v1"):
            continue
        for method in sorted(getattr(context, "methods", None) or {"GET"}):
            if method != "HEAD" and (method, path) not in PUBLIC:
                routes.append((method, path))
    return routes


def fill(path: str, ids: dict[str, int]) -> str:
    """The path with each parameter replaced by the id of the object it names (by parameter name)."""
    return PARAM.sub(lambda m: str(ids.get(m.group(1), ids["default"])), path)


def call(client, method: str, path: str, headers: dict[str, str] | None = None):
    url = f"{path}?year={YEAR}" if method == "GET" else path
    kwargs = {} if method in ("GET", "DELETE") else {"json": {}}
    return client.request(method, url, headers=headers or {}, **kwargs)


@pytest.fixture
def world(session):
    return build(session)


def other_unit_ids(world) -> dict[str, int]:
    """Ids of the other department's objects, by the path-parameter names routes use for them."""
    p5 = world.projects["p5"]
    return {
        "project_id": p5.id,
        "evaluation_id": world.evaluations["p5"].id,
        "self_evaluation_id": world.evaluations["p5"].id,
        "indicator_id": world.indicators["i5"].id,
        "unit_id": world.b1.id,
        "department_id": world.dept_b.id,
        "token_id": world.token_ids["unit_b1"],
        "year": YEAR,
        "id": p5.id,
        "default": p5.id,
    }


def own_ids(world) -> dict[str, int]:
    p1 = world.projects["p1"]
    return {
        "project_id": p1.id,
        "evaluation_id": world.evaluations["p1"].id,
        "indicator_id": world.indicators["i1"].id,
        "unit_id": world.a1.id,
        "department_id": world.dept_a.id,
        "year": YEAR,
        "default": p1.id,
    }


def test_the_route_list_is_introspected(app):
    routes = api_routes(app)
    assert {path for _, path in routes} >= MUST_ANSWER
    assert all(path.startswith("/api/v1") for _, path in routes)


def test_anonymous_gets_401_on_every_route(client, world, app):
    wrong = []
    for method, path in api_routes(app):
        response = call(client, method, fill(path, own_ids(world)))
        if response.status_code != 401 or response.json().get("error") != "not_authenticated":
            wrong.append((method, path, response.status_code))
    assert not wrong, f"served without a token: {wrong}"


def test_revoked_or_malformed_token_gets_401_on_every_route(client, world, app):
    bad_headers = [
        {"Authorization": f"Bearer {world.secrets['revoked']}"},
        {"Authorization": "Bearer jx_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {world.secrets['finance']}x"},
    ]
    wrong = []
    for method, path in api_routes(app):
        for headers in bad_headers:
            response = call(client, method, fill(path, own_ids(world)), headers)
            body = response.json()
            if response.status_code != 401 or body.get("error") != "not_authenticated" or "令牌" not in body["message"]:
                wrong.append((method, path, headers["Authorization"][:12], response.status_code))
    assert not wrong, f"a bad token was accepted or answered oddly: {wrong}"


@pytest.mark.parametrize("who", ["unit_a1", "dept_a"])
def test_no_route_shows_another_departments_unit(client, world, app, who):
    leaks, answered = [], set()
    for method, path in api_routes(app):
        response = call(client, method, fill(path, other_unit_ids(world)), world.auth(who))
        if SECRET_MARK in response.text:
            leaks.append((method, path, response.status_code))
        if method == "GET":
            if response.status_code not in (200, 403, 404, 422):
                leaks.append((method, path, response.status_code))
            if response.status_code == 200:
                answered.add(path)
        elif response.status_code < 400 or response.status_code >= 500:
            leaks.append((method, path, response.status_code))
    assert not leaks, f"{who} reached another department's unit: {leaks}"
    # The lists did answer (filtered), and the detail of a foreign project was a 404.
    assert answered >= MUST_ANSWER - {"/api/v1/projects/{project_id}"}
    response = client.get(f"/api/v1/projects/{world.projects['p5'].id}", headers=world.auth(who))
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_unit_token_sees_exactly_its_own_rows(client, world):
    headers = world.auth("unit_a1")
    units = client.get("/api/v1/units", headers=headers).json()["items"]
    assert [u["id"] for u in units] == [world.a1.id]
    projects = client.get("/api/v1/projects", headers=headers).json()["items"]
    assert {p["unit_id"] for p in projects} == {world.a1.id} and len(projects) == 2
    indicators = client.get("/api/v1/indicators", headers=headers).json()["items"]
    assert {i["unit_id"] for i in indicators} == {world.a1.id} and len(indicators) == 3
    sibling = world.projects["p3"]  # same department, other unit
    assert client.get(f"/api/v1/projects/{sibling.id}", headers=headers).status_code == 404
    # Naming another unit in a filter does not widen the scope.
    assert client.get(f"/api/v1/projects?unit={world.b1.id}", headers=headers).json()["items"] == []


def test_department_token_sees_its_units_only(client, world):
    headers = world.auth("dept_a")
    projects = client.get("/api/v1/projects", headers=headers).json()["items"]
    assert {p["unit_id"] for p in projects} == {world.a1.id, world.a2.id} and len(projects) == 4
    assert client.get(f"/api/v1/projects/{world.projects['p3'].id}", headers=headers).status_code == 200


def test_no_route_shows_password_hashes_or_tokens(client, world, app, session):
    hashes = [u.password_hash for u in session.exec(select(User))]
    token_hashes = [t.token_hash for t in session.exec(select(ApiToken))]
    others = [secret for who, secret in world.secrets.items() if who != "finance"]
    assert hashes and token_hashes
    for method, path in api_routes(app):
        if method != "GET":
            continue
        for ids in (own_ids(world), other_unit_ids(world)):
            text = call(client, method, fill(path, ids), world.auth("finance")).text
            for needle in hashes + token_hashes + others + ["$argon2", "password", "token_hash"]:
                assert needle not in text, (path, needle[:12])


def test_token_use_is_recorded_as_last_used(client, world, session):
    row = session.get(ApiToken, world.token_ids["finance"])
    assert row.last_used_at is None
    assert client.get("/api/v1/units", headers=world.auth("finance")).status_code == 200
    session.expire_all()
    assert session.get(ApiToken, world.token_ids["finance"]).last_used_at is not None
