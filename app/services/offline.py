"""离线填报: the 自评表 as an xlsx workbook a unit fills in Excel or WPS and uploads again.

The download has one sheet per project, laid out as a form: what the unit reports sits in unlocked
yellow cells, everything else is locked (sheet protection without a password, so nothing is typed
over by accident). A very hidden sheet (`_jixiao`) records, for every editable cell, the evaluation
it belongs to, its version at download time, the field it fills and the value it held then.

An upload is read back through that map. For each project only the cells the unit changed are
sent, through `evaluations.save` — the same parsing and rules as typing on the page, one
transaction per project (all or nothing). A project whose evaluation changed since the download
(its version moved) is refused with the fields that differ; a submitted or approved one with the
reason; a refused cell is reported by sheet, row and column.

Numbers in cells: a spreadsheet keeps binary floating point, and WPS writes 108.35 as
108.35000000000001. A number cell is read as its shortest decimal at 15 significant digits (the
precision Excel and WPS show and calculate with), so 108.35 comes back as 108.35 exactly; a percent
format gives back "97.5%", a date cell "2024-11-30". Text cells are taken as typed.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from app.domain.evaluation import LEVEL_LABELS, STATUS_LABELS
from app.security import Principal
from app.services import evaluations, exports
from app.services.errors import DomainError, ValidationFailed
from app.services.evaluations import SPLIT_FIELDS, UNSET, EvaluationView, ResultInput, decimal_text
from app.services.spreadsheet import set_cell

META = "_jixiao"
MARK = "jixiao-离线填报-1"  # the first cell of the map: a workbook of ours, in this layout
META_HEAD = ("工作表", "自评编号", "版本", "字段", "单元格", "名称", "下载时的值")
FONT = "宋体"
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="EEF2F7")
EDIT = PatternFill("solid", fgColor="FFF7CC")  # the cells the unit fills
WRAP = Alignment(wrap_text=True, vertical="top")
MONEY_FORMAT = exports.MONEY_FORMAT
TEXT_FORMAT = "@"  # what is typed stays text: "97.5%" or "2024-11-30" are not turned into numbers
LEVEL_CODES = {label: code for code, label in LEVEL_LABELS.items()}
SIGNIFICANT = 15  # the digits of a number a spreadsheet shows and calculates with

# The indicator table: (column title, field, width); None: shown, never read.
COLUMNS: tuple[tuple[str, str | None, int], ...] = (
    ("序号", None, 6),
    ("一级指标", None, 10),
    ("二级指标", None, 12),
    ("三级指标", None, 24),
    ("年度指标值", None, 18),
    ("分值", None, 7),
    ("实际完成值", "actual", 18),
    ("达成程度（定性指标）", "qualitative_level", 20),
    ("区间内得分（定性指标）", "score_in_band", 10),
    ("偏差原因分析及改进措施", "deviation_reason", 34),
    ("自评得分", "self_score", 9),
    ("自评得分理由", "self_score_reason", 24),
    ("下载时得分", None, 9),
)
MONEY_FIELDS = (("budget", "全年预算数"), ("spent", "全年执行数"), *SPLIT_FIELDS.items())
TEXT_FIELDS = {"actual", "deviation_reason", "self_score_reason", "goal_completion"}


# What the map may hold (it travels with the file, so it is checked like any other input).
NUMBER = re.compile(r"[1-9]\d{0,8}")
CELL_REF = re.compile(r"[A-Z]{1,3}[1-9]\d{0,6}")
FIELD_KEY = re.compile(
    r"budget|spent|goal_completion|(budget|spent)_(fiscal_funds|carried_over|other_funds)"
    r"|results\[[1-9]\d{0,9}\]\.(actual|qualitative_level|score_in_band|deviation_reason|self_score|self_score_reason)"
)


@dataclass(frozen=True)
class Limits:
    """What an upload may hold at most, checked before anything is read into cells."""

    max_bytes: int
    max_rows: int  # rows of every sheet together
    max_unpacked: int  # the xlsx unpacked, from its zip directory


def limits_of(settings) -> Limits:
    return Limits(
        max_bytes=settings.offline_max_bytes,
        max_rows=settings.offline_max_rows,
        max_unpacked=settings.offline_max_uncompressed_bytes,
    )


# --- the download ------------------------------------------------------------------------------


def workbook(views: list[EvaluationView]) -> bytes:
    """The fill-in workbook of these 自评表: a sheet of instructions, one sheet per project, the map."""
    book = Workbook()
    guide = book.active
    guide.title = "填报说明"
    meta = book.create_sheet(META)
    meta.append(list(META_HEAD))
    set_cell(meta["H1"], MARK)
    used = {guide.title, META}
    sheets = []
    for n, v in enumerate(views, start=1):
        ws = book.create_sheet(exports.sheet_name(n, v.project.name, used), index=n)
        _form(ws, v, meta)
        sheets.append((ws.title, v))
    _guide(guide, sheets)
    meta.sheet_state = "veryHidden"
    meta.protection.sheet = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def year_views(*, session: Session, principal: Principal, year: int | None) -> list[EvaluationView]:
    """Every 自评表 of the caller's year, in table order."""
    if year is None:
        return []
    evaluations.ensure_evaluations(session=session, year=year)
    return [
        evaluations.view(session=session, principal=principal, evaluation_id=s.id)
        for s in evaluations.list_evaluations(session=session, principal=principal, year=year)
    ]


