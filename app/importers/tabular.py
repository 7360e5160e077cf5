"""Reader for the import template as xlsx or csv: one row per indicator, grouped into projects.

Headers (spaces around them and half-width parentheses accepted):
    年度, 主管部门, 单位名称, 单位编码, 项目名称, 项目编码, 年度预算数（万元）, 实施周期目标,
    年度目标, 一级指标, 二级指标, 三级指标, 实施周期指标值, 年度指标值, 分值
or, instead of the last six, one column 绩效指标 holding the packed published form for the
whole project ("1、1-产出指标；11-数量指标；…；实施周期指标值:…；年度指标值:…。").

Split target columns (Sichuan, Yunnan, Hunan forms): instead of 年度指标值 (and 实施周期指标值),
the three columns 指标性质 (or 指标值类型) | 指标值 (or 目标值) | 度量单位 (or 计量单位), combined
exactly into one target text by app.domain.targets.combine_split; a row whose cells contradict
each other is an error at its row and column.

Money: the budget column may say its unit in the header — 年度预算数（万元） or 年度预算数（元）,
also 预算数 / 年度资金总额 / 项目资金 — or in a 金额单位 column, in a "金额单位：元" line above the
header, or after the number ("3,309,840.00元"). Amounts in 元 are converted to 万元 exactly.
Without any unit the figure is read as 万元, with a warning.

Consecutive rows with the same 单位名称 + 项目编码 (or 单位名称 + 项目名称 when there is no
code) form one project. Every problem names its place: file, sheet, row as Excel shows it,
column header, value.

xlsx is streamed sheet XML by sheet XML with the standard library (see _XlsxBook for why
not openpyxl): no workbook DOM in memory. A formula arrives as a formula and is reported,
never silently replaced by a cached value that may be stale. Numbers are taken as the
decimal text stored in the file (no float anywhere: 56022.2398 stays 56022.2398); cells
formatted as percent come out as "95%" the way Excel shows them, date cells as ISO dates.
csv is decoded as UTF-8 (with or without BOM), else as GB18030 (what Chinese Excel writes);
both are streamed.
"""

from __future__ import annotations

import codecs
import csv
import io
import operator
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Literal

from app.domain.targets import combine_split
from app.importers.published import PACKED_COLUMN, _indicator, _warn_duplicate_names, parse_packed
from app.importers.rows import IndicatorRow, Place, Problem, ProjectRow, ReadLimits, ReadResult

YEAR = "年度"
DEPARTMENT = "主管部门"
UNIT_NAME = "单位名称"
UNIT_CODE = "单位编码"
PROJECT_NAME = "项目名称"
PROJECT_CODE = "项目编码"
BUDGET = "年度预算数（万元）"
PERIOD_GOAL = "实施周期目标"
ANNUAL_GOAL = "年度目标"
LEVEL1 = "一级指标"
LEVEL2 = "二级指标"
NAME = "三级指标"
PERIOD_TARGET = "实施周期指标值"
ANNUAL_TARGET = "年度指标值"
WEIGHT = "分值"
# split target columns, and the aliases printed for them
NATURE = "指标性质"
VALUE = "指标值"
MEASURE = "度量单位"
MONEY_UNIT = "金额单位"
ALIASES = {"指标值类型": NATURE, "目标值": VALUE, "计量单位": MEASURE, "权重": WEIGHT}
SPLIT_COLUMNS = (NATURE, VALUE, MEASURE)
# the budget column: a few names, with or without its unit in brackets
BUDGET_HEADER = re.compile(r"(?:年度预算数|年度预算|预算数|年度资金总额|项目资金|资金总额)(?:\((万元|元)\))?")
MONEY_NOTE = re.compile(r"(?:金额)?单位\s*[:：]\s*(万元|元)")
MONEY_UNITS = ("万元", "元")

HEADERS = (
    YEAR,
    DEPARTMENT,
    UNIT_NAME,
    UNIT_CODE,
    PROJECT_NAME,
    PROJECT_CODE,
    BUDGET,
    PERIOD_GOAL,
    ANNUAL_GOAL,
    LEVEL1,
    LEVEL2,
    NAME,
    PERIOD_TARGET,
    ANNUAL_TARGET,
    WEIGHT,
)
OPTIONAL = (UNIT_CODE, PROJECT_CODE, BUDGET, PERIOD_GOAL, WEIGHT)  # cells may be empty
INDICATOR_COLUMNS = (LEVEL1, LEVEL2, NAME, PERIOD_TARGET, ANNUAL_TARGET, WEIGHT)
PROJECT_COLUMNS = (
    YEAR,
    DEPARTMENT,
    UNIT_NAME,
    UNIT_CODE,
    PROJECT_NAME,
    PROJECT_CODE,
    BUDGET,
    PERIOD_GOAL,
    ANNUAL_GOAL,
    MONEY_UNIT,
)
HEADER_SEARCH_ROWS = 10
# the most distinct category pairs and 分值 cells _ProjectBuilder keeps for its fast path (memory flat)
_FAST_CACHE = 4096
# csv's fast paths (the records loop of _read_rows, _ProjectBuilder._fast_indicator); off, every row
# takes the general steps — tests/importers/test_tabular_fast.py reads the same files both ways
FAST_PATHS = True
_PROGRESS_EVERY = 2000

Progress = Callable[[int, "int | None"], None]


class _Formula(str):
    """A cell that holds a formula ("=SUM(A1:A3)") where a value is expected."""


def _canon(header: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header or "")))


