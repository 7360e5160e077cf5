"""The hot list queries use indexes, checked on the plans (deterministic, unlike timings).

PostgreSQL: with sequential scans discouraged, no big table may still be read by a Seq Scan, and
the year + keyset predicates are index conditions of the listed table (removing the (year, id)
index makes this fail). SQLite: EXPLAIN QUERY PLAN shows SEARCH, never a bare SCAN, for those tables.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.models import Indicator, Project
from app.security import Principal
from app.services import demo, queries

BIG_TABLES = {"indicator", "project", "indicator_result", "self_evaluation"}
FINANCE = Principal(role="finance", name="caizhengju")


def _capture(engine, call) -> list[tuple[str, object]]:
    statements: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert statements
    return statements


def _pg_nodes(node: dict) -> list[dict]:
    nodes = [node]
    for child in node.get("Plans", []):
        nodes += _pg_nodes(child)
    return nodes


def _pg_plan(engine, statement: str, parameters) -> list[dict]:
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _pg_nodes(plan[0]["Plan"])


def _pg_seq_scans(nodes: list[dict]) -> list[str]:
    return [
        n["Relation Name"] for n in nodes if n.get("Node Type") == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
    ]


def _keyset_served_by_index(engine, statement: str, parameters, table: str) -> bool:
    """PostgreSQL: the year and the keyset (id > …) of `table` are both index conditions, not filters
    applied after walking the index (perf-notes: without the year index, ORDER BY id walks all years)."""
    for node in _pg_plan(engine, statement, parameters):
        cond = node.get("Index Cond") or ""
        if node.get("Relation Name") == table and "year" in cond and "id >" in cond:
            return True
    return False


def _full_scans(engine, statement: str, parameters) -> list[str]:
    if engine.dialect.name == "postgresql":
        return _pg_seq_scans(_pg_plan(engine, statement, parameters))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        details = [row[-1] for row in rows]
        return [d for d in details if d.startswith("SCAN ") and d.split()[1] in BIG_TABLES and "USING" not in d]


@pytest.fixture
def loaded(session):
    demo.load_demo(session=session)
    return session


@pytest.mark.parametrize("met", [None, False])
def test_year_wide_indicator_list_uses_indexes(db, loaded, met):
    middle = loaded.exec(select(Indicator.id).order_by(Indicator.id).offset(80)).first()
    filters = queries.IndicatorFilters(year=2024, met=met)
    statements = _capture(
        db, lambda: queries.list_indicators(session=loaded, principal=FINANCE, filters=filters, after=middle, limit=50)
    )
    for statement, parameters in statements:
        assert _full_scans(db, statement, parameters) == [], statement
    if db.dialect.name == "postgresql":
        assert _keyset_served_by_index(db, *statements[0], "indicator"), statements[0][0]


def test_year_wide_project_list_uses_indexes(db, loaded):
    middle = loaded.exec(select(Project.id).order_by(Project.id).offset(10)).first()
    statements = _capture(
        db,
        lambda: queries.list_projects(
            session=loaded, principal=FINANCE, filters=queries.ProjectFilters(year=2024), after=middle, limit=50
        ),
    )
    for statement, parameters in statements:
        assert _full_scans(db, statement, parameters) == [], statement
    if db.dialect.name == "postgresql":
        assert _keyset_served_by_index(db, *statements[0], "project"), statements[0][0]
