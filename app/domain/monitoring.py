"""Mid-year monitoring (绩效运行监控, "双监控"): progress against the time line, traffic lights.

Pure: no I/O, no database. The finance bureau opens a round for a year with a cut-off date
(截至 6月30日); for each project the unit reports its spending so far (执行数) and for each
indicator the value reached so far (完成值), optionally the value it expects at year end, and for
anything off track the reason and the corrective measure. From these this module computes:

- the expected progress at the cut-off: the share of the year elapsed (time-proportional), or
  the share the unit set for a seasonal indicator;
- how far the indicator is behind that line, in percentage points;
- the year-end value: the unit's own expected value when it gives one, otherwise a linear
  projection of the progress (完成值 ÷ expected share);
- a light: green on track, yellow behind by more than `monitoring_yellow_behind` points,
  red behind by more than `monitoring_red_behind` points or when the year-end value the unit
  expects misses the year's target.

A linear projection misses the target exactly when the indicator is behind at all, by the same
proportion; the thresholds already grade that, so a linear projection alone never turns a light
red — only the unit's own expected year-end value does (it is the unit saying so). Spending
(执行数 ÷ 全年预算数) gets its own light against the same time line.

Kinds of target (shared/domain.md §4):
- cumulative quantities (counts, money, area, …): the share done is 完成值 ÷ 年度指标值;
- levels (rates in %, ratios, time limits such as "5个工作日内"): the value reached is already the
  value at year end; behind = the shortfall in percent of the target, no time line;
- lower-is-better (≤, <): for a cumulative cap (成本 ≤ 100万元) being *ahead* of the time line is
  the deviation (spending the cap too fast); for a level (投诉率 ≤ 2%) exceeding it is;
- deadlines: done by the deadline is green; a deadline passed at the cut-off without completion
  is red; otherwise the unit's judgement;
- qualitative targets: no number to compare: the unit's own judgement (a light it picks), or none.

Figures are Decimal in and out; ratios are exact fractions, rounded half-up to 2 places only
for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from app.domain.scoring import TemplateSettings, plain
from app.domain.targets import TargetParse, conversion_factor, with_target_unit

# --- the words ---------------------------------------------------------------------------------

ROUND_STATUSES = ("open", "closed")
ROUND_STATUS_LABELS: Mapping[str, str] = MappingProxyType({"open": "监控填报中", "closed": "已结束"})
ROUND_OPEN = "open"
ROUND_CLOSED = "closed"

GREEN, YELLOW, RED = "green", "yellow", "red"
LIGHTS = (GREEN, YELLOW, RED)  # from best to worst
NO_LIGHT = "none"
LIGHT_LABELS: Mapping[str, str] = MappingProxyType({GREEN: "绿灯", YELLOW: "黄灯", RED: "红灯", NO_LIGHT: "未亮灯"})
LIGHT_MEANINGS: Mapping[str, str] = MappingProxyType(
    {GREEN: "进度正常", YELLOW: "进度偏慢", RED: "严重滞后或预计完不成", NO_LIGHT: "无法判断"}
)
LIGHT_COLORS: Mapping[str, str] = MappingProxyType(
    {GREEN: "#2f9e57", YELLOW: "#d69e2e", RED: "#c53030", NO_LIGHT: "#9fb3c8"}
)
# what a unit may pick for an indicator without a number to compare (qualitative, an open deadline)
JUDGEMENT_LABELS: Mapping[str, str] = MappingProxyType(
    {GREEN: "按计划推进", YELLOW: "进度偏慢，可以完成", RED: "难以完成"}
)

# unit classes whose value is a level, not an amount that accumulates through the year
LEVEL_CLASSES = ("percent", "ratio", "time")

REASON_WORDS = "偏差原因"
MEASURE_WORDS = "纠偏措施"

DEFAULT_YELLOW_BEHIND = Decimal("10")
DEFAULT_RED_BEHIND = Decimal("20")


# --- the time line -------------------------------------------------------------------------------


def time_share(year: int, cutoff: date) -> Fraction:
    """The share of the year elapsed at the end of the cut-off day, in percentage points (0–100).

    6月30日 of 2025 is 181 of 365 days (49.59%); a date before the year is 0, after it 100.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    if cutoff < first:
        return Fraction(0)
    if cutoff >= last:
        return Fraction(100)
    days = (last - first).days + 1
    return Fraction((cutoff - first).days + 1, days) * 100


