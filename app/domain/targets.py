"""The language of target values (shared/domain.md §4): one string in, one structured parse out.

Pure: no I/O, no database. Used for 年度指标值 / 实施周期指标值 and for 实际完成值 alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Kind = Literal["quantity", "qualitative", "deadline"]
Op = Literal[">=", ">", "<=", "<", "=", "~", "range"]
UnitClass = Literal["count", "area", "time", "money", "percent", "ratio", "other"]
Direction = Literal["higher", "lower"]
Confidence = Literal["high", "low"]


@dataclass(frozen=True)
class TargetParse:
    raw: str
    kind: Kind
    op: Op | None = None
    value: Decimal | None = None  # magnitude (万/亿/…) applied; percent kept in points
    value_max: Decimal | None = None  # upper bound of a range
    unit: str | None = None  # normalised unit ("元" for "亿元", "%" for "百分比")
    unit_raw: str | None = None  # the unit as written ("亿元")
    unit_class: UnitClass | None = None
    deadline: date | None = None
    direction: Direction | None = None
    confidence: Confidence = "high"
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        """The public shape, field names fixed (decimals as strings, dates ISO)."""
        return {
            "raw": self.raw,
            "kind": self.kind,
            "op": self.op,
            "value": _dec(self.value),
            "value_max": _dec(self.value_max),
            "unit": self.unit,
            "unit_raw": self.unit_raw,
            "unit_class": self.unit_class,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "direction": self.direction,
            "confidence": self.confidence,
            "warnings": list(self.warnings),
        }


def _dec(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def parse_target(text: str) -> TargetParse:
    """Parse one target or actual value; never raises."""
    raise NotImplementedError  # written in the parser change
