"""Year partitions, side by side: 3 years of the province in one PostgreSQL database, plain and
partitioned by year (`jixiao db partition`), the year-scoped queries timed on both in one run.

    python -m bench.partition --scale 0.1 --seconds 4      # 3 × 103,600 indicators
    python -m bench.partition --scale 1                    # 3 × 1,036,000 (issue 14's figure)

One year is built as bench.data builds it (the template imported by jixiao, copied by COPY), then
copied into the two years before it by INSERT … SELECT (ids shifted; the maintained statistics
follow through their triggers). The partitioned database is a copy of the plain one (CREATE
DATABASE … TEMPLATE) on which the partition step runs; its time is reported too. The queries are
the application's own (app.services.queries, as the API runs them); the two databases are timed
in alternating rounds so that the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable

import psycopg
import sqlalchemy as sa
from sqlmodel import Session

from bench import data, pgcluster
from bench.data import YEAR

YEARS = 3
# the copied tables, in order, with the columns shifted by the copy's id offsets
SHIFTED = {
    "project": {"id": "project"},
    "self_evaluation": {"id": "self_evaluation", "project_id": "project"},
    "indicator": {"id": "indicator", "project_id": "project"},
    "indicator_result": {
        "id": "indicator_result",
        "self_evaluation_id": "self_evaluation",
        "indicator_id": "indicator",
    },
}


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def copy_years(url: str) -> dict[str, int]:
    """Copy YEAR's projects, evaluations, indicators and results into the YEARS - 1 years before it."""
    with psycopg.connect(url) as conn:
        top = {t: conn.execute(f"SELECT max(id) FROM {t}").fetchone()[0] for t in SHIFTED}
        for k in range(1, YEARS):
            conn.execute(
                "INSERT INTO fiscal_year (year, created_at) VALUES (%s, now()) ON CONFLICT DO NOTHING", (YEAR - k,)
            )
            for table, shifted in SHIFTED.items():
                cols = _columns(conn, table)
                values = [
                    f"{c} + {k * top[shifted[c]]}" if c in shifted else (f"year - {k}" if c == "year" else c)
                    for c in cols
                ]
                into, select = ", ".join(cols), ", ".join(values)
                conn.execute(f"INSERT INTO {table} ({into}) SELECT {select} FROM {table} WHERE year = {YEAR}")
        for t in SHIFTED:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SHIFTED}


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), pool_size=1)


def scenarios(engine: sa.Engine, rng: random.Random) -> dict[str, Callable[[], object]]:
    from app.security import Principal
    from app.services import queries
    from app.services.queries import IndicatorFilters, ScopeFilters

    with engine.connect() as conn:
        units = conn.execute(
            sa.text("SELECT min(unit_id), max(unit_id) FROM unit_stats WHERE year = :y"), {"y": YEAR}
        ).one()
        lo, hi = conn.execute(sa.text("SELECT min(id), max(id) FROM indicator WHERE year = :y"), {"y": YEAR}).one()
        depts = conn.execute(sa.text("SELECT max(id) FROM department")).scalar()
    finance = Principal(role="finance", name="bench")

    def run(fn):
        def call():
            with Session(engine) as session:
                return fn(session)

        return call

    def unit_indicators(s):
        u = rng.randint(*units)
        unit = Principal(role="unit", name="u", unit_id=u)
        return queries.list_indicators(session=s, principal=unit, filters=IndicatorFilters(year=YEAR), limit=100)

    def year_unmet_first(s):
        return queries.list_indicators(
            session=s, principal=finance, filters=IndicatorFilters(year=YEAR, met=False), limit=50
        )

    def year_unmet_deep(s):
        return queries.list_indicators(
            session=s,
            principal=finance,
            filters=IndicatorFilters(year=YEAR, met=False),
            after=rng.randint(lo, hi),
            limit=50,
        )

    def department_unmet(s):
        d = str(rng.randint(1, depts))
        return queries.list_indicators(
            session=s, principal=finance, filters=IndicatorFilters(year=YEAR, department=d, met=False), limit=100
        )

    def unit_stats(s):
        return queries.unit_stats(
            session=s, principal=finance, filters=ScopeFilters(year=YEAR), after=rng.randint(*units)
        )

    def department_stats(s):
        return queries.department_stats(session=s, principal=finance, filters=ScopeFilters(year=YEAR))

    named = (unit_indicators, year_unmet_first, year_unmet_deep, department_unmet, unit_stats, department_stats)
    return {f.__name__: run(f) for f in named}


def _time(call: Callable[[], object], seconds: float) -> list[float]:
    out = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        rows = call()
        out.append((time.perf_counter() - t) * 1000)
        assert rows is not None
    return out


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.partition", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.1, help="1 = 1,036,000 indicators a year")
    ap.add_argument("--seconds", type=float, default=4, help="per query and database (in 2 rounds)")
    ap.add_argument("--keep", action="store_true", help="keep the two databases")
    args = ap.parse_args(argv)

    from app.services import partition
    from tests.conftest import migrate

    cluster = pgcluster.start()
    made: list[str] = []
    try:
        t = time.perf_counter()
        template = cluster.create_database("jixiao_partbench_template")
        made.append(template)
        migrate(template.replace("postgresql://", "postgresql+psycopg://"))
        data.build_template(template.replace("postgresql://", "postgresql+psycopg://"))
        plain = cluster.create_database("jixiao_partbench_plain")
        made.append(plain)
        migrate(plain.replace("postgresql://", "postgresql+psycopg://"))
        province = data.load_province(template, plain, scale=args.scale)
        counts = copy_years(plain)
        print(f"data: {YEARS} years × {province.indicators:,} indicators: {counts} ({time.perf_counter() - t:.0f} s)")

        name = plain.rsplit("/", 1)[1]
        parted = plain.rsplit("/", 1)[0] + "/" + name.replace("plain", "parted")
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{parted.rsplit("/", 1)[1]}" TEMPLATE "{name}"')
        made.append(parted)
        engines = {"plain": _engine(plain), "partitioned": _engine(parted)}
        t = time.perf_counter()
        with engines["partitioned"].begin() as conn:
            outcome = partition.partition_by_year(conn)
        step = time.perf_counter() - t
        print(f"jixiao db partition: {step:.1f} s ({outcome.rows}; partitions {outcome.years} + DEFAULT)")

        load_before = os.getloadavg()
        rng = {k: random.Random(7) for k in engines}
        calls = {k: scenarios(e, rng[k]) for k, e in engines.items()}
        samples: dict[tuple[str, str], list[float]] = {}
        for scenario in calls["plain"]:
            for _ in range(2):  # alternating rounds
                for kind in engines:
                    calls[kind][scenario]()  # warm
                    samples.setdefault((scenario, kind), []).extend(_time(calls[kind][scenario], args.seconds / 2))
        load_after = os.getloadavg()
        print(
            f"\nload average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
            f"{os.cpu_count()} CPUs; scale {args.scale}\n"
        )
        print("| query | plain median / p95 ms | partitioned median / p95 ms | ratio (median) |")
        print("|---|---|---|---|")
        for scenario in calls["plain"]:
            p, q = _ms(samples[(scenario, "plain")]), _ms(samples[(scenario, "partitioned")])
            print(f"| {scenario} | {p[0]:.2f} / {p[1]:.2f} | {q[0]:.2f} / {q[1]:.2f} | {q[0] / p[0]:.2f}× |")
        for e in engines.values():
            e.dispose()
    finally:
        if not args.keep:
            for url in reversed(made):
                cluster.drop_database(url)
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
