"""Full self-evaluations computed BY HAND from shared/domain.md §5 (national 2020 template).

Every figure below was worked out on paper from the rules, not from the engine; the
arithmetic sits in the comment above each case. Conventions used by hand:
- weights: 10 for 预算执行率 + 产出 50 / 效益 30 / 满意度 10, split evenly inside a
  category; an uneven split gives the extra cents to the first indicators
  (largest remainder, 50/3 → 16.67 + 16.67 + 16.66);
- each score is rounded to 2 decimals half-up from the printed (rounded) weight;
- total = sum of the rounded parts; grade from the rounded total.

The targets and actuals are built as TargetParse objects directly (no parser involved).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.scoring import NATIONAL_2020, IndicatorInput, evaluate
from app.domain.targets import TargetParse

D = Decimal


# --- small factories -------------------------------------------------------------------


def target(op: str, value: str, unit: str | None = None, unit_class: str | None = None) -> TargetParse:
    direction = "lower" if op in ("<=", "<") else "higher"
    return TargetParse(
        raw=f"{op}{value}{unit or ''}",
        kind="quantity",
        op=op,
        value=D(value),
        unit=unit,
        unit_raw=unit,
        unit_class=unit_class,
        direction=direction,
    )


def actual(value: str, unit: str | None = None, unit_class: str | None = None) -> TargetParse:
    return TargetParse(
        raw=f"{value}{unit or ''}",
        kind="quantity",
        op="=",
        value=D(value),
        unit=unit,
        unit_raw=unit,
        unit_class=unit_class,
        direction="higher",
    )


def pct(op: str, value: str) -> TargetParse:
    return target(op, value, "%", "percent")


def pct_actual(value: str) -> TargetParse:
    return actual(value, "%", "percent")


def qualitative(raw: str) -> TargetParse:
    return TargetParse(raw=raw, kind="qualitative", confidence="high")


def deadline(day: date) -> TargetParse:
    return TargetParse(raw=day.isoformat(), kind="deadline", deadline=day)


def ind(key, level1, tgt, act=None, *, level=None, band=None, reason=None, name=None, weight=None):
    return IndicatorInput(
        key=key,
        level1=level1,
        name=name or key,
        target=tgt,
        given_weight=weight,
        actual=act,
        qualitative_level=level,
        score_in_band=None if band is None else D(band),
        deviation_reason=reason,
    )


def run(budget, spent, indicators):
    return evaluate(
        settings=NATIONAL_2020,
        budget=None if budget is None else D(budget),
        spent=None if spent is None else D(spent),
        indicators=indicators,
    )


def assert_rows(result, expected: dict[str, tuple[str, str | None]]):
    """expected: key -> (weight, score)."""
    got = {row.key: (row.weight, row.score) for row in result.indicators}
    want = {k: (D(w), None if s is None else D(s)) for k, (w, s) in expected.items()}
    assert got == want
    # the weights are printed with two decimals and the scores too
    for row in result.indicators:
        assert row.weight == row.weight.quantize(D("0.01"))
        if row.score is not None:
            assert row.score == row.score.quantize(D("0.01"))


# --- case 1: everything met ------------------------------------------------------------
# 执行率 95 / 100 = 95.00% → 0.95 × 10 = 9.50 (not < 90%, not > 100%: no flag)
# 产出 50 over 2 → 25 + 25; 效益 30 over 1; 满意度 10 over 1
# o1 ≥12份, actual 12份 → met → 25
# o2 =2辆 (equality, higher-is-better), actual 2辆 → met → 25
# e1 提升 (qualitative), 达成 without a chosen score → 100% × 30 = 30
# s1 ≥90%, actual 95% → met → 10   (95 < 1.2 × 90 = 108: no over-achievement)
# total = 9.50 + 25 + 25 + 30 + 10 = 99.50 → 优
def test_case_all_met():
    r = run(
        "100",
        "95",
        [
            ind("o1", "output", target(">=", "12", "份", "count"), actual("12", "份", "count")),
            ind("o2", "output", target("=", "2", "辆", "count"), actual("2", "辆", "count")),
            ind("e1", "outcome", qualitative("社会影响力有效提升"), qualitative("已提升"), level="achieved"),
            ind("s1", "satisfaction", pct(">=", "90"), pct_actual("95")),
        ],
    )
    assert_rows(r, {"o1": ("25", "25"), "o2": ("25", "25"), "e1": ("30", "30"), "s1": ("10", "10")})
    assert r.execution_rate == D("95.00")
    assert r.execution_score == D("9.50")
    assert r.execution_flags == ()
    assert r.total == D("99.50")
    assert r.grade == "优"
    for row in r.indicators:
        assert row.flags == ()


# --- case 2: proportional shortfall ----------------------------------------------------
# 执行率 200 / 200 = 100.00% → 10.00, no flag (exactly 100% is not "above")
# 产出 50 over 3 → 16.67 + 16.67 + 16.66 (largest remainder); 效益 30 over 2 → 15 + 15
# o1 ≥12份, actual 9份  → 9/12 = 0.75 × 16.67 = 12.5025 → 12.50 (unmet)
# o2 ≥95%, actual 95%   → met → 16.67
# o3 ≥1000户, actual 800户 → 0.8 × 16.66 = 13.328 → 13.33 (unmet)
# e1 ≥20家, actual 15家 → 0.75 × 15 = 11.25 (unmet)
# e2 >50家, actual 60家 → met → 15; 60 ≥ 1.2 × 50 = 60 → flagged over_achieved
# s1 ≥90%, actual 85%   → 85/90 × 10 = 9.444… → 9.44 (unmet)
# total = 10 + 12.50 + 16.67 + 13.33 + 11.25 + 15 + 9.44 = 88.19 → 良
def test_case_proportional_shortfall():
    r = run(
        "200",
        "200",
        [
            ind(
                "o1",
                "output",
                target(">=", "12", "份", "count"),
                actual("9", "份", "count"),
                reason="人手不足",
            ),
            ind("o2", "output", pct(">=", "95"), pct_actual("95")),
            ind(
                "o3",
                "output",
                target(">=", "1000", "户", "count"),
                actual("800", "户", "count"),
                reason="延期",
            ),
            ind(
                "e1",
                "outcome",
                target(">=", "20", "家", "count"),
                actual("15", "家", "count"),
                reason="企业少",
            ),
            ind(
                "e2",
                "outcome",
                target(">", "50", "家", "count"),
                actual("60", "家", "count"),
                reason="需求旺",
            ),
            ind("s1", "satisfaction", pct(">=", "90"), pct_actual("85"), reason="服务待改进"),
        ],
    )
    assert_rows(
        r,
        {
            "o1": ("16.67", "12.50"),
            "o2": ("16.67", "16.67"),
            "o3": ("16.66", "13.33"),
            "e1": ("15", "11.25"),
            "e2": ("15", "15"),
            "s1": ("10", "9.44"),
        },
    )
    assert r.execution_rate == D("100.00")
    assert r.execution_score == D("10.00")
    assert r.execution_flags == ()
    assert r.total == D("88.19")
    assert r.grade == "良"
    flags = {row.key: row.flags for row in r.indicators}
    assert "unmet" in flags["o1"] and "unmet" in flags["s1"]
    assert "over_achieved" in flags["e2"] and "unmet" not in flags["e2"]
    assert flags["o2"] == ()


# --- case 3: lower-is-better overshoot (default "linear" formula) ----------------------
# 执行率 45 / 50 = 90.00% → 9.00 (exactly 90% is not "below 90%": no flag)
# 产出 50 over 2 → 25 + 25; 效益 30; 满意度 10
# o1 ≤20万元 (cost per item), actual 25万元 → (1 − (25 − 20)/20) × 25 = 0.75 × 25 = 18.75
# o2 <3次 故障, actual 2次 → met → 25
# e1 ≤5起 投诉, actual 12起 → (1 − (12 − 5)/5) = −0.4 → floored at 0 → 0.00
# s1 ≥90%, actual 90% → met (boundary of ≥ is met) → 10
# total = 9.00 + 18.75 + 25 + 0 + 10 = 62.75 → 中
def test_case_lower_is_better_overshoot():
    r = run(
        "50",
        "45",
        [
            ind(
                "o1",
                "output",
                target("<=", "200000", "元", "money"),
                actual("250000", "元", "money"),
                reason="材料涨价",
                name="每家补助成本",
            ),
            ind(
                "o2",
                "output",
                target("<", "3", "次", "count"),
                actual("2", "次", "count"),
                name="系统故障次数",
            ),
            ind(
                "e1",
                "outcome",
                target("<=", "5", "起", "count"),
                actual("12", "起", "count"),
                reason="宣传不足",
                name="群众投诉",
            ),
            ind("s1", "satisfaction", pct(">=", "90"), pct_actual("90")),
        ],
    )
    assert_rows(r, {"o1": ("25", "18.75"), "o2": ("25", "25"), "e1": ("30", "0.00"), "s1": ("10", "10")})
    assert r.execution_rate == D("90.00")
    assert r.execution_score == D("9.00")
    assert r.execution_flags == ()
    assert r.total == D("62.75")
    assert r.grade == "中"
    assert "unmet" in r.by_key("o1").flags and "unmet" in r.by_key("e1").flags
    # lower-is-better targets named 成本/故障/投诉 are what the name suggests: no hint
    assert all("direction_hint" not in row.flags for row in r.indicators)


# --- case 4: qualitative in each band, with and without a chosen score -----------------
# 执行率 100 / 100 → 10.00
# 产出 50 over 2 → 25 + 25; 效益 30 over 3 → 10 + 10 + 10; 满意度 10
# o1 达成, no choice        → 100% × 25 = 25.00
# o2 部分达成, chose 18.50   → band [60%, 80%) of 25 = [15, 20) → 18.50
# e1 部分达成, no choice     → 70% × 10 = 7.00
# e2 未达成, no choice       → 30% × 10 = 3.00
# e3 未达成, chose 5.50      → band [0, 60%) of 10 = [0, 6) → 5.50
# s1 达成, chose 9           → band [80%, 100%] of 10 = [8, 10] → 9.00
# total = 10 + 25 + 18.50 + 7 + 3 + 5.50 + 9 = 78.00 → 中
def test_case_qualitative_bands():
    Q = qualitative
    r = run(
        "100",
        "100",
        [
            ind("o1", "output", Q("完善管理制度"), Q("已完善"), level="achieved"),
            ind("o2", "output", Q("按时出报"), Q("部分按时"), level="partial", band="18.50", reason="两期延误"),
            ind("e1", "outcome", Q("有效改善"), None, level="partial", reason="见效慢"),
            ind("e2", "outcome", Q("明显提升"), None, level="not_achieved", reason="未开展"),
            ind(
                "e3",
                "outcome",
                Q("推进产业发展"),
                None,
                level="not_achieved",
                band="5.5",
                reason="资金未到位",
            ),
            ind("s1", "satisfaction", Q("满意度提高"), None, level="achieved", band="9", reason="个别不满意"),
        ],
    )
    assert_rows(
        r,
        {
            "o1": ("25", "25"),
            "o2": ("25", "18.50"),
            "e1": ("10", "7.00"),
            "e2": ("10", "3.00"),
            "e3": ("10", "5.50"),
            "s1": ("10", "9.00"),
        },
    )
    assert r.total == D("78.00")
    assert r.grade == "中"
    assert "unmet" not in r.by_key("o1").flags
    assert "unmet" in r.by_key("e2").flags


# --- case 5: a deadline missed ---------------------------------------------------------
# 执行率 76 / 80 = 95.00% → 9.50
# 产出 50 over 2 → 25 + 25; 效益 30; 满意度 10
# o1 2024年底 (2024-12-31), done 2025-01-20 → late → 部分达成 default 70% × 25 = 17.50
# o2 2024-06-30, done 2024-06-30 → on the day counts as on time → 25
# e1 ≥100人次, actual 100人次 → 30
# s1 ≥95%, actual 96% → 10
# total = 9.50 + 17.50 + 25 + 30 + 10 = 92.00 → 优
def test_case_deadline_missed():
    r = run(
        "80",
        "76",
        [
            ind("o1", "output", deadline(date(2024, 12, 31)), deadline(date(2025, 1, 20)), reason="招标延期"),
            ind("o2", "output", deadline(date(2024, 6, 30)), deadline(date(2024, 6, 30))),
            ind("e1", "outcome", target(">=", "100", "人次", "count"), actual("100", "人次", "count")),
            ind("s1", "satisfaction", pct(">=", "95"), pct_actual("96")),
        ],
    )
    assert_rows(r, {"o1": ("25", "17.50"), "o2": ("25", "25"), "e1": ("30", "30"), "s1": ("10", "10")})
    assert "late" in r.by_key("o1").flags
    assert r.by_key("o2").flags == ()
    assert r.total == D("92.00")
    assert r.grade == "优"


# --- case 6: a project without 满意度 (its 10 points go to 效益) ------------------------
# 执行率 88 / 100 = 88.00% → 8.80, below 90% → execution_low
# 产出 50 over 2 → 25 + 25; 效益 30 + 10 = 40 over 3 → 13.333… each:
#   cents 1333.33 ×3, floors 1333 ×3 = 3999, one cent left → first: 13.34, 13.33, 13.33
# o1 ≥5个, actual 5个 → 25
# o2 ≥10场, actual 8场 → 0.8 × 25 = 20.00
# e1 ≥3家, actual 3家 → 13.34
# e2 ≥50%, actual 45% → 0.9 × 13.33 = 11.997 → 12.00
# e3 提高 (qualitative) 达成 → 13.33
# weights: 10 + 25 + 25 + 13.34 + 13.33 + 13.33 = 100.00
# total = 8.80 + 25 + 20 + 13.34 + 12.00 + 13.33 = 92.47 → 优
def test_case_without_satisfaction():
    r = run(
        "100",
        "88",
        [
            ind("o1", "output", target(">=", "5", "个", "count"), actual("5", "个", "count")),
            ind("o2", "output", target(">=", "10", "场", "count"), actual("8", "场", "count"), reason="疫情"),
            ind("e1", "outcome", target(">=", "3", "家", "count"), actual("3", "家", "count")),
            ind("e2", "outcome", pct(">=", "50"), pct_actual("45"), reason="市场变化"),
            ind("e3", "outcome", qualitative("服务水平提高"), None, level="achieved"),
        ],
    )
    assert_rows(
        r,
        {
            "o1": ("25", "25"),
            "o2": ("25", "20.00"),
            "e1": ("13.34", "13.34"),
            "e2": ("13.33", "12.00"),
            "e3": ("13.33", "13.33"),
        },
    )
    assert r.category_points["satisfaction"] == D("0")
    assert r.category_points["outcome"] == D("40")
    assert r.execution_rate == D("88.00")
    assert r.execution_score == D("8.80")
    assert r.execution_flags == ("execution_low",)
    assert 10 + sum(row.weight for row in r.indicators) == 100
    assert r.total == D("92.47")
    assert r.grade == "优"


# --- case 7: a project without 效益 (its 30 points spread proportionally) ---------------
# 执行率 61.8 / 60 = 103.00% → min(1.03, 1) × 10 = 10.00, above 100% → execution_over
# 效益 30 spread over the present categories in proportion 50 : 10
#   产出 50 + 30 × 50/60 = 75 → over 3 → 25 each;  满意度 10 + 30 × 10/60 = 15
# o1 ≥2台, actual 2台 → 25
# o2 ≥4期, actual 3期 → 0.75 × 25 = 18.75
# o3 ≥12份, actual 15份 → met → 25 (capped); 15 ≥ 1.2 × 12 = 14.4 → over_achieved
# s1 ≥90%, actual 80% → 80/90 × 15 = 13.333… → 13.33
# total = 10 + 25 + 18.75 + 25 + 13.33 = 92.08 → 优
def test_case_without_outcome():
    r = run(
        "60",
        "61.8",
        [
            ind("o1", "output", target(">=", "2", "台", "count"), actual("2", "台", "count")),
            ind(
                "o2",
                "output",
                target(">=", "4", "期", "count"),
                actual("3", "期", "count"),
                reason="停刊一期",
            ),
            ind("o3", "output", target(">=", "12", "份", "count"), actual("15", "份", "count"), reason="加报"),
            ind("s1", "satisfaction", pct(">=", "90"), pct_actual("80"), reason="等候时间长"),
        ],
    )
    assert_rows(r, {"o1": ("25", "25"), "o2": ("25", "18.75"), "o3": ("25", "25"), "s1": ("15", "13.33")})
    assert r.category_points["output"] == D("75")
    assert r.category_points["satisfaction"] == D("15")
    assert r.execution_rate == D("103.00")
    assert r.execution_score == D("10.00")
    assert r.execution_flags == ("execution_over",)
    assert "over_achieved" in r.by_key("o3").flags
    assert r.total == D("92.08")
    assert r.grade == "优"


def _simple(output_actual: str, satisfaction_actual: str, budget="100", spent="100", output_target="100"):
    """One indicator per category: 产出 50, 效益 30, 满意度 10; 效益 always met."""
    return run(
        budget,
        spent,
        [
            ind(
                "o1",
                "output",
                target(">=", output_target, "个", "count"),
                actual(output_actual, "个", "count"),
                reason="原因",
            ),
            ind("e1", "outcome", target(">=", "10", "家", "count"), actual("10", "家", "count")),
            ind("s1", "satisfaction", pct(">=", "90"), pct_actual(satisfaction_actual), reason="原因"),
        ],
    )


# --- case 8: execution at 85% -----------------------------------------------------------
# 执行率 170 / 200 = 85.00% → 8.50, below 90% → execution_low
# o1 100/100 → 50; e1 → 30; s1 95% ≥ 90% → 10
# total = 8.50 + 50 + 30 + 10 = 98.50 → 优
def test_case_execution_85():
    r = _simple("100", "95", budget="200", spent="170")
    assert r.execution_rate == D("85.00")
    assert r.execution_score == D("8.50")
    assert r.execution_flags == ("execution_low",)
    assert r.total == D("98.50")
    assert r.grade == "优"


# --- case 9: a zero budget, and a missing one --------------------------------------------
# 全年预算数 0 → no division: execution score not computable, flagged budget_missing
# indicators all met: 50 + 30 + 10 = 90.00 is what can be computed; the evaluation is
# incomplete, so no grade yet
@pytest.mark.parametrize("budget", ["0", None])
def test_case_zero_or_missing_budget(budget):
    r = _simple("100", "95", budget=budget, spent="12")
    assert r.execution_rate is None
    assert r.execution_score is None
    assert "budget_missing" in r.execution_flags
    assert r.total == D("90.00")
    assert r.complete is False
    assert r.grade is None


# --- case 10: grade boundaries ------------------------------------------------------------
# 执行率 100% → 10; e1 met → 30; s1 ≥90% with actual 0% → 0/90 × 10 = 0
# total = 10 + o1 + 30 + 0 = 40 + o1
# o1 target 10000个:
#   actual 10000 → 50.00                         → 90.00 优 (exactly 90 is 优)
#   actual  9998 → 0.9998 × 50 = 49.99           → 89.99 良
#   actual  8000 → 0.8 × 50 = 40.00              → 80.00 良 (exactly 80 is 良)
#   actual  7998 → 0.7998 × 50 = 39.99           → 79.99 中
#   actual  4000 → 0.4 × 50 = 20.00              → 60.00 中 (exactly 60 is 中)
#   actual  3998 → 0.3998 × 50 = 19.99           → 59.99 差
#   actual  9999 → 0.9999 × 50 = 49.995 → 50.00 (half-up) → 90.00 优: the grade is
#                  taken from the rounded total, and the part is rounded before summing
@pytest.mark.parametrize(
    "output_actual, o1_score, total, grade",
    [
        ("10000", "50.00", "90.00", "优"),
        ("9998", "49.99", "89.99", "良"),
        ("8000", "40.00", "80.00", "良"),
        ("7998", "39.99", "79.99", "中"),
        ("4000", "20.00", "60.00", "中"),
        ("3998", "19.99", "59.99", "差"),
        ("9999", "50.00", "90.00", "优"),
    ],
)
def test_case_grade_boundaries(output_actual, o1_score, total, grade):
    r = _simple(output_actual, "0", output_target="10000")
    assert r.execution_score == D("10.00")
    assert r.by_key("o1").score == D(o1_score)
    assert r.by_key("s1").score == D("0.00")
    assert r.total == D(total)
    assert r.grade == grade


# --- case 11: a project with neither 效益 nor 满意度 -------------------------------------
# 满意度 → 效益, but 效益 is missing too → both spread over what remains: 产出 50 + 30 + 10 = 90
# o1 ≥10个 actual 5个 → 0.5 × 45 = 22.50; o2 met → 45
# 执行率 100 → 10; total = 10 + 22.50 + 45 = 77.50 → 中
def test_case_only_output():
    r = run(
        "10",
        "10",
        [
            ind("o1", "output", target(">=", "10", "个", "count"), actual("5", "个", "count"), reason="原因"),
            ind("o2", "output", target(">=", "1", "项", "count"), actual("1", "项", "count")),
        ],
    )
    assert_rows(r, {"o1": ("45", "22.50"), "o2": ("45", "45")})
    assert r.total == D("77.50")
    assert r.grade == "中"
