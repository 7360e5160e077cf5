"""`jixiao db partition` on a PostgreSQL database with data in it: indicator and indicator_result
become tables partitioned by year, every row in its year's partition, the counts and the
maintained statistics unchanged, the year kept consistent by composite foreign keys, a year-scoped
query pruned to one partition, a new year caught by the DEFAULT partition, and the way back.

(The application's own tests also run on a partitioned database: JIXIAO_TEST_PARTITIONED=1, see
tests/conftest.py.) PostgreSQL only: SQLite has no partitions, and the command refuses it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import FiscalYear, Indicator, IndicatorResult, MonitoringEntry, Project, SelfEvaluation
from app.services import partition
from tests import factories
from tests.conftest import APP_ROLE, as_app_role, migrate
from tests.services import monitoring_data
from tests.services.evaluation_data import YEAR, indicator

TABLES = ("indicator", "indicator_result")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner(pg_server):
    url = pg_server.create_database("jixiao_partition").replace("postgresql://", "postgresql+psycopg://")
    migrate(url)
    engine = sa.create_engine(url, pool_size=2)
    yield engine
    engine.dispose()
    pg_server.drop_database(url.replace("+psycopg", ""))


def _world(engine: sa.Engine) -> None:
    """Monitoring entries for 2024 (planted), results for 2024, a project with results in 2023."""
    with Session(engine, expire_on_commit=False) as session:
        monitoring_data.planted(session)
        unit = session.exec(select(Project)).first().unit_id
        session.add(FiscalYear(year=YEAR - 1))
        session.commit()
        older = Project(year=YEAR - 1, unit_id=unit, project_code="P-2023", name="上年项目", budget=Decimal("50"))
        session.add(older)
        session.commit()
        for n in range(1, 4):
            session.add(indicator(older, n, "output", f"上年指标{n}", "≥10个"))
        session.commit()
    with Session(engine, expire_on_commit=False) as session:
        from app.services import evaluations

        evaluations.ensure_evaluations(session=session, year=YEAR - 1)
        evaluations.ensure_evaluations(session=session, year=YEAR)
        for ev in session.exec(select(SelfEvaluation)).all():
            for ind in session.exec(
                select(Indicator).join(Project, Project.id == Indicator.project_id).where(Project.id == ev.project_id)
            ).all():
                session.add(
                    IndicatorResult(
                        self_evaluation_id=ev.id, indicator_id=ind.id, year=ind.year, actual="5个", met=False
                    )
                )
        session.commit()


def _foreign_keys(conn) -> list:
    return conn.execute(
        sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conparentid = 0 ORDER BY 1, 2"
        )
    ).all()


def partitions_of(conn, table: str) -> list[str]:
    return list(partition.partitions(conn, table))


def _counts(conn) -> dict:
    out = {
        t: conn.execute(sa.text(f"SELECT year, count(*) FROM {t} GROUP BY year ORDER BY year")).all() for t in TABLES
    }
    out["monitoring_entry"] = conn.execute(sa.text("SELECT count(*) FROM monitoring_entry")).scalar()
    out["unit_stats"] = conn.execute(sa.text("SELECT * FROM unit_stats ORDER BY year, unit_id")).all()
    return out


def _plan(conn, sql: str, **params) -> dict:
    conn.execute(sa.text("ANALYZE indicator; ANALYZE indicator_result"))
    rows = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + sql), params).scalar()
    return rows[0]["Plan"] if isinstance(rows, list) else json.loads(rows)[0]["Plan"]


def _relations(node: dict) -> set[str]:
    found = {node["Relation Name"]} if "Relation Name" in node else set()
    for child in node.get("Plans", []):
        found |= _relations(child)
    return found


def test_partition_moves_the_rows_keeps_the_keys_prunes_and_comes_back(owner):
    _world(owner)
    with owner.connect() as conn:
        before = _counts(conn)
    assert [y for y, _ in before["indicator"]] == [YEAR - 1, YEAR] and before["monitoring_entry"] > 0

    with owner.begin() as conn:
        outcome = partition.partition_by_year(conn)
    assert outcome.done == "partitioned" and outcome.years == [YEAR - 1, YEAR, YEAR + 1]

    with owner.connect() as conn:
        assert all(partition.is_partitioned(conn, t) for t in TABLES)
        assert _counts(conn) == before  # rows and the maintained statistics unchanged
        for table in TABLES:
            assert set(partition.partitions(conn, table)) == {
                f"{table}_y{YEAR - 1}",
                f"{table}_y{YEAR}",
                f"{table}_y{YEAR + 1}",
                f"{table}_default",
            }
            # every row sits in its year's partition
            placed = conn.execute(
                sa.text(f"SELECT tableoid::regclass::text, year, count(*) FROM {table} GROUP BY 1, 2 ORDER BY 2")
            ).all()
            assert [(name, year) for name, year, _ in placed] == [(f"{table}_y{y}", y) for y, _ in before[table]]
            # the application's role may read each partition directly too (pg_dump, run as that role, locks them)
            for name in partitions_of(conn, table):
                assert conn.execute(
                    sa.text("SELECT has_table_privilege(:r, :t, 'SELECT')"), {"r": APP_ROLE, "t": name}
                ).scalar()
        # a year-scoped list reads one partition only
        plan = _plan(
            conn,
            "SELECT i.id FROM indicator i JOIN indicator_result r ON r.indicator_id = i.id AND r.year = i.year "
            "WHERE i.year = :y AND NOT r.met ORDER BY i.id LIMIT 50",
            y=YEAR,
        )
        assert _relations(plan) == {f"indicator_y{YEAR}", f"indicator_result_y{YEAR}"}

    # a result's year is kept its indicator's by the composite key
    with owner.connect() as conn:
        ind = conn.execute(sa.text("SELECT id, project_id FROM indicator WHERE year = :y LIMIT 1"), {"y": YEAR}).one()
        with pytest.raises(sa.exc.IntegrityError, match="fk_indicator_result_indicator_id_indicator"):
            conn.execute(sa.text("UPDATE indicator_result SET year = year - 1 WHERE indicator_id = :i"), {"i": ind.id})
        conn.rollback()
        # monitoring_entry keeps its key to the indicator (its year filled by the trigger)
        entry = conn.execute(sa.text("SELECT indicator_id, indicator_year FROM monitoring_entry LIMIT 1")).one()
        assert entry.indicator_year == YEAR
        conn.execute(sa.text("DELETE FROM indicator_result WHERE indicator_id = :i"), {"i": entry.indicator_id})
        with pytest.raises(sa.exc.IntegrityError, match='on table "monitoring_entry"'):
            conn.execute(sa.text("DELETE FROM indicator WHERE id = :i"), {"i": entry.indicator_id})
        conn.rollback()

    # the application (its own role) works on it: the ORM writes without knowing the new columns, a
    # year without a partition lands in DEFAULT, and the statistics follow
    app = sa.create_engine(as_app_role(str(owner.url.render_as_string(hide_password=False))), pool_size=1)
    try:
        with Session(app, expire_on_commit=False) as session:
            unit = factories.unit(session, "新年度单位")
            session.add(FiscalYear(year=YEAR + 5))
            session.commit()
            far = Project(year=YEAR + 5, unit_id=unit.id, project_code="P-far", name="远年项目", budget=Decimal("1"))
            session.add(far)
            session.commit()
            far_indicator = indicator(far, 1, "output", "远年指标", "≥1个")
            session.add(far_indicator)
            session.commit()
            from app.services import evaluations

            evaluations.ensure_evaluations(session=session, year=YEAR + 5)
            far_ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == far.id)).one()
            session.add(
                IndicatorResult(
                    self_evaluation_id=far_ev.id, indicator_id=far_indicator.id, year=YEAR + 5, actual="0个", met=False
                )
            )
            session.commit()
            first = session.exec(select(Indicator).where(Indicator.year == YEAR)).first()
            entries_before = len(session.exec(select(MonitoringEntry)).all())
            assert entries_before > 0 and first is not None
        with app.connect() as conn:
            where = conn.execute(
                sa.text("SELECT tableoid::regclass::text FROM indicator WHERE year = :y"), {"y": YEAR + 5}
            ).scalar()
            assert where == "indicator_default"
    finally:
        app.dispose()

    # running it again gives the year that came into DEFAULT its partition, its rows moved there, and
    # adds the next year's; rows, statistics and keys stay as they were
    with owner.connect() as conn:
        between = _counts(conn)
        keys_between = _foreign_keys(conn)
    with owner.begin() as conn:
        again = partition.partition_by_year(conn)
    assert again.done == "already" and again.years == [YEAR + 5, YEAR + 6]
    with owner.connect() as conn:
        where = conn.execute(
            sa.text("SELECT tableoid::regclass::text FROM indicator WHERE year = :y"), {"y": YEAR + 5}
        ).scalar()
        assert where == f"indicator_y{YEAR + 5}"
        assert conn.execute(sa.text("SELECT count(*) FROM indicator_default")).scalar() == 0
        assert _counts(conn) == between
        assert _foreign_keys(conn) == keys_between
        for table in TABLES:
            assert f"{table}_y{YEAR + 5}" in partition.partitions(conn, table)
        ind = conn.execute(sa.text("SELECT id FROM indicator WHERE year = :y LIMIT 1"), {"y": YEAR}).scalar()
        with pytest.raises(sa.exc.IntegrityError, match="fk_indicator_result_indicator_id_indicator"):
            conn.execute(sa.text("UPDATE indicator_result SET year = year - 1 WHERE indicator_id = :i"), {"i": ind})
        conn.rollback()
    with owner.connect() as conn:
        for table in TABLES:
            granted = conn.execute(
                sa.text("SELECT has_table_privilege(:r, :t, 'INSERT')"), {"r": APP_ROLE, "t": f"{table}_y{YEAR + 6}"}
            ).scalar()
            assert granted

    with owner.begin() as conn:
        assert partition.unpartition(conn).done == "unpartitioned"
    with owner.connect() as conn:
        assert not any(partition.is_partitioned(conn, t) for t in TABLES)
        keys = dict(
            conn.execute(
                sa.text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid IN "
                    "('indicator'::regclass, 'indicator_result'::regclass, 'monitoring_entry'::regclass)"
                )
            ).all()
        )
        assert keys["pk_indicator"] == "PRIMARY KEY (id)"
        assert keys["uq_indicator_result_indicator_id"] == "UNIQUE (indicator_id)"
        assert (
            keys["fk_monitoring_entry_indicator_id_indicator"] == "FOREIGN KEY (indicator_id) REFERENCES indicator(id)"
        )
        after = _counts(conn)
    assert after == between  # every row and statistic back in the plain tables


def test_sqlite_is_refused(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn, pytest.raises(RuntimeError, match="PostgreSQL"):
        partition.partition_by_year(conn)


def test_the_step_is_an_alembic_line_of_its_own(owner):
    """`jixiao db partition` is recorded on the database as the revision of the partition line
    (alembic_version_partition, `alembic -n partition current`); the main line stays current, so the
    server still starts; running it again only adds the years' partitions; `jixiao db unpartition`
    takes the line back to base."""
    from tests.test_settings_cli import run_cli

    _world(owner)
    url = owner.url.render_as_string(hide_password=False)
    env = {"DATABASE_URL": url}
    done = run_cli("db", "partition", env=env)
    assert done.returncode == 0, done.stderr
    assert "已按年度分区" in done.stdout
    with owner.connect() as conn:
        assert partition.recorded(conn)
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version_partition")).scalar() == "9a0b1c2d3e4f"
        assert all(partition.is_partitioned(conn, t) for t in TABLES)
    current = subprocess.run(
        [sys.executable, "-m", "alembic", "-n", "partition", "current"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
    )
    assert current.returncode == 0 and "9a0b1c2d3e4f" in current.stdout, current.stderr

    from app.cli import schema_is_current
    from app.settings import load_settings

    assert schema_is_current(owner, load_settings(DATABASE_URL=url))  # `jixiao serve` starts

    again = run_cli("db", "partition", env=env)
    assert again.returncode == 0 and "已经按年度分区" in again.stdout, again.stderr

    # each deployment's `jixiao migrate` adds the partition of a year that has come (and of the next)
    with Session(owner) as session:
        session.add(FiscalYear(year=YEAR + 3))
        session.commit()
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0 and f"新建的年度分区 {YEAR + 3}、{YEAR + 4}" in migrated.stdout, (
        migrated.stdout + migrated.stderr
    )
    with owner.connect() as conn:
        assert f"indicator_y{YEAR + 4}" in partition.partitions(conn, "indicator")

    undone = run_cli("db", "unpartition", env=env)
    assert undone.returncode == 0 and "已恢复为普通表" in undone.stdout, undone.stderr
    with owner.connect() as conn:
        assert not partition.recorded(conn)
        assert not any(partition.is_partitioned(conn, t) for t in TABLES)
