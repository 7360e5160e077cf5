"""The text of a submitted report (.txt, .docx or .pdf), line by line, for jixiao check-report.

.docx is read with python-docx: its paragraphs in order, then each table row as one line (cells
joined by spaces), as a reader would copy them. PDF text comes from pypdf: pure Python (no C
library to install on intranet servers), and its extract_text keeps the page's line breaks, which
the checker reports figures by. A scanned PDF has no text layer: that is said, not guessed at.
"""

from __future__ import annotations

import io
from pathlib import PurePath

SUFFIXES = (".txt", ".docx", ".pdf")


class ReportTextError(ValueError):
    """The file is not a report whose text can be read; the message says why (Chinese)."""


def report_text(data: bytes, filename: str) -> str:
    """The text of a .txt, .docx or .pdf report, by the file's content (its name only for .txt)."""
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(b"%PDF"):
        return _pdf_text(data)
    if data.startswith(b"PK\x03\x04"):
        return _docx_text(data)
    if suffix in (".pdf", ".docx"):
        raise ReportTextError(f"文件“{filename}”不是有效的 {suffix[1:]} 文件（内容与扩展名不符或已损坏）")
    if suffix not in ("", ".txt"):
        raise ReportTextError(f"不支持的文件类型“{suffix}”：请上传 .docx、.pdf 或 .txt 格式的自评报告")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReportTextError(f"文件“{filename}”不是 UTF-8 或 GBK 编码的文本")


def _docx_text(data: bytes) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReportTextError("文件不是有效的 Word（.docx）文件；.doc 请先另存为 .docx") from exc
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            for cell in row.cells:
                text = cell.text.strip()
                if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                    cells.append(text)
            lines.append(" ".join(cells))
    return "\n".join(lines)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ReportTextError("PDF 文件已损坏或加密，无法读取文字") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise ReportTextError("PDF 中没有可读取的文字（可能是扫描件）：请上传 Word 文件或文字版 PDF")
    return text
