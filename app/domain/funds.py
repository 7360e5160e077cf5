"""The 专项资金 (special fund): its allocation tree's arithmetic and its item-by-item scoring.

Pure: no I/O, no database (shared/domain.md §6, issue 12 §1–2). A fund's money goes down a tree —
处室 / 专题 → 资金安排 (item) → 用款单位 or 地市 (recipient) — and every figure is an exact Decimal
in 万元. Children must sum to their parent: a difference is a flag at the node, never a silent fix.
实际支出 is recomputed up the tree from the recipients' spending, so 支出率 (the glossary's
execution_rate) of the fund is the recipients' spending over the fund's total, not a typed figure.

A fund is scored under a template whose categories are scored item by item (投入 / 过程 / 产出 /
效益 in Guangdong): deductions recorded by the evaluator, rates computed from the tree, or the
fund's indicators by the indicator rules. The templates themselves are data (FUND_TEMPLATES).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from app.domain.categories import Category, Item
from app.domain.scoring import (
    IndicatorInput,
    TemplateSettings,
    _round,
    grade_for,
    score_indicator,
    split_largest_remainder,
)

# --- the words of the tree ---------------------------------------------------------------------

NODE_KINDS: tuple[str, ...] = ("division", "topic", "item", "recipient")
NODE_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {"division": "处室", "topic": "专题", "item": "资金安排", "recipient": "用款单位/地市"}
)
RECIPIENT_KINDS: tuple[str, ...] = ("unit", "city")
RECIPIENT_KIND_LABELS: Mapping[str, str] = MappingProxyType({"unit": "用款单位", "city": "地市"})
IMPLEMENTATIONS: tuple[str, ...] = ("post_award", "direct_subsidy", "procurement", "factor_block", "other")
IMPLEMENTATION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "post_award": "事后奖补",
        "direct_subsidy": "直接补助",
        "procurement": "政府采购",
        "factor_block": "因素法切块",
        "other": "其他",
    }
)
FIGURE_LABELS: Mapping[str, str] = MappingProxyType({"execution_rate": "资金支出率", "arrival_rate": "资金到位率"})
METHOD_LABELS: Mapping[str, str] = MappingProxyType(
    {"deductions": "扣分制", "computed": "按数据计算", "indicators": "按绩效指标计分", "parts": "分项合计"}
)
UNCONFIRMED = "未经确认（可在评分模板中修改）"


def _label_lookup(labels: Mapping[str, str], text: str) -> str | None:
    """A code from its code or its Chinese label ("因素法切块" → factor_block); None if unknown."""
    text = (text or "").strip()
    if text in labels:
        return text
    return next((code for code, label in labels.items() if label == text), None)


def kind_from_text(text: str) -> str | None:
    found = _label_lookup(NODE_KIND_LABELS, text)
    if found is None and text.strip() in ("用款单位", "地市", "项目", "安排"):
        return "recipient" if text.strip() in ("用款单位", "地市") else "item"
    return found


def implementation_from_text(text: str) -> str | None:
    return _label_lookup(IMPLEMENTATION_LABELS, text)


def recipient_kind_from_text(text: str) -> str | None:
    return _label_lookup(RECIPIENT_KIND_LABELS, text)


# --- the tree's arithmetic ---------------------------------------------------------------------


@dataclass(frozen=True)
class NodeInput:
    key: int
    parent: int | None  # None: directly under the fund
    name: str
    allocated: Decimal  # 下达金额 (万元)
    arrived: Decimal | None = None  # 到位金额 as entered (None: not entered here)
    spent: Decimal | None = None  # 实际支出 as entered (None: not entered here)


@dataclass(frozen=True)
class Figures:
    """The computed figures of the fund (key None) or of one node."""

    key: int | None
    allocated: Decimal
    children_allocated: Decimal | None  # the children's sum (None: no children)
    allocation_difference: Decimal | None  # allocated − children's sum, when it is not 0
    arrived: Decimal | None
    spent: Decimal | None  # from the children when they all have it, else as entered here
    spent_entered: Decimal | None
    spent_from_children: bool
    balance: Decimal | None  # 结余 = allocated − spent
    execution: Fraction | None  # spent / allocated, exact
    arrival: Fraction | None  # arrived / allocated, exact
    flags: tuple[str, ...] = ()

    @property
    def execution_rate(self) -> Decimal | None:
        """支出率 in percentage points, 2 decimals (half-up): 97.35."""
        return None if self.execution is None else _round(self.execution * 100, 2)

    @property
    def arrival_rate(self) -> Decimal | None:
        """到位率 in percentage points, 2 decimals."""
        return None if self.arrival is None else _round(self.arrival * 100, 2)


@dataclass(frozen=True)
class TreeFigures:
    fund: Figures
    nodes: Mapping[int, Figures]
    children: Mapping[int | None, tuple[int, ...]]

    def figures(self) -> dict[str, Fraction | None]:
        """The fund-level rates a computed item may use."""
        return {"execution_rate": self.fund.execution, "arrival_rate": self.fund.arrival}


def _ratio(part: Decimal | None, whole: Decimal) -> Fraction | None:
    if part is None or whole == 0:
        return None
    return Fraction(part) / Fraction(whole)


def tree_figures(total: Decimal, nodes: Sequence[NodeInput]) -> TreeFigures:
    """Every node's figures and the fund's, computed bottom-up; differences are flags, never fixes."""
    by_key = {n.key: n for n in nodes}
    if len(by_key) != len(nodes):
        raise ValueError("资金分配树的节点标识重复。")
    children: dict[int | None, list[int]] = {}
    for n in nodes:
        if n.parent is not None and n.parent not in by_key:
            raise ValueError(f"节点「{n.name}」的上级不存在。")
        if n.allocated is None or not n.allocated.is_finite() or n.allocated < 0:
            raise ValueError(f"节点「{n.name}」的下达金额须为非负数。")
        children.setdefault(n.parent, []).append(n.key)
    out: dict[int, Figures] = {}

    def visit(key: int, trail: tuple[int, ...]) -> Figures:
        if key in trail:
            raise ValueError("资金分配树中有循环（某节点是自己的上级）。")
        node = by_key[key]
        kids = [visit(k, (*trail, key)) for k in children.get(key, [])]
        fig = _combine(key, node.allocated, node.arrived, node.spent, kids)
        out[key] = fig
        return fig

    top = [visit(k, ()) for k in children.get(None, [])]
    if len(out) != len(nodes):
        raise ValueError("资金分配树中有循环（某节点是自己的上级）。")
    fund = _combine(None, total, None, None, top)
    return TreeFigures(
        fund=fund,
        nodes=MappingProxyType(out),
        children=MappingProxyType({k: tuple(v) for k, v in children.items()}),
    )


def _combine(
    key: int | None,
    allocated: Decimal,
    arrived_entered: Decimal | None,
    spent_entered: Decimal | None,
    kids: Sequence[Figures],
) -> Figures:
    flags: list[str] = []
    children_allocated = difference = None
    spent, from_children = spent_entered, False
    arrived = arrived_entered
    if kids:
        children_allocated = sum((k.allocated for k in kids), Decimal(0))
        if children_allocated != allocated:
            difference = allocated - children_allocated
            flags.append("allocation_mismatch")
        kid_spent = [k.spent for k in kids]
        if all(s is not None for s in kid_spent):
            spent, from_children = sum((s for s in kid_spent if s is not None), Decimal(0)), True
            if spent_entered is not None and spent_entered != spent:
                flags.append("spent_mismatch")
        elif any(s is not None for s in kid_spent):
            flags.append("spent_partial")
        kid_arrived = [k.arrived for k in kids]
        if arrived is None and all(a is not None for a in kid_arrived):
            arrived = sum((a for a in kid_arrived if a is not None), Decimal(0))
    if key is None and spent is None:
        flags.append("fund_spent_missing")
    if spent is not None and spent > allocated:
        flags.append("spent_over")
    return Figures(
        key=key,
        allocated=allocated,
        children_allocated=children_allocated,
        allocation_difference=difference,
        arrived=arrived,
        spent=spent,
        spent_entered=spent_entered,
        spent_from_children=from_children,
        balance=None if spent is None else allocated - spent,
        execution=_ratio(spent, allocated),
        arrival=_ratio(arrived, allocated),
        flags=tuple(flags),
    )


# --- scoring a fund item by item -----------------------------------------------------------------


@dataclass(frozen=True)
class Deduction:
    """One deduction an evaluator recorded: so many points off an item, with the reason."""

    item: str  # the item's code
    points: Decimal
    reason: str
    indicator: str | None = None  # the indicator it concerns (数量指标 …), optional
    node: int | None = None  # the recipient / node it concerns, optional


@dataclass(frozen=True)
class ItemScore:
    code: str
    name: str
    points: Decimal
    method: str
    score: Decimal | None  # None: cannot be computed yet (a missing figure, no indicators)
    deductions: tuple[Deduction, ...] = ()
    figure: str | None = None
    rate: Decimal | None = None  # computed: the rate used, percentage points (2 decimals)
    source: str | None = None
    parts: tuple[ItemScore, ...] = ()
    indicators: tuple = ()  # indicators: the IndicatorScore of each


@dataclass(frozen=True)
class CategoryScore:
    slug: str
    name: str
    points: Decimal
    score: Decimal | None
    items: tuple[ItemScore, ...]


@dataclass(frozen=True)
class FundScore:
    template: str
    categories: tuple[CategoryScore, ...]
    total: Decimal  # the sum of the categories that could be scored
    complete: bool
    grade: str | None  # from the rounded total; None while incomplete
    places: int
    missing: tuple[str, ...] = field(default=())  # names of the items that could not be scored

    def item(self, code: str) -> ItemScore:
        for c in self.categories:
            for top in c.items:
                for found in _walk(top):
                    if found.code == code:
                        return found
        raise KeyError(code)

    def category(self, slug: str) -> CategoryScore:
        return next(c for c in self.categories if c.slug == slug)


def _walk(item: ItemScore):
    yield item
    for part in item.parts:
        yield from _walk(part)


def item_codes(settings: TemplateSettings) -> dict[str, Item]:
    """Every item (parts too) of an item-scored template, by code."""
    return {i.code: i for c in settings.structure.categories for top in c.items for i in top.walk()}


def _quantize(value: Decimal, places: int) -> Decimal:
    return _round(Fraction(value), places)


def score_fund(
    *,
    settings: TemplateSettings,
    figures: Mapping[str, Fraction | None],
    deductions: Sequence[Deduction] = (),
    indicators: Mapping[str, Sequence[IndicatorInput]] | None = None,
) -> FundScore:
    """Score a fund under an item-scored template: each item by its method, categories, total, grade."""
    categories = [c for c in settings.structure.categories if c.scoring == "items"]
    if len(categories) != len(settings.structure.categories):
        others = "、".join(c.name for c in settings.structure.categories if c.scoring != "items")
        raise ValueError(f"专项资金按项目逐项计分；评分模板的类别「{others}」不是逐项计分的。")
    known = item_codes(settings)
    for d in deductions:
        if d.item not in known:
            raise ValueError(f"扣分所针对的项目「{d.item}」不在评分模板中。")
        if known[d.item].method != "deductions":
            raise ValueError(f"项目「{known[d.item].name}」不是扣分制，不能记录扣分。")
        if not d.points.is_finite() or d.points <= 0:
            raise ValueError("扣分须为正数。")
        if not d.reason.strip():
            raise ValueError("每一项扣分须写明理由。")
    places = settings.rounding_places
    missing: list[str] = []
    scored = tuple(
        _score_category(settings, c, figures, deductions, indicators or {}, places, missing) for c in categories
    )
    total = sum((c.score for c in scored if c.score is not None), Decimal(0))
    total = _quantize(total, places)
    complete = not missing
    return FundScore(
        template=settings.name,
        categories=scored,
        total=total,
        complete=complete,
        grade=grade_for(settings, total) if complete else None,
        places=places,
        missing=tuple(missing),
    )


def _score_category(settings, category: Category, figures, deductions, indicators, places, missing) -> CategoryScore:
    items = tuple(_score_item(settings, i, figures, deductions, indicators, places, missing) for i in category.items)
    parts = [i.score for i in items]
    score = None if any(p is None for p in parts) else sum((p for p in parts if p is not None), Decimal(0))
    return CategoryScore(category.slug, category.name, Decimal(category.points), score, items)


def _score_item(settings, item: Item, figures, deductions, indicators, places, missing) -> ItemScore:
    points = Decimal(item.points)
    base = ItemScore(code=item.code, name=item.name, points=points, method=item.method, score=None, source=item.source)
    if item.method == "parts":
        parts = tuple(_score_item(settings, p, figures, deductions, indicators, places, missing) for p in item.parts)
        scores = [p.score for p in parts]
        score = None if any(s is None for s in scores) else sum((s for s in scores if s is not None), Decimal(0))
        return replace(base, score=score, parts=parts)
    if item.method == "deductions":
        mine = tuple(d for d in deductions if d.item == item.code)
        off = sum((d.points for d in mine), Decimal(0))
        return replace(base, score=_quantize(max(points - off, Decimal(0)), places), deductions=mine)
    if item.method == "computed":
        rate = figures.get(item.figure or "")
        if rate is None:
            missing.append(item.name)
            return replace(base, score=None, figure=item.figure)
        item_places = places if item.places is None else item.places
        score = _round(min(rate, Fraction(1)) * Fraction(points), item_places)
        return replace(base, score=score, figure=item.figure, rate=_round(rate * 100, 2))
    # indicators: the item's points split over its indicators (by their 分值 when all give one,
    # else evenly), each scored by the indicator rules
    rows = list(indicators.get(item.code, ()))
    if not rows:
        missing.append(item.name)
        return replace(base, score=None)
    given = [r.given_weight for r in rows]
    shares = (
        [g for g in given if g is not None]
        if all(g is not None for g in given) and sum((g for g in given if g is not None), Decimal(0)) > 0
        else [Decimal(1)] * len(rows)
    )
    weights = split_largest_remainder(points, shares, places)
    results = tuple(score_indicator(settings, r, w) for r, w in zip(rows, weights, strict=True))
    finals = [r.final_score for r in results]
    if any(f is None for f in finals):
        missing.append(item.name)
        return replace(base, score=None, indicators=results)
    score = _quantize(sum((f for f in finals if f is not None), Decimal(0)), places)
    return replace(base, score=score, indicators=results)


# --- the templates, as data ----------------------------------------------------------------------
# Item maxima of Guangdong's 专项资金 template are those seed 000's scores and stated deductions imply
# (shared/domain.md §6): 项目立项 12, 资金落实 8, 资金管理 12 (资金支出率 6 computed + 资金使用规范 6),
# 事项管理 8, 经济性 5, 效率性 25, 效果性 25, 公平性 5. No public notice confirming them was found
# (searches of Guangdong's 专项资金绩效自评 notices, 2026-12-02), so each carries source None:
# unconfirmed, a setting to check against the year's notice. The 资金支出率 item is scored
# rate × 6 and printed with one decimal (the seed's 5.8 for 97.35%).

GUANGDONG_FUND = "guangdong-special-fund"
FUJIAN_PROJECT = "fujian-decision-2020"


def _item(code: str, name: str, points: str, method: str = "deductions", **kw) -> dict:
    return {"code": code, "name": name, "points": points, "method": method, "source": None, **kw}


GUANGDONG_FUND_JSON: dict = {
    "name": GUANGDONG_FUND,
    "rounding_places": 1,
    "allow_self_scores": False,
    # a fund has no 绩效目标表 of the project kind: no table quality checks by category
    "quality_required_categories": [],
    "quality_suggested_categories": [],
    "categories": [
        {
            "code": "1",
            "slug": "input",
            "name": "投入",
            "short": "投入",
            "points": "20",
            "scoring": "items",
            "items": [_item("11", "项目立项", "12"), _item("12", "资金落实", "8")],
        },
        {
            "code": "2",
            "slug": "process",
            "name": "过程",
            "short": "过程",
            "points": "20",
            "scoring": "items",
            "items": [
                _item(
                    "21",
                    "资金管理",
                    "12",
                    "parts",
                    parts=[
                        _item("211", "资金支出率", "6", "computed", figure="execution_rate", places=1),
                        _item("212", "资金使用规范", "6"),
                    ],
                ),
                _item("22", "事项管理", "8"),
            ],
        },
        {
            "code": "3",
            "slug": "output",
            "name": "产出",
            "short": "产出",
            "points": "30",
            "scoring": "items",
            "items": [_item("31", "经济性", "5"), _item("32", "效率性", "25")],
        },
        {
            "code": "4",
            "slug": "outcome",
            "name": "效益",
            "short": "效益",
            "points": "30",
            "scoring": "items",
            "items": [_item("41", "效果性", "25"), _item("42", "公平性", "5")],
        },
    ],
}

# Fujian's project framework 决策 / 过程 / 产出 / 效益 / 满意度 (the five first-level indicators of
# 财预〔2020〕10号 附件2's framework with 满意度 on its own). The points below are unconfirmed
# defaults: no Fujian notice with the maxima was found; each is a setting to check.
FUJIAN_PROJECT_JSON: dict = {
    "name": FUJIAN_PROJECT,
    "rounding_places": 2,
    "allow_self_scores": False,
    "quality_required_categories": [],
    "quality_suggested_categories": [],
    "categories": [
        {
            "code": "1",
            "slug": "decision",
            "name": "决策",
            "points": "15",
            "scoring": "items",
            "items": [_item("11", "项目立项", "5"), _item("12", "绩效目标", "5"), _item("13", "资金投入", "5")],
        },
        {
            "code": "2",
            "slug": "process",
            "name": "过程",
            "points": "20",
            "scoring": "items",
            "items": [
                _item("21", "资金到位率", "4", "computed", figure="arrival_rate"),
                _item("22", "预算执行率", "4", "computed", figure="execution_rate"),
                _item("23", "资金使用合规性", "4"),
                _item("24", "组织实施", "8"),
            ],
        },
        {
            "code": "3",
            "slug": "output",
            "name": "产出",
            "points": "35",
            "scoring": "items",
            "items": [_item("31", "产出指标", "35", "indicators")],
        },
        {
            "code": "4",
            "slug": "outcome",
            "name": "效益",
            "points": "20",
            "scoring": "items",
            "items": [_item("41", "项目效益", "20", "indicators")],
        },
        {
            "code": "5",
            "slug": "satisfaction",
            "name": "满意度",
            "points": "10",
            "scoring": "items",
            "items": [_item("51", "服务对象满意度", "10", "indicators")],
        },
    ],
}

GUANGDONG_FUND_SETTINGS = TemplateSettings.from_json(GUANGDONG_FUND_JSON)
FUJIAN_PROJECT_SETTINGS = TemplateSettings.from_json(FUJIAN_PROJECT_JSON)
FUND_TEMPLATES: Mapping[str, TemplateSettings] = MappingProxyType(
    {GUANGDONG_FUND: GUANGDONG_FUND_SETTINGS, FUJIAN_PROJECT: FUJIAN_PROJECT_SETTINGS}
)
FUND_TEMPLATE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        GUANGDONG_FUND: "广东省专项资金绩效自评（投入 / 过程 / 产出 / 效益）",
        FUJIAN_PROJECT: "福建省项目支出绩效评价（决策 / 过程 / 产出 / 效益 / 满意度）",
    }
)


def is_item_scored(settings: TemplateSettings) -> bool:
    """A template scored item by item (a fund's), which the project 自评表 cannot use."""
    return any(c.scoring == "items" for c in settings.structure.categories)
