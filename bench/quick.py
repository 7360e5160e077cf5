"""python -m bench --quick (CI): the query plans of the SQL jixiao emits for each scenario, and the
no-stall test (200 concurrent requests per worker), on a small province. Deterministic: no timing
is judged, only plans and whether every request is answered.

Plans: each captured statement is run under EXPLAIN (ANALYZE, FORMAT JSON) with its own parameters
and `enable_seqscan = off`, so a sequential scan on a big table in the plan means no index can serve
the query, whatever the data's size; and the rows the plan reads and throws away (removed by a
filter or a join filter) are bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIG_TABLES = ("indicator", "indicator_result", "project", "self_evaluation")
# At the quick scale (20,720 indicators, 16,010 results, 2,000 projects): a statement that reads a
# whole big table, or throws away most of what it reads, is over these; one unit's rows are far below.
REMOVED_LIMIT = 1000  # rows read and thrown away (removed by a filter or a join filter)
READ_LIMIT = 5000  # rows the scans of the big tables return
QUICK_SCALE = 0.02


@dataclass
class PlanCheck:
    scenario: str
    step: int
    seq_scans: list[str]
    removed: int
    read: int
    sql: str

    @property
    def ok(self) -> bool:
        return not self.seq_scans and self.removed <= REMOVED_LIMIT and self.read <= READ_LIMIT

    def why(self) -> str:
        parts = []
        if self.seq_scans:
            parts.append(f"sequential scan on {', '.join(self.seq_scans)}")
        if self.removed > REMOVED_LIMIT:
            parts.append(f"{self.removed:,} rows removed by filter (limit {REMOVED_LIMIT:,})")
        if self.read > READ_LIMIT:
            parts.append(f"{self.read:,} rows read from {', '.join(BIG_TABLES)} (limit {READ_LIMIT:,})")
        return "; ".join(parts) or "ok"


def _walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def explain(url: str, executed, scenario: str, step: int) -> PlanCheck:
    """One captured statement (capture.Executed, psycopg style with its parameters), explained."""
    with psycopg.connect(url) as conn:
        conn.execute("SET enable_seqscan = off")
        cur = psycopg.ClientCursor(conn)
        sql = cur.mogrify(executed.sql, executed.params)
        plan = cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").fetchone()[0][0]["Plan"]
        conn.rollback()
    nodes = list(_walk(plan))
    seq = sorted(
        {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES}
    )
    removed = sum(int(n.get("Rows Removed by Filter", 0)) + int(n.get("Rows Removed by Join Filter", 0)) for n in nodes)
    read = sum(
        int(n.get("Actual Rows", 0)) * int(n.get("Actual Loops", 1)) + int(n.get("Rows Removed by Filter", 0))
        for n in nodes
        if n.get("Relation Name") in BIG_TABLES
    )
    return PlanCheck(scenario, step, seq, removed, read, executed.sql)


def captured(w, scenario) -> list:
    """The statements jixiao executed for one request of the scenario (after a warm-up request)."""
    import random

    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import load_settings
    from bench import capture, data

    app = create_app(load_settings(DATABASE_URL=w.sa_url, SECRET_KEY=data.SECRET_KEY, DB_POOL_SIZE=2))
    rng = random.Random(5)
    with TestClient(app) as client:
        for _ in range(2):
            _, (method, path, headers, body) = scenario.make(w, rng)
            with capture.recording() as seen:
                r = client.request(method, path, headers=headers, json=body)
            assert r.status_code == 200, (scenario.name, r.status_code, r.text[:300])
    app.state.engine.dispose()
    return [s for s in seen if not s.executemany and s.sql.lstrip().upper().startswith("SELECT")]


def check_plans(w, names: list[str] | None = None) -> list[PlanCheck]:
    from bench.suite import SCENARIOS

    out = []
    for sc in SCENARIOS:
        if names is not None and sc.name not in names:
            continue
        for n, ex in enumerate(captured(w, sc)):
            out.append(explain(w.url, ex, sc.name, n))
    return out


def check_before(w) -> list[PlanCheck]:
    """The kept 'before' statements (bench/sql/before.json), explained the same way."""
    from bench import capture
    from bench.suite import BEFORE_FILE, SCENARIOS

    out = []
    kept = capture.load(BEFORE_FILE.read_text(encoding="utf-8"))
    rng = __import__("random").Random(3)
    for name, steps in kept.items():
        sc = next(s for s in SCENARIOS if f"{s.name}_before" == name)
        inputs, _ = sc.make(w, rng)
        for n, step in enumerate(steps):
            if not step.sql.lstrip().upper().startswith("SELECT") or any(
                b.kind == "row" or (b.kind == "input" and b.name not in inputs) for b in step.binds
            ):
                continue
            params = [
                capture.convert(inputs[b.name] if b.kind == "input" else b.value, b.type)
                for b in step.binds
                if b.kind in ("input", "const")
            ]
            if len(params) != len(step.binds):
                continue
            sql = step.sql
            for i in range(len(params), 0, -1):
                sql = sql.replace(f"${i}", f"%(p{i})s")
            ex = capture.Executed(
                sql.replace("%(", "\x00").replace("%", "%%").replace("\x00", "%("),
                {f"p{i + 1}": v for i, v in enumerate(params)},
                False,
                [],
            )
            out.append(explain(w.url, ex, name, n))
    return out


# --- no stall -------------------------------------------------------------------------------------------


def no_stall(w, *, per_worker: int = 200, workers: int = 2, timeout: float = 120) -> dict:
    """200 concurrent requests per worker at once against jixiao under uvicorn: every one answered 2xx."""
    import httpx

    from bench.suite import YEAR, start_jixiao

    server = start_jixiao(w)
    try:
        total = per_worker * workers
        units = w.units

        async def go() -> dict:
            limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
            async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=timeout) as client:

                async def one(n: int):
                    token = w.creds.unit_tokens[units[n % len(units)]]
                    try:
                        r = await client.get(
                            f"/api/v1/indicators?year={YEAR}&limit=10", headers={"authorization": f"Bearer {token}"}
                        )
                        return r.status_code
                    except httpx.HTTPError as exc:
                        return type(exc).__name__

                start = time.perf_counter()
                answers = await asyncio.gather(*(one(n) for n in range(total)))
                seconds = time.perf_counter() - start
            counts: dict = {}
            for a in answers:
                counts[str(a)] = counts.get(str(a), 0) + 1
            return {"requests": total, "seconds": round(seconds, 1), "answers": counts}

        result = asyncio.run(go())
        result["worker_restarts"] = server.restarts()
        result["ok"] = result["answers"] == {"200": total} and result["worker_restarts"] == 0
        return result
    finally:
        server.stop()
        Path(server.log.name).unlink(missing_ok=True)


# --- the province for the quick checks --------------------------------------------------------------------


class Quick:
    """A small province (scale 0.02) on the tests' PostgreSQL (tests/pg.py finds or starts one)."""

    def __enter__(self):
        from bench import data
        from bench.suite import world
        from tests.conftest import migrate
        from tests.pg import find_server

        self.server, why = find_server()
        if self.server is None:
            raise RuntimeError(f"no PostgreSQL: {why}")
        self.urls = []
        template = self.server.create_database("jixiao_quick_tpl")
        url = self.server.create_database("jixiao_quick")
        self.urls = [template, url]
        migrate(template.replace("postgresql://", "postgresql+psycopg://"))
        data.build_template(template.replace("postgresql://", "postgresql+psycopg://"))
        migrate(url.replace("postgresql://", "postgresql+psycopg://"))
        province = data.load_province(template, url, scale=QUICK_SCALE)
        creds = data.add_credentials(url, units=province.units)
        self.world = world(url, creds)
        return self

    def __exit__(self, *exc):
        for url in self.urls:
            self.server.drop_database(url)
        self.server.stop()


def main(*, stall: bool = True) -> int:
    with Quick() as q:
        plans = check_plans(q.world)
        before = check_before(q.world)
        stall = no_stall(q.world) if stall else {"ok": True, "skipped": "--no-stall"}
    bad = [p for p in plans if not p.ok]
    for p in plans:
        print(f"plan {p.scenario}[{p.step}]: {p.why()} ({p.read:,} read, {p.removed:,} removed)")
    for p in before:
        print(f"plan (before) {p.scenario}[{p.step}]: {p.why()} ({p.read:,} read, {p.removed:,} removed)")
    print(f"no stall: {json.dumps(stall)}")
    return 0 if not bad and stall["ok"] else 1
