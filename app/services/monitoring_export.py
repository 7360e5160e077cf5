"""The monitoring overview as an xlsx workbook: by department, by unit, and every project's lights.

Money is written as exact decimals with a number format, shares as fractions formatted as percentages;
every cell goes through `spreadsheet.set_cell`, so a text a unit typed is never a formula.
"""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from app.domain import monitoring as m
from app.services.monitoring import GroupLine, Overview
from app.services.spreadsheet import set_cell

MONEY_FORMAT = "#,##0.00####"
SHARE_FORMAT = "0.00%"
FILLS = {k: PatternFill("solid", fgColor=v.lstrip("#")) for k, v in m.LIGHT_COLORS.items()}


def _share(points: Fraction | None) -> Decimal | None:
    """Percentage points as the fraction a percent-formatted cell holds (49.59 → 0.4959), half-up to 4 places."""
    shown = m.points(points, 4)
    return None if shown is None else shown / 100


def _row(ws: Worksheet, row: int, values: list, formats: dict[int, str] | None = None) -> None:
    for col, value in enumerate(values, start=1):
        cell = set_cell(ws.cell(row=row, column=col), value)
        if formats and col in formats and value is not None:
            cell.number_format = formats[col]


def _header(ws: Worksheet, titles: list[str]) -> None:
    _row(ws, 1, titles)
    for cell in ws[1]:
        cell.font = Font(bold=True)


def _groups(ws: Worksheet, rows: list[GroupLine], total: GroupLine, kind: str) -> None:
    titles = [kind, "项目数", *(m.LIGHT_LABELS[k] for k in (*m.LIGHTS, m.NO_LIGHT))]
    titles += ["预算数（万元，已填执行数的项目）", "执行数（万元）", "支出进度"]
    _header(ws, titles)
    for n, g in enumerate([*rows, total], start=2):
        values = [g.name, g.projects, *(g.lights[k] for k in (*m.LIGHTS, m.NO_LIGHT))]
        values += [g.budget, g.spent, _share(g.spending_rate)]
        _row(ws, n, values, {7: MONEY_FORMAT, 8: MONEY_FORMAT, 9: SHARE_FORMAT})
    ws.column_dimensions["A"].width = 34


def workbook(view: Overview) -> bytes:
    """The overview (as the caller filtered it) in three sheets."""
    book = Workbook()
    intro = book.active
    intro.title = "说明"
    rnd = view.round
    _row(intro, 1, [f"{rnd.year} 年度绩效运行监控（双监控）"])
    _row(intro, 2, ["监控截止日期", rnd.cutoff_date.isoformat()])
    _row(intro, 3, ["时间进度", _share(view.line)], {2: SHARE_FORMAT})
    _row(intro, 4, ["状态", m.ROUND_STATUS_LABELS[rnd.status]])
    _row(intro, 5, ["亮灯规则", m.light_doc(view.thresholds)])
    intro.column_dimensions["A"].width = 16
    _groups(book.create_sheet("按主管部门"), view.departments, view.total, "主管部门")
    _groups(book.create_sheet("按单位"), view.units, view.total, "单位")
    ws = book.create_sheet("项目")
    _header(
        ws,
        [
            "主管部门",
            "单位",
            "项目编码",
            "项目名称",
            "目标进度灯",
            "全年预算数（万元）",
            "执行数（万元）",
            "支出进度",
            "支出灯",
            "三级指标",
            "年度指标值",
            "完成值",
            "年末预计值",
            "指标灯",
            "亮灯依据",
            m.REASON_WORDS,
            m.MEASURE_WORDS,
        ],
    )
    n = 2
    for r in view.reports:
        head = [
            r.department.name if r.department else "",
            r.unit.name,
            r.project.project_code,
            r.project.name,
            m.LIGHT_LABELS[r.light],
            r.project.budget,
            r.report.spent if r.report else None,
            _share(r.spending.rate),
            m.LIGHT_LABELS[r.spending.light],
        ]
        for line in r.indicators or [None]:
            tail: list = [None] * 8
            if line is not None:
                e = line.entry
                tail = [
                    line.indicator.name,
                    line.indicator.annual_target,
                    e.progress if e else None,
                    e.expected_year_end if e else None,
                    m.LIGHT_LABELS[line.light],
                    line.result.basis,
                    e.reason if e else None,
                    e.measure if e else None,
                ]
            _row(ws, n, [*head, *tail], {6: MONEY_FORMAT, 7: MONEY_FORMAT, 8: SHARE_FORMAT})
            ws.cell(row=n, column=5).fill = FILLS[r.light]
            ws.cell(row=n, column=9).fill = FILLS[r.spending.light]
            if line is not None:
                ws.cell(row=n, column=14).fill = FILLS[line.light]
            n += 1
    for col, width in zip(
        "ABCDEFGHIJKLMNOPQ", (22, 24, 24, 28, 10, 14, 14, 10, 8, 22, 14, 12, 12, 8, 30, 30, 30), strict=True
    ):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
