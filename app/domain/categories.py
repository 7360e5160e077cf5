"""The indicator category tables (一级/二级指标) as data, not enums scattered through code.

Codes and names as the Guangzhou tables print them (shared/domain.md §2).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Level1:
    code: str  # "1"
    slug: str  # "output"
    name: str  # "产出指标"
    short: str  # "产出"


@dataclass(frozen=True)
class Level2:
    code: str  # "11"
    slug: str  # "quantity"
    name: str  # "数量指标"
    level1: str  # slug of the level-1 category it belongs to


LEVEL1: tuple[Level1, ...] = (
    Level1("1", "output", "产出指标", "产出"),
    Level1("2", "outcome", "效益指标", "效益"),
    Level1("3", "satisfaction", "满意度指标", "满意度"),
)

LEVEL2: tuple[Level2, ...] = (
    Level2("11", "quantity", "数量指标", "output"),
    Level2("12", "quality", "质量指标", "output"),
    Level2("13", "timeliness", "时效指标", "output"),
    Level2("14", "cost", "成本指标", "output"),
    Level2("21", "economic", "经济效益", "outcome"),
    Level2("22", "social", "社会效益", "outcome"),
    Level2("23", "ecological", "生态效益", "outcome"),
    Level2("24", "sustainability", "可持续影响", "outcome"),
    Level2("31", "service_satisfaction", "服务对象满意度", "satisfaction"),
)

# Categories of the 2021 guideline (财预〔2021〕101号) beyond national 2020's: 成本指标 as a level-1
# category (code 4) with its cost taxonomy. The readers know every built-in template's categories;
# whether a file fits the template the bureau chose for its year is checked at import (fit_problem).
COST_LEVEL1 = Level1("4", "cost", "成本指标", "成本")
GUIDELINE_2021_COST_LEVEL2: tuple[Level2, ...] = (
    Level2("41", "economic_cost", "经济成本指标", "cost"),
    Level2("42", "social_cost", "社会成本指标", "cost"),
    Level2("43", "ecological_cost", "生态环境成本指标", "cost"),
)
KNOWN_LEVEL1: tuple[Level1, ...] = (*LEVEL1, COST_LEVEL1)
KNOWN_LEVEL2: tuple[Level2, ...] = (*LEVEL2, *GUIDELINE_2021_COST_LEVEL2)

LEVEL1_BY_SLUG = {c.slug: c for c in KNOWN_LEVEL1}
LEVEL2_BY_SLUG = {c.slug: c for c in KNOWN_LEVEL2}


# --- reading the categories as tables write them ----------------------------------------
# Tables write "1-产出指标", "1－产出指标", "产出指标", "产出", "11-数量指标", "数量指标", "数量".
# A code and a name that disagree ("1-效益指标") are not guessed at: the lookup returns None.

_CODE_PREFIX = re.compile(r"^\s*(\d{1,2})\s*(?:[-－—–.．、:：]\s*|(?=\D)|$)")


# a point range printed in the category cell: "成本指标(0-20)分", "产出指标（40-50分）"
_POINTS_SUFFIX = re.compile(r"[(][\d.]+(?:[-~—–][\d.]+)?分?[)]分?$")


def _split_code(text: str) -> tuple[str | None, str]:
    norm = unicodedata.normalize("NFKC", text or "")
    norm = re.sub(r"\s+", "", norm)
    norm = _POINTS_SUFFIX.sub("", norm)
    m = _CODE_PREFIX.match(norm)
    if m:
        return m.group(1), norm[m.end() :]
    return None, norm


def _name_forms(name: str, *extra: str) -> set[str]:
    forms = {name, *extra}
    if name.endswith("指标"):
        forms.add(name[: -len("指标")])
    else:
        forms.add(name + "指标")
    return {f for f in forms if f}


@lru_cache(maxsize=1024)
def level1_from_text(text: str) -> Level1 | None:
    """The level-1 category written as "1-产出指标", "成本指标", "产出" or "1"; None if unknown.

    Every built-in template's categories are known here (成本指标 too); fit_problem says whether
    they belong to the template in force.
    """
    code, name = _split_code(text)
    by_code = next((c for c in KNOWN_LEVEL1 if c.code == code), None) if code else None
    by_name = next((c for c in KNOWN_LEVEL1 if name in _name_forms(c.name, c.short)), None) if name else None
    if code and name:
        return by_code if by_code is not None and by_code is by_name else None
    return by_code or by_name


@lru_cache(maxsize=1024)
def level2_from_text(text: str) -> Level2 | None:
    """The level-2 category written as "11-数量指标", "数量指标", "数量" or "11"; None if unknown."""
    code, name = _split_code(text)
    by_code = next((c for c in KNOWN_LEVEL2 if c.code == code), None) if code else None
    by_name = next((c for c in KNOWN_LEVEL2 if name in _name_forms(c.name)), None) if name else None
    if code and name:
        return by_code if by_code is not None and by_code is by_name else None
    return by_code or by_name


# --- a scoring template's structure, as data -----------------------------------------------
# A template is a list of level-1 categories, each scored either from its indicators (the
# national rules), as the budget execution rate, or item by item with a scoring method (the
# 投入/过程/产出/效益 framework of special-fund reports: deductions, computed from figures, from
# indicators). National 2020 is one instance; others are instances, not code paths.

SCORINGS = ("execution", "indicators", "items")
# deductions: maximum minus the evaluator's recorded deductions, floored at 0; computed: a rate of
# the fund's figures × points; indicators: the fund's 绩效目标 indicators by the indicator rules;
# parts: the sum of its parts (资金管理 = 资金支出率, computed, + 资金使用规范, deductions)
ITEM_METHODS = ("deductions", "computed", "indicators", "parts")
# the figures a computed item may use (app/domain/funds.py computes them from the allocation tree)
ITEM_FIGURES = ("execution_rate", "arrival_rate")
DIRECTIONS = ("higher", "lower", None)


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    points: str  # a decimal as text, exact
    method: str  # deductions | computed | indicators | parts
    figure: str | None = None  # computed: which rate (execution_rate 资金支出率, arrival_rate 到位率)
    places: int | None = None  # computed: decimals of its score (None: the template's rounding_places)
    # where the maximum comes from: a public address, or None = unconfirmed (a setting to check)
    source: str | None = None
    parts: tuple[Item, ...] = ()

    def to_json(self) -> dict:
        out: dict = {"code": self.code, "name": self.name, "points": self.points, "method": self.method}
        if self.figure is not None:
            out["figure"] = self.figure
        if self.places is not None:
            out["places"] = self.places
        out["source"] = self.source
        if self.parts:
            out["parts"] = [p.to_json() for p in self.parts]
        return out

    @classmethod
    def from_json(cls, raw: object) -> Item:
        if not isinstance(raw, dict) or not all(k in raw for k in ("code", "name", "points", "method")):
            raise ValueError("每个计分项目须有 code、name、points、method。")
        places = raw.get("places")
        if places is not None and (isinstance(places, bool) or not isinstance(places, int)):
            raise ValueError(f"项目「{raw['name']}」的 places 须为整数。")
        source = raw.get("source")
        return cls(
            code=str(raw["code"]),
            name=str(raw["name"]),
            points=str(raw["points"]),
            method=str(raw["method"]),
            figure=None if raw.get("figure") is None else str(raw["figure"]),
            places=places,
            source=None if source in (None, "") else str(source),
            parts=tuple(cls.from_json(p) for p in raw.get("parts") or ()),
        )

    def walk(self):
        """This item and its parts, depth first."""
        yield self
        for part in self.parts:
            yield from part.walk()


def _points(text: str, where: str):
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{where}的分值「{text}」不是数字。") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{where}的分值须为非负数。")
    return value


def _check_item(item: Item) -> None:
    if item.method not in ITEM_METHODS:
        raise ValueError(f"项目「{item.name}」的计分方法须为 {' / '.join(ITEM_METHODS)} 之一。")
    points = _points(item.points, f"项目「{item.name}」")
    if item.method == "computed" and item.figure not in ITEM_FIGURES:
        raise ValueError(f"项目「{item.name}」按数据计算，须指明 figure（{' / '.join(ITEM_FIGURES)}）。")
    if item.places is not None and not 0 <= item.places <= 2:
        raise ValueError(f"项目「{item.name}」的保留小数位数须为 0 至 2。")
    if (item.method == "parts") != bool(item.parts):
        raise ValueError(f"项目「{item.name}」：只有 parts 计分的项目才有分项，且须列出分项。")
    if item.parts:
        total = sum((_points(p.points, f"项目「{p.name}」") for p in item.parts), points * 0)
        if total != points:
            raise ValueError(f"项目「{item.name}」的分项分值之和（{total}）须等于其分值（{points}）。")
        for part in item.parts:
            _check_item(part)


@dataclass(frozen=True)
class Category:
    code: str
    slug: str
    name: str
    short: str
    points: str  # default points (a decimal as text) where a table gives none
    scoring: str = "indicators"  # execution | indicators | items
    direction: str | None = None  # a hint for its indicators ("lower" for 成本), never applied silently
    children: tuple[Level2, ...] = ()
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Structure:
    categories: tuple[Category, ...]

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        slugs = [c.slug for c in self.categories]
        if not slugs or len(set(slugs)) != len(slugs):
            raise ValueError("评分模板的一级类别须至少一个且代号不重复。")
        if sum(1 for c in self.categories if c.scoring == "execution") > 1:
            raise ValueError("评分模板最多有一个预算执行率类别。")
        if not any(c.scoring != "execution" for c in self.categories):
            raise ValueError("评分模板须至少有一个按指标或按项目计分的类别。")
        for c in self.categories:
            if c.scoring not in SCORINGS:
                raise ValueError(f"类别「{c.name}」的计分方式须为 {' / '.join(SCORINGS)} 之一。")
            if c.direction not in DIRECTIONS:
                raise ValueError(f"类别「{c.name}」的方向提示须为 higher、lower 或空。")
            if c.scoring == "items" and not c.items:
                raise ValueError(f"类别「{c.name}」按项目计分，须列出各项目及其计分方法。")
            for item in c.items:
                _check_item(item)
            if c.items:
                total = sum((_points(i.points, f"项目「{i.name}」") for i in c.items), _points("0", ""))
                if total != _points(c.points, f"类别「{c.name}」"):
                    raise ValueError(f"类别「{c.name}」各项目分值之和（{total}）须等于类别分值（{c.points}）。")
                codes = [i.code for item in c.items for i in item.walk()]
                if len(set(codes)) != len(codes):
                    raise ValueError(f"类别「{c.name}」的项目代号重复。")
            for child in c.children:
                if child.level1 != c.slug:
                    raise ValueError(f"二级指标「{child.name}」不属于类别「{c.name}」。")

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(c.slug for c in self.categories)

    @property
    def indicator_slugs(self) -> tuple[str, ...]:
        """The categories scored from indicators, in order (national: output, outcome, satisfaction)."""
        return tuple(c.slug for c in self.categories if c.scoring == "indicators")

    @property
    def execution_slug(self) -> str | None:
        return next((c.slug for c in self.categories if c.scoring == "execution"), None)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def to_json(self) -> list[dict]:
        return [
            {
                "code": c.code,
                "slug": c.slug,
                "name": c.name,
                "short": c.short,
                "points": c.points,
                "scoring": c.scoring,
                "direction": c.direction,
                "children": [{"code": k.code, "slug": k.slug, "name": k.name} for k in c.children],
                "items": [i.to_json() for i in c.items],
            }
            for c in self.categories
        ]

    @classmethod
    def from_json(cls, data: object) -> Structure:
        if not isinstance(data, list):
            raise ValueError("评分模板设置 categories 须为类别的列表。")
        categories = []
        for raw in data:
            if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("code", "slug", "name")):
                raise ValueError("每个类别须有 code、slug、name。")
            slug = raw["slug"]
            children = tuple(
                Level2(str(k["code"]), str(k["slug"]), str(k["name"]), slug) for k in raw.get("children") or ()
            )
            items = tuple(Item.from_json(i) for i in raw.get("items") or ())
            categories.append(
                Category(
                    code=raw["code"],
                    slug=slug,
                    name=raw["name"],
                    short=str(raw.get("short") or raw["name"]),
                    points=str(raw.get("points", "0")),
                    scoring=str(raw.get("scoring", "indicators")),
                    direction=raw.get("direction"),
                    children=children,
                    items=items,
                )
            )
        return cls(tuple(categories))


NATIONAL_2020_STRUCTURE = Structure(
    (
        Category("0", "execution", "预算执行率", "预算执行率", "10", scoring="execution"),
        *(
            Category(
                c.code,
                c.slug,
                c.name,
                c.short,
                {"output": "50", "outcome": "30", "satisfaction": "10"}[c.slug],
                children=tuple(k for k in LEVEL2 if k.level1 == c.slug),
            )
            for c in LEVEL1
        ),
    )
)


# The 2021 guideline (财预〔2021〕101号): 成本指标 is a level-1 category of its own, with the cost
# taxonomy 经济成本 / 社会成本 / 生态环境成本 below it; 产出 keeps 数量 / 质量 / 时效 only. The codes
# of the categories national 2020 also has are kept ("2-效益指标" reads the same under both), so
# 成本 takes the next free code. Default points (产出 40 / 成本 10 / 效益 30 / 满意度 10 of the 90)
# are unconfirmed settings: they apply only where a table gives no 分值.
GUIDELINE_2021_STRUCTURE = Structure(
    (
        Category("0", "execution", "预算执行率", "预算执行率", "10", scoring="execution"),
        Category(
            "1",
            "output",
            "产出指标",
            "产出",
            "40",
            children=tuple(k for k in LEVEL2 if k.level1 == "output" and k.slug != "cost"),
        ),
        Category(
            COST_LEVEL1.code,
            COST_LEVEL1.slug,
            COST_LEVEL1.name,
            COST_LEVEL1.short,
            "10",
            direction="lower",
            children=GUIDELINE_2021_COST_LEVEL2,
        ),
        Category("2", "outcome", "效益指标", "效益", "30", children=tuple(k for k in LEVEL2 if k.level1 == "outcome")),
        Category(
            "3",
            "satisfaction",
            "满意度指标",
            "满意度",
            "10",
            children=tuple(k for k in LEVEL2 if k.level1 == "satisfaction"),
        ),
    )
)


def fit_problem(structure: Structure, level1: str, level2: str | None) -> str | None:
    """Why an indicator of (level1, level2) does not fit a template's structure; None if it fits.

    A level-2 category is checked only where it belongs to the level-1 one it is written under
    (a 二级指标 under the wrong 一级指标 is a warning of the reader, not a template question).
    """
    category = structure.category(level1)
    if category is None or category.scoring != "indicators":
        name = LEVEL1_BY_SLUG[level1].name if level1 in LEVEL1_BY_SLUG else level1
        return f"一级指标“{name}”"
    known = LEVEL2_BY_SLUG.get(level2 or "")
    if known is not None and known.level1 == level1 and category.children:
        if level2 not in {k.slug for k in category.children}:
            return f"二级指标“{known.name}”（在“{category.name}”下）"
    return None
