"""The scoring template's settings: JSON storage, validation, and that each setting matters.

For every configurable rule of shared/domain.md §5 one test changes that setting alone
and shows the score (or the flag the rule governs) change on the same project.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from app.domain.scoring import NATIONAL_2020, TemplateSettings, evaluate
from tests.domain.test_scoring_cases import actual, deadline, ind, pct, pct_actual, qualitative, target

D = Decimal


def score(settings, rows, budget="100", spent="100"):
    return evaluate(settings=settings, budget=D(budget), spent=D(spent), indicators=rows)


def changed(json_changes: dict) -> TemplateSettings:
    """A template stored with some settings changed, read back the way the service will."""
    data = json.loads(json.dumps(NATIONAL_2020.to_json()))
    for key, value in json_changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return TemplateSettings.from_json(data)


# --- storage ----------------------------------------------------------------------------------


def test_national_2020_defaults():
    s = NATIONAL_2020
    assert s.name == "national-2020"
    assert dict(s.category_weights) == {"execution": 10, "output": 50, "outcome": 30, "satisfaction": 10}
    assert dict(s.redistribution) == {
        "output": "proportional",
        "outcome": "proportional",
        "satisfaction": "outcome",
    }
    assert s.lower_formula == "linear" and s.equality == "higher"
    assert dict(s.qualitative_bands) == {"achieved": (80, 100), "partial": (60, 80), "not_achieved": (0, 60)}
    assert dict(s.qualitative_defaults) == {"achieved": 100, "partial": 70, "not_achieved": 30}
    assert s.deadline_late_level == "partial" and s.cap_at_weight and s.use_given_weights
    assert (s.over_achievement_percent, s.execution_low_below, s.execution_over_above) == (120, 90, 100)
    assert s.grade_thresholds == (("优", 90), ("良", 80), ("中", 60), ("差", 0))
    assert s.rounding_places == 2


def test_json_round_trip_is_exact_and_has_no_floats():
    text = json.dumps(NATIONAL_2020.to_json(), ensure_ascii=False)
    assert "." not in text.replace("national-2020", "")  # every number is a string or an int
    back = TemplateSettings.from_json(json.loads(text))
    assert back == NATIONAL_2020
    assert hash(back) == hash(NATIONAL_2020)


def test_missing_keys_take_the_defaults():
    # except a setting added after templates were stored: missing, it is off (as they scored)
    assert TemplateSettings.from_json({"given_weights_absolute": True}) == NATIONAL_2020
    assert TemplateSettings.from_json({}).given_weights_absolute is False
    partial = TemplateSettings.from_json({"category_weights": {"output": "60", "outcome": "20"}})
    assert dict(partial.category_weights) == {
        "execution": 10,
        "output": 60,
        "outcome": 20,
        "satisfaction": 10,
    }


@pytest.mark.parametrize(
    "data, words",
    [
        ({"bonus": 1}, "无法识别的项：bonus"),
        ({"category_weights": {"input": "20"}}, "无法识别的项：input"),
        ({"over_achievement_percent": 120.0}, "数字字符串"),
        ({"category_weights": {"output": "49"}}, "之和须为 100"),
        ({"category_weights": {"output": "-10", "outcome": "90"}}, "负数"),
        ({"redistribution": {"satisfaction": "satisfaction"}}, "去向"),
        ({"lower_formula": "quadratic"}, "linear 或 ratio"),
        ({"equality": "exact"}, "higher 或 two_sided"),
        ({"qualitative_bands": {"partial": ["55", "80"]}}, "首尾相接"),
        ({"qualitative_defaults": {"partial": "80"}}, "区间内"),
        ({"deadline_late_level": "late"}, "达成程度"),
        ({"cap_at_weight": "yes"}, "true 或 false"),
        ({"over_achievement_percent": "100"}, "大于 100%"),
        ({"execution_low_below": "101"}, "偏低提示线"),
        ({"grade_thresholds": [["优", "80"], ["良", "90"], ["差", "0"]]}, "从高到低"),
        ({"grade_thresholds": [["优", "90"], ["良", "60"]]}, "从 0 分起"),
        ({"rounding_places": 9}, "0 至 2"),
        ({"rounding_places": 3}, "0 至 2"),  # the score columns keep two places
        ({"category_weights": {"output": "49.995", "outcome": "30.005"}}, "小数"),
        ("national-2020", "JSON 对象"),
    ],
)
def test_bad_settings_are_refused_in_chinese(data, words):
    with pytest.raises(ValueError, match=words):
        TemplateSettings.from_json(data)


def test_settings_cannot_be_changed_in_place():
    with pytest.raises(TypeError):
        NATIONAL_2020.category_weights["output"] = D("90")  # type: ignore[index]
    with pytest.raises(AttributeError):
        NATIONAL_2020.cap_at_weight = False  # type: ignore[misc]


# --- each setting changes the score ---------------------------------------------------------


def _four():
    """产出 2 (one short: 8/10), 效益 1, 满意度 1, all else met."""
    return [
        ind("o1", "output", target(">=", "10"), actual("8"), reason="r"),
        ind("o2", "output", target(">=", "10"), actual("10")),
        ind("e1", "outcome", target(">=", "10"), actual("10")),
        ind("s1", "satisfaction", pct(">=", "90"), pct_actual("90")),
    ]


def test_category_weights():
    # default: o1 0.8 × 25 = 20 → total 10 + 20 + 25 + 30 + 10 = 95
    base = score(NATIONAL_2020, _four())
    assert base.by_key("o1").score == D("20.00") and base.total == D("95.00")
    # 产出 60 / 效益 20: o1 0.8 × 30 = 24 → 10 + 24 + 30 + 20 + 10 = 94
    s = changed({"category_weights": {"output": "60", "outcome": "20"}})
    r = score(s, _four())
    assert r.by_key("o1").weight == D("30") and r.by_key("o1").score == D("24.00")
    assert r.total == D("94.00")
    # 执行率 worth 20: spent 50% → 10 instead of 5
    s = changed({"category_weights": {"execution": "20", "output": "40"}})
    assert score(s, _four(), spent="50").execution_score == D("10.00")
    assert score(NATIONAL_2020, _four(), spent="50").execution_score == D("5.00")


def test_redistribution():
    rows = [r for r in _four() if r.level1 != "satisfaction"]
    # default: 满意度 → 效益 40: total 10 + 20 + 25 + 40 = 95
    assert dict(score(NATIONAL_2020, rows).category_points)["outcome"] == D("40")
    # proportional: 产出 50 + 10 × 50/80 = 56.25, 效益 30 + 10 × 30/80 = 33.75
    s = changed({"redistribution": {"satisfaction": "proportional"}})
    r = score(s, rows)
    assert dict(r.category_points) == {"output": D("56.25"), "outcome": D("33.75"), "satisfaction": D("0")}
    # o1 weight 28.125 → 28.13 (largest remainder: 28.13 + 28.12), 0.8 × 28.13 = 22.504 → 22.50
    assert r.by_key("o1").weight == D("28.13") and r.by_key("o1").score == D("22.50")
    assert r.total == D("10") + D("22.50") + D("28.12") + D("33.75")
    # 满意度 → 产出 instead
    s = changed({"redistribution": {"satisfaction": "output"}})
    assert dict(score(s, rows).category_points)["output"] == D("60")


def test_use_given_weights():
    rows = [replace(r, given_weight=w) for r, w in zip(_four(), (D("40"), D("10"), D("30"), D("10")), strict=True)]
    # given 40 : 10 within 产出 50 → o1 weight 40, 0.8 × 40 = 32 → total 10 + 32 + 10 + 30 + 10 = 92
    r = score(NATIONAL_2020, rows)
    assert r.by_key("o1").weight == D("40") and r.total == D("92.00")
    # ignoring the table: 25 / 25 → total 95
    r = score(changed({"use_given_weights": False}), rows)
    assert r.by_key("o1").weight == D("25") and r.total == D("95.00")


def test_lower_formula():
    rows = [
        ind("o1", "output", target("<=", "20"), actual("25"), reason="r"),
        ind("e1", "outcome", target("<=", "5"), actual("12"), reason="r"),
        ind("s1", "satisfaction", target(">=", "1"), actual("1")),
    ]
    # linear: o1 (1 − 5/20) × 50 = 37.5; e1 (1 − 7/5) < 0 → 0
    r = score(NATIONAL_2020, rows)
    assert (r.by_key("o1").score, r.by_key("e1").score) == (D("37.50"), D("0.00"))
    # ratio: o1 20/25 × 50 = 40; e1 5/12 × 30 = 12.5
    r = score(changed({"lower_formula": "ratio"}), rows)
    assert (r.by_key("o1").score, r.by_key("e1").score) == (D("40.00"), D("12.50"))


def test_equality():
    rows = [ind("o1", "output", target("=", "2", "辆", "count"), actual("3", "辆", "count"), reason="r")]
    # higher: 3 ≥ 2 → full 90
    assert score(NATIONAL_2020, rows).by_key("o1").score == D("90")
    # two-sided: above is scored as lower-is-better, (1 − 1/2) × 90 = 45
    r = score(changed({"equality": "two_sided"}), rows)
    assert r.by_key("o1").score == D("45.00") and "unmet" in r.by_key("o1").flags


def test_qualitative_bands():
    rows = [ind("q", "output", qualitative("提升"), None, level="partial", band="50", reason="r")]
    # 部分达成 band of 90 points is [54, 72): 50 is outside, not scored
    assert score(NATIONAL_2020, rows).by_key("q").score is None
    # bands 未达成 [0, 50) / 部分达成 [50, 80): now 50 is inside
    s = changed({"qualitative_bands": {"not_achieved": ["0", "50"], "partial": ["50", "80"]}})
    assert score(s, rows).by_key("q").score == D("50")


def test_qualitative_defaults():
    rows = [ind("q", "output", qualitative("提升"), None, level="partial", reason="r")]
    assert score(NATIONAL_2020, rows).by_key("q").score == D("63.00")  # 70% × 90
    s = changed({"qualitative_defaults": {"partial": "65"}})
    assert score(s, rows).by_key("q").score == D("58.50")  # 65% × 90


def test_deadline_late_level():
    rows = [ind("d", "output", deadline(date(2024, 12, 31)), deadline(date(2025, 2, 1)), reason="r")]
    assert score(NATIONAL_2020, rows).by_key("d").score == D("63.00")  # 部分达成 70% × 90
    s = changed({"deadline_late_level": "not_achieved"})
    assert score(s, rows).by_key("d").score == D("27.00")  # 未达成 30% × 90


def test_cap_at_weight():
    rows = [ind("o1", "output", target(">=", "12"), actual("15"), reason="r")]
    assert score(NATIONAL_2020, rows).by_key("o1").score == D("90")
    # uncapped: 15/12 × 90 = 112.5
    assert score(changed({"cap_at_weight": False}), rows).by_key("o1").score == D("112.50")


def test_over_achievement_percent():
    rows = [ind("o1", "output", target(">=", "10"), actual("13"))]
    r = score(NATIONAL_2020, rows)
    assert "over_achieved" in r.by_key("o1").flags and "reason_missing" in r.by_key("o1").flags
    r = score(changed({"over_achievement_percent": "150"}), rows)
    assert r.by_key("o1").flags == ()


def test_execution_thresholds():
    rows = _four()
    assert score(NATIONAL_2020, rows, spent="88").execution_flags == ("execution_low",)
    assert score(changed({"execution_low_below": "85"}), rows, spent="88").execution_flags == ()
    assert score(NATIONAL_2020, rows, spent="103").execution_flags == ("execution_over",)
    assert score(changed({"execution_over_above": "105"}), rows, spent="103").execution_flags == ()


def test_grade_thresholds():
    r = score(NATIONAL_2020, _four())
    assert r.total == D("95.00") and r.grade == "优"
    s = changed({"grade_thresholds": [["优", "96"], ["良", "80"], ["中", "60"], ["差", "0"]]})
    assert score(s, _four()).grade == "良"


def test_rounding_places():
    rows = [
        ind("o1", "output", target(">=", "3"), actual("2"), reason="r"),
        ind("o2", "output", target(">=", "1"), actual("1")),
        ind("o3", "output", target(">=", "1"), actual("1")),
        ind("e1", "outcome", target(">=", "1"), actual("1")),
        ind("s1", "satisfaction", target(">=", "1"), actual("1")),
    ]
    # 2 places: o1 weight 16.67, 2/3 × 16.67 = 11.1133… → 11.11
    assert score(NATIONAL_2020, rows).by_key("o1").score == D("11.11")
    # 1 place: weight 16.7, 2/3 × 16.7 = 11.133… → 11.1
    r = score(changed({"rounding_places": 1}), rows)
    assert r.by_key("o1").weight == D("16.7") and r.by_key("o1").score == D("11.1")
    assert sum(row.weight for row in r.indicators) == 90


def test_template_name_is_recorded_on_the_result():
    assert score(NATIONAL_2020, _four()).template == "national-2020"
    assert score(changed({"name": "guangzhou-2024"}), _four()).template == "guangzhou-2024"
