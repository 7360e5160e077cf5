"""Scoring templates and the year's template choice through /api/v1 — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.models import ScoringTemplate
from tests import factories
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units


@pytest.fixture
def client_as(client, session):
    dept, mine, _ = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    factories.user(session, "czj", "finance")
    project_with(session, mine, STANDARD)  # one evaluation of YEAR under national-2020

    def login(username):
        client.cookies.clear()
        factories.login(client, username)
        return client

    return login


def _stored(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(ScoringTemplate)).one()


def test_everyone_reads_the_templates_and_reading_stores_nothing(client_as, session):
    before = _stored(session)
    client = client_as("jcz")
    listed = client.get("/api/v1/scoring-templates")
    assert listed.status_code == 200, listed.text
    by_name = {t["name"]: t for t in listed.json()}
    national, guideline = by_name["national-2020"], by_name["guideline-2021"]
    assert national["rule_name"] == "财预〔2020〕10号" and national["stored"] is True
    assert guideline["stored"] is False and guideline["version"] == 1 and guideline["item_scored"] is False
    assert national["settings"]["category_weights"]["output"] == "50"  # a decimal string, never a float
    assert any(t["item_scored"] for t in listed.json())  # the special fund's 投入/过程/产出/效益 template
    assert _stored(session) == before
    versions = client.get("/api/v1/scoring-templates/guideline-2021")
    assert versions.status_code == 200 and [v["version"] for v in versions.json()] == [1]
    missing = client.get("/api/v1/scoring-templates/no-such")
    assert missing.status_code == 404 and "national-2020" in missing.json()["message"]
    assert _stored(session) == before


def test_only_the_bureau_chooses_and_a_year_never_mixes_rules(client_as):
    body = {"year": YEAR + 1, "template": "guideline-2021"}
    for who in ("jcz", "gxj"):
        refused = client_as(who).put("/api/v1/template-choices", json=body)
        assert refused.status_code == 403, who
    client = client_as("czj")
    assert client.get(f"/api/v1/template-choices?year={YEAR + 1}").json()["in_force"] == "national-2020"
    chosen = client.put("/api/v1/template-choices", json=body)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["template"] == "guideline-2021" and chosen.json()["department"] is None
    assert chosen.json()["chosen_by"] == "czj"
    seen = client_as("jcz").get(f"/api/v1/template-choices?year={YEAR + 1}").json()
    assert seen["in_force"] == "guideline-2021" and seen["choices"][0]["rule_name"].startswith("2021 指引")
    # YEAR already has an evaluation scored under national-2020: refused, nothing changed
    client = client_as("czj")
    mixed = client.put("/api/v1/template-choices", json={"year": YEAR, "template": "guideline-2021"})
    assert mixed.status_code == 422 and "不混用两套规则" in mixed.json()["message"]
    assert client.get(f"/api/v1/template-choices?year={YEAR}").json()["in_force"] == "national-2020"
    unknown = client.put("/api/v1/template-choices", json={"year": YEAR + 1, "template": "no-such"})
    assert unknown.status_code == 404 and "guideline-2021" in unknown.json()["message"]
    nowhere = client.put(
        "/api/v1/template-choices", json={"year": YEAR + 1, "template": "guideline-2021", "department": "无此部门"}
    )
    assert nowhere.status_code == 404 and "无此部门" in nowhere.json()["message"]
    fund = next(t["name"] for t in client.get("/api/v1/scoring-templates").json() if t["item_scored"])
    assert client.put("/api/v1/template-choices", json={"year": YEAR + 1, "template": fund}).status_code == 422
    extra = client.put("/api/v1/template-choices", json={**body, "bogus": 1})
    assert extra.status_code == 422


def test_the_bureau_stores_a_new_version(client_as, session):
    client = client_as("gxj")
    change = {"changes": {"rounding_places": 0}}
    assert client.post("/api/v1/scoring-templates/national-2020/versions", json=change).status_code == 403
    client = client_as("czj")
    saved = client.post("/api/v1/scoring-templates/national-2020/versions", json=change)
    assert saved.status_code == 201, saved.text
    assert saved.json()["version"] == 2 and saved.json()["settings"]["rounding_places"] == 0
    versions = client.get("/api/v1/scoring-templates/national-2020").json()
    assert [(v["version"], v["is_current"]) for v in versions] == [(2, True), (1, False)]
    for bad in ({"no_such_rule": 1}, {"rounding_places": 9}, {"name": "other"}, {}):
        refused = client.post("/api/v1/scoring-templates/national-2020/versions", json={"changes": bad})
        assert refused.status_code == 422, (bad, refused.text)
    assert [v["version"] for v in client.get("/api/v1/scoring-templates/national-2020").json()] == [2, 1]
