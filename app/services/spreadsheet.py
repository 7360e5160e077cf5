"""How every export writes a cell, xlsx or CSV, in one place: text stays text, numbers stay numbers.

Text a unit types (`=HYPERLINK(…)`, `+cmd…`, `@SUM(…)`) must never become a live formula in the file
the bureau opens (formula or "CSV" injection). openpyxl stores a string starting with "=" as a formula
and one equal to "#N/A" as an error, so every text cell is forced to the string type. A CSV has no
types: a spreadsheet evaluates a field that starts with = + - @ tab or CR, so such a field gets a
leading single quote (OWASP's rule) and every text field is quoted. Numbers — ints, and decimals such
as negative amounts — are written as numbers and left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, WriteOnlyCell

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A CSV text field a spreadsheet shows as typed: a leading quote when it would be evaluated."""
    return "'" + text if text.startswith(FORMULA_LEADS) else text


def csv_writer(buffer):
    """A CSV writer that quotes every text field and writes numbers bare."""
    return csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)


def number(value: Any, *, numeric: bool) -> Any:
    """A number column's decimal string as a Decimal, so both formats write it as a number."""
    if numeric and isinstance(value, str) and value:
        try:
            return Decimal(value)
        except InvalidOperation:
            return value  # not a number after all: written (and neutralised) as text
    return value


def csv_value(value: Any) -> Any:
    """One CSV field: numbers as they are, text neutralised."""
    if value is None:
        return ""
    return csv_text(value) if isinstance(value, str) else value


def set_cell(cell, value: Any):
    """Put a value in an openpyxl cell: text always as a string cell (never a formula or an error code)."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters Excel refuses to open
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def xlsx_value(value: Any, sheet) -> Any:
    """A value for a write-only sheet's row: text openpyxl would store as a formula or error goes in a string cell."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("=") or value in ERROR_CODES:
            return set_cell(WriteOnlyCell(sheet), value)
    return value


def csv_row(values: Sequence[Any], numeric: Sequence[bool] | None = None) -> list[Any]:
    """A CSV row: the decimal strings of number columns as numbers, every text neutralised."""
    flags = numeric or [False] * len(values)
    return [csv_value(number(v, numeric=n)) for v, n in zip(values, flags, strict=True)]


def xlsx_row(values: Sequence[Any], sheet, numeric: Sequence[bool] | None = None) -> list[Any]:
    """A write-only sheet's row: the decimal strings of number columns as numbers, text as string cells."""
    flags = numeric or [False] * len(values)
    return [xlsx_value(number(v, numeric=n), sheet) for v, n in zip(values, flags, strict=True)]
