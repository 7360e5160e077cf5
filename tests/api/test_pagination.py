"""Keyset pagination: opaque signed cursors, stable order, no duplicates or gaps under concurrent inserts."""

from __future__ import annotations

import base64
import threading

import pytest
from sqlmodel import Session

from app.models import Indicator, Project, Unit
from app.services.accounts import name_key
from tests.api.read_data import YEAR, build


@pytest.fixture
def world(session):
    return build(session)


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def walk(client, world, url, *, between=None, who="finance", max_pages=100):
    """Every item id of a list, following `next`; calls `between()` after each of the first pages."""
    ids, pages = [], 0
    while url:
        assert pages < max_pages, "pagination does not end"
        response = client.get(url, headers=world.auth(who))
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        pages += 1
        url = _path(body["next"]) if body["next"] else None
        if between and pages <= 3:
            between()
    return ids, pages


def _insert_project(session: Session, world, n: int) -> int:
    row = Project(year=YEAR, unit_id=world.a1.id, project_code=f"NEW-{n}", name=f"新增项目{n}")
    session.add(row)
    session.commit()
    return row.id


def test_projects_across_pages_with_inserts_between_fetches(client, session, world):
    before = [p.id for p in sorted(world.projects.values(), key=lambda p: p.id)]
    counter = iter(range(1000))
    inserted = []
    ids, pages = walk(
        client,
        world,
        "/api/v1/projects?limit=2",
        between=lambda: inserted.append(_insert_project(session, world, next(counter))),
    )
    assert len(ids) == len(set(ids)), "a row was served twice"
    assert set(before) <= set(ids), "a row that existed at the start was skipped"
    assert ids == sorted(ids), "order must be stable by id"
    assert pages >= 3
    # Rows inserted behind the reader's position are never served out of order; later ones may appear.
    assert set(ids) - set(before) <= set(inserted)


def test_indicators_and_units_across_pages_with_inserts(client, session, world):
    before = sorted(i.id for i in world.indicators.values())

    def add_indicator():
        session.add(
            Indicator(
                project_id=world.projects["p1"].id,
                year=YEAR,
                position=99,
                level1="output",
                name="新增指标",
                target_kind="qualitative",
            )
        )
        session.commit()

    ids, _ = walk(client, world, "/api/v1/indicators?limit=1", between=add_indicator)
    assert len(ids) == len(set(ids)) and set(before) <= set(ids) and ids == sorted(ids)

    counter = iter(range(1000))

    def add_unit():
        n = next(counter)
        session.add(Unit(name=f"新单位{n}", name_key=name_key(f"新单位{n}"), department_id=world.dept_a.id))
        session.commit()

    unit_ids, _ = walk(client, world, "/api/v1/units?limit=1", between=add_unit)
    assert len(unit_ids) == len(set(unit_ids)) and {world.a1.id, world.a2.id, world.b1.id} <= set(unit_ids)


def test_pages_while_another_thread_keeps_inserting(client, world, db):
    """A real concurrent writer: the reader still sees every original row exactly once."""
    before = {p.id for p in world.projects.values()}
    stop = threading.Event()
    errors = []

    def writer():
        n = 0
        with Session(db) as s:
            while not stop.is_set() and n < 200:
                try:
                    s.add(Project(year=YEAR, unit_id=world.a2.id, project_code=f"T-{n}", name=f"并发项目{n}"))
                    s.commit()
                except Exception as exc:  # surfaced below
                    errors.append(exc)
                    s.rollback()
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        ids, _ = walk(client, world, "/api/v1/projects?limit=3")
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(ids) == len(set(ids)) and before <= set(ids) and ids == sorted(ids)


def test_next_link_keeps_the_filters(client, world):
    first = client.get("/api/v1/projects?department=401&limit=1", headers=world.auth("finance")).json()
    assert "department=401" in first["next"] and "cursor=" in first["next"]
    ids, pages = walk(client, world, "/api/v1/projects?department=401&limit=1")
    assert ids == [world.projects[k].id for k in ("p1", "p2", "p3", "p4")] and pages == 4


def test_last_page_has_no_next(client, world):
    body = client.get("/api/v1/projects?limit=6", headers=world.auth("finance")).json()
    assert len(body["items"]) == 6 and body["next"] is None and body["next_cursor"] is None
    body = client.get("/api/v1/projects?limit=5", headers=world.auth("finance")).json()
    assert body["next"] is not None and body["limit"] == 5


def test_bad_cursors_are_400_json(client, world):
    good = client.get("/api/v1/projects?limit=1", headers=world.auth("finance")).json()["next_cursor"]
    payload, _, signature = good.partition(".")
    forged_payload = base64.urlsafe_b64encode(b'{"r":"projects","a":0}').decode().rstrip("=")
    tampered = [
        f"{forged_payload}.{signature}",  # another position under the old signature
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "not-a-cursor",
        "eyJhIjoxfQ",
    ]
    for cursor in tampered:
        response = client.get(f"/api/v1/projects?cursor={cursor}", headers=world.auth("finance"))
        assert response.status_code == 400, (cursor, response.text)
        body = response.json()
        assert body["error"] == "bad_request" and "游标" in body["message"]
        assert body["errors"][0]["field"] == "cursor"
    # A cursor of one list does not page another.
    response = client.get(f"/api/v1/indicators?cursor={good}", headers=world.auth("finance"))
    assert response.status_code == 400
    response = client.get("/api/v1/projects?cursor=" + "x" * 600, headers=world.auth("finance"))
    assert response.status_code == 422


def test_limit_outside_1_to_1000_is_422_in_chinese(client, world):
    for limit, message in [
        ("0", "数值过小"),
        ("100000", "数值过大"),
        ("-1", "数值过小"),
        ("1001", "数值过大"),
        ("abc", "应为整数"),
    ]:
        for path in ("/api/v1/projects", "/api/v1/stats/units?year=2025&"):
            sep = "" if path.endswith("&") else "?"
            response = client.get(f"{path}{sep}limit={limit}", headers=world.auth("finance"))
            assert response.status_code == 422, (path, limit)
            body = response.json()
            assert body["error"] == "validation_failed"
            assert {e["field"]: e["message"] for e in body["errors"]}["limit"] == message


def test_limit_1000_is_accepted(client, world):
    response = client.get("/api/v1/indicators?limit=1000", headers=world.auth("finance"))
    assert response.status_code == 200 and response.json()["limit"] == 1000
