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

LEVEL1_BY_SLUG = {c.slug: c for c in LEVEL1}
LEVEL2_BY_SLUG = {c.slug: c for c in LEVEL2}


# --- reading the categories as tables write them ----------------------------------------
# Tables write "1-产出指标", "1－产出指标", "产出指标", "产出", "11-数量指标", "数量指标", "数量".
# A code and a name that disagree ("1-效益指标") are not guessed at: the lookup returns None.

_CODE_PREFIX = re.compile(r"^\s*(\d{1,2})\s*(?:[-－—–.．、:：]\s*|(?=\D)|$)")


def _split_code(text: str) -> tuple[str | None, str]:
    norm = unicodedata.normalize("NFKC", text or "")
    norm = re.sub(r"\s+", "", norm)
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
    """The level-1 category written as "1-产出指标", "产出指标", "产出" or "1"; None if unknown."""
    code, name = _split_code(text)
    by_code = next((c for c in LEVEL1 if c.code == code), None) if code else None
    by_name = next((c for c in LEVEL1 if name in _name_forms(c.name, c.short)), None) if name else None
    if code and name:
        return by_code if by_code is not None and by_code is by_name else None
    return by_code or by_name


@lru_cache(maxsize=1024)
def level2_from_text(text: str) -> Level2 | None:
    """The level-2 category written as "11-数量指标", "数量指标", "数量" or "11"; None if unknown."""
    code, name = _split_code(text)
    by_code = next((c for c in LEVEL2 if c.code == code), None) if code else None
    by_name = next((c for c in LEVEL2 if name in _name_forms(c.name)), None) if name else None
    if code and name:
        return by_code if by_code is not None and by_code is by_name else None
    return by_code or by_name
