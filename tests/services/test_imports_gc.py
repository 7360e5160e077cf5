"""While an import runs, the cyclic garbage collector's first threshold is raised (an import keeps a few
objects per row alive until its batch is written; at Python's 700 the collector ran thousands of times a
file); it is restored when the import ends — also when it fails, and only at the last of several."""

from __future__ import annotations

import csv
import gc
import threading
from pathlib import Path

import pytest

from app.services import imports
from bench.tables import HEADER, rows


def _table(path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(50))
    return path


@pytest.fixture
def default_threshold():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_threshold_is_raised_during_an_import_and_restored_after(session, tmp_path, default_threshold):
    seen: list[tuple[int, int, int]] = []
    report = imports.import_file(
        session=session,
        path=_table(tmp_path / "t.csv"),
        filename="t.csv",
        year=2024,
        on_progress=lambda *_: seen.append(gc.get_threshold()),
    )
    assert report.ok, report.errors
    assert seen and all(t == (imports.IMPORT_GC_THRESHOLD, 10, 10) for t in seen)
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_import_fails(session, tmp_path, default_threshold, monkeypatch):
    def broken(self):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports._Writer, "finish", broken)
    with pytest.raises(RuntimeError):
        imports.import_file(session=session, path=_table(tmp_path / "t.csv"), filename="t.csv", year=2024)
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_imports_restore_it_once_the_last_ends(default_threshold):
    first_in, second_done, release = threading.Event(), threading.Event(), threading.Event()

    def first():
        with imports.fewer_collections():
            first_in.set()
            release.wait(10)

    t = threading.Thread(target=first)
    t.start()
    first_in.wait(10)
    with imports.fewer_collections():
        assert gc.get_threshold()[0] == imports.IMPORT_GC_THRESHOLD
    second_done.set()
    assert gc.get_threshold()[0] == imports.IMPORT_GC_THRESHOLD  # the first import still runs
    release.set()
    t.join(10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_disabled_or_higher_threshold_is_left_alone(default_threshold):
    for threshold in ((0, 10, 10), (500_000, 10, 10)):
        gc.set_threshold(*threshold)
        with imports.fewer_collections():
            assert gc.get_threshold() == threshold
        assert gc.get_threshold() == threshold
