"""Import limits in the table reader: a zip bomb is refused from the zip directory before anything is
unpacked; rows and cells are capped as they stream, and the refusal names the place."""

from __future__ import annotations

import time
import tracemalloc
import zipfile

import pytest

from app.importers.rows import ReadLimits
from app.importers.tabular import read_table
from tests.importers.xlsx_crafted import HEADER, full_height_sheet, wide_row, zip_bomb

MB = 1024 * 1024


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx")


@pytest.fixture
def no_big_unpacking(monkeypatch):
    """Fails the test as soon as a large member of a zip is opened for reading."""
    real_open = zipfile.ZipFile.open

    def open_checked(self, name, mode="r", *args, **kwargs):
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if mode == "r" and info.file_size > 50 * MB:
            raise AssertionError(f"unpacking {info.filename} ({info.file_size:,} bytes) before checking its size")
        return real_open(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_checked)


def test_a_zip_bomb_is_refused_from_its_directory(bomb, no_big_unpacking):
    assert bomb.stat().st_size < 3 * MB
    tracemalloc.start()
    try:
        result = read_table(bomb.read_bytes(), filename="bomb.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.code for p in result.errors] == ["too_large"]
    message = result.errors[0].message
    assert "1,024 MB" in message and "300 MB" in message and "压缩炸弹" in message
    assert "JIXIAO_IMPORT_MAX_UNCOMPRESSED_BYTES" in message
    assert peak < 20 * MB, f"peak {peak / MB:.0f} MB"


def test_the_unpacked_limit_is_the_callers(tmp_path):
    path = full_height_sheet(tmp_path / "tall.xlsx", rows=40_000)  # about 3 MB unpacked
    refused = read_table(path.read_bytes(), filename="tall.xlsx", limits=ReadLimits(max_uncompressed_bytes=MB))
    assert [e.code for e in refused.errors] == ["too_large"] and "1 MB 的导入上限" in refused.errors[0].message
    read = read_table(path.read_bytes(), filename="tall.xlsx")
    assert [e.code for e in read.errors] == ["empty_file"]  # read through: only blank rows under the header


def test_a_full_height_sheet_stops_at_the_row_limit(tmp_path):
    path = full_height_sheet(tmp_path / "full.xlsx")
    started = time.monotonic()
    result = read_table(path.read_bytes(), filename="full.xlsx", limits=ReadLimits(max_rows=1000))
    assert time.monotonic() - started < 5
    [error] = result.errors
    assert error.code == "too_large" and "1,000 行" in error.message and "JIXIAO_IMPORT_MAX_ROWS" in error.message
    assert (
        error.place.sheet == "绩效目标表" and error.place.row == 1001
    )  # the header is row 1, so data row 1,000 is 1001


def test_a_row_with_too_many_cells_stops_while_it_is_read(tmp_path):
    path = wide_row(tmp_path / "wide.xlsx", cells=200_000)
    result = read_table(path.read_bytes(), filename="wide.xlsx", limits=ReadLimits(max_cells=10_000))
    [error] = result.errors
    assert error.code == "too_large" and "10,000 个" in error.message and "JIXIAO_IMPORT_MAX_CELLS" in error.message
    assert error.place.row == 2


def test_csv_rows_are_capped_too():
    row = "2024,测试局,测试单位,,测试项目,,10,,,产出,数量指标,报告,≥1份,≥1份,10\n"
    data = (",".join(HEADER) + "\n" + row * 500).encode()
    result = read_table(data, filename="t.csv", limits=ReadLimits(max_rows=100))
    assert [e.code for e in result.errors] == ["too_large"] and result.errors[0].place.row == 101
