"""One request scores once: a row saved from the page, a save through the API and an approval
from the review page each run the scoring (and parse the template) exactly once."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.domain import scoring
from app.models import Indicator, SelfEvaluation
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
from tests.services.evaluation_data import STANDARD, project_with, two_units


@pytest.fixture
def counts(monkeypatch):
    seen = {"evaluate": 0, "template": 0}
    evaluate, from_json = scoring.evaluate, scoring.TemplateSettings.from_json.__func__

    def counting_evaluate(*args, **kw):
        seen["evaluate"] += 1
        return evaluate(*args, **kw)

    def counting_from_json(cls, data):
        seen["template"] += 1
        return from_json(cls, data)

    monkeypatch.setattr(scoring, "evaluate", counting_evaluate)
    monkeypatch.setattr(scoring.TemplateSettings, "from_json", classmethod(counting_from_json))
    return seen


@pytest.fixture
def evaluation(client, session):
    dept, mine, _ = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    project = project_with(session, mine, STANDARD, name="监测设备运维")
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    ind = session.exec(select(Indicator).where(Indicator.project_id == project.id, Indicator.name == "监测报告")).one()
    return eid, ind.id


def test_a_row_saved_from_the_page_scores_once(client, session, evaluation, counts):
    eid, ind = evaluation
    as_user(client, "jcz")
    version = client.get(f"/api/v1/self-evaluations/{eid}").json()["version"]
    counts.update(evaluate=0, template=0)
    saved = client.post(
        f"/evaluations/{eid}/rows/{ind}",
        data={"version": str(version), "actual": "11份"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200, saved.text
    assert counts["evaluate"] == 1 and counts["template"] <= 1  # the settings: parsed at most once, cached per process


def test_a_save_through_the_api_scores_once(client, session, evaluation, counts):
    eid, ind = evaluation
    as_user(client, "jcz")
    version = client.get(f"/api/v1/self-evaluations/{eid}").json()["version"]
    counts.update(evaluate=0, template=0)
    body = {"version": version, "results": [{"indicator_id": ind, "actual": "11份"}]}
    assert client.put(f"/api/v1/self-evaluations/{eid}", json=body).status_code == 200
    assert counts["evaluate"] == 1 and counts["template"] <= 1  # the settings: parsed at most once, cached per process


def test_an_approval_from_the_review_page_scores_once(client, session, evaluation, counts):
    eid, ind = evaluation
    as_user(client, "jcz")
    _fill_and_submit(client, eid)
    as_user(client, "gxj")
    version = session.get(SelfEvaluation, eid).version
    counts.update(evaluate=0, template=0)
    form = {
        "action": "approve",
        "version": str(version),
        "opinion": "同意",
        f"override_score_{ind}": "39",
        f"override_reason_{ind}": "佐证材料不全",
    }
    done = client.post(f"/reviews/{eid}", data=form, headers={"HX-Request": "true"})
    assert done.status_code == 204, done.text
    assert counts["evaluate"] == 1 and counts["template"] <= 1  # the settings: parsed at most once, cached per process
    session.expire_all()
    assert session.get(SelfEvaluation, eid).status == "approved"


def test_an_approval_through_the_api_scores_once(client, session, evaluation, counts):
    eid, ind = evaluation
    as_user(client, "jcz")
    _fill_and_submit(client, eid)
    as_user(client, "gxj")
    counts.update(evaluate=0, template=0)
    assert client.post(f"/api/v1/self-evaluations/{eid}/approve", json={}).status_code == 200
    assert counts["evaluate"] == 1 and counts["template"] <= 1  # the settings: parsed at most once, cached per process