def points(value: Fraction | None, places: int = 2) -> Decimal | None:
    """A share or a gap as shown: percentage points, half-up to `places` decimals."""
    if value is None:
        return None
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    n, d = abs(scaled.numerator), scaled.denominator
    return Decimal(sign * ((2 * n + d) // (2 * d))).scaleb(-places)


@dataclass(frozen=True)
class Thresholds:
    """How far behind the time line (percentage points) turns a light yellow, and red."""

    yellow: Decimal = DEFAULT_YELLOW_BEHIND
    red: Decimal = DEFAULT_RED_BEHIND

    def __post_init__(self) -> None:
        for value in (self.yellow, self.red):
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError("监控亮灯的阈值须为有限的十进制数。")
        if not (0 <= self.yellow <= self.red <= 100):
            raise ValueError("监控亮灯的阈值须满足 0 ≤ 黄灯线 ≤ 红灯线 ≤ 100（百分点）。")


def thresholds_of(settings: TemplateSettings) -> Thresholds:
    """The lights' thresholds of a scoring template (monitoring_yellow_behind, monitoring_red_behind)."""
    return Thresholds(settings.monitoring_yellow_behind, settings.monitoring_red_behind)


def light_for(behind: Fraction, thresholds: Thresholds) -> str:
    """Green up to the yellow line, yellow beyond it, red beyond the red line."""
    if behind > Fraction(thresholds.red):
        return RED
    if behind > Fraction(thresholds.yellow):
        return YELLOW
    return GREEN


def worst(lights: Sequence[str]) -> str:
    """The worst light of several (red over yellow over green); none when none is lit."""
    lit = [light for light in lights if light in LIGHTS]
    return max(lit, key=LIGHTS.index) if lit else NO_LIGHT


# --- one indicator ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorInput:
    """What the unit reported for one indicator, with its year's target."""

    target: TargetParse  # parse of 年度指标值
    progress: TargetParse | None = None  # parse of 完成值 so far
    expected_year_end: TargetParse | None = None  # parse of the unit's expected year-end value
    expected_share: Decimal | None = None  # seasonal: expected progress at the cut-off (points); None: time
    judgement: str | None = None  # a light the unit picked (qualitative targets, open deadlines)


@dataclass(frozen=True)
class IndicatorLight:
    light: str  # green / yellow / red / none
    basis: str  # how it was decided, in words
    expected_share: Fraction | None = None  # the line at the cut-off (points), None for levels
    done_share: Fraction | None = None  # progress in percent of the target (points)
    behind: Fraction | None = None  # points behind the line (negative: ahead)
    projected: Decimal | None = None  # the year-end value, in the target's unit and magnitude
    projected_by_unit: bool = False  # the unit's own expected value rather than a projection
    misses: bool = False  # the year-end value misses the target
    needs_reason: bool = False  # yellow or red: a reason and a corrective measure are asked for
    unit_mismatch: bool = False  # the value's unit cannot be compared with the target's

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self.light]


def _value_in_target_unit(value: TargetParse | None, target: TargetParse) -> Fraction | None | str:
    """The value converted into the target's unit; None when absent or not a number; "mismatch"."""
    if value is None or value.kind != "quantity" or value.value is None:
        return None
    assumed = with_target_unit(value, target) or value
    factor = conversion_factor(assumed, target)
    if factor is None:
        return "mismatch"
    return Fraction(assumed.value) * factor  # type: ignore[arg-type]


def _misses(target: TargetParse, value: Fraction) -> bool:
    v = Fraction(target.value)  # type: ignore[arg-type]
    op = target.op
    if op == "range":
        return value < v
    if op == ">":
        return value <= v
    if op == "<=":
        return value > v
    if op == "<":
        return value >= v
    return value < v  # >=, =, ~: higher is better


def _lower(target: TargetParse) -> bool:
    return target.op in ("<=", "<")


def _judged(judgement: str | None, basis: str) -> IndicatorLight:
    if judgement in LIGHTS:
        return IndicatorLight(
            judgement, f"{basis}：单位自评“{JUDGEMENT_LABELS[judgement]}”", needs_reason=judgement != GREEN
        )
    return IndicatorLight(NO_LIGHT, f"{basis}：单位未作判断")


def assess(inp: IndicatorInput, *, year: int, cutoff: date, thresholds: Thresholds = Thresholds()) -> IndicatorLight:
    """The light of one indicator at the cut-off."""
    target = inp.target
    if target.kind == "deadline" and target.deadline is not None:
        return _assess_deadline(inp, cutoff)
    if target.kind != "quantity" or target.value is None or target.op is None:
        return _judged(inp.judgement, "定性指标")
    progress = _value_in_target_unit(inp.progress, target)
    if progress == "mismatch":
        return IndicatorLight(NO_LIGHT, "完成值的计量单位与年度指标值不同，无法比较", unit_mismatch=True)
    expected_value = _value_in_target_unit(inp.expected_year_end, target)
    if expected_value == "mismatch":
        return IndicatorLight(NO_LIGHT, "年末预计值的计量单位与年度指标值不同，无法比较", unit_mismatch=True)
    if progress is None and expected_value is None:
        if inp.progress is not None and inp.progress.raw.strip():
            return _judged(inp.judgement, "完成值不是数值")
        return IndicatorLight(NO_LIGHT, "未填完成值")
    assert not isinstance(progress, str) and not isinstance(expected_value, str)
    t = Fraction(target.value)
    if target.unit_class in LEVEL_CLASSES:
        return _assess_level(target, t, progress, expected_value, thresholds)
    return _assess_cumulative(inp, target, t, progress, expected_value, year, cutoff, thresholds)


def _assess_level(
    target: TargetParse,
    t: Fraction,
    progress: Fraction | None,
    expected_value: Fraction | None,
    thresholds: Thresholds,
) -> IndicatorLight:
    """A rate, a ratio or a time limit: the value reached is the year-end value unless the unit expects another."""
    current = progress if progress is not None else expected_value
    assert current is not None
    if _misses(target, current):
        if t == 0:
            shortfall = Fraction(100)
        elif _lower(target):
            shortfall = (current - t) / t * 100
        else:
            shortfall = (t - current) / t * 100
    else:
        shortfall = Fraction(0)
    light = light_for(shortfall, thresholds)
    by_unit = expected_value is not None
    year_end = expected_value if by_unit else current
    misses = _misses(target, year_end)  # type: ignore[arg-type]
    if by_unit and misses:
        light = RED
    basis = "比率、时限类指标：当前值即年末水平" + ("，按单位填报的年末预计值判断能否完成" if by_unit else "")
    return IndicatorLight(
        light,
        basis,
        done_share=current / t * 100 if t else None,
        behind=shortfall,
        projected=_decimal(year_end),  # type: ignore[arg-type]
        projected_by_unit=by_unit,
        misses=misses,
        needs_reason=light != GREEN,
    )


def _assess_cumulative(
    inp: IndicatorInput,
    target: TargetParse,
    t: Fraction,
    progress: Fraction | None,
    expected_value: Fraction | None,
    year: int,
    cutoff: date,
    thresholds: Thresholds,
) -> IndicatorLight:
    seasonal = inp.expected_share is not None
    line = Fraction(inp.expected_share) if seasonal else time_share(year, cutoff)  # type: ignore[arg-type]
    basis = "按季节性进度" if seasonal else "按时间进度"
    behind: Fraction | None = None
    done: Fraction | None = None
    light = GREEN
    if progress is not None:
        if t == 0:
            # a zero cap ("≤0起"): anything above it is off track
            done = Fraction(0) if progress == 0 else Fraction(100)
            behind = Fraction(0) if progress == 0 else Fraction(100)
        else:
            done = progress / t * 100
            # lower-is-better caps: being ahead of the line is the deviation
            behind = done - line if _lower(target) else line - done
        light = light_for(behind, thresholds)
    by_unit = expected_value is not None
    if by_unit:
        year_end: Fraction | None = expected_value
    elif progress is not None and line > 0:
        year_end = progress * 100 / line
    else:
        year_end = None
    misses = year_end is not None and _misses(target, year_end)
    if by_unit and misses:
        light = RED
    if progress is None:  # only an expected year-end value: it alone decides
        light = RED if misses else GREEN
        basis = "未填完成值，按单位填报的年末预计值判断"
    return IndicatorLight(
        light,
        basis,
        expected_share=line,
        done_share=done,
        behind=behind,
        projected=_decimal(year_end) if year_end is not None else None,
        projected_by_unit=by_unit,
        misses=misses,
        needs_reason=light != GREEN,
    )


def _assess_deadline(inp: IndicatorInput, cutoff: date) -> IndicatorLight:
    deadline = inp.target.deadline
    assert deadline is not None
    done = inp.progress
    if done is not None and done.kind == "deadline" and done.deadline is not None:
        if done.deadline <= deadline:
            return IndicatorLight(GREEN, f"已于 {done.deadline.isoformat()} 完成")
        return IndicatorLight(RED, f"{done.deadline.isoformat()} 完成，晚于期限", misses=True, needs_reason=True)
    if deadline < cutoff:
        return IndicatorLight(RED, f"期限 {deadline.isoformat()} 已过，尚未完成", misses=True, needs_reason=True)
    return _judged(inp.judgement, f"期限 {deadline.isoformat()} 未到")


def _decimal(value: Fraction) -> Decimal:
    """An exact decimal when the fraction has one, else 6 decimals half-up (a projection's display)."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        return Decimal(value.numerator) / Decimal(value.denominator)
    return points(value, 6)  # type: ignore[return-value]


# --- spending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendingLight:
    light: str
    rate: Fraction | None  # 执行数 ÷ 全年预算数, points
    line: Fraction  # the time line at the cut-off, points
    behind: Fraction | None
    basis: str

    @property
    def label(self) -> str:
        return LIGHT_LABELS[self.light]


def assess_spending(
    *, spent: Decimal | None, budget: Decimal | None, year: int, cutoff: date, thresholds: Thresholds = Thresholds()
) -> SpendingLight:
    """Spending progress (执行数 ÷ 全年预算数) against the time line; spending ahead of it is not a deviation."""
    line = time_share(year, cutoff)
    if budget is None or budget == 0:
        return SpendingLight(NO_LIGHT, None, line, None, "没有全年预算数，无法计算支出进度")
    if spent is None:
        return SpendingLight(NO_LIGHT, None, line, None, "未填执行数")
    rate = Fraction(spent) / Fraction(budget) * 100
    behind = line - rate
    return SpendingLight(light_for(behind, thresholds), rate, line, behind, "按时间进度")


def project_light(indicators: Sequence[IndicatorLight]) -> str:
    """A project's target light: its worst indicator."""
    return worst([i.light for i in indicators])


def counts(lights: Sequence[str]) -> dict[str, int]:
    """How many of each light (and unlit), in the order green, yellow, red, none."""
    out = dict.fromkeys((*LIGHTS, NO_LIGHT), 0)
    for light in lights:
        out[light if light in out else NO_LIGHT] += 1
    return out


def parse_share(text: str | None) -> Decimal | None:
    """A seasonal share as typed ("40", "40%", "40.5"): 0–100 points, at most 2 decimals; empty → None.

    Raises ValueError with a message for the user.
    """
    raw = (text or "").strip().rstrip("%％").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise ValueError("应为 0 至 100 之间的百分数，如 40") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError("应为 0 至 100 之间的百分数，如 40")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("最多保留 2 位小数")
    return value


def light_doc(thresholds: Thresholds = Thresholds()) -> str:
    """The rule in one sentence, worded with the thresholds in force."""
    return (
        f"{LIGHT_LABELS[GREEN]}：进度正常（落后时间进度不超过 {plain(thresholds.yellow)} 个百分点）；"
        f"{LIGHT_LABELS[YELLOW]}：落后超过 {plain(thresholds.yellow)} 个百分点；"
        f"{LIGHT_LABELS[RED]}：落后超过 {plain(thresholds.red)} 个百分点，或单位预计年末完不成年度指标"
    )
