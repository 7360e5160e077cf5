"""The import's caches and COPY rows give what the uncached, row-by-row path gives: the parse
cache equals parse_target over the real seed strings and random texts, and the indicator rows
written by COPY on PostgreSQL (tuples, JSON as text) hold the values of _indicator_values' dicts,
with the same warnings in the report."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest

from app.domain.targets import parse_target
from app.importers.rows import ReadResult
from app.importers.tabular import iter_table
from app.services import imports
from app.services.target_tables import indicator_columns
from bench.tables import csv_bytes, target_values

PIECES = ["≥", "≤", ">", "<", "=", "95", "100", "0.5", "1,000", "%", "％", "个", "次", "万元", "元", "人次",
          "提升", "有所提高", "不低于", "以上", "达到", "2024年12月底前", "2023年6月", "明显", "好", " ", "-",
          "～", "万", "亿", "天", "小时", "合格", "优良", "≥90%", "100%"]  # fmt: skip


def _texts() -> list[str]:
    rng = random.Random(14)
    made = ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5))) for _ in range(1500)]
    return [*target_values(), *made, "", " "]


@pytest.mark.parametrize("year", [2024, 2025])
def test_the_parse_cache_equals_an_uncached_parse(year):
    imports._parse.cache_clear()
    imports._target_part.cache_clear()
    texts = _texts()
    assert len(set(texts)) > 1000
    for text in texts * 2:  # the second time from the cache
        assert imports._parse(text, year) == parse_target(text, year=year), text
    rng = random.Random(3)
    for _ in range(2000):
        annual, period = rng.choice(texts), rng.choice([*texts[:50], None])
        expected = indicator_columns(
            year=year,
            level1="",
            level2=None,
            level2_name=None,
            name="",
            period_target=period,
            annual_target=annual,
            weight=None,
            position=0,
            parse=parse_target,
        )
        assert imports._target_part(annual, period, year) == expected, (annual, period)
    assert imports._parse.cache_info().hits > 0


def _projects(data: bytes):
    found = ReadResult()
    projects = list(iter_table(data, found, filename="t.csv"))
    assert not found.errors
    return projects


def test_copy_rows_hold_the_values_of_the_row_dicts():
    # the bench's table (the real seed targets), and rows with weights, unknown 二级, low-confidence targets
    projects = _projects(csv_bytes(700))
    rng = random.Random(5)
    texts = _texts()
    for p in projects[::3]:
        for row in p.indicators:
            row.annual_target = rng.choice(texts) or None
            row.period_target = rng.choice([*texts[:30], None])
            row.weight = rng.choice([None, Decimal("12.5"), Decimal("0")])
            if rng.random() < 0.2:
                row.level2, row.level2_raw = None, "自拟二级" * rng.randint(1, 30)
    ids = list(range(101, 101 + len(projects)))
    by_dicts = imports.ImportReport(file="t.csv", year=2024, dry_run=True)
    by_tuples = imports.ImportReport(file="t.csv", year=2024, dry_run=True)
    dicts = [v for pid, p in zip(ids, projects, strict=True) for v in imports._indicator_values(pid, 2024, p, by_dicts)]
    names, tuples = imports._indicator_copy_rows(ids, projects, 2024, by_tuples)
    assert len(tuples) == len(dicts) == sum(len(p.indicators) for p in projects)
    assert set(names) == set(dicts[0]) and len(names) == len(dicts[0])
    as_json = {"warnings", "target_warnings"}
    assert as_json <= imports._INDICATOR_JSON
    for values, row in zip(dicts, tuples, strict=True):
        got = dict(zip(names, row, strict=True))
        for name in as_json:
            assert isinstance(got[name], str) and json.loads(got[name]) == values[name]
        assert {k: v for k, v in got.items() if k not in as_json} == {
            k: v for k, v in values.items() if k not in as_json
        }
    assert by_tuples.warnings == by_dicts.warnings and by_tuples.untold == by_dicts.untold
    assert any(json.loads(dict(zip(names, r, strict=True))["warnings"]) for r in tuples)  # some warned