def _style(cell, *, head: bool = False, editable: bool = False, fmt: str | None = None) -> None:
    cell.border = BOX
    cell.alignment = WRAP
    cell.font = Font(name=FONT, size=10, bold=head)
    if head:
        cell.fill = HEAD
    if editable:
        cell.fill = EDIT
        cell.protection = Protection(locked=False)
    if fmt:
        cell.number_format = fmt


def _guide(ws: Worksheet, sheets: list[tuple[str, EvaluationView]]) -> None:
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 24
    ws.column_dimensions["D"].width = 14
    lines = (
        "项目支出绩效自评表 · 离线填报",
        "1. 只在黄色单元格中填写；其余单元格已锁定（工作表保护，无密码）。",
        "2. 金额单位为万元，最多 6 位小数；实际完成值照页面上的写法填写，如“12份”“97.5%”“2024-11-30”。",
        "3. 定性指标在“达成程度”中从下拉列表选择，可在其分值区间内填写“区间内得分”。",
        "4. 得分低于分值时须填写偏差原因；填写自评得分时须写明理由。",
        "5. 填好后在系统首页或自评表页点“上传离线填报表”：每个项目整体保存或整体不保存，有误的单元格逐一列出。",
        "6. 下载后如果自评已在系统中被修改，上传会被拒绝并列出差异：请重新下载后再填。",
    )
    for row, text in enumerate(lines, start=1):
        set_cell(ws.cell(row=row, column=1), text)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=4)
    ws["A1"].font = Font(name=FONT, size=14, bold=True)
    top = len(lines) + 2
    for col, text in enumerate(("工作表", "项目名称", "项目编码", "状态"), start=1):
        _style(set_cell(ws.cell(row=top, column=col), text), head=True)
    for row, (title, v) in enumerate(sheets, start=top + 1):
        status = STATUS_LABELS[v.evaluation.status] + ("" if v.editable else "（不能修改）")
        for col, text in enumerate((title, v.project.name, v.project.project_code, status), start=1):
            _style(set_cell(ws.cell(row=row, column=col), text))
    ws.protection.sheet = True


