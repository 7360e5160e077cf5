"""Scoring of the year-end self-evaluation (项目支出绩效自评表), shared/domain.md §5.

Pure: no I/O, no database. Every rule marked "(configurable)" in the domain notes is a
field of `TemplateSettings`, stored as JSON in a versioned scoring template; the defaults
are the national 2020 template (财预〔2020〕10号). Figures are Decimal in and Decimal out;
intermediate ratios are exact fractions, so neither a float nor an early rounding can
move a score. Scores and weights are kept to 2 decimals, half-up; the total is the sum
of the rounded parts and the grade comes from that rounded total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, NamedTuple

from app.domain.categories import GUIDELINE_2021_STRUCTURE, NATIONAL_2020_STRUCTURE, Structure
from app.domain.evaluation import FLAG, LEVEL_LABELS, LEVELS, flag_labels, grade_rule_text, grades
from app.domain.targets import TargetParse, conversion_factor, with_target_unit

EXECUTION = "execution"  # 预算执行率, scored beside the indicator categories (national 2020)
# The national template's indicator categories (output, outcome, satisfaction); a template's own
# are settings.indicator_categories, from its structure.
INDICATOR_CATEGORIES: tuple[str, ...] = NATIONAL_2020_STRUCTURE.indicator_slugs
QUALITATIVE_LEVELS: tuple[str, ...] = LEVELS
QUALITATIVE_LABELS: Mapping[str, str] = LEVEL_LABELS
PROPORTIONAL = "proportional"
LOWER_FORMULAS = ("linear", "ratio")
EQUALITY_RULES = ("higher", "two_sided")

# A name with one of these words hints "lower is better" (shared/domain.md §4). It only
# raises a flag: the direction written in the target is never flipped silently.
DIRECTION_HINT_WORDS = ("投诉", "故障", "事故", "成本", "费用")


MAX_PLACES = 2  # the score columns keep two decimals

# Settings added after templates were already stored: a stored version without the key is
# read with the value that reproduces how it scored (a new behaviour arrives as a new version).
LEGACY_DEFAULTS: Mapping[str, Any] = MappingProxyType({"given_weights_absolute": False})


def _frozen_map(data: Mapping) -> Mapping:
    return MappingProxyType(dict(data))


def _d(text: str) -> Decimal:
    return Decimal(text)


# --------------------------------------------------------------------------------------
# The template's settings
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSettings:
    """Every configurable rule of a scoring template; the defaults are national 2020."""

    name: str = "national-2020"
    # the level-1 categories and how each is scored (app/domain/categories.py): stored as
    # "categories"; national 2020 (预算执行率, 产出, 效益, 满意度) unless the template says otherwise
    structure: Structure = NATIONAL_2020_STRUCTURE
    # points of 预算执行率 and of each level-1 category; they sum to 100
    category_weights: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            EXECUTION: _d("10"),
            "output": _d("50"),
            "outcome": _d("30"),
            "satisfaction": _d("10"),
        }
    )
    # where an empty category's points go: another category, or "proportional" (spread
    # over the categories present in proportion to their points); a destination that is
    # itself empty falls back to proportional (domain.md §5, unconfirmed default)
    redistribution: Mapping[str, str] = field(
        default_factory=lambda: {
            "output": PROPORTIONAL,
            "outcome": PROPORTIONAL,
            "satisfaction": "outcome",
        }
    )
    # split a category by the weights the table gave (when every indicator of the
    # category has one); otherwise evenly
    use_given_weights: bool = True
    # 分值 the table gives for EVERY indicator of a project are absolute points (issue 10):
    # used as written when they sum to the indicator points (90), whatever the category
    # split; any other sum is scaled to 90 with the ratios kept, and flagged. Off: the given
    # 分值 only share out their category's points (how templates stored before it scored).
    given_weights_absolute: bool = True
    # a unit may enter its own score on a row (0..分值, with a reason), as published forms
    # carry them; it counts, the computed score is kept beside it and a difference is flagged
    allow_self_scores: bool = True
    # lower-is-better, not met: "linear" (1 − (actual − target)/target) × weight, floored
    # at 0; "ratio" target/actual × weight
    lower_formula: str = "linear"
    # "=" and "~": "higher" (met when actual ≥ target); "two_sided" (any deviation misses:
    # below scored as higher-is-better, above as lower-is-better)
    equality: str = "higher"
    # percent of the weight: [low, high), the top band closed at 100
    qualitative_bands: Mapping[str, tuple[Decimal, Decimal]] = field(
        default_factory=lambda: {
            "achieved": (_d("80"), _d("100")),
            "partial": (_d("60"), _d("80")),
            "not_achieved": (_d("0"), _d("60")),
        }
    )
    # percent of the weight when the unit picks a level but no score inside its band
    qualitative_defaults: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "achieved": _d("100"),
            "partial": _d("70"),
            "not_achieved": _d("30"),
        }
    )
    deadline_late_level: str = "partial"  # a deadline missed counts as this level
    cap_at_weight: bool = True  # off: higher-is-better earns actual/target × weight even above it
    over_achievement_percent: Decimal = _d("120")  # actual ≥ this % of target → over_achieved
    execution_low_below: Decimal = _d("90")  # 执行率 (points) below this → execution_low
    execution_over_above: Decimal = _d("100")  # 执行率 above this → execution_over
    # (grade, lowest total) from the best down; the last must start at 0
    grade_thresholds: tuple[tuple[str, Decimal], ...] = (
        ("优", _d("90")),
        ("良", _d("80")),
        ("中", _d("60")),
        ("差", _d("0")),
    )
    # scores and weights, rounded half-up; stored, shown, printed and exported at this precision.
    # At most 2: the score columns hold two places (a region printing 9 for 86.20% sets 0).
    rounding_places: int = 2
    # 绩效目标表 quality checks (财预〔2021〕101号; app/domain/target_quality.py): the least share of
    # quantitative indicators (百分点); the categories every table must have (else it cannot be
    # declared) and those it should have (a suggestion: 满意度 for projects that serve people);
    # whether 分值 given for every row must sum to the indicator points (a suggestion otherwise).
    # Categories the template's structure lacks are ignored.
    quality_min_quantitative_share: Decimal = _d("60")
    quality_required_categories: tuple[str, ...] = ("output", "outcome")
    quality_suggested_categories: tuple[str, ...] = ("satisfaction",)
    quality_weight_sum: bool = True
    # mid-year monitoring (绩效运行监控, app/domain/monitoring.py): an indicator or the spending
    # behind the time line by more than this many percentage points is yellow, by more than the
    # second red
    monitoring_yellow_behind: Decimal = _d("10")
    monitoring_red_behind: Decimal = _d("20")

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "category_weights", _frozen_map(self.category_weights))
        set_(self, "redistribution", _frozen_map(self.redistribution))
        set_(self, "qualitative_bands", _frozen_map({k: tuple(v) for k, v in self.qualitative_bands.items()}))
        set_(self, "qualitative_defaults", _frozen_map(self.qualitative_defaults))
        set_(self, "grade_thresholds", tuple(tuple(pair) for pair in self.grade_thresholds))
        # the quality checks name only categories this structure scores by indicators: the national
        # defaults (output, outcome, satisfaction) fall away for a structure without them, so what
        # is stored always reads back (a category named explicitly is checked in from_json)
        present = set(self.structure.indicator_slugs)
        for key in ("quality_required_categories", "quality_suggested_categories"):
            set_(self, key, tuple(c for c in getattr(self, key) if c in present))
        self._validate()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.to_json().items(), key=lambda kv: kv[0])))

    # --- JSON, as stored in the template version -------------------------------------

    @property
    def indicator_categories(self) -> tuple[str, ...]:
        """The categories scored from their indicators, in the template's order."""
        return self.structure.indicator_slugs

    @property
    def execution_points(self) -> Decimal:
        """The points of 预算执行率 (0 when the template has no such category)."""
        slug = self.structure.execution_slug
        return self.category_weights[slug] if slug else Decimal(0)

    def to_json(self) -> dict[str, Any]:
        """The stored shape: decimals as strings, so no JSON float ever touches a rule."""
        return {
            "name": self.name,
            "categories": self.structure.to_json(),
            "category_weights": {k: str(v) for k, v in self.category_weights.items()},
            "redistribution": dict(self.redistribution),
            "use_given_weights": self.use_given_weights,
            "given_weights_absolute": self.given_weights_absolute,
            "allow_self_scores": self.allow_self_scores,
            "lower_formula": self.lower_formula,
            "equality": self.equality,
            "qualitative_bands": {k: [str(lo), str(hi)] for k, (lo, hi) in self.qualitative_bands.items()},
            "qualitative_defaults": {k: str(v) for k, v in self.qualitative_defaults.items()},
            "deadline_late_level": self.deadline_late_level,
            "cap_at_weight": self.cap_at_weight,
            "over_achievement_percent": str(self.over_achievement_percent),
            "execution_low_below": str(self.execution_low_below),
            "execution_over_above": str(self.execution_over_above),
            "grade_thresholds": [[grade, str(low)] for grade, low in self.grade_thresholds],
            "rounding_places": self.rounding_places,
            "quality_min_quantitative_share": str(self.quality_min_quantitative_share),
            "quality_required_categories": list(self.quality_required_categories),
            "quality_suggested_categories": list(self.quality_suggested_categories),
            "quality_weight_sum": self.quality_weight_sum,
            "monitoring_yellow_behind": str(self.monitoring_yellow_behind),
            "monitoring_red_behind": str(self.monitoring_red_behind),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TemplateSettings:
        """Read stored settings: a missing key takes the default, an unknown key is refused."""
        if not isinstance(data, Mapping):
            raise ValueError("评分模板设置须为 JSON 对象。")
        default = cls()
        unknown = sorted(set(data) - set(default.to_json()))
        if unknown:
            raise ValueError(f"评分模板设置中有无法识别的项：{'、'.join(unknown)}。")
        kw: dict[str, Any] = {}
        if "name" in data:
            kw["name"] = _as_text(data["name"], "name")
        if "categories" in data:
            structure = Structure.from_json(data["categories"])
            kw["structure"] = structure
            if structure != NATIONAL_2020_STRUCTURE:
                # another structure: its own default points and redistribution, not national's
                default = cls(
                    structure=structure,
                    category_weights={c.slug: _as_decimal(c.points, "categories.points") for c in structure.categories},
                    redistribution={c: PROPORTIONAL for c in structure.indicator_slugs},
                )
                kw["category_weights"] = dict(default.category_weights)
                kw["redistribution"] = dict(default.redistribution)
        for key in ("category_weights", "qualitative_defaults"):
            if key in data:
                merged = _merge(getattr(default, key), data[key], key)
                kw[key] = {k: _as_decimal(v, f"{key}.{k}") for k, v in merged.items()}
        if "redistribution" in data:
            merged = _merge(default.redistribution, data["redistribution"], "redistribution")
            kw["redistribution"] = {k: _as_text(v, f"redistribution.{k}") for k, v in merged.items()}
        if "qualitative_bands" in data:
            merged = _merge(default.qualitative_bands, data["qualitative_bands"], "qualitative_bands")
            bands = {}
            for k, v in merged.items():
                if not isinstance(v, (list, tuple)) or len(v) != 2:
                    raise ValueError(f"评分模板设置 qualitative_bands.{k} 须为 [下限, 上限]。")
                bands[k] = (
                    _as_decimal(v[0], f"qualitative_bands.{k}"),
                    _as_decimal(v[1], f"qualitative_bands.{k}"),
                )
            kw["qualitative_bands"] = bands
        for key, legacy in LEGACY_DEFAULTS.items():
            # a version stored before the setting existed keeps scoring as it did then
            if key not in data:
                kw[key] = legacy
        if "quality_min_quantitative_share" in data:
            kw["quality_min_quantitative_share"] = _as_decimal(
                data["quality_min_quantitative_share"], "quality_min_quantitative_share"
            )
        known = set(kw["structure"].indicator_slugs if "structure" in kw else default.structure.indicator_slugs)
        for key in ("quality_required_categories", "quality_suggested_categories"):
            if key in data:
                raw = data[key]
                if not isinstance(raw, (list, tuple)) or not all(isinstance(c, str) for c in raw):
                    raise ValueError(f"评分模板设置 {key} 须为类别代号的列表。")
                unknown = [c for c in raw if c not in known]
                if unknown:
                    raise ValueError(f"评分模板设置 {key} 中的类别不在模板中：{'、'.join(unknown)}。")
                kw[key] = tuple(raw)
        for key in (
            "use_given_weights",
            "cap_at_weight",
            "given_weights_absolute",
            "allow_self_scores",
            "quality_weight_sum",
        ):
            if key in data:
                if not isinstance(data[key], bool):
                    raise ValueError(f"评分模板设置 {key} 须为 true 或 false。")
                kw[key] = data[key]
        for key in ("lower_formula", "equality", "deadline_late_level"):
            if key in data:
                kw[key] = _as_text(data[key], key)
        for key in (
            "over_achievement_percent",
            "execution_low_below",
            "execution_over_above",
            "monitoring_yellow_behind",
            "monitoring_red_behind",
        ):
            if key in data:
                kw[key] = _as_decimal(data[key], key)
        if "grade_thresholds" in data:
            raw = data["grade_thresholds"]
            if not isinstance(raw, (list, tuple)) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in raw):
                raise ValueError("评分模板设置 grade_thresholds 须为 [[等级, 最低分], …]。")
            kw["grade_thresholds"] = tuple(
                (_as_text(g, "grade_thresholds"), _as_decimal(low, "grade_thresholds")) for g, low in raw
            )
        if "rounding_places" in data:
            places = data["rounding_places"]
            if isinstance(places, bool) or not isinstance(places, int):
                raise ValueError("评分模板设置 rounding_places 须为整数。")
            kw["rounding_places"] = places
        return cls(**kw)

    # --- validation --------------------------------------------------------------------

    def _validate(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("评分模板须有名称。")
        if not (isinstance(self.rounding_places, int) and 0 <= self.rounding_places <= MAX_PLACES):
            raise ValueError(f"保留小数位数须为 0 至 {MAX_PLACES} 的整数。")
        quantum = Decimal(1).scaleb(-self.rounding_places)

        wanted = set(self.structure.slugs)
        if set(self.category_weights) != wanted:
            names = "、".join(c.short for c in self.structure.categories)
            raise ValueError(f"各类分值须恰好包括：{names}。")
        for key, value in self.category_weights.items():
            _check_decimal(value, f"category_weights.{key}")
            if value < 0:
                raise ValueError("分值不能为负数。")
            if value != value.quantize(quantum):
                raise ValueError(f"分值最多保留 {self.rounding_places} 位小数。")
        if sum(self.category_weights.values()) != 100:
            raise ValueError("各类别（含预算执行率）的分值之和须为 100。")

        indicator_categories = self.structure.indicator_slugs
        if set(self.redistribution) != set(indicator_categories):
            names = "、".join(c.short for c in self.structure.categories if c.scoring == "indicators")
            raise ValueError(f"须为{names}各指定空缺时分值的去向。")
        for source, destination in self.redistribution.items():
            if destination != PROPORTIONAL and (destination not in indicator_categories or destination == source):
                raise ValueError(f"空缺分值的去向「{destination}」无效：须为另一类指标或 proportional。")

        if self.lower_formula not in LOWER_FORMULAS:
            raise ValueError("越低越好指标的计分公式须为 linear 或 ratio。")
        if self.equality not in EQUALITY_RULES:
            raise ValueError("等值指标的计分规则须为 higher 或 two_sided。")
        switches = (
            self.use_given_weights,
            self.cap_at_weight,
            self.given_weights_absolute,
            self.allow_self_scores,
            self.quality_weight_sum,
        )
        if not all(isinstance(flag, bool) for flag in switches):
            raise ValueError("开关类设置须为 true 或 false。")

        if set(self.qualitative_bands) != set(QUALITATIVE_LEVELS):
            raise ValueError("须为达成、部分达成、未达成各给出分值区间。")
        for lo, hi in self.qualitative_bands.values():
            _check_decimal(lo, "qualitative_bands")
            _check_decimal(hi, "qualitative_bands")
        bands = self.qualitative_bands
        if not (
            bands["not_achieved"][0] == 0
            and bands["not_achieved"][1] == bands["partial"][0]
            and bands["partial"][1] == bands["achieved"][0]
            and bands["achieved"][1] == 100
            and all(lo < hi for lo, hi in bands.values())
        ):
            raise ValueError("三个达成程度的区间须从 0% 到 100% 首尾相接、依次递增。")
        if set(self.qualitative_defaults) != set(QUALITATIVE_LEVELS):
            raise ValueError("须为达成、部分达成、未达成各给出默认得分比例。")
        for level, percent in self.qualitative_defaults.items():
            _check_decimal(percent, "qualitative_defaults")
            if not _in_band(percent, *bands[level]):
                raise ValueError(f"「{QUALITATIVE_LABELS[level]}」的默认得分比例须在其区间内。")
        if self.deadline_late_level not in QUALITATIVE_LEVELS:
            raise ValueError("逾期完成所对应的达成程度无效。")

        for key in ("over_achievement_percent", "execution_low_below", "execution_over_above"):
            _check_decimal(getattr(self, key), key)
        if self.over_achievement_percent <= 100:
            raise ValueError("超额完成的提示比例须大于 100%。")
        if not (0 <= self.execution_low_below <= self.execution_over_above):
            raise ValueError("预算执行率的偏低提示线须不高于偏高提示线。")

        _check_decimal(self.quality_min_quantitative_share, "quality_min_quantitative_share")
        if not 0 <= self.quality_min_quantitative_share <= 100:
            raise ValueError("定量指标占比的要求须在 0% 至 100% 之间。")

        for key in ("monitoring_yellow_behind", "monitoring_red_behind"):
            _check_decimal(getattr(self, key), key)
        if not (0 <= self.monitoring_yellow_behind <= self.monitoring_red_behind <= 100):
            raise ValueError("运行监控的亮灯阈值须满足 0 ≤ 黄灯线 ≤ 红灯线 ≤ 100（百分点）。")

        thresholds = self.grade_thresholds
        if not thresholds:
            raise ValueError("须至少有一个等级。")
        lows = [low for _, low in thresholds]
        for grade, low in thresholds:
            if not isinstance(grade, str) or not grade.strip():
                raise ValueError("等级名称不能为空。")
            _check_decimal(low, "grade_thresholds")
        if any(a <= b for a, b in zip(lows, lows[1:], strict=False)) or lows[-1] != 0:
            raise ValueError("等级的最低分须从高到低排列，最后一个等级从 0 分起。")


def _merge(default: Mapping, given: Any, key: str) -> dict:
    if not isinstance(given, Mapping):
        raise ValueError(f"评分模板设置 {key} 须为 JSON 对象。")
    unknown = sorted(set(given) - set(default))
    if unknown:
        raise ValueError(f"评分模板设置 {key} 中有无法识别的项：{'、'.join(unknown)}。")
    return {**default, **given}


def _as_decimal(value: Any, key: str) -> Decimal:
    # JSON floats are refused: a rule must survive storage exactly
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f'评分模板设置 {key} 须为数字字符串（如 "90"）。')
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ValueError(f"评分模板设置 {key} 不是有效的数字：{value}。") from None
    _check_decimal(number, key)
    return number


