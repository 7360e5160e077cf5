"""Mid-year monitoring lights (app/domain/monitoring.py) with planted numbers.

The cut-off 2025-06-30 is day 181 of 365: the time line stands at 49.59 points.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from fractions import Fraction

import pytest

from app.domain import monitoring as m
from app.domain.scoring import NATIONAL_2020, TemplateSettings
from app.domain.targets import parse_target

YEAR = 2025
JUNE_30 = date(2025, 6, 30)


def light(target: str, progress: str | None = None, *, expected: str | None = None, share=None, judgement=None, **kw):
    inp = m.IndicatorInput(
        target=parse_target(target, year=YEAR),
        progress=parse_target(progress, year=YEAR) if progress is not None else None,
        expected_year_end=parse_target(expected, year=YEAR) if expected is not None else None,
        expected_share=D(share) if share is not None else None,
        judgement=judgement,
    )
    return m.assess(inp, year=YEAR, cutoff=kw.pop("cutoff", JUNE_30), **kw)


def test_the_time_line():
    assert m.time_share(2025, JUNE_30) == Fraction(181, 365) * 100
    assert m.points(m.time_share(2025, JUNE_30)) == D("49.59")
    assert m.points(m.time_share(2024, date(2024, 6, 30))) == D("49.73")  # 182 of 366 days
    assert m.time_share(2025, date(2025, 12, 31)) == 100
    assert m.time_share(2025, date(2024, 12, 31)) == 0


def test_on_track_is_green():
    got = light("≥12份", "6份")  # 50% done against 49.59%
    assert got.light == m.GREEN and m.points(got.behind) == D("-0.41")
    assert got.projected == D("12.099448")  # 6 × 365 ÷ 181, kept at 6 decimals
    assert not got.misses


def test_behind_by_more_than_ten_points_is_yellow():
    got = light("≥100家", "38家")  # 38% against 49.59%: 11.59 points behind
    assert got.light == m.YELLOW and m.points(got.behind) == D("11.59") and got.needs_reason


def test_behind_by_more_than_twenty_points_is_red():
    got = light("≥100家", "29家")  # 20.59 behind
    assert got.light == m.RED and m.points(got.behind) == D("20.59")


def test_exactly_on_the_thresholds_stays_the_better_light():
    # a seasonal line of 50: 40 done is exactly 10 behind (green), 30 exactly 20 (yellow)
    assert light("≥100家", "40家", share="50").light == m.GREEN
    assert light("≥100家", "30家", share="50").light == m.YELLOW
    assert light("≥100家", "29.99家", share="50").light == m.RED


def test_the_units_expected_year_end_value_decides_a_miss():
    # on the time line, but the unit itself expects to reach only 90 of 100
    got = light("≥100家", "50家", expected="90家")
    assert got.light == m.RED and got.misses and got.projected_by_unit and got.projected == 90
    # behind (yellow), but the unit expects to make it: stays yellow, the projection is the unit's
    got = light("≥100家", "38家", expected="100家")
    assert got.light == m.YELLOW and not got.misses and got.projected == 100


def test_a_seasonal_indicator_uses_its_own_line():
    # most of the work falls in autumn: 15% expected by June; 12% done is 3 behind
    got = light("≥200人次", "24人次", share="15")
    assert got.light == m.GREEN and got.expected_share == 15 and got.projected == 160
    assert light("≥200人次", "24人次").light == m.RED  # on the time line it would be 37.59 behind


def test_thresholds_come_from_the_template():
    strict = m.thresholds_of(TemplateSettings(monitoring_yellow_behind=D("5"), monitoring_red_behind=D("8")))
    assert light("≥100家", "43家", thresholds=strict).light == m.YELLOW  # 6.59 behind
    assert light("≥100家", "41家", thresholds=strict).light == m.RED  # 8.59 behind
    assert m.thresholds_of(NATIONAL_2020) == m.Thresholds(D("10"), D("20"))
    with pytest.raises(ValueError):
        TemplateSettings(monitoring_yellow_behind=D("30"), monitoring_red_behind=D("20"))
    stored = TemplateSettings.from_json({"monitoring_yellow_behind": "15", "monitoring_red_behind": "25"})
    assert stored.monitoring_red_behind == 25 and stored.to_json()["monitoring_yellow_behind"] == "15"
    with pytest.raises(ValueError):
        TemplateSettings.from_json({"monitoring_red_behind": 25.0})  # a float never touches a rule


def test_magnitudes_and_bare_numbers_take_the_targets_unit():
    # ≥1,300亿元 with 600亿元 so far: 46.15% done, 3.44 behind
    assert light("不少于1,300亿元", "600亿元").light == m.GREEN
    # a bare number is read in the target's unit and magnitude: 400 → 400亿元, 30.77% done
    assert light("不少于1,300亿元", "400").light == m.YELLOW


def test_units_that_cannot_be_compared_give_no_light():
    got = light("≥10家", "5%")
    assert got.light == m.NO_LIGHT and got.unit_mismatch


def test_lower_is_better_cap_spent_too_fast():
    # a cost cap: 60 of ≤100万元 by June is 10.41 points ahead of the line, the deviation
    got = light("≤100万元", "60万元")
    assert got.light == m.YELLOW and m.points(got.behind) == D("10.41")
    assert got.misses is True and got.projected > 100  # 60 ÷ 0.4959 ≈ 121
    assert light("≤100万元", "45万元").light == m.GREEN  # under the line: fine
    assert light("≤100万元", "75万元").light == m.RED


def test_levels_are_compared_with_the_target_itself():
    # a rate: 96% against ≥95% is met whatever the date
    got = light("≥95%", "96%")
    assert got.light == m.GREEN and got.expected_share is None and got.projected == 96
    # 80% against ≥95%: 15.79% short → yellow; 70% → red
    assert light("≥95%", "80%").light == m.YELLOW
    assert light("≥95%", "70%").light == m.RED
    # the unit expects 96% by year end: the current 93% is not a miss
    assert light("≥95%", "93%", expected="96%").light == m.GREEN
    assert light("≥95%", "93%", expected="94%").light == m.RED


def test_a_time_limit_is_a_level_lower_is_better():
    assert light("5个工作日内", "4个工作日").light == m.GREEN
    assert light("30分钟内响应", "33分钟").light == m.GREEN  # exactly 10% over: not more than 10
    assert light("30分钟内响应", "34分钟").light == m.YELLOW  # 13.33% over
    assert light("30分钟内响应", "1小时").light == m.RED  # 60 minutes: 100% over


def test_deadlines():
    assert light("2025年10月底前", "2025-06-20").light == m.GREEN
    assert light("2025年5月底前", None).light == m.RED  # passed at the cut-off, not done
    assert light("2025年5月底前", "2025-06-15").light == m.RED  # done late
    open_deadline = light("2025年12月底前", None)
    assert open_deadline.light == m.NO_LIGHT  # not due: the unit's judgement, none given
    assert light("2025年12月底前", None, judgement=m.YELLOW).light == m.YELLOW


def test_qualitative_targets_take_the_units_judgement_or_none():
    assert light("有效提升", "已完成调研").light == m.NO_LIGHT
    got = light("有效提升", "已完成调研", judgement=m.RED)
    assert got.light == m.RED and got.needs_reason and "难以完成" in got.basis


def test_nothing_reported_is_unlit():
    assert light("≥12份", None).light == m.NO_LIGHT
    assert light("≥12份", "").light == m.NO_LIGHT


def test_spending_against_the_time_line():
    def s(spent, budget="100"):
        return m.assess_spending(
            spent=D(spent) if spent is not None else None,
            budget=D(budget) if budget else None,
            year=YEAR,
            cutoff=JUNE_30,
        )

    assert s("45").light == m.GREEN  # 4.59 behind
    assert s("39").light == m.YELLOW  # 10.59 behind
    assert s("29.5").light == m.RED
    assert s("80").light == m.GREEN  # ahead of the line is not a deviation
    assert s("50", budget="0").light == m.NO_LIGHT and s(None).light == m.NO_LIGHT
    exact = s("56022.2398", "57550")
    assert m.points(exact.rate) == D("97.35")  # Decimal all the way: no float


def test_worst_and_counts():
    assert m.worst([m.GREEN, m.RED, m.YELLOW]) == m.RED
    assert m.worst([m.NO_LIGHT]) == m.NO_LIGHT
    assert m.counts([m.GREEN, m.GREEN, m.RED, m.NO_LIGHT]) == {"green": 2, "yellow": 0, "red": 1, "none": 1}


def test_share_parsing():
    assert m.parse_share("40%") == D("40") and m.parse_share(" ") is None
    for bad in ("abc", "120", "-1", "33.333"):
        with pytest.raises(ValueError):
            m.parse_share(bad)
