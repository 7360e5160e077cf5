"""Backup and restore of the database and the stored files, while the app runs.

A plain copy of a live SQLite file can miss what is still in its write-ahead log and yet pass the
integrity check; SQLite's online backup API copies a consistent snapshot instead. PostgreSQL is
dumped with pg_dump's custom format (one consistent snapshot) and restored with pg_restore.

A backup is a directory: the database (`jixiao.db` or `jixiao.pgdump`), the stored files under
`files/`, and `manifest.json` with the SHA-256 of each, checked before anything is restored.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.services.errors import ValidationFailed
from app.settings import Settings
from app.sqltypes import utcnow

MANIFEST = "manifest.json"
SQLITE_FILE = "jixiao.db"
PG_FILE = "jixiao.pgdump"
FILES = "files"


@dataclass
class BackupResult:
    directory: Path
    database: str  # the file holding the database
    files: int  # stored files copied


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def _libpq_url(settings: Settings) -> str:
    url = sa.engine.make_url(settings.database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise ValidationFailed(
        f"找不到 {name}：请安装 PostgreSQL 客户端（apt-get install postgresql-client），"
        "或在数据库容器中执行（见 README“备份与恢复”）"
    )


def backup(*, settings: Settings, directory: Path, files_dir: Path | None = None) -> BackupResult:
    """Write a consistent copy of the database (and of files_dir) into a new directory."""
    if directory.exists() and any(directory.iterdir()):
        raise ValidationFailed(f"备份目录 {directory} 已存在且不是空的：请指定一个新目录")
    directory.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        name = SQLITE_FILE
        source = sqlite3.connect(_sqlite_path(settings), timeout=30)
        target = sqlite3.connect(directory / name)
        try:
            # One step (pages=-1): a single read snapshot, so writers that commit meanwhile are
            # either wholly in the copy or wholly not, and they are never blocked for long.
            source.backup(target, pages=-1)
        finally:
            target.close()
            source.close()
    else:
        name = PG_FILE
        done = subprocess.run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={directory / name}", _libpq_url(settings)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ValidationFailed(f"pg_dump 失败：{done.stderr.strip()[:2000]}")
    files: dict[str, str] = {}
    if files_dir is not None and files_dir.is_dir():
        # an upload still streaming in (app/services/attachments.py) is not a stored file yet
        for path in sorted(p for p in files_dir.rglob("*") if p.is_file() and not p.name.startswith(".upload-")):
            relative = path.relative_to(files_dir).as_posix()
            copy = directory / FILES / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            files[relative] = sha256_of(copy)
    manifest = {
        "created_at": utcnow().isoformat(),
        "database": {"kind": "sqlite" if settings.is_sqlite else "postgresql", "file": name},
        "sha256": {name: sha256_of(directory / name)},
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return BackupResult(directory=directory, database=name, files=len(files))


def read_manifest(directory: Path) -> dict:
    """The backup's manifest, after checking every file against its SHA-256."""
    path = directory / MANIFEST
    if not path.is_file():
        raise ValidationFailed(f"{directory} 不是 jixiao 备份：没有 {MANIFEST}")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    expected = dict(manifest["sha256"])
    expected.update({f"{FILES}/{k}": v for k, v in manifest["files"].items()})
    for relative, digest in expected.items():
        candidate = directory / relative
        if not candidate.is_file():
            raise ValidationFailed(f"备份不完整：缺少 {relative}")
        if sha256_of(candidate) != digest:
            raise ValidationFailed(f"备份已损坏：{relative} 的 SHA-256 与清单不符")
    return manifest


def restore(*, settings: Settings, directory: Path, files_dir: Path | None = None) -> dict:
    """Replace the database (and files_dir) with the backup's, after checking its SHA-256s."""
    manifest = read_manifest(directory)
    kind = manifest["database"]["kind"]
    if kind != ("sqlite" if settings.is_sqlite else "postgresql"):
        raise ValidationFailed(f"这是 {kind} 数据库的备份，不能恢复到当前的数据库（DATABASE_URL）")
    source_file = directory / manifest["database"]["file"]
    if settings.is_sqlite:
        target_path = _sqlite_path(settings)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(source_file)
        target = sqlite3.connect(target_path, timeout=30)
        try:
            source.backup(target, pages=-1)
        finally:
            target.close()
            source.close()
    else:
        done = subprocess.run(
            [
                _pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq_url(settings)}",
                str(source_file),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise ValidationFailed(f"pg_restore 失败：{done.stderr.strip()[:2000]}")
    if files_dir is not None and manifest["files"]:
        for relative in manifest["files"]:
            target_file = files_dir / relative
            target_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(directory / FILES / relative, target_file)
            os.utime(target_file)
    return manifest