def _as_text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"评分模板设置 {key} 须为文字。")
    return value


def _check_decimal(value: Any, key: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"评分模板设置 {key} 须为有限的十进制数。")


def _in_band(percent: Decimal | Fraction, lo: Decimal, hi: Decimal) -> bool:
    """The band is [lo, hi), except that the top band is closed at 100%."""
    return lo <= percent and (percent < hi or (hi == 100 and percent == hi))


NATIONAL_2020 = TemplateSettings()
# the 2021 guideline (财预〔2021〕101号): 成本指标 as a level-1 category; its default points are the
# structure's (产出 40 / 成本 10 / 效益 30 / 满意度 10), unconfirmed, and an empty category's points
# spread proportionally over the categories present
GUIDELINE_2021 = TemplateSettings.from_json(
    {"name": "guideline-2021", "categories": GUIDELINE_2021_STRUCTURE.to_json()}
)
# Every flag the engine can raise, with the sentence the pages show (national thresholds);
# pages worded for another template use evaluation.flag_labels(settings).
FLAG_LABELS: Mapping[str, str] = MappingProxyType(flag_labels(NATIONAL_2020))
# The national template's grades, best first (优 良 中 差): the API's fixed fields and filters.
GRADES: tuple[str, ...] = grades(NATIONAL_2020)
GRADE_DOC = grade_rule_text(NATIONAL_2020)  # 优（≥90）、良（80–<90）、中（60–<80）、差（<60）
FLAGS_DOC = "；".join(f"{code} {label}" for code, label in FLAG_LABELS.items())


# --------------------------------------------------------------------------------------
# Inputs and results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorInput:
    """One indicator of the evaluation: its target, the unit's answer, a reviewer override."""

    key: str
    level1: str  # output / outcome / satisfaction
    name: str
    target: TargetParse  # parse of 年度指标值
    given_weight: Decimal | None = None  # 分值 printed in the table, if any
    actual: TargetParse | None = None  # parse of 实际完成值
    qualitative_level: str | None = None  # achieved / partial / not_achieved
    score_in_band: Decimal | None = None  # points chosen inside the level's band
    deviation_reason: str | None = None
    override: Decimal | None = None  # a reviewer's score, kept beside the computed one
    level2: str | None = None  # glossary slug (quantity, cost, …)
    self_score: Decimal | None = None  # the unit's own score for the row, as published forms carry
    self_score_reason: str | None = None


class Problem(NamedTuple):
    """Something that blocks submission, at its field; key None is the money block."""

    key: str | None
    field: str
    message: str


@dataclass(frozen=True)
class IndicatorScore:
    key: str
    level1: str
    weight: Decimal
    score: Decimal | None  # computed; None when it cannot be computed (see flags)
    override: Decimal | None
    met: bool | None  # None when not scored
    flags: tuple[str, ...]
    problems: tuple[Problem, ...] = ()  # what blocks submission at this row
    self_score: Decimal | None = None  # the unit's own score, when the template lets it count

    @property
    def unit_score(self) -> Decimal | None:
        """The unit's score for the row: its own when it entered one, else the computed one."""
        return self.self_score if self.self_score is not None else self.score

    @property
    def final_score(self) -> Decimal | None:
        """The score that counts: the reviewer's override, else the unit's own, else the computed one."""
        return self.override if self.override is not None else self.unit_score


