"""A large table is imported as a stream: read project by project and written in batches inside the one
transaction (COPY on PostgreSQL), never held whole — and still all or nothing, every problem at its place.

The batch size is made small here so that a table of a few hundred rows spans several batches."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.models import Indicator, Project, SelfEvaluation
from app.services import imports
from bench.tables import HEADER, rows

INDICATORS = 300


def _table(path: Path, *, broken_at: int | None = None) -> Path:
    """A table of INDICATORS rows (10 per project); `broken_at`: that data row loses its 三级指标."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for n, row in enumerate(rows(INDICATORS), start=1):
            if n == broken_at:
                row[HEADER.index("三级指标")] = ""
            writer.writerow(row)
    return path


@pytest.fixture
def small_batches(monkeypatch):
    batches: list[int] = []
    real = imports._Writer.add

    def add(self, batch):
        batches.append(sum(len(p.indicators) for p in batch))
        return real(self, batch)

    monkeypatch.setattr(imports, "BATCH_ROWS", 40)
    monkeypatch.setattr(imports._Writer, "add", add)
    return batches


def _count(session, model) -> int:
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_a_table_is_written_in_batches_from_its_path(session, tmp_path, small_batches):
    path = _table(tmp_path / "province.csv")
    report = imports.import_file(session=session, path=path, filename=path.name, year=2024)
    assert report.ok and report.committed, report.errors[:3]
    assert report.counts["indicators_created"] == INDICATORS and report.counts["projects_created"] == 30
    # several batches, none holding the whole table
    assert len(small_batches) >= INDICATORS // 40 and max(small_batches) < INDICATORS, small_batches
    assert _count(session, Indicator) == INDICATORS
    assert _count(session, Project) == 30 and _count(session, SelfEvaluation) == 30
    # the rows written by batch read back as the row-by-row path wrote them: in order, with their parse
    first = session.execute(
        sa.select(Indicator.position, Indicator.target_kind, Indicator.annual_target).order_by(Indicator.id).limit(3)
    ).all()
    assert [r.position for r in first] == [1, 2, 3] and all(r.target_kind for r in first)
    positions = session.execute(sa.select(Project.position).order_by(Project.id)).scalars().all()
    assert positions == list(range(1, 31))


def test_an_error_after_several_batches_writes_nothing_and_says_where(session, tmp_path, small_batches):
    path = _table(tmp_path / "late-error.csv", broken_at=INDICATORS - 5)
    report = imports.import_file(session=session, path=path, filename=path.name, year=2024)
    assert not report.ok and not report.committed
    [error] = report.errors
    assert error["code"] == "missing_indicator_name"
    # the row as Excel shows it (the header is row 1), the column as written
    assert error["place"]["row"] == INDICATORS - 5 + 1 and error["place"]["column"] == "三级指标", error
    assert len(small_batches) >= 2  # batches went to the database before the error was read
    session.rollback()
    assert _count(session, Indicator) == 0 and _count(session, Project) == 0 and _count(session, SelfEvaluation) == 0


@pytest.mark.parametrize("column, code", [("三级指标", "missing_indicator_name"), ("单位名称", "missing_unit")])
def test_a_bad_last_row_writes_nothing(session, tmp_path, small_batches, column, code):
    # the last row repeats its project's cells but one (csv rows that repeat them are read by a short path)
    path = tmp_path / "last-row.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        table = list(rows(INDICATORS))
        table[-1][HEADER.index(column)] = ""
        writer.writerows(table)
    report = imports.import_file(session=session, path=path, filename=path.name, year=2024)
    assert not report.ok and not report.committed
    [error] = report.errors
    assert error["code"] == code and "为空" in error["message"], error
    assert error["place"]["row"] == INDICATORS + 1 and error["place"]["column"] == column, error
    assert error["where"] and "第" in error["where"], error
    assert len(small_batches) >= 2
    session.rollback()
    assert _count(session, Indicator) == 0 and _count(session, Project) == 0 and _count(session, SelfEvaluation) == 0


def test_bytes_and_path_import_the_same(session, tmp_path):
    path = _table(tmp_path / "same.csv")
    by_path = imports.import_file(session=session, path=path, filename=path.name, year=2024, dry_run=True)
    by_bytes = imports.import_file(session=session, data=path.read_bytes(), filename=path.name, year=2024, dry_run=True)
    assert by_path.ok and by_bytes.ok and not by_path.committed
    assert by_path.counts == by_bytes.counts and by_path.warnings == by_bytes.warnings
    session.rollback()
    assert _count(session, Indicator) == 0


def test_warnings_past_the_limit_are_counted_by_kind(session, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "MAX_WARNINGS", 3)
    path = _table(tmp_path / "warned.csv")
    report = imports.import_file(session=session, path=path, filename=path.name, year=2024, dry_run=True)
    assert report.ok
    *told, last = report.warnings
    assert len(told) == 3 and last["code"] == "more_warnings" and "另有" in last["message"], last
