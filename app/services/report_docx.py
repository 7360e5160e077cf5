"""Writing a 自评报告 (app.domain.report_document) as .docx: the format finance offices exchange.

仿宋_GB2312 for the text and 黑体 for headings, as Chinese official documents ask; a machine without
them shows its fallback (Word substitutes; the PDF print view names WenQuanYi). A4 portrait.
"""

from __future__ import annotations

import io

from app.domain.report_document import SIGN_OFF, ReportDocument

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"


def _font(run, name: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def write_docx(document: ReportDocument) -> bytes:
    """The report as .docx bytes: title, numbered headings, paragraphs, tables, the sign-off."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    out = docx.Document()
    page = out.sections[0]
    page.orientation = WD_ORIENT.PORTRAIT
    page.page_width, page.page_height = Mm(210), Mm(297)
    page.top_margin = page.bottom_margin = Mm(37)
    page.left_margin, page.right_margin = Mm(28), Mm(26)

    title = out.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run(document.title), HEADING_FONT, 22)
    subtitle = out.add_paragraph()
    subtitle.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(subtitle.add_run(document.subtitle), BODY_FONT, 16)

    _sections(out, document.sections)
    _sign_off(out, document, 16)
    for attachment in document.attachments:
        out.add_page_break()
        _sections(out, (attachment,))
        if document.sign_attachments:
            _sign_off(out, document, 12)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _sign_off(out, document: ReportDocument, size: float) -> None:
    out.add_paragraph()
    for label in SIGN_OFF:
        line = out.add_paragraph()
        _font(line.add_run(f"{label}：{document.sign_off.get(label, '')}"), BODY_FONT, size)


def _sections(out, sections) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    for section in sections:
        heading = out.add_heading(level=section.level)
        _font(heading.add_run(section.heading), HEADING_FONT, 16)
        for text in section.paragraphs:
            paragraph = out.add_paragraph()
            paragraph.paragraph_format.first_line_indent = Mm(11)
            _font(paragraph.add_run(text), BODY_FONT, 16)
        for table in section.tables:
            caption = out.add_paragraph()
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _font(caption.add_run(table.caption), HEADING_FONT, 12)
            grid = out.add_table(rows=1 + len(table.rows), cols=len(table.header))
            grid.style = "Table Grid"
            # row by row (grid.cell(i, j) walks the table each time: quadratic on a fund's long tables)
            for i, (row, cells) in enumerate(zip(grid.rows, (table.header, *table.rows), strict=True)):
                for cell, text in zip(row.cells, cells, strict=False):
                    _font(cell.paragraphs[0].add_run(text), HEADING_FONT if i == 0 else BODY_FONT, 12)