@dataclass(frozen=True)
class EvaluationScore:
    template: str
    category_points: Mapping[str, Decimal]  # after redistribution; 0 for an empty category
    indicators: tuple[IndicatorScore, ...]
    execution_weight: Decimal
    execution_rate: Decimal | None  # percentage points, 2 decimals
    execution_score: Decimal | None
    execution_override: Decimal | None
    execution_flags: tuple[str, ...]
    total: Decimal  # sum of the rounded parts that could be computed
    complete: bool  # every part computed
    grade: str | None  # from the rounded total; None while incomplete
    flags: tuple[str, ...] = ()
    places: int = 2  # the template's rounding_places: the precision every score is kept and shown at

    @property
    def execution_final(self) -> Decimal | None:
        return self.execution_override if self.execution_override is not None else self.execution_score

    def by_key(self, key: str) -> IndicatorScore:
        for row in self.indicators:
            if row.key == key:
                return row
        raise KeyError(key)


# --------------------------------------------------------------------------------------
# Arithmetic helpers
# --------------------------------------------------------------------------------------


def score_text(value: Decimal | None, places: int) -> str | None:
    """A score or weight as shown at the template's precision (9 at 0 places, 96.80 at 2).

    A figure finer than the precision (a 分值 of 22.5 used as written at 0 places) is shown as
    it is, never rounded away.
    """
    if value is None:
        return None
    shown = value.quantize(_QUANTA.get(places) or Decimal(1).scaleb(-places))
    return format(shown if shown == value else value.normalize(), "f")


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}  # score_text's, by places


def _round(value: Fraction, places: int) -> Decimal:
    """Half-up (away from zero) to `places` decimals, exactly."""
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    n, d = abs(scaled.numerator), scaled.denominator
    units = (2 * n + d) // (2 * d)
    return Decimal(sign * units).scaleb(-places)


def _fr(value: Decimal) -> Fraction:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"需要有限的十进制数，得到：{value!r}")
    return Fraction(value)


