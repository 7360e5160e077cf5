"""Reading uploaded files, for both faces (the import page and API, the report check page and API)."""

from __future__ import annotations

import tempfile
from pathlib import Path

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


async def save_upload(upload: UploadFile, max_bytes: int) -> Path:
    """Copy an upload to a temporary file in chunks, refusing it as soon as it passes the size limit;
    the caller removes the file. An import reads it from there as a stream: never held whole."""
    suffix = Path(upload.filename or "").suffix.lower()[:16]
    handle = tempfile.NamedTemporaryFile(prefix=UPLOAD_PREFIX, suffix=suffix, delete=False)
    path, size = Path(handle.name), 0
    try:
        with handle:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationFailed(f"文件过大：上限为 {_size(max_bytes)}")
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


UPLOAD_PREFIX = "jixiao-upload-"
# An upload's file lives while its import runs (minutes); one a day old belongs to a process that was
# killed mid-import (its thread never got to remove it).
STALE_UPLOAD_SECONDS = 24 * 3600


def remove_stale_uploads(*, directory: Path | None = None, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove the uploads killed processes left in the temporary directory; returns how many."""
    import time

    directory = Path(directory or tempfile.gettempdir())
    cutoff, removed = time.time() - older_than, 0
    for path in directory.glob(UPLOAD_PREFIX + "*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # removed meanwhile, or not ours to remove
            continue
    return removed


def _size(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"
