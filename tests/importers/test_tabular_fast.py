"""The csv reader's fast paths (tabular.FAST_PATHS: the records loop, _ProjectBuilder._fast_indicator)
give exactly what the general steps give: the same projects, indicators, places, problems (in the same
order), progress calls and refusals — on the bench's table and on random tables full of the cases the
general steps treat specially (blank and whitespace cells, missing targets, odd 分值, unknown or
mismatched categories, short rows, repeated project cells that differ, blank rows, packed and split
columns, every encoding Excel writes)."""

from __future__ import annotations

import csv
import io
import random

import pytest

from app.importers import tabular
from app.importers.rows import ReadLimits, ReadResult
from app.importers.tabular import HEADERS, iter_table, read_table
from bench.tables import write_csv as write_bench_csv

LEVELS = ["1-产出指标", "产出", " 2-效益指标 ", "效益指标", "3-满意度指标", "9-未知指标", "", "  ", "１-产出指标"]
LEVEL2S = ["11-数量指标", "数量", "12-质量指标", "22-社会效益", "31-服务对象满意度", "不存在", "", " ", "13-时效指标 "]
NAMES = ["培训人次", " 设备完好率 ", "", "   ", "服务对象满意度", "监测\n报告数", "数量（≥**个）"]
TARGETS = ["≥95%", "100%", "", " ", "提升", "2025年12月31日前", "≥12期", " 全部符合 ", "22000家次"]
WEIGHTS = ["", " ", "10", "10分", "１０", "22.5", "abc", "1,000", "NaN", "-5", " 7 "]
UNITS = [("某某中心", "U1"), ("某某站", ""), ("", "U3"), ("某某所", "U4")]
PROJECTS = [("培训经费", "P1"), ("购置经费", ""), ("", "P3"), ("维修经费", "P4")]


def random_rows(rng: random.Random, n: int) -> list[list[str]]:
    rows: list[list[str]] = []
    base: list[str] | None = None
    for _ in range(n):
        roll = rng.random()
        if base is None or roll < 0.15:  # a new project
            unit, code = rng.choice(UNITS)
            project, pcode = rng.choice(PROJECTS)
            base = [
                rng.choice(["2024", "2024年", "", "二〇二四"]),
                rng.choice(["某某局", "", " "]),
                unit,
                code,
                project,
                pcode,
                rng.choice(["56022.2398", "", "3,309,840.00元", "x", "-1"]),
                rng.choice(["", "周期目标"]),
                rng.choice(["", "年度目标。"]),
            ]
        project_cells = list(base)
        if rng.random() < 0.05:  # the same project with a cell that differs (a warning)
            project_cells[rng.choice([0, 1, 6, 8])] = rng.choice(["2023", "另一局", "9", "别的目标"])
        row = [
            *project_cells,
            rng.choice(LEVELS[:5] if rng.random() < 0.8 else LEVELS),
            rng.choice(LEVEL2S[:5] if rng.random() < 0.8 else LEVEL2S),
            rng.choice(NAMES[:2] if rng.random() < 0.8 else NAMES),
            rng.choice(TARGETS[:3] if rng.random() < 0.8 else TARGETS),
            rng.choice(TARGETS[:3] if rng.random() < 0.8 else TARGETS),
            rng.choice(WEIGHTS[:3] if rng.random() < 0.7 else WEIGHTS),
        ]
        if rng.random() < 0.03:
            row = row[: rng.randint(0, len(row) - 1)]  # a short row
        if rng.random() < 0.03:
            row = [rng.choice(["", " "]) for _ in row]  # a blank row
        rows.append(row)
    return rows


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig", delimiter=",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def both_ways(monkeypatch, data, *, filename="t.csv", limits=None):
    """(what the fast paths give, what the general steps give): projects, problems, progress calls."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(tabular, "FAST_PATHS", fast)
        calls: list = []
        result = read_table(data, filename=filename, limits=limits, on_progress=lambda *a, calls=calls: calls.append(a))
        streamed = ReadResult()
        projects = list(iter_table(data, streamed, filename=filename, limits=limits))
        out.append((result.projects, result.problems, calls, projects, streamed.problems))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_read_the_same_both_ways(monkeypatch, seed):
    rng = random.Random(seed)
    rows = random_rows(rng, 400)
    encoding = ["utf-8-sig", "utf-8", "gb18030"][seed % 3]
    fast, general = both_ways(monkeypatch, csv_bytes(rows, encoding=encoding))
    assert fast == general
    assert general[0] or general[1]  # the table was read (or refused) at all


def test_the_bench_table_reads_the_same_both_ways(monkeypatch, tmp_path):
    path = write_bench_csv(tmp_path / "province.csv", 3000)
    fast, general = both_ways(monkeypatch, path, filename="province.csv")
    assert fast == general
    assert sum(len(p.indicators) for p in general[0]) == 3000


def test_tables_without_the_weight_column_packed_or_split_read_the_same(monkeypatch):
    rng = random.Random(99)
    rows = random_rows(rng, 200)
    no_weight = [r[:14] for r in rows]
    fast, general = both_ways(monkeypatch, csv_bytes(no_weight, headers=HEADERS[:14]))
    assert fast == general
    packed_headers = [*HEADERS[:9], "绩效指标"]
    packed = [[*r[:9], "1、1-产出指标；11-数量指标；培训人次；实施周期指标值:≥12期；年度指标值:≥4期。"] for r in rows]
    fast, general = both_ways(monkeypatch, csv_bytes(packed, headers=packed_headers))
    assert fast == general
    split_headers = [*HEADERS[:12], "指标性质", "指标值", "度量单位", "分值"]
    split = [
        [*r[:12], rng.choice(["≥", "=", ""]), rng.choice(["95", "", "x"]), "%", r[14] if len(r) > 14 else ""]
        for r in rows
    ]
    fast, general = both_ways(monkeypatch, csv_bytes(split, headers=split_headers, delimiter=";"))
    assert fast == general


def test_the_row_and_cell_limits_refuse_at_the_same_place(monkeypatch):
    rows = random_rows(random.Random(5), 300)
    data = csv_bytes(rows)
    for limits in (ReadLimits(max_rows=120), ReadLimits(max_cells=2000)):
        fast, general = both_ways(monkeypatch, data, limits=limits)
        assert fast == general
        assert any(p.code == "too_large" for p in general[1])
