"""The indicator category tables (一级/二级指标) as data, not enums scattered through code.

Codes and names as the Guangzhou tables print them (shared/domain.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass


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

LEVEL1_BY_SLUG = {c.slug: c for c in LEVEL1}
LEVEL2_BY_SLUG = {c.slug: c for c in LEVEL2}
