"""Ids no database column can hold (2^63 and beyond) answer 404 or 422, never 500, on every route.

The routes come from the application's route table: every integer path parameter and every query
parameter that names an object (ids, or the department / unit filters that accept an id) is given
such a value, for every method, as the finance bureau, an administrator and a unit user, over
the API (Bearer token) and on the pages (session cookie).
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts

from tests import factories
from tests.api.read_data import build

HUGE = [2**63, 2**64, 10**40]
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
# Query parameters that name a row by id (the filters accept an id, a code or a name).
ID_QUERIES = ("department", "unit", "project", "evaluation", "indicator", "run")


def _query_aliases(dependant) -> list[str]:
    """The query parameters' names, those of a declared query model (the lists) included."""
    from pydantic import BaseModel

    names = []
    for p in dependant.query_params:
        model = getattr(p.field_info, "annotation", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [f.alias or name for name, f in model.model_fields.items()]
        else:
            names.append(p.alias)
    return names


def routes(app) -> list[tuple[str, str, list[str], list[str]]]:
    """(method, path, path parameters, id-like query parameters) for every route of the app."""
    found = []
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None:
            continue
        path = context.path_format
        params = PARAM.findall(path)
        queries = [
            alias
            for alias in _query_aliases(dependant)
            if alias in ID_QUERIES or alias.endswith("_id") or alias == "id"
        ]
        for method in sorted(context.methods or {"GET"}):
            if method != "HEAD" and (params or queries):
                found.append((method, path, params, queries))
    return found


@pytest.fixture
def world(session):
    world = build(session)
    factories.user(session, "czj", "finance")
    factories.user(session, "admin", "admin")
    factories.user(session, "dw", "unit", unit_row=world.a1)
    return world


def test_every_route_with_an_id_is_covered(app):
    paths = {path for _, path, _, _ in routes(app)}
    assert "/api/v1/self-evaluations/{evaluation_id}" in paths and "/evaluations/{evaluation_id}" in paths
    assert "/api/v1/projects/{project_id}" in paths and "/admin/imports/{run_id}" in paths
    assert "/api/v1/projects" in paths  # by its department / unit filters


@pytest.mark.parametrize("huge", HUGE)
def test_ids_beyond_any_column_answer_404_or_422(world, app, huge):
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)  # a crash is a 500 here, as a browser sees it
    wrong = []
    who = [("token", world.auth("finance")), ("token", world.auth("unit_a1"))]
    who += [("login", name) for name in ("czj", "admin", "dw")]
    for kind, identity in who:
        client.cookies.clear()
        headers = identity if kind == "token" else {}
        if kind == "login":
            factories.login(client, identity)
        for method, path, params, queries in routes(app):
            url = PARAM.sub(str(huge), path)
            query = {name: str(huge) for name in queries}
            if method in ("GET", "DELETE"):
                response = client.request(method, url, params=query, headers=headers, follow_redirects=False)
            elif path.startswith("/api/"):
                response = client.request(method, url, params=query, json={}, headers=headers, follow_redirects=False)
            else:
                response = client.request(
                    method, url, params=query, data={"x": "1"}, headers=headers, follow_redirects=False
                )
            allowed = {403, 404, 422} | ({200} if not params else set())  # a filter may just find nothing
            if response.status_code not in allowed:
                wrong.append((method, path, response.status_code))
    assert not wrong, f"ids beyond any column were not answered 404/422: {sorted(set(wrong))}"
