"""Quality checks of a 绩效目标表 (pure: no database). The assistant the national and provincial
systems lack: it says, row by row and in Chinese, which targets cannot be measured.

Sources: 财预〔2021〕101号 (中央部门项目支出核心绩效目标和指标设置及取值指引) asks that
indicators be specific and measurable, quantitative ones preferred, with 产出 and 效益
indicators for every project; time indicators state when, rates are percentages.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from app.domain.categories import LEVEL1_BY_SLUG
from app.domain.scoring import TemplateSettings
from app.domain.targets import TargetParse, parse_target

Severity = Literal["error", "warning"]

# Words that promise a change without saying how much ("提升", "有效改善", "进一步提高").
VAGUE_WORDS: tuple[str, ...] = (
    "进一步",
    "提升",
    "提高",
    "改善",
    "增强",
    "加强",
    "优化",
    "促进",
    "推动",
    "明显",
    "显著",
    "有效",
    "逐步",
    "稳步",
)
SUGGESTION_NUMBER = "请写明可衡量的数值，如“≥95%”“不少于12次”或“较上年提高5个百分点”"
SUGGESTION_DATE = "请写明完成时间，如“2025年12月31日前”，或按时完成的比例，如“按时完成率100%”"
SUGGESTION_PERCENT = "“率”类指标请以百分比表示，如“≥95%”"


@dataclass(frozen=True)
class QualitySettings:
    """What the checks ask for (defaults from 财预〔2021〕101号); the template in force gives them
    (quality_settings)."""

    min_quantitative_share: Decimal = Decimal("60")  # 百分点
    required_categories: tuple[str, ...] = ("output", "outcome")
    suggested_categories: tuple[str, ...] = ()
    weight_total: Decimal | None = None  # 分值 given for every row must sum to this (None: not checked)
    category_names: Mapping[str, str] = field(default_factory=dict)


def quality_settings(settings: TemplateSettings) -> QualitySettings:
    """The checks a scoring template asks for (its quality_* settings, limited to its categories)."""
    present = set(settings.structure.indicator_slugs)
    return QualitySettings(
        min_quantitative_share=settings.quality_min_quantitative_share,
        required_categories=tuple(c for c in settings.quality_required_categories if c in present),
        suggested_categories=tuple(c for c in settings.quality_suggested_categories if c in present),
        weight_total=(100 - settings.execution_points) if settings.quality_weight_sum else None,
        category_names={c.slug: c.name for c in settings.structure.categories},
    )


class IndicatorLike(Protocol):
    id: int | None  # may be missing: a row read from a file, not stored yet (the import's), has none
    level1: str
    level2: str | None
    name: str
    period_target: str | None
    annual_target: str | None
    weight: Decimal | None


@dataclass(frozen=True)
class QualityIssue:
    code: str  # missing_category | low_quantitative_share | not_measurable | unit_class_mismatch | ...
    severity: Severity  # an error blocks 申报; a warning is shown
    message: str  # Chinese, says what and where
    indicator_id: int | None = None  # None: about the whole table
    field: str | None = None  # e.g. indicators[5001].annual_target
    suggestion: str | None = None


@dataclass(frozen=True)
class QualityReport:
    indicators: int
    quantitative: int
    quantitative_share: Decimal | None  # 百分点, two places; None for an empty table
    min_quantitative_share: Decimal
    not_measurable: int
    issues: tuple[QualityIssue, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[QualityIssue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")


def _fold(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _vague(text: str | None) -> bool:
    """Says only the direction of a change (提升, 有所提高 …): folded once, not once per word."""
    folded = _fold(text)
    return any(word in folded for word in VAGUE_WORDS)


def _category_name(slug: str) -> str:
    return LEVEL1_BY_SLUG[slug].name if slug in LEVEL1_BY_SLUG else slug


def _place(ind: IndicatorLike, n: int) -> str:
    return f"第{n}行“{ind.name}”"


def _id(ind: IndicatorLike) -> int | None:
    return getattr(ind, "id", None)  # an imported row (app.importers.rows.IndicatorRow) has none yet


def _field(ind: IndicatorLike, n: int, name: str) -> str:
    key = _id(ind)
    return f"indicators[{key if key is not None else n - 1}].{name}"


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_table(
    indicators: Sequence[IndicatorLike],
    *,
    year: int | None = None,
    settings: QualitySettings | None = None,
    parse: Callable[..., TargetParse] = parse_target,
) -> QualityReport:
    """Every quality check over one project's indicators, in table order (`parse` may be a cached
    parse_target, as the import's)."""
    settings = settings or QualitySettings()
    issues: list[QualityIssue] = []
    present = {ind.level1 for ind in indicators}
    for slug in settings.required_categories:
        if slug not in present:
            name = settings.category_names.get(slug) or _category_name(slug)
            issues.append(
                QualityIssue(
                    "missing_category", "error", f"目标表缺少{name}：每个项目都应设置{name}", field="indicators"
                )
            )
    for slug in settings.suggested_categories:
        if indicators and slug not in present:
            name = settings.category_names.get(slug) or _category_name(slug)
            issues.append(
                QualityIssue(
                    "suggested_category",
                    "warning",
                    f"目标表没有{name}：项目面向服务对象时应设置{name}",
                    field="indicators",
                    suggestion=f"如项目有服务对象，请添加{name}（如“服务对象满意度≥90%”）",
                )
            )
    weights = [getattr(ind, "weight", None) for ind in indicators]
    given = [w for w in weights if w is not None]
    if settings.weight_total is not None and given:
        if len(given) < len(weights):
            issues.append(
                QualityIssue(
                    "weights_incomplete",
                    "warning",
                    f"有 {len(weights) - len(given)} 行指标未填分值："
                    "分值要么每行都填，要么都不填（都不填时按模板的类别分值计分）",
                    field="indicators",
                )
            )
        elif sum(given, Decimal(0)) != settings.weight_total:
            total = sum(given, Decimal(0))
            issues.append(
                QualityIssue(
                    "weights_sum",
                    "warning",
                    f"各行分值合计 {_plain(total)}，评分模板要求指标分值合计 {_plain(settings.weight_total)}"
                    "（预算执行率另计）：自评时将按比例折算",
                    field="indicators",
                    suggestion=f"请调整分值，使合计为 {_plain(settings.weight_total)}",
                )
            )

    quantitative = not_measurable = 0
    seen: dict[tuple[str, str | None, str], int] = {}
    for n, ind in enumerate(indicators, start=1):
        # the place words ("第3行“培训人次”") are made only for an issue
        annual = parse(ind.annual_target or "", year=year)
        if annual.kind != "qualitative":
            quantitative += 1
        elif _vague(ind.annual_target):
            not_measurable += 1
            issues.append(
                QualityIssue(
                    "not_measurable",
                    "warning",
                    f"{_place(ind, n)}的年度指标值“{ind.annual_target}”不可衡量：只说了变化的方向，没有说明变化多少",
                    _id(ind),
                    _field(ind, n, "annual_target"),
                    SUGGESTION_NUMBER,
                )
            )
        if ind.period_target:
            period = parse(ind.period_target, year=year)
            if annual.unit_class and period.unit_class and annual.unit_class != period.unit_class:
                issues.append(
                    QualityIssue(
                        "unit_class_mismatch",
                        "error",
                        f"{_place(ind, n)}的实施周期指标值“{ind.period_target}”与年度指标值“{ind.annual_target}”"
                        "计量单位不一致（如一个是“次”，一个是“%”）",
                        _id(ind),
                        _field(ind, n, "period_target"),
                        "请两者使用同一类单位",
                    )
                )
        if ind.level2 == "timeliness" and annual.kind != "deadline" and annual.unit_class not in ("percent", "time"):
            issues.append(
                QualityIssue(
                    "timeliness_without_date",
                    "warning",
                    f"{_place(ind, n)}是时效指标，年度指标值“{ind.annual_target}”没有写明完成时间",
                    _id(ind),
                    _field(ind, n, "annual_target"),
                    SUGGESTION_DATE,
                )
            )
        if year is not None and annual.kind == "deadline" and annual.deadline and annual.deadline.year < year:
            # a table copied from last year keeps last year's dates; the year's 自评 would score against them
            issues.append(
                QualityIssue(
                    "deadline_before_year",
                    "warning",
                    f"{_place(ind, n)}的完成期限“{ind.annual_target}”早于 {year} 年度：复制上年的表时请改为今年的日期",
                    _id(ind),
                    _field(ind, n, "annual_target"),
                    SUGGESTION_DATE,
                )
            )
        if "率" in (ind.name or "") and annual.kind == "quantity" and annual.unit != "%":
            issues.append(
                QualityIssue(
                    "rate_without_percent",
                    "warning",
                    f"{_place(ind, n)}是“率”类指标，年度指标值“{ind.annual_target}”不是百分比",
                    _id(ind),
                    _field(ind, n, "annual_target"),
                    SUGGESTION_PERCENT,
                )
            )
        key = (ind.level1, ind.level2, _fold(ind.name))
        if key in seen:
            issues.append(
                QualityIssue(
                    "duplicate",
                    "error",
                    f"{_place(ind, n)}与第{seen[key]}行是同一个指标（一级、二级指标与名称都相同）",
                    _id(ind),
                    _field(ind, n, "name"),
                    "请合并这两行，或改名以区分",
                )
            )
        else:
            seen[key] = n

    total = len(indicators)
    share = _share(quantitative, total) if total else None
    if share is not None and share < settings.min_quantitative_share:
        issues.append(
            QualityIssue(
                "low_quantitative_share",
                "error",
                f"定量指标占比 {share}%（{quantitative}/{total}），低于要求的 {settings.min_quantitative_share}%",
                field="indicators",
                suggestion="请把定性指标尽量改写为可衡量的数值",
            )
        )
    return QualityReport(
        indicators=total,
        quantitative=quantitative,
        quantitative_share=share,
        min_quantitative_share=settings.min_quantitative_share,
        not_measurable=not_measurable,
        issues=tuple(issues),
    )


def summary(report: QualityReport) -> str:
    """One line for an audit note or a refusal: how many problems, of what kind."""
    parts: Iterable[str] = (i.message for i in report.errors)
    return "；".join(parts)