def split_largest_remainder(total: Decimal, shares: Sequence[Decimal | Fraction], places: int = 2) -> list[Decimal]:
    """Split `total` in proportion to `shares` so that the rounded parts sum exactly to it.

    Each part gets its floor in units of 10^-places; the units left go to the largest
    remainders, ties to the earlier part (50/3 → 16.67, 16.67, 16.66).
    """
    if not shares:
        return []
    units_total = Fraction(total) * 10**places
    if units_total.denominator != 1:
        raise ValueError(f"{total} 超出 {places} 位小数，无法精确分配。")
    weights = [Fraction(s) for s in shares]
    if any(w < 0 for w in weights):
        raise ValueError("分值不能为负数。")
    whole = sum(weights)
    if whole == 0:
        weights, whole = [Fraction(1)] * len(weights), Fraction(len(weights))
    exact = [units_total * w / whole for w in weights]
    floors = [math.floor(e) for e in exact]
    left = int(units_total) - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(units).scaleb(-places) for units in floors]


# --------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------


def category_points(settings: TemplateSettings, present: set[str]) -> dict[str, Decimal]:
    """Points of each level-1 category after moving the points of the empty ones."""
    exact = {
        c: (Fraction(settings.category_weights[c]) if c in present else Fraction(0))
        for c in settings.indicator_categories
    }
    kept = [c for c in settings.indicator_categories if c in present]
    if not kept:
        return {c: Decimal(0) for c in settings.indicator_categories}
    for source in settings.indicator_categories:
        if source in present:
            continue
        moving = Fraction(settings.category_weights[source])
        destination = settings.redistribution[source]
        if destination in present:
            exact[destination] += moving
            continue
        base = {c: Fraction(settings.category_weights[c]) for c in kept}
        whole = sum(base.values())
        for c in kept:
            exact[c] += moving * (base[c] / whole if whole else Fraction(1, len(kept)))
    indicator_total = sum((settings.category_weights[c] for c in settings.indicator_categories), Decimal(0))
    rounded = split_largest_remainder(
        indicator_total, [exact[c] for c in settings.indicator_categories], settings.rounding_places
    )
    return dict(zip(settings.indicator_categories, rounded, strict=True))


def indicator_total(settings: TemplateSettings) -> Decimal:
    """The points of the indicators together: 100 less the execution rate's (90)."""
    return sum((settings.category_weights[c] for c in settings.indicator_categories), Decimal(0))


class GivenPoints(NamedTuple):
    weights: list[Decimal]  # as written, or scaled to the indicator total
    given_total: Decimal  # what the table's 分值 add up to
    scaled: bool


def given_points(settings: TemplateSettings, given: Sequence[Decimal | None]) -> GivenPoints | None:
    """The table's 分值 as absolute points, when the template says so and every indicator has one.

    Summing to the indicator total (90) they are used as written, whatever the category split
    (a form that gives 效益's points to 产出 is honoured); any other positive sum is scaled to
    it in proportion (largest remainder, so the parts still sum exactly). None: the category
    split applies.
    """
    if not (settings.use_given_weights and settings.given_weights_absolute) or not given:
        return None
    points = [g for g in given if g is not None]
    if len(points) != len(given):
        return None
    total = sum(points, Decimal(0))
    if total <= 0:
        return None
    target = indicator_total(settings)
    if total == target:
        return GivenPoints(points, total, False)
    scaled = split_largest_remainder(target, list(points), settings.rounding_places)
    return GivenPoints(scaled, total, True)


