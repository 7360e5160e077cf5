"""One API contract: one schema per concept under a unique name, one format per quantity
whichever endpoint answers it, and one way to name a row in a 422."""

from __future__ import annotations

import collections
from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import SelfEvaluation
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units


def test_openapi_has_unique_schema_names_and_no_generated_ones(client):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    generated = [name for name in schemas if name.startswith("app__")]
    assert generated == []
    titles = collections.Counter(s.get("title", name) for name, s in schemas.items())
    assert [t for t, n in titles.items() if n > 1] == []


@pytest.fixture
def filled(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD, budget=Decimal("57550"))
    factories.user(session, "czj", "finance")
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    factories.login(client, "jcz")
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "56022.2398",
            "results": [
                {"indicator_id": ind["监测报告"], "actual": "12份"},
                {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    return project.id, eid, ind


def test_the_same_quantity_has_the_same_format_on_every_endpoint(client, filled):
    project_id, eid, _ = filled
    evaluation = client.get(f"/api/v1/self-evaluations/{eid}").json()
    client.cookies.clear()
    factories.login(client, "czj")
    project = client.get(f"/api/v1/projects/{project_id}").json()
    listed = next(p for p in client.get("/api/v1/projects").json()["items"] if p["id"] == project_id)
    for key in ("budget", "spent", "execution_rate", "total_score"):
        assert evaluation[key] == project[key] == listed[key], key
    assert evaluation["budget"] == "57550.00" and evaluation["spent"] == "56022.2398"
    assert evaluation["template"] == project["template"] == "national-2020@1"
    detail = {i["id"]: i for i in project["indicators"]}
    for ind in evaluation["indicators"]:
        assert ind["weight"] == detail[ind["id"]]["weight"] and ind["score"] == detail[ind["id"]]["score"]


def test_a_row_is_named_by_its_indicator_id_on_save_and_on_submit(client, filled):
    _, eid, ind = filled
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    report, satisfaction = ind["监测报告"], ind["服务对象满意度"]
    # The bad row is sent first (position 0) and its id is not 0: the name says which row it is.
    bad = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "results": [
                {"indicator_id": satisfaction, "actual": "很多"},
                {"indicator_id": report, "actual": "12份"},
            ],
        },
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == [f"results[{satisfaction}].actual"]
    cleared = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={"version": body["version"], "results": [{"indicator_id": report, "actual": ""}]},
    )
    assert cleared.status_code == 200
    refused = client.post(f"/api/v1/self-evaluations/{eid}/submit")
    assert refused.status_code == 422
    assert f"results[{report}].actual" in [e["field"] for e in refused.json()["errors"]]


def test_the_project_detail_and_the_evaluation_history_are_one_event_schema(client, filled):
    project_id, eid, _ = filled
    client.cookies.clear()
    factories.login(client, "czj")
    project_history = client.get(f"/api/v1/projects/{project_id}").json()["history"]
    evaluation_history = client.get(f"/api/v1/self-evaluations/{eid}/history").json()
    assert project_history and set(project_history[0]) == set(evaluation_history[0])
    assert project_history[-1]["action_label"] == evaluation_history[-1]["action_label"]


def test_every_list_declares_one_query_model(app):
    """Each paged list takes one declared model of its filters (a ListQuery), nothing else."""
    import inspect
    import typing

    from fastapi.routing import APIRoute, iter_route_contexts

    from app.api.audit import AuditQuery
    from app.api.deps import ListQuery

    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    lists = [
        r
        for r in routes
        if isinstance(r, APIRoute)
        and isinstance(r.response_model, type)
        and "next_cursor" in getattr(r.response_model, "model_fields", {})
    ]
    assert {r.path for r in lists} == {
        "/api/v1/units",
        "/api/v1/projects",
        "/api/v1/indicators",
        "/api/v1/stats/units",
        "/api/v1/stats/departments",
        "/api/v1/audit",  # its own filters (no year or unit scope): AuditQuery, with the same paging and format
    }
    for route in lists:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
        params = [name for name in inspect.signature(route.endpoint).parameters if name != "return"]
        models = [n for n in params if isinstance(typing.get_args(hints[n])[:1] and typing.get_args(hints[n])[0], type)
                  and issubclass(typing.get_args(hints[n])[0], (ListQuery, AuditQuery))]  # fmt: skip
        assert len(models) == 1, route.path
        assert set(params) - set(models) == {"request", "session", "principal"}, route.path
