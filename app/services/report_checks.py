"""Checking a submitted 自评报告's arithmetic (jixiao check-report, the page and the API)."""

from __future__ import annotations

from app.domain.report_check import ReportCheck, check_report
from app.importers.report_text import ReportTextError, report_text
from app.services.errors import ValidationFailed


def check_file(*, data: bytes, filename: str) -> ReportCheck:
    """Read a .txt, .docx or .pdf report and check the figures it declares."""
    if not data:
        raise ValidationFailed(f"文件“{filename}”是空的：请选择要核对的自评报告")
    try:
        text = report_text(data, filename)
    except ReportTextError as exc:
        raise ValidationFailed(str(exc)) from exc
    return check_report(text)
