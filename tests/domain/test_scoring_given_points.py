"""分值 printed in a table are absolute points (issue 10 item 2, shared/domain.md §5).

When every indicator of a project has a 分值 and they sum to 90 (100 with the execution
rate) they are used as written, whatever the template's category split; any other sum is
scaled to 90 with the ratios kept and flagged. Worked out by hand below.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.domain.scoring import (
    FLAG_LABELS,
    NATIONAL_2020,
    TemplateSettings,
    evaluate,
)
from tests.domain.test_scoring_cases import actual, ind, target

D = Decimal


def met(key, level1, weight=None):
    return ind(key, level1, target(">=", "10"), actual("10"), weight=None if weight is None else D(weight))


def half(key, level1, weight=None):
    # actual 5 against ≥10: half the weight
    return ind(key, level1, target(">=", "10"), actual("5"), reason="r", weight=None if weight is None else D(weight))


def score(rows, settings=NATIONAL_2020):
    return evaluate(settings=settings, budget=D("100"), spent=D("100"), indicators=rows)


def weights(result):
    return {row.key: row.weight for row in result.indicators}


def test_a_40_30_20_form_is_scored_as_written():
    # 产出 40 / 效益 30 / 满意度 20 (a common split); before: 产出 took 50 and 满意度 10
    r = score(
        [
            half("o1", "output", "20"),
            met("o2", "output", "20"),
            met("e", "outcome", "30"),
            half("s", "satisfaction", "20"),
        ]
    )
    assert weights(r) == {"o1": D("20"), "o2": D("20"), "e": D("30"), "s": D("20")}
    assert dict(r.category_points) == {"output": D("40"), "outcome": D("30"), "satisfaction": D("20")}
    # 10 + 10 + 20 + 30 + 10 = 80
    assert r.total == D("80.00") and r.flags == ()


def test_points_given_to_output_instead_of_outcome_are_honoured():
    # 产出 60 / 效益 30, no 满意度: the form's 分值 say where 满意度's points went
    r = score([met("o1", "output", "30"), half("o2", "output", "30"), met("e", "outcome", "30")])
    assert weights(r) == {"o1": D("30"), "o2": D("30"), "e": D("30")}
    assert r.by_key("o2").score == D("15.00") and r.total == D("85.00")


def test_four_rows_of_22_5_are_used_as_written():
    rows = [met(f"o{k}", "output", "22.5") for k in range(3)] + [half("e", "outcome", "22.5")]
    r = score(rows)
    assert set(weights(r).values()) == {D("22.5")}
    assert r.by_key("e").score == D("11.25") and r.total == D("88.75")


def test_another_sum_is_scaled_to_90_with_the_ratios_kept_and_flagged():
    # 2 : 3 : 30 : 10 sum to 45 → × 2 → 4 / 6 / 60 / 20
    r = score(
        [met("o1", "output", "2"), met("o2", "output", "3"), met("e", "outcome", "30"), met("s", "satisfaction", "10")]
    )
    assert weights(r) == {"o1": D("4"), "o2": D("6"), "e": D("60"), "s": D("20")}
    assert r.flags == ("weights_scaled",) and "90" in FLAG_LABELS["weights_scaled"]
    # 100 points over three equal rows: largest remainder keeps the sum exact at 90
    r = score([met("a", "output", "100"), met("b", "outcome", "100"), met("c", "satisfaction", "100")])
    assert [row.weight for row in r.indicators] == [D("30"), D("30"), D("30")]
    r = score(
        [
            met("a", "output", "1"),
            met("b", "output", "1"),
            met("c", "outcome", "1"),
            met("d", "outcome", "1"),
            met("e", "satisfaction", "1"),
            met("f", "satisfaction", "1"),
            met("g", "satisfaction", "1"),
        ]
    )
    assert sum(row.weight for row in r.indicators) == 90
    assert [row.weight for row in r.indicators] == [
        D("12.86"),
        D("12.86"),
        D("12.86"),
        D("12.86"),
        D("12.86"),
        D("12.85"),
        D("12.85"),
    ]


def test_the_category_split_applies_where_the_table_gives_none():
    r = score([met("o1", "output"), met("o2", "output", "40"), met("e", "outcome"), met("s", "satisfaction")])
    # 分值 for only some indicators: 产出 50 split evenly (the partial rule), 效益 30, 满意度 10
    assert weights(r) == {"o1": D("25"), "o2": D("25"), "e": D("30"), "s": D("10")}
    assert "weights_partial" in r.flags


def test_the_setting_off_gives_the_previous_behaviour():
    data = {**NATIONAL_2020.to_json(), "given_weights_absolute": False}
    off = TemplateSettings.from_json(json.loads(json.dumps(data)))
    r = score(
        [
            half("o1", "output", "20"),
            met("o2", "output", "20"),
            met("e", "outcome", "30"),
            half("s", "satisfaction", "20"),
        ],
        off,
    )
    # 20 : 20 share 产出 50; 满意度 keeps its 10
    assert weights(r) == {"o1": D("25"), "o2": D("25"), "e": D("30"), "s": D("10")}


def test_a_template_stored_before_the_setting_keeps_scoring_as_it_did():
    stored = NATIONAL_2020.to_json()
    del stored["given_weights_absolute"]
    assert TemplateSettings.from_json(stored).given_weights_absolute is False
    assert NATIONAL_2020.given_weights_absolute is True
    with pytest.raises(ValueError, match="true 或 false"):
        TemplateSettings.from_json({**NATIONAL_2020.to_json(), "given_weights_absolute": "yes"})


def test_the_import_note_names_the_sum_and_says_how_it_is_scored():
    from app.domain.scoring import given_points_note

    assert given_points_note(NATIONAL_2020, [D("40"), D("30"), D("20")]) is None
    assert given_points_note(NATIONAL_2020, [D("10"), None]) is None  # the reader reports partial 分值
    note = given_points_note(NATIONAL_2020, [D("50"), D("30"), D("20")])
    assert "合计 100" in note and "按比例折算为 90 分" in note and "表中分值和折算后的分值" in note
    data = {**NATIONAL_2020.to_json(), "given_weights_absolute": False}
    off = TemplateSettings.from_json(data)
    note = given_points_note(off, [D("40"), D("30"), D("20")])
    assert note is None  # 90: no warning either way
    note = given_points_note(off, [D("50"), D("30"), D("20")])
    assert "合计 100" in note and "同类指标之间的比例" in note