def given_points_note(settings: TemplateSettings, given: Sequence[Decimal | None]) -> str | None:
    """What an import says about a project's 分值 when they are not used as written (Chinese), else None."""
    target = indicator_total(settings)
    absolute = given_points(settings, given)
    if absolute is not None:
        if not absolute.scaled:
            return None
        return (
            f"各指标分值合计 {plain(absolute.given_total)}，不是 {plain(target)}（预算执行率的 "
            f"{plain(settings.execution_points)} 分另计）：计分时按比例折算为 {plain(target)} 分"
            "（各指标之间的比例不变），自评表上同时列出表中分值和折算后的分值。"
        )
    present = [g for g in given if g is not None]
    if not present or not settings.use_given_weights:
        return None
    total = sum(present, Decimal(0))
    if len(present) == len(given) and total == target:
        return None
    if len(present) < len(given):
        return None  # the reader already says that only some indicators have 分值
    return (
        f"各指标分值合计 {plain(total)}，不是 {plain(target)}（预算执行率的 "
        f"{plain(settings.execution_points)} 分另计）：按评分模板，各类指标的分值按类别分配，"
        "表中分值只决定同类指标之间的比例。"
    )


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros: 22.50 → 22.5, 90.00 → 90."""
    return format(value.normalize(), "f")


def indicator_weights(
    settings: TemplateSettings, indicators: Sequence[IndicatorInput]
) -> tuple[dict[str, Decimal], dict[str, Decimal], tuple[str, ...]]:
    """(category points, weight of each indicator by key, project flags)."""
    for inp in indicators:
        if inp.level1 not in settings.indicator_categories:
            raise ValueError(f"指标「{inp.name}」的一级指标「{inp.level1}」无法识别。")
    keys = [inp.key for inp in indicators]
    if len(set(keys)) != len(keys):
        raise ValueError("指标的标识重复。")
    for inp in indicators:
        g = inp.given_weight
        if g is not None and (not g.is_finite() or g < 0):
            raise ValueError("表中给出的分值不能为负数。")
    present = {inp.level1 for inp in indicators}
    absolute = given_points(settings, [inp.given_weight for inp in indicators])
    if absolute is not None:
        weights = {inp.key: w for inp, w in zip(indicators, absolute.weights, strict=True)}
        points = {c: Decimal(0) for c in settings.indicator_categories}
        for inp in indicators:
            points[inp.level1] += weights[inp.key]
        return points, weights, ("weights_scaled",) if absolute.scaled else ()
    points = category_points(settings, present)
    weights = {}
    flags: list[str] = []
    for category in settings.indicator_categories:
        members = [inp for inp in indicators if inp.level1 == category]
        if not members:
            continue
        given = [inp.given_weight for inp in members if inp.given_weight is not None]
        if settings.use_given_weights and len(given) == len(members) and sum(given, Decimal(0)) > 0:
            shares: list[Decimal] = list(given)
        else:
            if settings.use_given_weights and any(g is not None for g in given):
                flags.append("weights_partial")
            shares = [Decimal(1)] * len(members)
        split = split_largest_remainder(points[category], shares, settings.rounding_places)
        for inp, w in zip(members, split, strict=True):
            weights[inp.key] = w
    return points, weights, tuple(dict.fromkeys(flags))


# The weights of a project's indicators by its template's settings (the same object for the same stored
# settings, app/services/templates.settings_of) and its indicators' (category, 分值 as written) in table
# order: they depend neither on what was typed nor on which rows they are (indicator_weights splits by
# position within a category), so every save of an evaluation, and every project of the same shape, shares
# them (the Fraction arithmetic was a tenth of a save). Held with its settings so that an id is never
# reused for other settings; the weights are kept by position and handed out by the caller's keys.
_WEIGHTS: dict[int, tuple[TemplateSettings, dict[tuple, tuple]]] = {}


def _weights_of(
    settings: TemplateSettings, indicators: Sequence[IndicatorInput]
) -> tuple[dict[str, Decimal], dict[str, Decimal], tuple[str, ...]]:
    """indicator_weights, remembered by shape (bounded); the answer is never changed by its callers."""
    keys = [inp.key for inp in indicators]
    if len(set(keys)) != len(keys):
        raise ValueError("指标的标识重复。")
    shape = tuple((inp.level1, None if inp.given_weight is None else str(inp.given_weight)) for inp in indicators)
    entry = _WEIGHTS.get(id(settings))
    if entry is None or entry[0] is not settings:
        if len(_WEIGHTS) >= 64:
            _WEIGHTS.clear()
        entry = _WEIGHTS[id(settings)] = (settings, {})
    found = entry[1].get(shape)
    if found is None:
        points, weights, flags = indicator_weights(settings, indicators)
        found = (points, tuple(weights[key] for key in keys), flags)
        if len(entry[1]) >= 4096:
            entry[1].clear()
        entry[1][shape] = found
    points, by_position, flags = found
    return points, dict(zip(keys, by_position, strict=True)), flags


# --------------------------------------------------------------------------------------
# One indicator
# --------------------------------------------------------------------------------------


def target_direction(target: TargetParse) -> str | None:
    """higher / lower for a numeric target; "=" and "~" count as higher-is-better."""
    if target.kind != "quantity" or target.op is None:
        return None
    if target.op in (">=", ">", "=", "~"):
        return "higher"
    if target.op in ("<=", "<"):
        return "lower"
    return target.direction or "higher"  # range


def band_limits(settings: TemplateSettings, level: str, weight: Decimal) -> tuple[Decimal, Decimal]:
    """Lowest and highest score (at the kept precision) allowed inside a level's band."""
    lo, hi = settings.qualitative_bands[level]
    unit = Fraction(1, 10**settings.rounding_places)
    low_exact = Fraction(weight) * Fraction(lo) / 100
    high_exact = Fraction(weight) * Fraction(hi) / 100
    low_units = math.ceil(low_exact / unit)
    if hi == 100:
        high_units = math.floor(high_exact / unit)
    else:
        high_units = math.ceil(high_exact / unit) - 1
    return (
        Decimal(low_units).scaleb(-settings.rounding_places),
        Decimal(high_units).scaleb(-settings.rounding_places),
    )


def score_in_band_error(settings: TemplateSettings, level: str, weight: Decimal, score: Decimal) -> str | None:
    """The Chinese message when a chosen score lies outside its level's band, else None."""
    if level not in QUALITATIVE_LEVELS:
        return "请选择达成程度。"
    if not isinstance(score, Decimal) or not score.is_finite():
        return "得分须为数字。"
    places = settings.rounding_places
    if score != score.quantize(Decimal(1).scaleb(-places)):
        return f"得分最多保留 {places} 位小数。"
    low, high = band_limits(settings, level, weight)
    if low <= score <= high:
        return None
    return (
        f"「{QUALITATIVE_LABELS[level]}」的得分须在 {low} 至 {high} 分之间"
        f"（本指标分值 {weight} 分），所填 {score} 分不在此区间内。"
    )


def check_score_in_band(settings: TemplateSettings, level: str, weight: Decimal, score: Decimal) -> None:
    """Raise ValueError (Chinese message) when a chosen score lies outside its band."""
    message = score_in_band_error(settings, level, weight, score)
    if message:
        raise ValueError(message)


class _Outcome(NamedTuple):
    points: Fraction | None  # exact, before capping and rounding
    met: bool | None
    flags: tuple[str, ...]


def _level_outcome(settings: TemplateSettings, level: str, chosen: Decimal | None, weight: Decimal) -> _Outcome:
    met = level == "achieved"
    flags = () if met else ("unmet",)
    if chosen is None:
        return _Outcome(Fraction(weight) * Fraction(settings.qualitative_defaults[level]) / 100, met, flags)
    if score_in_band_error(settings, level, weight, chosen):
        return _Outcome(None, None, flags + ("score_out_of_band",))
    return _Outcome(Fraction(chosen), met, flags)


def _lower_points(settings: TemplateSettings, actual: Fraction, target: Fraction, weight: Fraction) -> Fraction:
    """Lower-is-better, not met (actual above a positive target)."""
    if settings.lower_formula == "ratio":
        return target / actual * weight
    return (1 - (actual - target) / target) * weight


def _quantity_outcome(settings: TemplateSettings, target: TargetParse, actual: Fraction, weight: Decimal) -> _Outcome:
    """`actual` is already in the target's unit (see conversion_factor)."""
    w = Fraction(weight)
    x = actual
    v = _fr(target.value)  # type: ignore[arg-type]
    op = target.op
    full = _Outcome(w, True, ())

    def higher(reference: Fraction, met: bool) -> _Outcome:
        if met and (settings.cap_at_weight or reference <= 0):
            return full
        if reference <= 0:
            return _Outcome(Fraction(0), False, ("unmet",))
        points = x / reference * w
        return _Outcome(points, met, () if met else ("unmet",))

    def lower(reference: Fraction, met: bool) -> _Outcome:
        if met:
            return full
        return _Outcome(_lower_points(settings, x, reference, w), False, ("unmet",))

    if op == "range":
        lo, hi = v, _fr(target.value_max) if target.value_max is not None else v
        if lo <= x <= hi:
            return full
        if x < lo:
            return _Outcome(x / lo * w if lo > 0 else Fraction(0), False, ("unmet",))
        if (target.direction or "higher") == "higher":
            return full
        return lower(hi, False)

    # zero targets ("0起", "≤0"): 0 is full marks, anything else is worth nothing
    if v == 0 and op in ("=", "~", "<=", "<"):
        if x == 0:
            return full
        return _Outcome(Fraction(0), False, ("unmet", "zero_target_missed"))

    if op in ("=", "~"):
        if settings.equality == "two_sided":
            if x == v:
                return full
            return higher(v, False) if x < v else lower(v, False)
        return higher(v, x >= v)
    if op == ">=":
        return higher(v, x >= v)
    if op == ">":
        return higher(v, x > v)  # at the boundary: not met, scored by the formula
    if op == "<=":
        return lower(v, x <= v)
    if op == "<":
        return lower(v, x < v)
    raise ValueError(f"无法识别的比较符：{op!r}")


