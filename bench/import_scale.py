"""Import speed: tables of 10,000 and 100,000 indicators (csv and xlsx) into fresh SQLite and
PostgreSQL databases, timed end to end (read, parse every target, match, bulk insert, commit).

Run: .venv/bin/python -m bench.import_scale   (or make bench)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from app.db import make_engine
from app.services import imports
from app.settings import load_settings
from bench.tables import write_csv, write_xlsx
from tests import pg
from tests.conftest import migrate


def timed_import(url: str, path: Path) -> tuple[float, dict]:
    migrate(url)
    engine = make_engine(load_settings(DATABASE_URL=url, DB_POOL_SIZE=2))
    with Session(engine) as session:
        start = time.perf_counter()
        report = imports.import_file(session=session, data=path.read_bytes(), filename=path.name, year=2024)
        elapsed = time.perf_counter() - start
    engine.dispose()
    if not report.ok:
        sys.exit(f"import failed: {report.errors[:3]}")
    return elapsed, dict(report.counts)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    server, why = pg.find_server()
    tmp = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    print(f"{'table':<26}{'database':<12}{'seconds':>9}{'indicators/s':>14}")
    results = {}
    for size in sizes:
        for kind, writer in (("csv", write_csv), ("xlsx", write_xlsx)):
            path = writer(tmp / f"table-{size}.{kind}", size)
            targets = [("sqlite", f"sqlite:///{tmp}/bench-{size}-{kind}.db")]
            if server is not None:
                targets.append(
                    (
                        "postgresql",
                        server.create_database("jixiao_bench").replace("postgresql://", "postgresql+psycopg://"),
                    )
                )
            for db, url in targets:
                seconds, counts = timed_import(url, path)
                assert counts["indicators_created"] == size, counts
                results[(size, kind, db)] = seconds
                print(f"{f'{size:,} indicators ({kind})':<26}{db:<12}{seconds:>9.1f}{size / seconds:>14,.0f}")
                if db == "postgresql":
                    server.drop_database(url.replace("postgresql+psycopg://", "postgresql://"))
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for kind in ("csv", "xlsx"):
            ratio = results[(large, kind, "sqlite")] / results[(small, kind, "sqlite")]
            print(f"scaling {kind} sqlite {large:,}/{small:,}: time ×{ratio:.1f} for ×{large / small:.0f} rows")
    if server is None:
        print(f"(PostgreSQL skipped: {why})")
    else:
        server.stop()


if __name__ == "__main__":
    main()
