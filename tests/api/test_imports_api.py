"""POST /api/v1/imports and GET /api/v1/targets/parse."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from app.models import Project
from tests import factories

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_003.txt"


def _users(session):
    dept = factories.department(session)
    unit = factories.unit(session, "单位甲", dept)
    factories.user(session, "fin", "finance")
    factories.user(session, "u", "unit", unit_row=unit)


def test_finance_imports_the_published_table(client, session):
    _users(session)
    factories.login(client, "fin")
    response = client.post(
        "/api/v1/imports", data={"year": "2024"}, files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] and body["committed"] and body["counts"]["projects_created"] == 34
    assert body["counts"]["indicators_created"] == 168
    assert any(w["code"] == "indicator" for w in body["warnings"])
    assert session.exec(select(sa.func.count()).select_from(Project)).one() == 34


def test_dry_run_over_the_api_writes_nothing(client, session):
    _users(session)
    factories.login(client, "fin")
    response = client.post(
        "/api/v1/imports",
        data={"year": "2024", "dry_run": "true"},
        files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
    )
    assert response.status_code == 200 and not response.json()["committed"]
    assert session.exec(select(sa.func.count()).select_from(Project)).one() == 0


def test_a_bad_file_is_422_with_the_place(client, session):
    _users(session)
    factories.login(client, "fin")
    csv = "年度,单位名称\n2024,x\n".encode()
    response = client.post("/api/v1/imports", files={"file": ("t.csv", csv, "text/csv")})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["severity"] == "error" and error["where"].startswith("t.csv")


def test_units_may_not_import(client, session):
    _users(session)
    factories.login(client, "u")
    response = client.post("/api/v1/imports", files={"file": ("seed_003.txt", b"x", "text/plain")})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_anonymous_callers_get_401(client):
    assert client.post("/api/v1/imports", files={"file": ("a.csv", b"x", "text/csv")}).status_code == 401
    assert client.get("/api/v1/targets/parse", params={"text": "≥95%"}).status_code == 401


def test_parse_endpoint_returns_the_parser_json(client, session):
    _users(session)
    factories.login(client, "u")
    body = client.get("/api/v1/targets/parse", params={"text": "不少于1,300亿元"}).json()
    assert body == {
        "raw": "不少于1,300亿元",
        "kind": "quantity",
        "op": ">=",
        "value": "130000000000",
        "value_max": None,
        "unit": "元",
        "unit_raw": "亿元",
        "unit_class": "money",
        "deadline": None,
        "direction": "higher",
        "confidence": "high",
        "warnings": [],
    }
    deadline = client.get("/api/v1/targets/parse", params={"text": "12月底前", "year": "2024"}).json()
    assert deadline["kind"] == "deadline" and deadline["deadline"] == "2024-12-31"
    too_long = client.get("/api/v1/targets/parse", params={"text": "x" * 10001})
    assert too_long.status_code == 422
