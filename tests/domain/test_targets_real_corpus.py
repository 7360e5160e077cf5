"""Real 指标值 / 实际完成值 strings from published forms outside Guangdong parse as written by hand.

tests/data/real/strings.json holds strings copied from 绩效目标表 and 自评表 that county and city
bodies of at least eight provinces published, each with its source address and its meaning
(comparator, number, unit as written, unit class, direction, kind) written by reading the string,
not by running the parser. The parser must read at least 97% of them as written.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from app.domain.targets import parse_target

CORPUS = Path(__file__).resolve().parents[1] / "data" / "real" / "strings.json"
REQUIRED_SHARE = Decimal("0.97")


def corpus() -> dict:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def mismatches(row: dict, year: int) -> list[str]:
    """The fields of one string whose parse differs from the hand-written meaning."""
    parse = parse_target(row["text"], year=year)
    expect = row["expect"]
    found = {
        "kind": parse.kind,
        "op": parse.op,
        "value": parse.value,
        "unit_raw": parse.unit_raw,
        "unit_class": parse.unit_class,
        "direction": parse.direction,
        "deadline": parse.deadline.isoformat() if parse.deadline else None,
    }
    wrong = []
    for name, wanted in expect.items():
        got = found[name]
        if name == "value":
            same = got is not None and Decimal(wanted) == got
        else:
            same = got == wanted
        if not same:
            wrong.append(f"{name}: expected {wanted!r}, got {got!r}")
    return wrong


def test_the_corpus_is_real_and_wide_enough():
    data = corpus()
    strings, sources = data["strings"], data["sources"]
    provinces = {sources[row["source"]]["province"] for row in strings}
    assert len(strings) >= 150
    assert "广东" not in provinces
    assert len(provinces) >= 8, provinces
    for key, source in sources.items():
        assert source["url"].startswith("http"), key
    for row in strings:
        assert row["text"].strip(), row
        assert row["expect"]["kind"] in ("quantity", "qualitative", "deadline"), row
        if "cells" in row:  # split columns: the text is their exact join
            assert "".join(row["cells"]) == row["text"] or row["cells"][0] in ("定量", "定性"), row


def test_the_parser_reads_at_least_97_percent_of_real_strings_as_written():
    data = corpus()
    failures = []
    for row in data["strings"]:
        year = data["sources"][row["source"]]["year"]
        wrong = mismatches(row, year)
        if wrong:
            failures.append(f"{row['source']} {row['text']!r}: " + "; ".join(wrong))
    total = len(data["strings"])
    share = Decimal(total - len(failures)) / Decimal(total)
    report = f"{total - len(failures)}/{total} right ({share:.1%})\n" + "\n".join(failures)
    print(report)
    assert share >= REQUIRED_SHARE, report
