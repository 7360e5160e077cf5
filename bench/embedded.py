"""The embedded default: the same province copied from PostgreSQL into SQLite (a database built by
the same Alembic migrations), and jixiao run on it with the same requests. Datasette, the peer the
issue names on SQLite, is not in this machine's package index, so jixiao on SQLite is measured
against jixiao on PostgreSQL and against the floor of the same run."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def copy_to_sqlite(pg_url: str) -> tuple[str, float]:
    """Every table, in dependency order, read and written through SQLAlchemy Core (types converted
    by the models' own column types); the SQLite file is migrated first."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401 - the tables
    from tests.conftest import migrate

    start = time.perf_counter()
    path = Path(tempfile.mkdtemp(prefix="jixiao-bench-sqlite-")) / "jixiao.db"
    url = f"sqlite:///{path}"
    migrate(url)
    src = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    dst = sa.create_engine(url)
    # tables the migrations fill themselves (scoring templates, …) are replaced by the source's rows
    with src.connect() as s, dst.begin() as d:
        d.exec_driver_sql("PRAGMA foreign_keys = OFF")
        names = set(sa.inspect(src).get_table_names())
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in names:
                continue
            d.execute(table.delete())
            result = s.execution_options(stream_results=True, yield_per=5000).execute(sa.select(table))
            for part in result.mappings().partitions(5000):
                d.execute(table.insert(), [dict(r) for r in part])
    with dst.begin() as d:
        d.exec_driver_sql("ANALYZE")
    src.dispose()
    dst.dispose()
    return url, time.perf_counter() - start
