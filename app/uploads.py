"""Reading uploaded files, for both faces (the import page and API, the report check page and API)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import StreamingResponse

from app.services.errors import TooLarge, ValidationFailed

# Routes whose upload has a limit of its own (a setting's name), judged on Content-Length by the
# request-limit middleware before the body is read, and again while the file streams in.
UPLOAD_LIMITS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/report-checks"): "report_check_max_bytes",
    ("POST", "/report-checks"): "report_check_max_bytes",
    ("POST", "/api/v1/self-evaluations/offline"): "offline_max_bytes",
    ("POST", "/evaluations/offline"): "offline_max_bytes",
}
# Routes with an id in the path whose upload has a limit of its own: the 佐证材料 uploads.
UPLOAD_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "POST",
        re.compile(
            r"^(?:/api/v1/(?:self-evaluations|indicators|funds|fund-nodes)|/evaluations|/funds)/\d+/attachments$"
        ),
        "attachment_max_bytes",
    ),
    # the 资金分配 xlsx, read whole into memory (app/importers/fund_tree.py)
    ("POST", re.compile(r"^(?:/api/v1)?/funds/\d+/tree$"), "fund_tree_max_bytes"),
)
# The environment variable of each limit, named in the 413's message.
LIMIT_SETTINGS = {
    "report_check_max_bytes": "JIXIAO_REPORT_CHECK_MAX_BYTES",
    "offline_max_bytes": "JIXIAO_OFFLINE_MAX_BYTES",
    "attachment_max_bytes": "JIXIAO_ATTACHMENT_MAX_BYTES",
    "fund_tree_max_bytes": "JIXIAO_FUND_TREE_MAX_BYTES",
}
# The form around the file (boundaries, other fields) on top of the file's own limit.
FORM_ALLOWANCE = 64 * 1024


def route_limit_name(method: str, path: str) -> str | None:
    """The setting holding the upload limit of this route (None: the general one applies)."""
    name = UPLOAD_LIMITS.get((method, path))
    if name is None:
        name = next((n for m, pattern, n in UPLOAD_PATTERNS if m == method and pattern.match(path)), None)
    return name


def route_upload_limit(settings, method: str, path: str) -> int | None:
    """The request-body limit of a route with its own upload limit (None: the general one)."""
    name = route_limit_name(method, path)
    return None if name is None else getattr(settings, name) + FORM_ALLOWANCE


def read_chunks(upload: UploadFile, max_bytes: int, setting: str):
    """The upload's bytes in chunks (read synchronously, for a sync route), refused as soon as they
    pass the limit: a 413 naming the setting."""
    size = 0
    while chunk := upload.file.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"上传的文件过大：每个文件最多 {_size(max_bytes)}（设置 {setting}）")
        yield chunk


async def read_upload(upload: UploadFile, max_bytes: int, setting: str | None = None) -> bytes:
    """Read an upload in chunks, refusing it as soon as it passes the size limit (a 413 naming the
    setting when one is given)."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            if setting is not None:
                raise TooLarge(f"上传的文件过大：此处每个文件最多 {_size(max_bytes)}（设置 {setting}）")
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


def download_response(request, row) -> StreamingResponse:
    """A stored 佐证材料 as a download that no browser renders in place (both faces)."""
    from app.services import attachments

    handle = attachments.open_file(files_dir=request.app.state.settings.files_dir, row=row)

    def body():
        with handle:
            while chunk := handle.read(1 << 20):
                yield chunk

    return StreamingResponse(body(), media_type=row.content_type, headers=attachments.download_headers(row))