_CANON = {
    **{_canon(h): h for h in (*HEADERS, PACKED_COLUMN, *SPLIT_COLUMNS, MONEY_UNIT)},
    **{_canon(alias): h for alias, h in ALIASES.items()},
}


def _header_of(text: str) -> tuple[str | None, str | None]:
    """(canonical header, money unit written in it) for a header cell."""
    canon = _canon(text)
    if canon in _CANON:
        header = _CANON[canon]
        return header, ("万元" if header == BUDGET else None)
    if m := BUDGET_HEADER.fullmatch(canon):
        return BUDGET, m.group(1)
    return None, None


class _TooBig(Exception):
    """The table passed one of the read limits: reading stops at once, the import is refused."""

    def __init__(self, message: str, place: Place):
        super().__init__(message)
        self.message, self.place = message, place


class _ReadCounter:
    """Counts the rows and cells read so far against the limits."""

    def __init__(self, limits: ReadLimits, filename: str):
        self.limits, self.filename = limits, filename
        self.rows = self.cells = 0

    def row(self, sheet: str | None, number: int) -> None:
        self.rows += 1
        if self.rows > self.limits.max_rows:
            raise _TooBig(
                f"表格超过 {self.limits.max_rows:,} 行的导入上限（设置 JIXIAO_IMPORT_MAX_ROWS），"
                "已在此处停止读取，没有导入任何内容。请把文件拆分后分批导入。",
                Place(self.filename, sheet, number),
            )

    def cell(self, sheet: str | None, number: int, count: int = 1) -> None:
        self.cells += count
        if self.cells > self.limits.max_cells:
            raise _TooBig(
                f"表格的单元格超过 {self.limits.max_cells:,} 个的导入上限（设置 JIXIAO_IMPORT_MAX_CELLS），"
                "已在此处停止读取，没有导入任何内容。请删去多余的列，或把文件拆分后分批导入。",
                Place(self.filename, sheet, number),
            )


def _mb(n: int) -> str:
    return f"{n / 1048576:,.0f} MB" if n >= 1048576 else f"{n / 1024:,.0f} KB"


def read_table(
    path_or_bytes: str | os.PathLike | bytes,
    *,
    filename: str,
    on_progress: Progress | None = None,
    limits: ReadLimits | None = None,
) -> ReadResult:
    """Read the import template (xlsx or csv) into projects; errors and warnings with their places."""
    result = ReadResult()
    result.projects.extend(iter_table(path_or_bytes, result, filename=filename, on_progress=on_progress, limits=limits))
    _warn_duplicate_names(result.projects, result.problems)
    return result


def iter_table(
    path_or_bytes: str | os.PathLike | bytes,
    result: ReadResult,
    *,
    filename: str,
    on_progress: Progress | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[ProjectRow]:
    """The projects of the table one at a time, as their last row is read, in constant memory: a
    province's file is never held whole. Problems go to `result.problems` as they are found (a
    project's warnings before it is yielded); `result.projects` stays empty. The duplicate-name
    warnings need the whole file: read_table adds them, a streaming caller does (imports)."""
    counter = _ReadCounter(limits or ReadLimits(), filename)
    try:
        stream = open(path_or_bytes, "rb") if not isinstance(path_or_bytes, bytes) else io.BytesIO(path_or_bytes)
    except OSError as exc:
        result.problems.append(Problem("error", "unreadable_file", f"无法打开文件：{exc.strerror}", Place(filename)))
        return
    with stream:
        head = stream.read(8)
        stream.seek(0)
        ext = os.path.splitext(filename)[1].lower()
        if not head:
            _fail(result, "empty_file", "文件为空。", Place(filename))
            return
        if head.startswith(b"PK\x03\x04"):
            sheets = _xlsx_sheets(stream, filename, result, counter)
        elif head.startswith(b"\xd0\xcf\x11\xe0"):
            _fail(
                result,
                "not_a_table",
                "这是旧版 Excel（.xls）或其他 Office 文件，请在 Excel 中“另存为” .xlsx 或 CSV 后再导入。",
                Place(filename),
            )
            return
        elif ext in (".xlsx", ".xlsm"):
            _fail(
                result,
                "unreadable_file",
                "文件扩展名是 .xlsx，但内容不是 Excel 工作簿（文件可能已损坏）。",
                Place(filename),
            )
            return
        elif ext in (".csv", ".txt", ".tsv", ""):
            sheets = _csv_sheets(stream, filename, result, counter)
        else:
            _fail(
                result,
                "not_a_table",
                f"不支持的文件类型“{ext}”：请上传 xlsx 或 csv 格式的导入模板。",
                Place(filename),
            )
            return
        if sheets is not None:
            try:
                yield from _read_rows(sheets, filename, result, on_progress)
            except _TooBig as exc:
                result.problems.append(Problem("error", "too_large", exc.message, exc.place))


def _fail(result: ReadResult, code: str, message: str, place: Place) -> ReadResult:
    result.problems.append(Problem("error", code, message, place))
    return result


# --- sources: (sheet name, total rows or None, iterator of (row number, cells)) ---------------

_Sheet = tuple[str | None, "int | None", Iterator[tuple[int, list]]]


_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_PERCENT_FORMATS = {9, 10}
_DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}


