"""Reading uploaded files, for both faces (the import page and API, the report check page and API)."""

from __future__ import annotations

from fastapi import UploadFile

from app.services.errors import ValidationFailed

# Routes whose upload has a limit of its own (a setting's name), judged on Content-Length by the
# request-limit middleware before the body is read, and again while the file streams in.
UPLOAD_LIMITS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/report-checks"): "report_check_max_bytes",
    ("POST", "/report-checks"): "report_check_max_bytes",
    ("POST", "/api/v1/self-evaluations/offline"): "offline_max_bytes",
    ("POST", "/evaluations/offline"): "offline_max_bytes",
}
# The form around the file (boundaries, other fields) on top of the file's own limit.
FORM_ALLOWANCE = 64 * 1024


def route_upload_limit(settings, method: str, path: str) -> int | None:
    """The request-body limit of a route with its own upload limit (None: the general one)."""
    name = UPLOAD_LIMITS.get((method, path))
    return None if name is None else getattr(settings, name) + FORM_ALLOWANCE


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read an upload in chunks, refusing it as soon as it passes the size limit."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise ValidationFailed(f"文件过大：上限为 {_size(max_bytes)}")
        chunks.append(chunk)
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"