def _over_achieved(settings: TemplateSettings, target: TargetParse, actual: Fraction) -> bool:
    if target_direction(target) != "higher" or target.value is None:
        return False
    reference = target.value_max if target.op == "range" and target.value_max is not None else target.value
    if reference <= 0:
        return False
    return actual * 100 >= _fr(reference) * _fr(settings.over_achievement_percent)


def _outcome(settings: TemplateSettings, inp: IndicatorInput, weight: Decimal) -> _Outcome:
    target, actual, level = inp.target, inp.actual, inp.qualitative_level

    def by_level(extra: tuple[str, ...] = ()) -> _Outcome:
        if level is None:
            missing = "actual_missing" if actual is None and target.kind != "qualitative" else "level_missing"
            return _Outcome(None, None, extra + (missing,))
        got = _level_outcome(settings, level, inp.score_in_band, weight)
        return got._replace(flags=extra + got.flags)

    if target.kind == "quantity" and target.value is not None and target.op is not None:
        if actual is None and level is None:
            return _Outcome(None, None, ("actual_missing",))
        if actual is not None and actual.kind == "quantity" and actual.value is not None:
            # a bare number takes the target's unit and magnitude, and says so (never a silent
            # comparison of 95 with 900000 元)
            assumed = with_target_unit(actual, target)
            extra: tuple[str, ...] = ("unit_assumed",) if assumed is not None else ()
            factor = conversion_factor(assumed or actual, target)
            if factor is None:
                return _Outcome(None, None, ("unit_mismatch",))
            x = _fr((assumed or actual).value) * factor  # type: ignore[arg-type]
            got = _quantity_outcome(settings, target, x, weight)
            if _over_achieved(settings, target, x):
                got = got._replace(flags=got.flags + ("over_achieved",))
            return got._replace(flags=extra + got.flags)
        return by_level(("actual_unparsed",) if actual is not None else ())

    if target.kind == "deadline" and target.deadline is not None:
        if actual is None and level is None:
            return _Outcome(None, None, ("actual_missing",))
        if actual is not None and actual.kind == "deadline" and actual.deadline is not None:
            if actual.deadline <= target.deadline:
                return _Outcome(Fraction(weight), True, ())
            late = _level_outcome(settings, settings.deadline_late_level, inp.score_in_band, weight)
            return late._replace(
                met=None if late.points is None else False,
                flags=tuple(dict.fromkeys(("unmet", "late") + late.flags)),
            )
        return by_level(("actual_unparsed",) if actual is not None else ())

    # qualitative, or a target the parser could not read: the unit's chosen level decides
    return by_level(() if target.kind == "qualitative" else ("target_unparsed",))


def score_indicator(settings: TemplateSettings, inp: IndicatorInput, weight: Decimal) -> IndicatorScore:
    """Score one indicator against its (already split) weight."""
    if inp.qualitative_level is not None and inp.qualitative_level not in QUALITATIVE_LEVELS:
        raise ValueError(f"无法识别的达成程度：{inp.qualitative_level}")
    flags: list[str] = []
    target = inp.target
    if target.confidence == "low":
        flags.append("low_confidence_target")
    zero_rule = target.value == 0 and target.op in ("=", "~", "<=", "<")
    if (
        target_direction(target) == "higher"
        and not zero_rule
        and (inp.level2 == "cost" or any(word in (inp.name or "") for word in DIRECTION_HINT_WORDS))
    ):
        flags.append("direction_hint")

    got = _outcome(settings, inp, weight)
    flags.extend(got.flags)
    score: Decimal | None = None
    if got.points is not None:
        points = max(got.points, Fraction(0))
        if settings.cap_at_weight:
            points = min(points, Fraction(weight))
        score = _round(points, settings.rounding_places)

    self_score = _self_score(settings, inp, weight, flags)
    unit_score = self_score if self_score is not None else score
    if unit_score is not None:
        if self_score is not None and score is not None and self_score != score:
            flags.append("self_score_differs")
        needs_reason = unit_score < weight or "over_achieved" in flags
        if needs_reason and not (inp.deviation_reason or "").strip():
            flags.append("reason_missing")

    override = inp.override
    if override is not None:
        if not override.is_finite() or override < 0:
            raise ValueError("审核调整后的得分不能为负数。")
        override = _round(Fraction(override), settings.rounding_places)
        if settings.cap_at_weight and override > weight:
            # An override given under an older weight (a rescore moved the weights): capped, and said so.
            override = weight
            flags.append("override_capped")
        flags.append("overridden")
    flags = list(dict.fromkeys(flags))
    return IndicatorScore(
        key=inp.key,
        level1=inp.level1,
        weight=weight,
        score=score,
        override=override,
        met=got.met if score is not None else None,
        flags=tuple(flags),
        problems=tuple(_row_problems(settings, inp, weight, unit_score, flags)),
        self_score=self_score,
    )


def _self_score(settings: TemplateSettings, inp: IndicatorInput, weight: Decimal, flags: list[str]) -> Decimal | None:
    """The unit's own score when it may count; otherwise None, with the flag saying why."""
    given = inp.self_score
    if given is None:
        return None
    if not settings.allow_self_scores:
        flags.append("self_score_not_allowed")
        return None
    if not given.is_finite() or given < 0 or given > weight:
        flags.append("self_score_out_of_range")  # e.g. a rescore moved the weight below it
        return None
    flags.append("self_scored")
    if not (inp.self_score_reason or "").strip():
        flags.append("self_score_reason_missing")
    return given


