"""Every target string of seed 003 parses to the hand-written expectation.

The expected table (seed003_expected_targets.json) was written by reading each string and
applying shared/domain.md §4 — before the parser existed — so it states the rules, not the
parser's output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.domain.targets import parse_target

# The published table, copied into the repository so the tests run from any clone.
SEED = Path(__file__).resolve().parents[1] / "data" / "seed_003.txt"
EXPECTED_FILE = Path(__file__).with_name("seed003_expected_targets.json")

# One packed indicator: N、1-产出指标；11-数量指标；NAME；实施周期指标值:X；年度指标值:Y。
# One entry of the seed ends its NAME with "。" instead of "；".
PACKED_INDICATOR = re.compile(
    r"(?P<index>\d+)、(?P<level1>[123])-(?:产出|效益|满意度)指标；"
    r"(?P<level2>\d{2})-[^；]+?；(?P<name>.*?)[；。]"
    r"实施周期指标值:(?P<period_target>.*?)；年度指标值:(?P<annual_target>.*?)。"
)


def seed003_text() -> str:
    return SEED.read_text(encoding="utf-8")


def extract_indicators(text: str) -> list[dict[str, str]]:
    """The packed indicators of a published table; PDF line breaks may fall anywhere."""
    joined = text.replace("\r", "").replace("\n", "")
    return [m.groupdict() for m in PACKED_INDICATOR.finditer(joined)]


def load_expected() -> dict[str, dict]:
    data = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))
    return {entry["raw"]: entry for entry in data["expected"]}


INDICATORS = extract_indicators(seed003_text())
EXPECTED = load_expected()


def test_extraction_finds_all_168_indicators_numbered_per_project():
    assert len(INDICATORS) == 168
    # numbering restarts at 1 for each project and never skips: no block was lost or merged
    previous = 0
    projects = 0
    for indicator in INDICATORS:
        index = int(indicator["index"])
        if index == 1:
            projects += 1
        else:
            assert index == previous + 1, indicator
        previous = index
    assert projects == 34


def test_extraction_keeps_the_dirt_of_the_seed():
    names = [i["name"] for i in INDICATORS]
    assert "带动培育省级及以上专精特新企业" in names  # the entry ending its name with "。"
    annual = [i["annual_target"] for i in INDICATORS]
    assert "60分钟 " in annual  # trailing space kept: values are stored raw
    assert "≥9万片" in "".join(annual)  # "月产能\n≥9万片" joined across the line break


def test_the_table_covers_exactly_the_distinct_strings_of_the_seed():
    distinct = {i[key] for i in INDICATORS for key in ("period_target", "annual_target")}
    assert len(distinct) == 143
    assert set(EXPECTED) == distinct


def _comparable(parse: dict) -> dict:
    return {**parse, "warnings": sorted(parse["warnings"])}


@pytest.mark.parametrize("raw", sorted(EXPECTED))
def test_every_seed_target_parses_as_written_by_hand(raw):
    got = parse_target(raw, year=2024).to_json()
    assert _comparable(got) == _comparable(EXPECTED[raw])


def test_every_indicator_of_the_seed_parses_without_error():
    # both values of all 168 indicators, duplicates included
    for indicator in INDICATORS:
        for key in ("period_target", "annual_target"):
            raw = indicator[key]
            parse = parse_target(raw, year=2024)
            assert parse.raw == raw
            assert parse.to_json() == parse_target(raw, year=2024).to_json()
