"""Hand-crafted xlsx files for the import limits: a zip bomb, a 1,048,576-row sheet, a very wide row.

Written member by member with zipfile (the sheet XML streamed in), so a file that unpacks to a
gigabyte is built without ever holding it in memory.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="绩效目标表" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
HEADER = (
    "年度,主管部门,单位名称,单位编码,项目名称,项目编码,年度预算数（万元）,实施周期目标,年度目标,一级指标,"
    "二级指标,三级指标,实施周期指标值,年度指标值,分值"
).split(",")


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    cells = "".join(text_cell(f"{chr(65 + k)}1", name) for k, name in enumerate(HEADER))
    return f'<row r="1">{cells}</row>'


def write_xlsx(path: Path, sheet_parts: Iterable[str | bytes]) -> Path:
    """An xlsx whose sheet XML is the concatenation of `sheet_parts` (streamed, deflated)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", ROOT_RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for part in sheet_parts:
                sheet.write(part.encode() if isinstance(part, str) else part)
    return path


def zip_bomb(path: Path, unpacked: int = 1024**3) -> Path:
    """A real xlsx that unpacks to `unpacked` bytes (1 GiB) from about a thousandth of that."""

    def parts():
        yield SHEET_HEAD + header_row()
        block = b"<row><c><v>1</v></c></row>" * 40_000  # 1 MB of rows: deflate packs it ~1000:1
        for _ in range(unpacked // len(block)):
            yield block
        yield SHEET_TAIL

    return write_xlsx(path, parts())


def full_height_sheet(path: Path, rows: int = 1_048_576) -> Path:
    """Excel's every row used: a header, then rows holding one blank text cell down to the last row."""

    def parts():
        yield SHEET_HEAD + header_row()
        batch = []
        for r in range(2, rows + 1):
            batch.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t> </t></is></c></row>')
            if len(batch) == 10_000:
                yield "".join(batch)
                batch = []
        yield "".join(batch) + SHEET_TAIL

    return write_xlsx(path, parts())


def wide_row(path: Path, cells: int) -> Path:
    """A header and one row of `cells` cells (column refs left out, as the format allows)."""
    return write_xlsx(
        path, [SHEET_HEAD + header_row() + "<row r='2'>", "<c><v>1</v></c>" * cells, "</row>" + SHEET_TAIL]
    )