def _form(ws: Worksheet, v: EvaluationView, meta: Worksheet) -> None:
    p, e = v.project, v.evaluation
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(COLUMNS))

    def remember(cell, key: str, label: str, value: str | None) -> None:
        """One editable cell in the map: where it is, what it fills, what it held at download."""
        row = meta.max_row + 1
        for col, text in enumerate((ws.title, str(e.id), str(e.version), key, cell.coordinate, label, value), 1):
            set_cell(meta.cell(row=row, column=col), "" if text is None else text)

    ws.merge_cells(f"A1:{last}1")
    set_cell(ws["A1"], f"项目支出绩效自评表（{p.year}年度）· 离线填报")
    ws["A1"].font = Font(name=FONT, size=14, bold=True)
    state = STATUS_LABELS[e.status]
    if not v.editable:
        state += "：不能修改（上传时此项目的改动会被拒绝）"
    info = (
        ("项目名称", p.name),
        ("项目编码", p.project_code),
        ("实施单位", v.unit.name),
        ("状态", state),
    )
    row = 2
    for label, value in info:
        _style(set_cell(ws.cell(row=row, column=1), label), head=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        _style(set_cell(ws.cell(row=row, column=3), value))
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=len(COLUMNS))
        row += 1

    row += 1
    _style(set_cell(ws.cell(row=row, column=1), "项目资金（万元）"), head=True)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(COLUMNS))
    row += 1
    money = [("initial_budget", "年初预算数", p.initial_budget, False)]
    for name, label in MONEY_FIELDS:
        editable = v.editable and (v.budget_editable if name == "budget" else True)
        money.append((name, label, getattr(e if name in SPLIT_FIELDS else p, name), editable))
    for name, label, amount, editable in money:
        _style(set_cell(ws.cell(row=row, column=1), label), head=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        cell = set_cell(ws.cell(row=row, column=3), amount)
        _style(cell, editable=editable, fmt=MONEY_FORMAT)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=4)
        if name == "budget" and v.editable and not editable:
            set_cell(ws.cell(row=row, column=5), "来自绩效目标表，不在自评中修改")
        if name != "initial_budget":  # mapped even when locked: a change is then refused with its reason
            remember(cell, name, label, decimal_text(amount))
        row += 1

    row += 1
    for label, value, key in (
        ("年度总体目标", p.annual_goal, None),
        ("实际完成情况", e.goal_completion, "goal_completion"),
    ):
        _style(set_cell(ws.cell(row=row, column=1), label), head=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        cell = set_cell(ws.cell(row=row, column=3), value)
        _style(cell, editable=bool(key) and v.editable, fmt=TEXT_FORMAT if key else None)
        ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=len(COLUMNS))
        ws.row_dimensions[row].height = 48
        if key:
            remember(cell, key, label, value)
        row += 1

    row += 1
    head_row = row
    for col, (title, _, _) in enumerate(COLUMNS, start=1):
        _style(set_cell(ws.cell(row=row, column=col), title), head=True)
    levels = DataValidation(
        type="list",
        formula1='"' + ",".join(LEVEL_LABELS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="达成程度",
        error="请从下拉列表中选择达成程度",
        promptTitle="达成程度",
        prompt="从下拉列表中选择",
        showInputMessage=True,
    )
    ws.add_data_validation(levels)
    n = 0
    for group in v.groups:
        for ind in group.indicators:
            row += 1
            n += 1
            values = {
                "actual": ind.actual,
                "qualitative_level": LEVEL_LABELS.get(ind.qualitative_level or "", None),
                "score_in_band": ind.score_in_band,
                "deviation_reason": ind.deviation_reason,
                "self_score": ind.self_score,
                "self_score_reason": ind.self_score_reason,
            }
            final = ind.score_override if ind.score_override is not None else ind.unit_score
            shown = [n, group.name, ind.level2_name, ind.name, ind.annual_target, ind.weight]
            for col, (title, key, _) in enumerate(COLUMNS, start=1):
                cell = ws.cell(row=row, column=col)
                if key is None:
                    _style(set_cell(cell, shown[col - 1] if col <= len(shown) else final))
                    continue
                applies = (key not in ("qualitative_level", "score_in_band") or ind.uses_levels) and (
                    key not in ("self_score", "self_score_reason") or v.self_scores_allowed
                )
                editable = v.editable and applies
                value = values[key]
                set_cell(cell, value)
                _style(cell, editable=editable, fmt=TEXT_FORMAT if key in TEXT_FIELDS else None)
                if not applies:
                    cell.fill = PatternFill("solid", fgColor="D9D9D9")
                if key == "qualitative_level" and editable:
                    levels.add(cell.coordinate)
                if applies:
                    stored = {
                        "qualitative_level": ind.qualitative_level,
                        "score_in_band": decimal_text(ind.score_in_band),
                        "self_score": decimal_text(ind.self_score),
                    }.get(key, values[key])
                    remember(cell, f"results[{ind.id}].{key}", f"{title}（第 {n} 项：{ind.name}）", stored)
            if ind.periods_differ and ind.period_target:
                ws.cell(row=row, column=5).comment = Comment(f"实施周期指标值：{ind.period_target}", "jixiao")
    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    # Locked cells stay locked; the unit may still widen columns and rows to read long texts.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


# --- the upload --------------------------------------------------------------------------------


@dataclass
class CellProblem:
    """A refused cell: where it is and why, in words the unit reads."""

    sheet: str
    cell: str | None  # "G15"; None when the message is about the project as a whole
    column: str  # the column's (or the row's) title
    message: str

    @property
    def row(self) -> int | None:
        return coordinate_from_string(self.cell)[1] if self.cell else None

    @property
    def column_letter(self) -> str | None:
        return coordinate_from_string(self.cell)[0] if self.cell else None

    @property
    def place(self) -> str:
        if self.cell is None:
            return f"工作表“{self.sheet}”"
        return f"工作表“{self.sheet}”第 {self.row} 行 {self.column_letter} 列（{self.column}）"


@dataclass
class Difference:
    """A field that changed in the system since the download."""

    field: str
    in_file: str
    now: str


@dataclass
class Outcome:
    """What became of one project's sheet: saved, unchanged or refused (then nothing of it was saved)."""

    sheet: str
    evaluation_id: int
    project_name: str = ""
    project_code: str = ""
    result: str = "unchanged"  # saved / unchanged / refused
    changed: int = 0  # cells sent
    message: str = ""
    problems: list[CellProblem] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def result_label(self) -> str:
        return {"saved": "已保存", "unchanged": "未修改", "refused": "未保存"}[self.result]


@dataclass
class Report:
    outcomes: list[Outcome]

    @property
    def ok(self) -> bool:
        return all(o.result != "refused" for o in self.outcomes)

    def count(self, result: str) -> int:
        return sum(o.result == result for o in self.outcomes)


@dataclass
class _Entry:
    sheet: str
    evaluation_id: int
    version: int
    key: str
    cell: str
    label: str
    downloaded: str | None


def _refuse_file(message: str) -> None:
    raise ValidationFailed(message)


def read_map(data: bytes, limits: Limits) -> tuple[Any, list[_Entry]]:
    """The workbook (read-only) and its map of editable cells; a file that is not our download, or
    is larger than the limits, is refused before any cell is read."""
    if len(data) > limits.max_bytes:
        _refuse_file(f"文件过大：上限为 {limits.max_bytes // 1048576 or 1} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        _refuse_file("无法读取文件：请上传从本系统下载的离线填报表（.xlsx），用 Excel 或 WPS 保存为 xlsx 格式")
    if unpacked > limits.max_unpacked:
        _refuse_file("文件解压后过大，不是本系统的离线填报表：请重新下载后填写")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign file
        raise ValidationFailed(f"无法读取文件（{type(exc).__name__}）：请上传 xlsx 格式的离线填报表") from exc
    if META not in book.sheetnames:
        _refuse_file("这不是本系统的离线填报表（缺少填报信息），请从首页或自评表页下载后填写")
    meta = book[META]
    rows = 0
    for ws in book.worksheets:
        rows += ws.max_row or 0
        if rows > limits.max_rows:
            _refuse_file(f"表格超过 {limits.max_rows:,} 行的上限（设置 JIXIAO_OFFLINE_MAX_ROWS），未读取")
    entries: list[_Entry] = []
    for n, values in enumerate(meta.iter_rows(values_only=True, max_col=8), start=1):
        if n == 1:
            if len(values) < 8 or values[7] != MARK:
                _refuse_file("这不是本系统的离线填报表（版式不符），请重新下载后填写")
            continue
        sheet, ident, version, key, ref, label, downloaded = (list(values) + [None] * 7)[:7]
        if not (
            sheet
            and NUMBER.fullmatch(str(ident))
            and NUMBER.fullmatch(str(version))
            and FIELD_KEY.fullmatch(str(key))
            and CELL_REF.fullmatch(str(ref))
        ):
            _refuse_file("离线填报表的填报信息已损坏，请重新下载后填写")
        entries.append(_Entry(str(sheet), int(ident), int(version), str(key), str(ref), str(label or key), downloaded))
    return book, entries


def cell_text(value: Any, number_format: str | None) -> str:
    """What a cell holds, as the text a person would have typed on the page (see the module note)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(f"{value:.{SIGNIFICANT}g}")
    elif isinstance(value, Decimal):
        number = value
    else:
        return str(value)
    if number_format and "%" in number_format:
        return _plain(number * 100) + "%"
    return _plain(number)


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _same(key: str, a: str | None, b: str | None) -> bool:
    """Whether two values of a field are the same figure or text (money and scores by value)."""
    a, b = (a or "").strip(), (b or "").strip()
    if a == b:
        return True
    if key in ("budget", "spent", *SPLIT_FIELDS) or key.endswith((".score_in_band", ".self_score")):
        try:
            return Decimal(a.replace(",", "")) == Decimal(b.replace(",", ""))
        except InvalidOperation:
            return False
    return False


def _shown(key: str, value: str | None) -> str:
    """A stored value as the sheet shows it (a level by its words)."""
    if key.endswith(".qualitative_level"):
        return LEVEL_LABELS.get(value or "", value or "")
    return value or ""


def _current(v: EvaluationView) -> dict[str, str | None]:
    """The values of every field a sheet can fill, as stored now."""
    now: dict[str, str | None] = {
        "budget": decimal_text(v.project.budget),
        "spent": decimal_text(v.project.spent),
        "goal_completion": v.evaluation.goal_completion,
        **{name: decimal_text(getattr(v.evaluation, name)) for name in SPLIT_FIELDS},
    }
    for ind in v.indicators:
        prefix = f"results[{ind.id}]"
        now[f"{prefix}.actual"] = ind.actual
        now[f"{prefix}.qualitative_level"] = ind.qualitative_level
        now[f"{prefix}.score_in_band"] = decimal_text(ind.score_in_band)
        now[f"{prefix}.deviation_reason"] = ind.deviation_reason
        now[f"{prefix}.self_score"] = decimal_text(ind.self_score)
        now[f"{prefix}.self_score_reason"] = ind.self_score_reason
    return now


def _read_cells(book, sheet: str, entries: list[_Entry]) -> dict[str, tuple[Any, str | None, str]]:
    """{cell: (value, number format, data type)} of the mapped cells of one sheet, read in one pass."""
    if sheet not in book.sheetnames:
        return {}
    wanted = {e.cell for e in entries}
    last = max(coordinate_from_string(ref)[1] for ref in wanted)
    found: dict[str, tuple[Any, str | None, str]] = {}
    for cells in book[sheet].iter_rows(max_row=last):
        for cell in cells:
            ref = getattr(cell, "coordinate", None)
            if ref in wanted:
                found[ref] = (cell.value, getattr(cell, "number_format", None), cell.data_type)
    return found


def upload(*, session: Session, principal: Principal, data: bytes, limits: Limits) -> Report:
    """Save what a filled-in workbook holds, one project at a time (each all or nothing)."""
    book, entries = read_map(data, limits)
    by_sheet: dict[str, list[_Entry]] = {}
    for entry in entries:
        by_sheet.setdefault(entry.sheet, []).append(entry)
    outcomes = []
    for sheet, group in by_sheet.items():
        outcomes.append(_upload_sheet(session, principal, book, sheet, group))
        session.rollback()  # nothing of a refused project lingers into the next
    book.close()
    return Report(outcomes)


def _upload_sheet(session: Session, principal: Principal, book, sheet: str, entries: list[_Entry]) -> Outcome:
    first = entries[0]
    outcome = Outcome(sheet=sheet, evaluation_id=first.evaluation_id)
    if any(e.evaluation_id != first.evaluation_id or e.version != first.version for e in entries):
        outcome.result, outcome.message = "refused", "填报信息已损坏，请重新下载后填写"
        return outcome
    cells = _read_cells(book, sheet, entries)
    if sheet not in book.sheetnames:
        outcome.result, outcome.message = "refused", "文件中没有这个工作表（被删除或改名），请重新下载后填写"
        return outcome
    typed: dict[str, str] = {}
    for e in entries:
        value, number_format, data_type = cells.get(e.cell, (None, None, "n"))
        column = e.label.split("（第", 1)[0]
        if data_type == "f":
            outcome.problems.append(CellProblem(sheet, e.cell, column, "请直接填写数值或文字，不要使用公式"))
            continue
        text = cell_text(value, number_format)
        if e.key.endswith(".qualitative_level"):
            text = text.strip()
            if text and text not in LEVEL_CODES:
                choices = "、".join(LEVEL_LABELS.values())
                outcome.problems.append(CellProblem(sheet, e.cell, column, f"达成程度应从下拉列表中选择：{choices}"))
                continue
            text = LEVEL_CODES.get(text, "")
        if not _same(e.key, text, e.downloaded):
            typed[e.key] = text
    try:
        v = evaluations.view(session=session, principal=principal, evaluation_id=first.evaluation_id)
    except DomainError as exc:
        outcome.result, outcome.message = "refused", exc.message
        return outcome
    outcome.project_name, outcome.project_code = v.project.name, v.project.project_code
    if outcome.problems:
        outcome.result, outcome.message = "refused", f"有 {len(outcome.problems)} 处无法读取，此项目未保存"
        return outcome
    if not typed:
        return outcome  # unchanged: nothing to check, whatever happened to the evaluation since
    outcome.changed = len(typed)
    try:
        evaluations.check_editable(session=session, principal=principal, evaluation_id=first.evaluation_id)
    except DomainError as exc:
        outcome.result, outcome.message = "refused", f"{exc.message}（此项目未保存）"
        return outcome
    if v.evaluation.version != first.version:
        now = _current(v)
        locations = {e.key: e for e in entries}
        for key, entry in locations.items():
            if not _same(key, now.get(key), entry.downloaded):
                in_file = typed.get(key, entry.downloaded)
                outcome.differences.append(Difference(entry.label, _shown(key, in_file), _shown(key, now.get(key))))
        outcome.result = "refused"
        outcome.message = (
            "下载之后，这份自评已在系统中被修改（"
            + (f"{len(outcome.differences)} 处不同" if outcome.differences else "状态或得分已变化")
            + "），此项目未保存：请重新下载后再填写"
        )
        return outcome
    try:
        evaluations.save(
            session=session,
            principal=principal,
            evaluation_id=first.evaluation_id,
            version=first.version,
            **_save_arguments(typed),
        )
    except DomainError as exc:
        session.rollback()
        outcome.result, outcome.message = "refused", f"{exc.message}（此项目未保存）"
        where = {e.key: e for e in entries}
        for error in exc.errors:
            entry = where.get(error.field)
            if entry is None and error.indicator_id is not None:  # a message about the row as a whole
                entry = where.get(f"results[{error.indicator_id}].actual")
            if entry is None:
                outcome.problems.append(CellProblem(sheet, None, "", error.message))
            else:
                column = entry.label.split("（第", 1)[0]
                outcome.problems.append(CellProblem(sheet, entry.cell, column, error.message))
        return outcome
    outcome.result = "saved"
    return outcome


def _save_arguments(typed: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of evaluations.save for the fields the unit changed."""
    arguments: dict[str, Any] = {}
    results: dict[int, ResultInput] = {}
    for key, text in typed.items():
        if key in ("budget", "spent", "goal_completion"):
            arguments[key] = text
            continue
        if key in SPLIT_FIELDS:
            arguments.setdefault("split", {})[key] = text
            continue
        head, _, name = key.partition(".")
        ident = int(head[len("results[") : -1])
        item = results.setdefault(ident, ResultInput(indicator_id=ident))
        setattr(item, name, text)
    # A level chosen without a score in its band is scored by the level (as on the page).
    for item in results.values():
        if item.qualitative_level is not UNSET and item.qualitative_level == "":
            item.qualitative_level = None
    arguments["results"] = list(results.values())
    return arguments
