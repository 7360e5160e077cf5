"""What every answer promises: nothing with a user's data is cached, and every error speaks Chinese."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.api.read_data import YEAR, build
from tests.test_settings_cli import run_cli

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}")  # three English words in a row


@pytest.fixture
def world(session):
    world = build(session)
    factories.user(session, "dw", "unit", unit_row=world.a1)
    return world


def test_pages_api_answers_and_downloads_are_not_stored(client, world):
    token = world.auth("finance")
    answers = {
        "API list": client.get("/api/v1/projects", headers=token),
        "API error": client.get("/api/v1/projects?limit=0", headers=token),
        "API 401": client.get("/api/v1/projects"),
        "CSV download": client.get("/api/v1/projects?format=csv", headers=token),
        "xlsx download": client.get("/api/v1/units?format=xlsx", headers=token),
    }
    factories.login(client, "dw")
    answers["page"] = client.get("/")
    answers["page fragment"] = client.get("/", headers={"HX-Request": "true"})
    answers["workbook"] = client.get(f"/evaluations/export.xlsx?year={YEAR}")
    answers["print"] = client.get(f"/evaluations/print?year={YEAR}")
    answers["cross-site refusal"] = client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    for name, response in answers.items():
        assert response.headers.get("cache-control") == "no-store", (name, response.status_code, response.headers)
    static = client.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


BAD_REQUESTS = [
    ("PUT", "/api/v1/self-evaluations/1", {"content": b"{bad", "headers": {"content-type": "application/json"}}),
    ("PUT", "/api/v1/self-evaluations/1", {"json": {"version": "x", "results": "no"}}),
    ("PUT", "/api/v1/self-evaluations/1", {"json": {"version": 1, "results": [{"indicator_id": 1, "actual": 5}]}}),
    ("PUT", "/api/v1/self-evaluations/1", {"json": {"version": 1, "bogus": 1}}),
    ("PUT", "/api/v1/self-evaluations/1", {"json": [1, 2]}),
    ("PUT", "/api/v1/filing-windows/2024", {"json": {"opens_date": "2024-13-01"}}),
    ("PUT", "/api/v1/filing-windows/2024", {"json": {"opens_date": "2024-01-01T10:00:00"}}),
    ("POST", "/api/v1/imports", {"content": b"abc", "headers": {"content-type": "multipart/form-data"}}),
    (
        "POST",
        "/api/v1/imports",
        {"content": b"--x\r\nbad", "headers": {"content-type": "multipart/form-data; boundary=x"}},
    ),
    ("POST", "/api/v1/self-evaluations/1/approve", {"json": {"overrides": [{"indicator_id": "a"}]}}),
    ("POST", "/api/v1/self-evaluations/1/approve", {"json": {"overrides": {"a": 1}}}),
    ("GET", "/api/v1/projects?limit=abc&min_score=x&q=" + "x" * 1000, {}),
    ("GET", "/api/v1/projects?status=nope", {}),
    ("DELETE", "/api/v1/projects", {}),
    ("GET", "/api/v1/nothing", {}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), BAD_REQUESTS)
def test_every_error_message_is_chinese(client, world, method, url, kwargs):
    headers = {**world.auth("finance"), **kwargs.pop("headers", {})}
    response = client.request(method, url, headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    texts = [body["message"]] + [e["message"] for e in body.get("errors", [])]
    for text in texts:
        assert CJK.search(text) and not ENGLISH_WORDS.search(text), f"{method} {url}: {text!r}"


def test_demo_data_is_refused_in_production(settings, session):
    from sqlmodel import select

    from app.models import User

    env = {"DATABASE_URL": settings.database_url, "JIXIAO_ENV": "production", "SECRET_KEY": "p" * 40}
    result = run_cli("demo", env=env)
    assert result.returncode != 0
    assert "生产环境" in result.stderr and "jixiao-demo" not in result.stdout + result.stderr
    assert session.exec(select(User)).all() == []


def test_a_page_names_a_bad_parameter_in_chinese(client, world):
    factories.login(client, "dw")
    response = client.get("/evaluations/print?year=abc")
    assert response.status_code == 422
    assert "年度：应为整数" in response.text and "year：" not in response.text
