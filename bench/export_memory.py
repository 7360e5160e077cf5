"""Streamed export in constant memory: peak RSS of a full-year CSV export of 10,000 and of
100,000 projects, each measured in a fresh process, on SQLite and (when one is found) PostgreSQL.

The child process builds the app, warms it up (imports, first queries, an empty export), notes
its peak RSS so far, then drives GET /api/v1/projects?year=…&format=csv through the ASGI app
directly, discarding the body as it arrives and counting its rows. A streamed export's peak
stays where the warm-up left it, whatever the number of rows; a buffered one grows with them.

Run: .venv/bin/python -m bench.export_memory [SIZE ...]   (or make bench)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

FLAT_RATIO = 1.25  # peak at the largest size / peak at the smallest: above this it is not flat
EMPTY_YEAR = 2099


def seed(url: str, sizes: list[int]) -> str:
    """Projects (with self-evaluations) in one year per size; returns a finance token."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from app.db import make_engine
    from app.models import Department, FiscalYear, Project, ScoringTemplate, SelfEvaluation, Unit
    from app.services import tokens
    from app.settings import load_settings
    from tests.conftest import migrate

    migrate(url)
    engine = make_engine(load_settings(DATABASE_URL=url, DB_POOL_SIZE=2))
    with Session(engine) as session:
        dept = Department(name="基准测试主管部门", code="B00")
        template = ScoringTemplate(name="national-2020", version=1, settings={})
        session.add_all([dept, template, FiscalYear(year=EMPTY_YEAR)])
        session.flush()
        units = [
            Unit(name=f"基准单位{n:03d}", name_key=f"基准单位{n:03d}", code=f"B{n:03d}", department_id=dept.id)
            for n in range(100)
        ]
        session.add_all(units)
        session.flush()
        for offset, size in enumerate(sizes):
            year = 2000 + offset
            session.add(FiscalYear(year=year))
            session.flush()
            first_id = session.execute(sa.select(sa.func.coalesce(sa.func.max(Project.id), 0))).scalar_one() + 1
            for start in range(0, size, 10_000):
                batch = range(start, min(size, start + 10_000))
                session.execute(
                    sa.insert(Project.__table__),
                    [
                        {
                            "id": first_id + n,
                            "year": year,
                            "unit_id": units[n % 100].id,
                            "project_code": f"Y{year}-{n:07d}",
                            "name": f"基准项目第{n}号（购置、运维与监测经费）",
                            "position": n,
                            "code_generated": False,
                            "budget": Decimal("1234.567891"),
                            "spent": Decimal(n % 1500),
                            "budget_entered_by_unit": False,
                            "warnings": [],
                            "created_at": _now(),
                            "updated_at": _now(),
                        }
                        for n in batch
                    ],
                )
                session.execute(
                    sa.insert(SelfEvaluation.__table__),
                    [
                        {
                            "project_id": first_id + n,
                            "year": year,
                            "status": "submitted",
                            "template_id": template.id,
                            "execution_rate": Decimal("97.3512"),
                            "total_score": Decimal("88.50"),
                            "grade": "良",
                            "flags": ["execution_low"],
                            "declared": {},
                            "version": 1,
                            "created_at": _now(),
                            "updated_at": _now(),
                        }
                        for n in batch
                    ],
                )
            if engine.dialect.name == "postgresql":
                session.execute(sa.text("SELECT setval('project_id_seq', (SELECT max(id) FROM project))"))
        session.commit()
        _, secret = tokens.create_token(session=session, role="finance", name="bench")
    engine.dispose()
    return secret


def _now():
    from app.sqltypes import utcnow

    return utcnow()


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def _get(app, path: str, query: str, token: str) -> tuple[int, int, int]:
    """(status, bytes, lines) of one request, the body discarded chunk by chunk."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    result = {"status": 0, "bytes": 0, "lines": 0}
    requested = False
    done = asyncio.Event()

    async def receive():
        # The request once; then, like a real server, nothing until the response is over.
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            result["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            result["bytes"] += len(body)
            result["lines"] += body.count(b"\n")
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return result["status"], result["bytes"], result["lines"]


def child(url: str, token: str, year: int) -> None:
    from app.main import create_app
    from app.settings import load_settings

    app = create_app(load_settings(DATABASE_URL=url, JIXIAO_ENV="test", SECRET_KEY="bench-secret-0123456789"))
    # Warm-up: imports, compiled queries, the CSV path itself, on a year without rows.
    asyncio.run(_get(app, "/api/v1/projects", f"year={year}&limit=1000", token))
    asyncio.run(_get(app, "/api/v1/projects", f"year={EMPTY_YEAR}&format=csv", token))
    baseline = peak_rss_kib()
    start = time.perf_counter()
    status, size, lines = asyncio.run(_get(app, "/api/v1/projects", f"year={year}&format=csv", token))
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "status": status,
                "rows": lines - 1,
                "bytes": size,
                "baseline_kib": baseline,
                "peak_kib": peak_rss_kib(),
                "seconds": elapsed,
            }
        )
    )


def measure(url: str, token: str, year: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.export_memory", "--child", url, token, str(year)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"export child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--child", nargs=3, metavar=("URL", "TOKEN", "YEAR"), help=argparse.SUPPRESS)
    parser.add_argument("--no-postgres", action="store_true", help="只测 SQLite")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0

    from tests import pg

    sizes = sorted(args.sizes)
    targets = [("sqlite", f"sqlite:///{Path(tempfile.mkdtemp(prefix='jixiao-export-')) / 'bench.db'}", None)]
    server = None
    if not args.no_postgres:
        server, why = pg.find_server()
        if server is None:
            print(f"(PostgreSQL skipped: {why})")
        else:
            raw = server.create_database("jixiao_bench")
            targets.append(("postgresql", raw.replace("postgresql://", "postgresql+psycopg://"), raw))
    flat = True
    print(
        f"{'database':<12}{'rows':>9}{'CSV MiB':>9}{'seconds':>9}{'RSS before MiB':>16}{'peak RSS MiB':>14}"
        f"{'growth MiB':>12}"
    )
    try:
        for db, url, raw in targets:
            token = seed(url, sizes)
            results = []
            for offset, size in enumerate(sizes):
                r = measure(url, token, 2000 + offset)
                if r["status"] != 200 or r["rows"] != size:
                    sys.exit(f"{db}: export of {size} rows returned status {r['status']} and {r['rows']} rows")
                results.append(r)
                print(
                    f"{db:<12}{size:>9,}{r['bytes'] / 2**20:>9.1f}{r['seconds']:>9.1f}"
                    f"{r['baseline_kib'] / 1024:>16.1f}{r['peak_kib'] / 1024:>14.1f}"
                    f"{(r['peak_kib'] - r['baseline_kib']) / 1024:>12.1f}"
                )
            if len(results) >= 2:
                ratio = results[-1]["peak_kib"] / results[0]["peak_kib"]
                verdict = "flat" if ratio <= FLAT_RATIO else "NOT FLAT"
                flat &= ratio <= FLAT_RATIO
                print(
                    f"{db}: peak RSS at {sizes[-1]:,} rows / at {sizes[0]:,} rows = {ratio:.2f} "
                    f"({sizes[-1] // sizes[0]}x the rows) -> {verdict}"
                )
            if raw is not None:
                server.drop_database(raw)
    finally:
        if server is not None:
            server.stop()
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