def _xlsx_sheets(stream: BinaryIO, filename: str, result: ReadResult, counter: _ReadCounter) -> Iterator[_Sheet] | None:
    """The worksheets of an xlsx, each streamed row by row (see _xlsx_rows)."""
    try:
        archive = zipfile.ZipFile(stream)
        # The sizes in the zip directory, before anything is unpacked: a few hundred KB can unpack to
        # gigabytes (a zip bomb). zipfile never yields more than a member's declared size (and then
        # checks its CRC), so a directory that lies only makes the file unreadable.
        unpacked = sum(info.file_size for info in archive.infolist())
        limit = counter.limits.max_uncompressed_bytes
        if unpacked > limit:
            _fail(
                result,
                "too_large",
                f"xlsx 文件解压后有 {_mb(unpacked)}，超过 {_mb(limit)} 的导入上限（设置 "
                "JIXIAO_IMPORT_MAX_UNCOMPRESSED_BYTES），未读取。文件可能是恶意构造的“压缩炸弹”，或者表格过大："
                "请拆分后分批导入。",
                Place(filename),
            )
            return None
        book = _XlsxBook(archive, counter)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError) as exc:
        _fail(
            result,
            "unreadable_file",
            f"无法读取 xlsx 文件（文件已损坏，或不是 Excel 工作簿）：{type(exc).__name__}",
            Place(filename),
        )
        return None

    def sheets() -> Iterator[_Sheet]:
        for title, path in book.sheets:
            yield title, book.row_count(path), book.rows(path, title)

    return sheets()


class _XlsxBook:
    """A minimal streaming xlsx reader on the standard library (zipfile + ElementTree.iterparse).

    Why not openpyxl: its read_only mode took 31 s of CPU for 100,000 indicator rows (15
    columns) on the 2-core machine, 5× what iterparse alone needs; python-calamine is fast but
    hides formulas and number formats (a "95%" cell would read as 0.95) and loads whole sheets.
    This reader sees formulas (<f>), percent and date formats (styles.xml) and takes numbers
    as the decimal text stored in the file — no float at all.
    """

    def __init__(self, archive: zipfile.ZipFile, counter: _ReadCounter):
        self.archive, self.counter = archive, counter
        workbook = ET.fromstring(archive.read("xl/workbook.xml"))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
        self.sheets: list[tuple[str, str]] = []
        for sheet in workbook.iter(f"{_NS}sheet"):
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            self.sheets.append((sheet.get("name", ""), path))
        pr = workbook.find(f"{_NS}workbookPr")
        self.epoch = date(1904, 1, 1) if pr is not None and pr.get("date1904") in ("1", "true") else date(1899, 12, 30)
        self.strings = self._shared_strings()
        self.percent_styles, self.date_styles = self._styles()

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.archive.namelist():
            return []
        strings = []
        with self.archive.open("xl/sharedStrings.xml") as f:
            for _, el in ET.iterparse(f):
                if el.tag == f"{_NS}si":
                    strings.append(_text_of(el))
                    el.clear()
        return strings

    def _styles(self) -> tuple[set[int], set[int]]:
        if "xl/styles.xml" not in self.archive.namelist():
            return set(), set()
        styles = ET.fromstring(self.archive.read("xl/styles.xml"))
        percent, dates = set(_PERCENT_FORMATS), set(_DATE_FORMATS)
        for fmt in styles.iter(f"{_NS}numFmt"):
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", fmt.get("formatCode", "")).lower()
            fmt_id = int(fmt.get("numFmtId", "-1"))
            if "%" in code:
                percent.add(fmt_id)
            elif re.search(r"[ymdh]", code):
                dates.add(fmt_id)
        xfs = styles.find(f"{_NS}cellXfs")
        ids = [int(xf.get("numFmtId", "0")) for xf in xfs.iter(f"{_NS}xf")] if xfs is not None else []
        return ({k for k, i in enumerate(ids) if i in percent}, {k for k, i in enumerate(ids) if i in dates})

    def row_count(self, path: str) -> int | None:
        with self.archive.open(path) as f:
            head = f.read(4096).decode("utf-8", "replace")
        m = re.search(r'<(?:\w+:)?dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
        return int(m.group(1)) if m else None

    def rows(self, path: str, title: str | None = None) -> Iterator[tuple[int, list]]:
        c_tag, row_tag = f"{_NS}c", f"{_NS}row"
        v_tag, f_tag = f"{_NS}v", f"{_NS}f"
        cells: list = []
        last_row = 0
        counter = self.counter
        with self.archive.open(path) as f:
            for _, el in ET.iterparse(f):
                tag = el.tag
                if tag == c_tag:
                    counter.cell(title, last_row + 1)  # counted as it comes: one row may hold millions
                    ref = el.get("r")
                    k = _column_index(ref) if ref else len(cells)
                    while len(cells) < k:
                        cells.append(None)
                    formula = el.find(f_tag)
                    if formula is not None:
                        cells.append(_Formula("=" + (formula.text or "")))
                    else:
                        cells.append(self._value(el, el.find(v_tag)))
                elif tag == row_tag:
                    r = el.get("r")
                    last_row = int(r) if r else last_row + 1
                    if cells:  # an empty <row/> (a formatted row) costs nothing to skip
                        counter.row(title, last_row)
                    yield last_row, cells
                    cells = []
                    el.clear()

    def _value(self, el, v) -> object:
        kind = el.get("t", "n")
        if kind == "inlineStr":
            return _text_of(el)
        if v is None or v.text is None:
            return None
        text = v.text
        if kind == "s":
            return self.strings[int(text)]
        if kind in ("str", "e"):
            return text
        if kind == "b":
            return "是" if text == "1" else "否"
        number = Decimal(text)  # the decimal text Excel stored: exact
        style = int(el.get("s", "0"))
        if style in self.percent_styles:
            return f"{_plain(number * 100)}%"  # what Excel shows: 0.95 formatted 0% is "95%"
        if style in self.date_styles:
            return (self.epoch + timedelta(days=int(number))).isoformat()
        return number


def _text_of(el) -> str:
    """The text of a shared or inline string: rich-text runs joined, phonetic hints (rPh) left out."""
    parts = []
    for child in el:
        if child.tag == f"{_NS}t":
            parts.append(child.text or "")
        elif child.tag == f"{_NS}r":
            t = child.find(f"{_NS}t")
            parts.append((t.text or "") if t is not None else "")
        elif child.tag == f"{_NS}is":
            parts.append(_text_of(child))
    return "".join(parts)


def _column_index(ref: str) -> int:
    k = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            k = k * 26 + ord(ch) - 64
        else:
            break
    return k - 1


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _csv_sheets(stream: BinaryIO, filename: str, result: ReadResult, counter: _ReadCounter) -> Iterator[_Sheet] | None:
    head = stream.read(4)
    stream.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        _fail(
            result,
            "undecodable",
            "文件是 UTF-16 编码（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8（逗号分隔）”或 CSV。",
            Place(filename),
        )
        return None
    encoding, error_at = _detect_encoding(stream)
    if encoding is None:
        line = _line_of_offset(stream, error_at)
        stream.seek(error_at)
        bad = stream.read(4).hex(" ")
        _fail(
            result,
            "undecodable",
            "文件编码无法识别：既不是 UTF-8 也不是 GB18030。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”。",
            Place(filename, None, line, None, f"字节 {bad}"),
        )
        return None
    stream.seek(0)
    total = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b"")) or None
    stream.seek(0)
    peek = io.TextIOWrapper(stream, encoding=encoding, newline="")
    first = peek.readline()
    blank = not first.strip("\ufeff \t\r\n") and not peek.read(4096).strip()
    peek.detach()  # keep the underlying stream open
    if blank:
        _fail(result, "empty_file", "文件为空。", Place(filename))
        return None
    delimiter = max((",", "\t", ";"), key=first.count)
    stream.seek(0)
    if encoding == "utf-8-sig":
        # the text utf-8-sig gives (it drops a leading BOM, nothing else), from the plain utf-8
        # decoder in C instead of utf-8-sig's Python wrapper around it
        encoding = "utf-8"
        if stream.read(3) != codecs.BOM_UTF8:
            stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")

    def sheets() -> Iterator[_Sheet]:
        yield None, total, _CsvRows(csv.reader(text, delimiter=delimiter), counter)

    return sheets()