def _row_problems(
    settings: TemplateSettings, inp: IndicatorInput, weight: Decimal, score: Decimal | None, flags: list[str]
) -> list[Problem]:
    key = inp.key
    problems: list[Problem] = []
    if "actual_missing" in flags:
        problems.append(Problem(key, "actual", "请填写实际完成值。"))
    if "unit_mismatch" in flags and inp.actual is not None:
        got = inp.actual.unit_raw or inp.actual.unit or ""
        want = inp.target.unit_raw or inp.target.unit or ""
        problems.append(
            Problem(
                key,
                "actual",
                f"实际完成值的单位「{got}」与年度指标值的单位「{want}」无法换算比较；请按指标值的单位填写。",
            )
        )
    if "actual_unparsed" in flags and score is None:
        problems.append(
            Problem(key, "actual", "未能从实际完成值中识别出数值或日期；请改填数值或日期，或选择达成程度。")
        )
    elif "level_missing" in flags:
        problems.append(Problem(key, "qualitative_level", "请选择达成程度（达成 / 部分达成 / 未达成）。"))
    level = settings.deadline_late_level if "late" in flags else inp.qualitative_level
    if "score_out_of_band" in flags and level is not None and inp.score_in_band is not None:
        message = score_in_band_error(settings, level, weight, inp.score_in_band)
        problems.append(Problem(key, "score_in_band", message or FLAG["score_out_of_band"].label))
    if "reason_missing" in flags:
        if score is not None and score < weight:
            message = "得分低于分值，请填写偏差原因分析及改进措施。"
        else:
            message = "实际完成值超出年度指标值较多，请说明原因（指标值是否设置偏低）。"
        problems.append(Problem(key, "deviation_reason", message))
    if "self_score_reason_missing" in flags:
        problems.append(Problem(key, "self_score_reason", "填写了自评得分，请说明理由。"))
    if "self_score_out_of_range" in flags:
        problems.append(
            Problem(key, "self_score", f"自评得分须在 0 至 {weight} 分之间（本指标分值 {weight} 分），请重新填写。")
        )
    if score is None and not problems:
        problems.append(Problem(key, "actual", "该指标尚无法计分，请检查实际完成值。"))
    return problems


# --------------------------------------------------------------------------------------
# The whole evaluation
# --------------------------------------------------------------------------------------


def score_execution(
    settings: TemplateSettings, budget: Decimal | None, spent: Decimal | None
) -> tuple[Decimal | None, Decimal | None, tuple[str, ...]]:
    """(执行率 in percentage points, its score, flags); a zero budget is never divided by."""
    if budget is not None and (not budget.is_finite() or budget < 0):
        raise ValueError("全年预算数不能为负数。")
    if spent is not None and (not spent.is_finite() or spent < 0):
        raise ValueError("全年执行数不能为负数。")
    flags = []
    if budget is None or budget == 0:
        flags.append("budget_missing")
    if spent is None:
        flags.append("spent_missing")
    if flags:
        return None, None, tuple(flags)
    rate = Fraction(spent) / Fraction(budget)  # type: ignore[arg-type]
    percent = rate * 100
    if percent < Fraction(settings.execution_low_below):
        flags.append("execution_low")
    if percent > Fraction(settings.execution_over_above):
        flags.append("execution_over")
    places = settings.rounding_places
    score = _round(min(rate, Fraction(1)) * Fraction(settings.execution_points), places)
    return _round(percent, places), score, tuple(flags)


def grade_for(settings: TemplateSettings, total: Decimal) -> str:
    """优 / 良 / 中 / 差 (or the template's grades) for a rounded total."""
    for grade, low in settings.grade_thresholds:
        if total >= low:
            return grade
    return settings.grade_thresholds[-1][0]


def evaluate(
    *,
    settings: TemplateSettings,
    budget: Decimal | None,
    spent: Decimal | None,
    indicators: Sequence[IndicatorInput],
    execution_override: Decimal | None = None,
) -> EvaluationScore:
    """Score a whole self-evaluation: weights, every indicator, 执行率, total and grade."""
    by_items = [c.name for c in settings.structure.categories if c.scoring == "items"]
    if by_items:
        raise ValueError(
            f"评分模板的类别「{'、'.join(by_items)}」按项目逐项计分（如专项资金的扣分制），"
            "项目支出绩效自评表不按这种模板计分。"
        )
    points, weights, project_flags = _weights_of(settings, indicators)
    rows = tuple(score_indicator(settings, inp, weights[inp.key]) for inp in indicators)
    rate, exec_score, exec_flags = score_execution(settings, budget, spent)
    exec_weight = settings.execution_points
    places = settings.rounding_places
    if execution_override is not None:
        if not execution_override.is_finite() or execution_override < 0 or execution_override > exec_weight:
            raise ValueError(f"审核调整后的预算执行率得分须在 0 至 {exec_weight} 分之间。")
        execution_override = _round(Fraction(execution_override), places)

    parts = [row.final_score for row in rows]
    parts.append(execution_override if execution_override is not None else exec_score)
    total = sum((p for p in parts if p is not None), Decimal(0)).quantize(Decimal(1).scaleb(-places))
    flags = project_flags + (("no_indicators",) if not rows else ())
    complete = bool(rows) and all(p is not None for p in parts)
    return EvaluationScore(
        template=settings.name,
        category_points=MappingProxyType(points),
        indicators=rows,
        execution_weight=exec_weight,
        execution_rate=rate,
        execution_score=exec_score,
        execution_override=execution_override,
        execution_flags=exec_flags,
        total=total,
        complete=complete,
        grade=grade_for(settings, total) if complete else None,
        flags=flags,
        places=places,
    )


def submission_problems(score: EvaluationScore) -> list[Problem]:
    """Everything that blocks 送审, each at its row and field, in Chinese (empty: may submit)."""
    problems: list[Problem] = []
    if "budget_missing" in score.execution_flags:
        problems.append(Problem(None, "budget", "全年预算数缺失或为 0，无法计算预算执行率；请填写全年预算数。"))
    if "spent_missing" in score.execution_flags:
        problems.append(Problem(None, "spent", "请填写全年执行数。"))
    for row in score.indicators:
        problems.extend(row.problems)
    return problems
