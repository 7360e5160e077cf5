"""A report's text from .txt, .docx and .pdf, and the seed's one discrepancy found in each format."""

from __future__ import annotations

import pytest

from app.domain.report_check import check_report
from app.importers.report_text import ReportTextError, report_text
from tests.report_files import docx_bytes, pdf_bytes, seed_lines


def test_the_seed_as_docx_keeps_its_lines_and_its_one_discrepancy():
    lines = seed_lines()
    text = report_text(docx_bytes(lines), "报告.docx")
    assert text.split("\n") == lines
    (flag,) = check_report(text).flags
    assert flag.declared.written == "97.42%" and flag.declared.line == 700


def test_a_text_pdf_is_read_with_its_line_breaks():
    lines = [line for line in seed_lines()[688:712] if line.strip()]
    text = report_text(pdf_bytes(lines), "报告.pdf")
    assert [line.strip() for line in text.split("\n") if line.strip()] == lines
    (flag,) = check_report(text).flags
    # the line numbers are those of the PDF's text
    assert flag.declared.line_text == lines[flag.declared.line - 1] and "97.42%" in flag.declared.line_text


def test_gbk_text_is_read():
    assert report_text("资金支出率 97.42%".encode("gb18030"), "报告.txt") == "资金支出率 97.42%"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"\xd0\xcf\x11\xe0 an old .doc", "报告.doc", "不支持的文件类型"),
        (b"not a zip at all", "报告.docx", "不是有效的 docx"),
        (b"PK\x03\x04 broken zip", "报告.docx", "不是有效的 Word"),
        (pdf_bytes([]), "扫描件.pdf", "没有可读取的文字"),
    ],
)
def test_what_cannot_be_read_is_said(data, name, words):
    with pytest.raises(ReportTextError, match=words):
        report_text(data, name)
