"""The 项目支出绩效自评表 as an xlsx workbook (openpyxl): one sheet per project, laid out like the
national form (财预〔2020〕10号 附件1), plus a summary sheet when there are several.

Money is written as exact decimals with a number format (万元 to the fen, up to 6 decimals), never
through float; rates are stored as fractions formatted as percentages. Every cell goes through
`spreadsheet.set_cell`, so text is never a formula.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.domain.evaluation import FUND_SOURCES, LEVEL_LABELS, STATUS_LABELS
from app.services.evaluations import EvaluationView
from app.services.spreadsheet import set_cell

MONEY_FORMAT = "#,##0.00####"  # 万元: at least 2 decimals, up to 6 (one fen)
SCORE_FORMAT = "0.00"


def score_format(value: Decimal | None, places: int) -> str:
    """The cell format of a score at the template's precision ("0", "0.0", "0.00"); a figure finer
    than that (a 分值 of 22.5 used as written) keeps its digits."""
    if value is not None and value != value.quantize(Decimal(1).scaleb(-places)):
        return "General"
    return "0." + "0" * places if places else "0"


RATE_FORMAT = "0.00%"
COLUMNS = (8, 12, 26, 18, 20, 9, 9, 14, 30)  # A..I widths, in characters
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="EEF2F7")
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
FONT = "宋体"


def _reason_text(ind) -> str | None:
    """偏差原因, and where the unit scored the row itself its own score beside the computed one."""
    parts = [ind.deviation_reason] if ind.deviation_reason else []
    if ind.self_score is not None:
        computed = "无法计算" if ind.score is None else f"{ind.score}"
        reason = ind.self_score_reason or "—"
        parts.append(f"（单位自评得分 {ind.self_score}，计算得分 {computed}；自评理由：{reason}）")
    return "\n".join(parts) or None


def evaluations_workbook(views: list[EvaluationView], *, title: str) -> bytes:
    """The workbook of the given 自评表 (a summary sheet first when there are several)."""
    book = Workbook()
    first = book.active
    if len(views) != 1:
        first.title = "汇总"
        _summary(first, views, title)
    used = {first.title}
    for n, view in enumerate(views, start=1):
        sheet = first if len(views) == 1 else book.create_sheet()
        sheet.title = sheet_name(n, view.project.name, used)
        _form(sheet, view)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def actual_text(indicator) -> str:
    """实际完成值 as the form prints it: the chosen level (and its score) for qualitative targets."""
    if indicator.uses_levels:
        parts = []
        if indicator.qualitative_level:
            parts.append(LEVEL_LABELS.get(indicator.qualitative_level, indicator.qualitative_level))
        if indicator.actual:
            parts.append(indicator.actual)
        return "；".join(parts)
    return indicator.actual or ""


def sheet_name(n: int, name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", f"{n}.{name}")[:31]
    candidate, k = base, 2
    while candidate in used:
        suffix = f"~{k}"
        candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(candidate)
    return candidate


def _put(
    ws: Worksheet,
    ref: str,
    value,
    *,
    head: bool = False,
    fmt: str | None = None,
    span: str | None = None,
    align: Alignment = WRAP,
) -> None:
    """Write a cell (optionally merged over `span`), boxed, wrapped; headings shaded and centred."""
    if span:
        ws.merge_cells(f"{ref}:{span}")
        for row in ws[f"{ref}:{span}"]:
            for cell in row:
                cell.border = BOX
    cell = set_cell(ws[ref], value)
    cell.border = BOX
    cell.alignment = CENTER if head else align
    cell.font = Font(name=FONT, bold=head, size=10)
    if head:
        cell.fill = HEAD_FILL
    if fmt:
        cell.number_format = fmt


def _rate(points: Decimal | None) -> Decimal | None:
    return None if points is None else points / 100


def _form(ws: Worksheet, v: EvaluationView) -> None:
    p, s = v.project, v.evaluation
    for i, width in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.merge_cells("A1:I1")
    set_cell(ws["A1"], "项目支出绩效自评表")
    ws["A1"].font = Font(name=FONT, bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:I2")
    set_cell(
        ws["A2"], f"（{p.year}年度）    状态：{STATUS_LABELS.get(s.status, s.status)}    评分模板：{v.template_label}"
    )
    ws["A2"].alignment = Alignment(horizontal="center")
    ws["A2"].font = Font(name=FONT, size=10)

    _put(ws, "A3", "项目名称", head=True, span="B3")
    _put(ws, "C3", p.name, span="I3")
    _put(ws, "A4", "主管部门", head=True, span="B4")
    _put(ws, "C4", v.department_name, span="E4")
    _put(ws, "F4", "实施单位", head=True, span="G4")
    _put(ws, "H4", v.unit.name, span="I4")

    _put(ws, "A5", "项目资金（万元）", head=True, span="B9")
    for col, text in zip(
        "CDEFGHI", ("", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"), strict=True
    ):
        _put(ws, f"{col}5", text, head=True)
    _put(ws, "C6", "年度资金总额", head=True)
    _put(ws, "D6", p.initial_budget, fmt=MONEY_FORMAT)
    _put(ws, "E6", p.budget, fmt=MONEY_FORMAT)
    _put(ws, "F6", p.spent, fmt=MONEY_FORMAT)
    places = v.places  # scores are written at the template's precision (9, not 9.00, where it rounds to units)
    _put(ws, "G6", v.execution_weight, fmt=score_format(v.execution_weight, places))
    _put(ws, "H6", _rate(s.execution_rate), fmt=RATE_FORMAT)
    _put(ws, "I6", s.execution_score, fmt=score_format(s.execution_score, places))
    for row, source in enumerate(("fiscal_funds", "carried_over", "other_funds"), start=7):
        _put(ws, f"C{row}", ("其中：" if row == 7 else "") + FUND_SOURCES[source], head=True)
        _put(ws, f"D{row}", getattr(p, source), fmt=MONEY_FORMAT)
        _put(ws, f"E{row}", getattr(s, f"budget_{source}"), fmt=MONEY_FORMAT)
        _put(ws, f"F{row}", getattr(s, f"spent_{source}"), fmt=MONEY_FORMAT)
        for col in "GHI":
            _put(ws, f"{col}{row}", None)

    _put(ws, "A10", "年度总体目标", head=True, span="B11")
    _put(ws, "C10", "预期目标", head=True, span="F10")
    _put(ws, "G10", "实际完成情况", head=True, span="I10")
    _put(ws, "C11", p.annual_goal, span="F11")
    _put(ws, "G11", s.goal_completion, span="I11")
    ws.row_dimensions[11].height = 60

    for col, text in zip(
        "ABCDEFGH",
        (
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ),
        strict=True,
    ):
        _put(ws, f"{col}12", text, head=True, span="I12" if col == "H" else None)
    row = 13
    for group in v.groups:
        first = row
        run_start, run_name = row, None
        for ind in group.indicators:
            if ind.level2_name != run_name:
                _merge_run(ws, "B", run_start, row - 1)
                run_start, run_name = row, ind.level2_name
            final = ind.score_override if ind.score_override is not None else ind.unit_score
            target = ind.annual_target or ""
            if ind.periods_differ:
                target += f"\n（实施周期：{ind.period_target or '—'}）"
            _put(ws, f"A{row}", None)
            _put(ws, f"B{row}", ind.level2_name)
            _put(ws, f"C{row}", ind.name)
            _put(ws, f"D{row}", target)
            _put(ws, f"E{row}", actual_text(ind))
            _put(ws, f"F{row}", ind.weight, fmt=score_format(ind.weight, places))
            _put(ws, f"G{row}", final, fmt=score_format(final, places))
            _put(ws, f"H{row}", _reason_text(ind), span=f"I{row}")
            row += 1
        _merge_run(ws, "B", run_start, row - 1)
        _put(
            ws,
            f"A{first}",
            f"{group.name}指标（{group.points}分）",
            head=True,
            span=f"A{row - 1}" if row - 1 > first else None,
        )
    _put(ws, f"A{row}", "总分", head=True, span=f"E{row}")
    _put(ws, f"F{row}", Decimal(100), fmt=score_format(Decimal(100), places))
    _put(ws, f"G{row}", s.total_score, fmt=score_format(s.total_score, places))
    _put(ws, f"H{row}", "自评等级", head=True)
    _put(ws, f"I{row}", s.grade or "")

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "12:12"


def _merge_run(ws: Worksheet, col: str, start: int, end: int) -> None:
    """Merge a run of equal 二级指标 cells, as the printed form does."""
    if end > start:
        ws.merge_cells(f"{col}{start}:{col}{end}")


def _summary(ws: Worksheet, views: list[EvaluationView], title: str) -> None:
    ws.merge_cells("A1:J1")
    set_cell(ws["A1"], title)
    ws["A1"].font = Font(name=FONT, bold=True, size=14)
    heads = (
        "序号",
        "实施单位",
        "项目编码",
        "项目名称",
        "状态",
        "全年预算数（万元）",
        "全年执行数（万元）",
        "执行率",
        "总分",
        "等级",
    )
    for i, (text, width) in enumerate(zip(heads, (6, 24, 24, 40, 10, 16, 16, 10, 9, 7), strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        _put(ws, f"{get_column_letter(i)}2", text, head=True)
    for n, v in enumerate(views, start=1):
        r = n + 2
        s = v.evaluation
        values = (
            n,
            v.unit.name,
            v.project.project_code,
            v.project.name,
            STATUS_LABELS.get(s.status, s.status),
            v.project.budget,
            v.project.spent,
            _rate(s.execution_rate),
            s.total_score,
            s.grade or "",
        )
        formats = (None, None, None, None, None, MONEY_FORMAT, MONEY_FORMAT, RATE_FORMAT, SCORE_FORMAT, None)
        for i, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
            _put(ws, f"{get_column_letter(i)}{r}", value, fmt=fmt)
    ws.freeze_panes = "A3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
