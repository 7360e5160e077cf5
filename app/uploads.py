"""Reading uploaded files, for both faces (the import page and the import API)."""

from __future__ import annotations

from fastapi import UploadFile

from app.services.errors import ValidationFailed


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """Read an upload in chunks, refusing it as soon as it passes the size limit."""
    chunks, size = [], 0
    while chunk := await upload.read(1024 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise ValidationFailed(f"文件过大：上限为 {max_bytes // 1048576} MB")
        chunks.append(chunk)
    return b"".join(chunks)