class _CsvRows:
    """The records of a csv as (record number, cells), each counted against the read limits as it
    is read. `_read_rows` takes the csv reader itself (`records`) for the rows under the header and
    counts them the same way inline (`number`: the records read so far)."""

    def __init__(self, records: Iterator[list[str]], counter: _ReadCounter):
        self.records, self.counter = records, counter
        self.number = 0

    def __iter__(self) -> _CsvRows:
        return self

    def __next__(self) -> tuple[int, list]:
        cells = next(self.records)
        self.number += 1
        if cells:
            self.counter.row(None, self.number)
            self.counter.cell(None, self.number, len(cells))
        return self.number, cells


def _detect_encoding(stream: BinaryIO) -> tuple[str | None, int]:
    """ "utf-8-sig" or "gb18030" if the whole stream decodes strictly; else (None, offset of the bad byte)."""
    furthest = 0
    for encoding in ("utf-8-sig", "gb18030"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        offset = 0
        chunk = b""
        try:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                decoder.decode(chunk)
                offset += len(chunk)
            chunk = b""
            decoder.decode(b"", final=True)
            return encoding, 0
        except UnicodeDecodeError as exc:
            pending = len(exc.object) - len(chunk)  # bytes the decoder held back from earlier chunks
            furthest = max(furthest, offset + exc.start - pending)
    return None, furthest


def _line_of_offset(stream: BinaryIO, offset: int) -> int:
    stream.seek(0)
    return stream.read(offset).count(b"\n") + 1


# --- rows → projects ---------------------------------------------------------------------


class _Columns:
    def __init__(self, index: dict[str, int], written: dict[str, str], budget_unit: str | None = None):
        self.index = index  # canonical header → column index
        self.written = written  # canonical header → the header as written in the file
        self.budget_unit = budget_unit  # 万元 / 元 as the header (or a note above it) says

    @property
    def split(self) -> bool:
        """Targets come as 指标性质 | 指标值 | 度量单位."""
        return VALUE in self.index

    def get(self, cells: list, header: str) -> object:
        k = self.index.get(header)
        return cells[k] if k is not None and k < len(cells) else None


def _find_header(rows: Iterator[tuple[int, list]]) -> tuple[int, list, str | None] | None:
    """(row number, cells, money unit noted above the header as "金额单位：元")."""
    note = None
    for _ in range(HEADER_SEARCH_ROWS):
        try:
            number, cells = next(rows)
        except StopIteration:
            return None
        known = sum(1 for c in cells if _header_of(str(c or ""))[0] is not None)
        if known >= 3:
            return number, cells, note
        for c in cells:
            if c is not None and (m := MONEY_NOTE.search(_canon(c))):
                note = m.group(1)
    return None


def _read_rows(
    sheets: Iterator[_Sheet],
    filename: str,
    result: ReadResult,
    on_progress: Progress | None,
) -> Iterator[ProjectRow]:
    first_sheet: str | None = None
    found = None
    for sheet, total, rows in sheets:
        first_sheet = first_sheet if first_sheet is not None else sheet
        header = _find_header(rows)
        if header is not None:
            found = (sheet, total, rows, header)
            break
    if found is None:
        _fail(
            result,
            "missing_header",
            "找不到表头：前 10 行中没有“单位名称、项目名称、一级指标……”等列名。请使用导入模板的表头。",
            Place(filename, first_sheet, 1),
        )
        return
    sheet, total, rows, (header_row, header_cells, money_note) = found
    columns = _columns(header_cells, filename, sheet, header_row, result)
    if columns is None:
        return
    columns.budget_unit = columns.budget_unit or money_note
    if total is not None:
        total = max(total - header_row, 0)
    plain = sheet is None  # csv: no sheets, every cell a string
    reader = _ProjectBuilder(filename, sheet, columns, result, plain=plain)
    done = projects = 0
    finished = reader.finished
    if FAST_PATHS and isinstance(rows, _CsvRows):
        # csv: the same steps as the loop below, with the reader's records taken directly (no
        # generator, the limits counted inline as _CsvRows counts them) and a row that repeats its
        # project's first row's cells handed straight to add_indicators (what add does with it)
        counter, number = rows.counter, rows.number
        nrows, ncells = counter.rows, counter.cells
        max_rows, max_cells = counter.limits.max_rows, counter.limits.max_cells
        same_get, same_need = reader.project_cells or (None, 0)
        add, add_indicators = reader.add, reader.add_indicators
        for cells in rows.records:
            number += 1
            if cells:
                n = len(cells)
                nrows += 1
                ncells += n
                if nrows > max_rows or ncells > max_cells:
                    counter.rows, counter.cells = nrows - 1, ncells - n
                    counter.row(None, number)
                    counter.cell(None, number, n)
            done += 1
            if on_progress and done % _PROGRESS_EVERY == 0:
                on_progress(done, max(total, done) if total is not None else None)
            if same_get is not None and len(cells) >= same_need and same_get(cells) == reader.first_raw:
                add_indicators(number, cells)  # not blank (its unit and name are not); no project ends
                continue
            if not "".join(cells).strip():  # every cell empty or blank
                continue
            add(number, cells)
            if finished:
                projects += len(finished)
                yield from finished
                finished.clear()
        rows = iter(())
    for number, cells in rows:
        done += 1
        if on_progress and done % _PROGRESS_EVERY == 0:
            on_progress(done, max(total, done) if total is not None else None)
        if plain:
            if not "".join(cells).strip():  # every cell empty or blank
                continue
        elif all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        reader.add(number, cells)
        if finished:
            projects += len(finished)
            yield from finished
            finished.clear()
    reader.finish()
    projects += len(finished)
    yield from finished
    finished.clear()
    if not projects and not result.errors:
        _fail(result, "empty_file", "表头下面没有数据行。", Place(filename, sheet, header_row + 1))
    if on_progress:
        on_progress(done, done)


def _columns(cells: list, filename: str, sheet: str | None, row: int, result: ReadResult) -> _Columns | None:
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    budget_unit: str | None = None
    for k, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        if isinstance(cell, _Formula):
            _fail(result, "formula", "表头单元格是公式，应为列名。", Place(filename, sheet, row, None, text))
            continue
        header, money = _header_of(text)
        if header == BUDGET:
            budget_unit = money
        if header is None:
            result.problems.append(
                Problem(
                    "warning",
                    "unknown_column",
                    f"未识别的列“{text}”，已忽略。",
                    Place(filename, sheet, row, text, text),
                )
            )
        elif header in index:
            _fail(
                result,
                "duplicate_column",
                f"列“{header}”出现了两次。",
                Place(filename, sheet, row, text, text),
            )
        else:
            index[header], written[header] = k, text
    required = [YEAR, DEPARTMENT, UNIT_NAME, PROJECT_NAME, ANNUAL_GOAL]
    split = [h for h in SPLIT_COLUMNS if h in index]
    if split:
        # 指标性质 | 指标值 | 度量单位 instead of 年度指标值 (and 实施周期指标值, which these forms lack)
        required += [LEVEL1, LEVEL2, NAME, VALUE]
        if ANNUAL_TARGET in index:
            _fail(
                result,
                "split_and_combined",
                f"表头同时有“{ANNUAL_TARGET}”和分列的“{'、'.join(split)}”：请只用一种写法"
                f"（一列“{ANNUAL_TARGET}”，或“{NATURE}、{VALUE}、{MEASURE}”三列）。",
                Place(filename, sheet, row, written[ANNUAL_TARGET]),
            )
    elif PACKED_COLUMN not in index or any(h in index for h in INDICATOR_COLUMNS if h != WEIGHT):
        required += [h for h in INDICATOR_COLUMNS if h != WEIGHT]
    missing = [h for h in required if h not in index]
    if missing:
        _fail(
            result,
            "missing_header",
            f"表头缺少列：{'、'.join(missing)}。表头应为：{'、'.join(HEADERS)}"
            f"（或以一列“{PACKED_COLUMN}”代替最后六列；或以“{NATURE}、{VALUE}、{MEASURE}”三列代替"
            f"“{PERIOD_TARGET}、{ANNUAL_TARGET}”）。",
            Place(filename, sheet, row),
        )
    return None if result.errors else _Columns(index, written, budget_unit)


# a getter of several cells at once, and the row length it needs
_Getter = tuple[Callable[[list], tuple], int]


def _getter(wanted: list[tuple[str, int | None]]) -> _Getter | None:
    """One itemgetter for the wanted columns, when the file has them all (else None: cell by cell)."""
    ks = [k for _, k in wanted if k is not None]
    if len(ks) < 2 or len(ks) < len(wanted):
        return None
    return operator.itemgetter(*ks), max(ks) + 1


class _ProjectBuilder:
    def __init__(
        self,
        filename: str,
        sheet: str | None,
        columns: _Columns,
        result: ReadResult,
        plain: bool = False,
    ):
        self.filename, self.sheet, self.columns, self.result = filename, sheet, columns, result
        self.current: ProjectRow | None = None
        self.current_key: tuple | None = None
        self.first_values: dict[str, tuple[int, str | None]] = {}
        self.money_unit_warned = False
        self.finished: list[ProjectRow] = []  # complete projects not yet handed on
        self.first_raw: tuple | None = None  # csv: the project cells of the current project's first row
        # (header, column index or None) of the cells read from every row, looked up once
        at = columns.index.get
        self.project_at = [(h, at(h)) for h in PROJECT_COLUMNS]
        self.indicator_at = [(h, at(h)) for h in (LEVEL1, LEVEL2, NAME, PERIOD_TARGET, ANNUAL_TARGET, WEIGHT)]
        self.split_at = [(h, at(h)) for h in SPLIT_COLUMNS]
        self.packed = PACKED_COLUMN in columns.index
        # csv: every cell is a plain string, so a row that has all the wanted columns is read by one getter
        self.plain = plain
        self.project_get = _getter(self.project_at)
        # csv: the project cells the file has, as they are (to see a row repeat its project's first row)
        present: list[tuple[str, int | None]] = [(h, k) for h, k in self.project_at if k is not None]
        self.project_cells = _getter(present) if plain else None
        self.indicator_get = _getter(self.indicator_at)
        # csv, one target column per kind (not packed, not split): the common row is read by
        # _fast_indicator — the indicator columns by one getter, the categories and the 分值 looked up
        # in what earlier rows with the same cells gave (see there)
        self.fast_get: Callable[[list], tuple] | None = None
        self.fast_need = 0
        if FAST_PATHS and plain and not self.packed and not columns.split:
            ks = [k for _, k in self.indicator_at[:5] if k is not None]
            weight_at = self.indicator_at[5][1]
            if len(ks) == 5:
                if weight_at is not None:
                    ks.append(weight_at)
                self.fast_get, self.fast_need = operator.itemgetter(*ks), max(ks) + 1
                self.fast_weight = weight_at is not None
        self.name_column = columns.written.get(NAME, NAME)
        # (一级 cell, 二级 cell) as written → (一级, 二级 stripped, their slugs): pairs that gave no problem
        self.categories: dict[tuple[object, object], tuple[str, str, str | None, str | None]] = {}
        # 分值 cell as written → its number: cells that read without a problem
        self.weights: dict[str, Decimal] = {}

    def place(self, row: int, header: str | None, value: object = None) -> Place:
        column = self.columns.written.get(header, header) if header else None
        return Place(self.filename, self.sheet, row, column, None if value is None else str(value))

    def problem(self, severity: str, code: str, message: str, place: Place, project: ProjectRow | None = None) -> None:
        p = Problem(severity, code, message, place)  # type: ignore[arg-type]
        self.result.problems.append(p)
        if project is not None and severity == "warning":
            project.warnings.append(p)

    def text(self, cells: list, header: str, row: int) -> str | None:
        value = self.columns.get(cells, header)
        if isinstance(value, _Formula):
            self.problem(
                "error",
                "formula",
                f"“{header}”是公式（{value}），应填写数值或文字。",
                self.place(row, header, value),
            )
            return None
        if value is None:
            return None
        text = _plain(value) if isinstance(value, Decimal) else str(value)
        return text if text.strip() else None

    def texts(
        self, cells: list, wanted: list[tuple[str, int | None]], row: int, get: _Getter | None = None
    ) -> list[str | None]:
        """`text` of several cells in one pass: a plain string cell (every csv cell) is taken as it
        is; anything else (a formula, a number, a date) goes through `text`, in the same order."""
        n = len(cells)
        if get is not None and self.plain and n >= get[1]:
            return [v if v and not v.isspace() else None for v in get[0](cells)]
        out: list[str | None] = []
        for header, k in wanted:
            if k is None or k >= n:
                out.append(None)
                continue
            value = cells[k]
            if type(value) is str:
                out.append(value if value.strip() else None)
            else:
                out.append(self.text(cells, header, row))
        return out

    def add(self, row: int, cells: list) -> None:
        same = self.project_cells
        raw = same[0](cells) if same is not None and len(cells) >= same[1] else None
        if raw is not None and raw == self.first_raw:
            # csv: the project's cells exactly as on its first row (the common case: a table repeats
            # them on every indicator row) — the same project, nothing that could differ from it
            self.add_indicators(row, cells)
            return
        values = dict(zip(PROJECT_COLUMNS, self.texts(cells, self.project_at, row, self.project_get), strict=True))
        unit = (values[UNIT_NAME] or "").strip()
        name = (values[PROJECT_NAME] or "").strip()
        code = (values[PROJECT_CODE] or "").strip() or None
        if not unit:
            self.problem("error", "missing_unit", "单位名称为空，无法保存该行。", self.place(row, UNIT_NAME))
        if not name:
            self.problem("error", "missing_project", "项目名称为空，无法保存该行。", self.place(row, PROJECT_NAME))
        key = (unit, code) if code else (unit, None, name)
        if self.current is None or key != self.current_key:
            self.finish()
            self.current = self.new_project(row, values, unit, name, code)
            self.current_key = key
            # a later row with these very cells needs no look (no error here: unit and name are given)
            self.first_raw = raw if unit and name else None
        else:
            self.check_same(row, values)
        self.add_indicators(row, cells)

    def new_project(self, row: int, values: dict, unit: str, name: str, code: str | None) -> ProjectRow:
        project = ProjectRow(
            year=None,
            department_name=(values[DEPARTMENT] or "").strip() or None,
            unit_name=unit or None,
            unit_code=(values[UNIT_CODE] or "").strip() or None,
            project_name=name,
            project_code=code,
            budget=None,
            period_goal=values[PERIOD_GOAL],
            annual_goal=values[ANNUAL_GOAL],
            place=self.place(row, PROJECT_NAME, name),
        )
        project.year = self.year(values[YEAR], row, project)
        project.budget = self.money(values[BUDGET], values[MONEY_UNIT], row, project)
        if project.department_name is None:
            self.problem("warning", "missing_department", "主管部门为空。", self.place(row, DEPARTMENT), project)
        if project.annual_goal is None:
            self.problem("warning", "missing_goal", "年度目标为空。", self.place(row, ANNUAL_GOAL), project)
        self.first_values = {h: (row, v) for h, v in values.items()}
        return project

    def check_same(self, row: int, values: dict[str, str | None]) -> None:
        for header in (YEAR, DEPARTMENT, UNIT_CODE, BUDGET, PERIOD_GOAL, ANNUAL_GOAL):
            value = values[header]
            first_row, first = self.first_values[header]
            if value is first or value == first:
                continue
            if value is not None and first is not None and value.strip() != first.strip():
                self.problem(
                    "warning",
                    "project_value_differs",
                    f"同一项目的“{header}”与第{first_row}行不同，以第{first_row}行为准。",
                    self.place(row, header, value),
                    self.current,
                )
            elif value is not None and first is None:
                self.first_values[header] = (first_row, value)

    def _fast_indicator(self, row: int, cells: list) -> bool:
        """The common csv row, read as add_indicators reads it, when that gives no problem: its name
        and both targets not blank, its pair of category cells and its 分值 cell (blank, or one
        seen before) already read without a problem by add_indicators. False: nothing done, the
        row is add_indicators' (tests/importers/test_tabular_fast.py: both ways give the same)."""
        if self.fast_weight:
            level1, level2, name, period, annual, weight_text = self.fast_get(cells)  # type: ignore[misc]
            if not weight_text or weight_text.isspace():
                weight = None
            else:
                weight = self.weights.get(weight_text)
                if weight is None:
                    return False
        else:
            level1, level2, name, period, annual = self.fast_get(cells)  # type: ignore[misc]
            weight = None
        if not (name and period and annual) or name.isspace() or period.isspace() or annual.isspace():
            return False
        categories = self.categories.get((level1, level2))
        if categories is None:
            return False
        project = self.current
        name = name.strip()
        project.indicators.append(  # type: ignore[union-attr]
            IndicatorRow(
                len(project.indicators) + 1,  # type: ignore[union-attr]
                categories[2],
                categories[0],
                categories[3],
                categories[1],
                name,
                period,
                annual,
                weight,
                Place(self.filename, self.sheet, row, self.name_column, name),
            )
        )
        return True

    def add_indicators(self, row: int, cells: list) -> None:
        if self.fast_get is not None and len(cells) >= self.fast_need and self._fast_indicator(row, cells):
            return
        project = self.current
        assert project is not None
        packed = self.text(cells, PACKED_COLUMN, row) if self.packed else None
        if packed is not None:
            place = self.place(row, PACKED_COLUMN)
            rows, packed_problems = parse_packed(
                re.sub(r"[\r\n]+", "", packed),
                place=lambda offset, item: Place(place.file, place.sheet, place.row, place.column, item),
            )
            for ind in rows:
                ind.order = len(project.indicators) + 1
                project.indicators.append(ind)
            for p in packed_problems:
                self.problem(p.severity, p.code, p.message, p.place, project)
            return
        cols = self.texts(cells, self.indicator_at, row, self.indicator_get)
        level1, level2, name, period, annual, weight_text = cols
        level1, level2, name = (level1 or "").strip(), (level2 or "").strip(), (name or "").strip()
        if not name:
            self.problem(
                "error",
                "missing_indicator_name",
                "三级指标（指标名称）为空，无法保存该行。",
                self.place(row, NAME),
            )
            return
        if self.columns.split:
            nature, value, measure = self.texts(cells, self.split_at, row)
            split = self.split_target(nature, value, measure, row, name)
            if split is False:
                return
            annual = split
        if annual is None:
            self.problem(
                "warning",
                "missing_annual_target",
                f"指标“{name}”缺少年度指标值。",
                self.place(row, VALUE if self.columns.split else ANNUAL_TARGET),
                project,
            )
        if period is None and not self.columns.split:
            self.problem(
                "warning",
                "missing_period_target",
                f"指标“{name}”缺少实施周期指标值。",
                self.place(row, PERIOD_TARGET),
                project,
            )
        weight = self.decimal(weight_text, row, WEIGHT, project, strip_unit="分")
        if weight is not None and len(self.weights) < _FAST_CACHE:
            self.weights[weight_text] = weight  # type: ignore[index]
        problems: list[Problem] = []
        indicator = _indicator(
            len(project.indicators) + 1,
            level1,
            level2,
            name,
            period,
            annual,
            weight,
            self.place(row, NAME, name),
            problems,
            level1_place=lambda: self.place(row, LEVEL1, level1),
            level2_place=lambda: self.place(row, LEVEL2, level2),
        )
        for p in problems:
            self.problem(p.severity, p.code, p.message, p.place, project)
        if indicator is not None:
            project.indicators.append(indicator)
            if not problems and self.fast_get is not None and len(self.categories) < _FAST_CACHE:
                cells_at = self.columns.get
                pair = (cells_at(cells, LEVEL1), cells_at(cells, LEVEL2))
                self.categories[pair] = (level1, level2, indicator.level1, indicator.level2)

    def split_target(
        self, nature: str | None, value: str | None, unit: str | None, row: int, name: str
    ) -> str | None | Literal[False]:
        """The target text of split cells; False (after an error at its cell) when they contradict."""
        text, problems = combine_split(nature, value, unit)
        for message in problems:
            column = MEASURE if message.startswith("度量单位") else NATURE if message.startswith("指标性质") else VALUE
            if column not in self.columns.index:
                column = VALUE
            cell = {NATURE: nature, VALUE: value, MEASURE: unit}[column]
            self.problem(
                "error",
                "split_contradiction",
                f"指标“{name}”：{message}",
                self.place(row, column, cell),
            )
        return False if problems else text

    def money(self, text: str | None, unit_cell: str | None, row: int, project: ProjectRow) -> Decimal | None:
        """年度预算数 in 万元, exactly; from 元 when the cell, its row, its header or a note says so."""
        if text is None:
            return None
        norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).replace(",", "")
        unit = next((u for u in MONEY_UNITS if norm.endswith(u)), None)
        norm = norm.removesuffix(unit) if unit else norm
        if unit is None and unit_cell is not None:
            unit = _canon(unit_cell)
            if unit not in MONEY_UNITS:
                self.problem(
                    "error",
                    "bad_money_unit",
                    f"金额单位“{unit_cell}”无法识别：应为“元”或“万元”。",
                    self.place(row, MONEY_UNIT, unit_cell),
                )
                return None
        unit = unit or self.columns.budget_unit
        if unit is None:
            unit = "万元"
            if not self.money_unit_warned:
                self.money_unit_warned = True
                self.problem(
                    "warning",
                    "money_unit_assumed",
                    f"“{self.columns.written.get(BUDGET, BUDGET)}”未注明金额单位（元或万元），已按万元理解。",
                    self.place(row, BUDGET, text),
                    project,
                )
        try:
            number = Decimal(norm)
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.problem(
                "warning",
                "bad_number",
                f"“{self.columns.written.get(BUDGET, BUDGET)}”的值“{text}”不是数字，已忽略。",
                self.place(row, BUDGET, text),
                project,
            )
            return None
        if number < 0:
            # A budget is never negative; stored, it would break every page and export of the project.
            self.problem(
                "error",
                "negative_money",
                f"“{self.columns.written.get(BUDGET, BUDGET)}”不能为负数：“{text}”。",
                self.place(row, BUDGET, text),
            )
            return None
        if unit == "元":
            number = number.scaleb(-4)  # exact: 3309840.00 元 = 330.984000 万元
            if number.as_tuple().exponent < -6:  # type: ignore[operator]
                self.problem(
                    "error",
                    "money_precision",
                    f"金额“{text}”元精确到分以下，无法保存：请保留两位小数。",
                    self.place(row, BUDGET, text),
                )
                return None
        return number

    def year(self, text: str | None, row: int, project: ProjectRow) -> int | None:
        if text is None:
            return None
        m = re.fullmatch(r"\s*(\d{4})(?:\.0+)?\s*年?(?:度)?\s*", unicodedata.normalize("NFKC", text))
        if not m:
            self.problem(
                "warning",
                "bad_year",
                f"年度“{text}”不是四位年份，已忽略。",
                self.place(row, YEAR, text),
                project,
            )
            return None
        return int(m.group(1))

    def decimal(
        self, text: str | None, row: int, header: str, project: ProjectRow, *, strip_unit: str
    ) -> Decimal | None:
        if text is None:
            return None
        norm = unicodedata.normalize("NFKC", text).strip().replace(",", "")
        norm = norm.removesuffix(strip_unit).strip()
        try:
            number = Decimal(norm)
            if not number.is_finite():
                raise InvalidOperation
            return number
        except InvalidOperation:
            if header == WEIGHT:  # a 分值 that is not a number cannot be scored: refuse the file
                self.problem(
                    "error",
                    "bad_weight",
                    f"“{self.columns.written.get(WEIGHT, WEIGHT)}”的值“{text}”不是数字："
                    "分值须填数字（如 10 或 22.5）。",
                    self.place(row, WEIGHT, text),
                )
                return None
            self.problem(
                "warning",
                "bad_number",
                f"“{header}”的值“{text}”不是数字，已忽略。",
                self.place(row, header, text),
                project,
            )
            return None

    def finish(self) -> None:
        project = self.current
        if project is None:
            return
        self.current, self.first_raw = None, None
        self.finished.append(project)
        weights = [i.weight for i in project.indicators]
        given = [w for w in weights if w is not None]
        if given and len(given) < len(weights):
            self.problem(
                "warning",
                "weights_incomplete",
                f"项目“{project.project_name}”部分指标填了分值、部分没填。",
                project.place or Place(self.filename, self.sheet),
                project,
            )
