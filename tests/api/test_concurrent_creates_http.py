"""Twenty HTTP clients create the same project at once against a real uvicorn: one 201, the
others 409 or 422 (the duplicate code), no 5xx and no client left waiting."""

from __future__ import annotations

from collections import Counter

from app.services import tokens
from tests import factories
from tests.clients import at_once

CLIENTS = 20


def test_twenty_clients_creating_one_project_get_one_201_and_no_5xx(session, live_server):
    dept = factories.department(session, "广州市工业和信息化局")
    factories.unit(session, "广州市无线电监测站", dept)
    _, secret = tokens.create_token(
        session=session, role="unit", name="并发", unit="广州市无线电监测站", scope="read write"
    )
    body = {
        "year": 2031,  # no fiscal-year row yet: the race covers creating it too
        "project_code": "P-RACE-1",
        "name": "同时新建的项目",
        "annual_goal": "完成年度任务",
        "indicators": [{"level1": "output", "level2": "quantity", "name": "监测报告", "annual_target": "≥12份"}],
    }
    answers = at_once(
        live_server,
        {"Authorization": f"Bearer {secret}"},
        CLIENTS,
        lambda c, n: c.post("/api/v1/projects", json=body).status_code,
    )
    counts = Counter(answers)
    assert counts[201] == 1 and set(counts) <= {201, 409, 422}, counts
