"""The import bench's reference (bench/bulk.py): the rows an import created, COPY'd into a fresh
database built by the migrations, are the same rows — every table of the schema holds as many rows
there as in the imported database (unit_stats rebuilt by the triggers, not copied)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.db import make_engine
from app.services import imports
from app.settings import load_settings
from bench.bulk import DERIVED_TABLES, copy_imported_rows, table_counts
from bench.tables import write_csv
from tests.conftest import migrate

pytestmark = pytest.mark.postgres


def test_the_reference_copies_the_rows_the_import_created(pg_server, tmp_path):
    source, target = pg_server.create_database(), pg_server.create_database()
    try:
        for url in (source, target):
            migrate(url.replace("postgresql://", "postgresql+psycopg://"))
        path = write_csv(tmp_path / "province.csv", 730)
        engine = make_engine(load_settings(DATABASE_URL=source.replace("postgresql://", "postgresql+psycopg://")))
        with Session(engine) as session:
            report = imports.import_file(session=session, path=path, filename=path.name, year=2024)
        engine.dispose()
        assert report.ok, report.errors
        loaded = copy_imported_rows(source, target, spool=tmp_path)
        assert loaded["rows"]["indicator"] == report.counts["indicators_created"] == 730
        assert loaded["rows"]["project"] == report.counts["projects_created"] == 73
        assert loaded["rows"]["self_evaluation"] == 73
        assert not set(DERIVED_TABLES) & set(loaded["rows"])
        counts = table_counts(target)
        assert counts == table_counts(source)
        assert all(counts[name] for name in DERIVED_TABLES)  # the triggers filled them
        assert list(tmp_path.glob("*.copy")) == []
    finally:
        pg_server.drop_database(source)
        pg_server.drop_database(target)
