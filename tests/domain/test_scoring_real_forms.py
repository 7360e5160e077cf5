"""Scoring of rows as real forms from other provinces print them (issue 10 items 3–7).

Each case would score wrongly on the parser and engine before this change; the expected
score is worked out by hand from shared/domain.md §5 with a weight of 10.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.scoring import FLAG_LABELS, NATIONAL_2020, IndicatorInput, score_indicator
from app.domain.targets import parse_target

D = Decimal
W = D("10")


def row(target: str, actual: str, name: str = "指标"):
    inp = IndicatorInput(
        key="x",
        level1="output",
        name=name,
        target=parse_target(target, year=2023),
        actual=parse_target(actual, year=2023),
        deviation_reason="原因",
    )
    return score_indicator(NATIONAL_2020, inp, W)


def test_an_overspent_bare_actual_does_not_score_full_marks():
    # ≤90万元 against 95: 95万元 > 90万元, linear (1 − 5/90) × 10 = 9.444… → 9.44
    got = row("≤90万元", "95")
    assert got.score == D("9.44") and got.met is False
    assert "unit_assumed" in got.flags and "unit_assumed" in FLAG_LABELS


def test_a_bare_actual_below_a_money_target_scores_by_its_ratio_not_zero():
    # ≥80万元 against 60: 60/80 × 10 = 7.50
    got = row("≥80万元", "60")
    assert got.score == D("7.50") and "unit_assumed" in got.flags


def test_a_bare_actual_that_meets_its_target_is_full_and_still_says_the_unit_was_assumed():
    got = row("≥12.5万元", "13")
    assert got.score == W and "unit_assumed" in got.flags


def test_an_actual_with_its_own_unit_is_not_flagged():
    assert "unit_assumed" not in row("≥80万元", "60万元").flags


@pytest.mark.parametrize(
    "actual, score",
    [
        ("2个工作日", D("10")),  # faster than the limit: full marks
        ("3个工作日", D("10")),
        ("4个工作日", D("6.67")),  # late: (1 − 1/3) × 10 = 6.666… → 6.67
    ],
)
def test_a_time_limit_with_nei_rewards_finishing_sooner(actual, score):
    assert row("3个工作日内办结", actual).score == score


def test_a_rate_cost_standard_is_at_most():
    # 1200元/亩 is ≤; 1300元/亩 overshoots by 100: (1 − 100/1200) × 10 = 9.166… → 9.17
    assert row("1200元/亩", "1100元/亩").score == W
    assert row("1200元/亩", "1300元/亩").score == D("9.17")
    assert "unit_mismatch" in row("1200元/亩", "1100元/平方米").flags


def test_an_unknown_unit_is_scored_against_itself():
    # ≥17000株 against 15300株: 15300/17000 × 10 = 9.00
    got = row("≥17000株", "15300株")
    assert got.score == D("9.00") and "actual_unparsed" not in got.flags
    assert row("6架", "6架").score == W
    assert "unit_mismatch" in row("≥20株", "25棵").flags


def test_time_units_compare_after_conversion():
    assert row("≥2小时", "150分钟").score == W
    # ≤30分钟 against 45分钟: (1 − 15/30) × 10 = 5.00
    assert row("≤30分钟", "45分钟").score == D("5.00")
    # ≤30分钟 against 1小时 = 60分钟: (1 − 30/30) × 10 = 0
    assert row("≤30分钟", "1小时").score == D("0.00")


def test_a_comparator_away_from_its_number_is_scored_as_at_least():
    # 不少于全年开展3次培训 against 2次: 2/3 × 10 = 6.67 (not full marks for "= 3" met by 4 either)
    assert row("不少于全年开展3次培训", "2次").score == D("6.67")
    assert row("不少于全年开展3次培训", "4次").score == W


def test_a_bare_actual_against_a_percent_written_as_a_word_is_not_scaled():
    # 池州 2022: "≥100百分比" against "100" is met; ≤5百分比 against 6: (1 − 1/5) × 10 = 8.00
    assert row("≥100百分比", "100").score == W
    assert row("≤5百分比", "6").score == D("8.00")
