"""Twenty HTTP clients create the same project at once against a real uvicorn: one 201, the
others 409 or 422 (the duplicate code), no 5xx and no client left waiting."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from app.services import tokens
from tests import factories

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
    gate = threading.Barrier(CLIENTS)
    answers: list = [None] * CLIENTS

    def run(n: int) -> None:
        with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as c:
            gate.wait()
            try:
                answers[n] = c.post("/api/v1/projects", json=body).status_code
            except httpx.HTTPError as exc:  # a client that waited in vain counts against the server
                answers[n] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    counts = Counter(answers)
    assert counts[201] == 1 and set(counts) <= {201, 409, 422}, counts
