"""The plain rows every reader produces (published text, xlsx, csv); no database here.

Values are kept RAW, exactly as given (for the published text: after joining the lines the
PDF extraction broke). Problems always carry their place so a user can find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class ReadLimits:
    """How much of a table an import reads at most; larger files are refused with their place."""

    max_rows: int = 200_000  # rows of all sheets that hold any cell
    max_cells: int = 5_000_000  # cells of all sheets
    max_uncompressed_bytes: int = 300 * 1024 * 1024  # an xlsx's members, unpacked (zip bombs)


@dataclass(frozen=True)
class Place:
    """Where a value sits: file, sheet (None for csv/text), row as the user sees it, column."""

    file: str
    sheet: str | None = None
    row: int | None = None  # 1-based: the Excel row number, or the line number of a text file
    column: str | None = None  # the column header as written in the template
    value: str | None = None  # the offending value, as given

    def describe(self) -> str:
        """The place in Chinese, e.g. "demo.xlsx 工作表“导入” 第3行 “一级指标”列"."""
        parts = [self.file]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"“{self.column}”列")
        return " ".join(parts)


@dataclass(frozen=True)
class Problem:
    """An error (the file cannot be stored) or a warning (stored with the rows)."""

    severity: Severity
    code: str  # stable machine code, e.g. "unknown_level1"
    message: str  # clear Chinese for the user
    place: Place


@dataclass
class IndicatorRow:
    """One 绩效指标 (one row of the 绩效目标表)."""

    order: int  # 1-based position inside its project
    level1: str | None  # slug from app.domain.categories, None when unknown
    level1_raw: str
    level2: str | None
    level2_raw: str
    name: str  # 三级指标
    period_target: str | None  # 实施周期指标值, raw
    annual_target: str | None  # 年度指标值, raw
    weight: Decimal | None  # 分值, None when the table gives none
    place: Place


@dataclass
class ProjectRow:
    """One project of one unit with its indicators."""

    year: int | None
    department_name: str | None
    unit_name: str | None
    unit_code: str | None
    project_name: str
    project_code: str | None
    budget: Decimal | None  # 年度预算数, 万元
    period_goal: str | None
    annual_goal: str | None
    indicators: list[IndicatorRow] = field(default_factory=list)
    name_generated: bool = False  # True when the reader could not place the name and made one
    warnings: list[Problem] = field(default_factory=list)  # the warnings about this project
    place: Place | None = None


@dataclass
class ReadResult:
    """What a reader returns. `problems` holds every problem, also those in project.warnings."""

    projects: list[ProjectRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors
