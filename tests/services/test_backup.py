"""jixiao backup / restore: a populated database backed up while writers keep committing, restored
into a fresh database, compared row by row; the stored files compared by SHA-256."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from app.models import Department
from app.services import backup, demo
from app.services.errors import ValidationFailed
from app.settings import load_settings
from tests.conftest import new_database


def _rows(engine: sa.Engine, table: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY 1'))]


def _settings(url: str):
    return load_settings(DATABASE_URL=url, JIXIAO_ENV="test", SECRET_KEY="test-secret-key-0123456789")


def test_backup_under_concurrent_writes_restores_every_row_and_file(
    request, tmp_path_factory, tmp_path, session, engine, owner_engine, settings
):
    demo.load_demo(session=session)  # 3 units, 34 projects, 168 indicators, accounts, audit events
    files = tmp_path / "files"
    (files / "2024" / "附件").mkdir(parents=True)
    for n in range(5):
        (files / "2024" / "附件" / f"说明{n}.pdf").write_bytes(os.urandom(50_000 + n))
    (files / "top.txt").write_text("自评报告附件", encoding="utf-8")

    committed: dict[int, list[str]] = {n: [] for n in range(3)}
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            i = 0
            while not stop.is_set():
                name = f"并发写入{n}-{i:05d}"
                with Session(engine) as s:
                    s.add(Department(name=name))
                    s.commit()
                committed[n].append(name)
                i += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    before_backup = {n: list(names) for n, names in committed.items()}
    target = tmp_path / "backup"
    result = backup.backup(settings=settings, directory=target, files_dir=files)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert result.files == 6
    assert sum(map(len, committed.values())) > sum(map(len, before_backup.values()))  # writes went on

    kind = "sqlite" if settings.is_sqlite else "postgres"
    fresh_url, drop = new_database(request, kind, tmp_path_factory)
    fresh = sa.create_engine(fresh_url)
    restored_files = tmp_path / "restored-files"
    try:
        backup.restore(settings=_settings(fresh_url), directory=target, files_dir=restored_files)
        for table in SQLModel.metadata.sorted_tables:
            original, copy = _rows(owner_engine, table.name), _rows(fresh, table.name)
            if table.name != "department":
                assert copy == original, table.name
                continue
            assert set(copy) <= set(original)
            names = {row[2] for row in copy}
            for n, names_of_writer in committed.items():
                kept = [name for name in names_of_writer if name in names]
                # a consistent snapshot: each writer's rows up to some point, nothing after a gap
                assert kept == names_of_writer[: len(kept)], n
                assert len(kept) >= len(before_backup[n])  # nothing committed before the backup is lost
        assert _rows(fresh, "alembic_version") == _rows(owner_engine, "alembic_version")
        assert len(_rows(fresh, "project")) == 34 and len(_rows(fresh, "indicator")) == 168
    finally:
        fresh.dispose()
        drop()

    def digests(root):
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*")
            if p.is_file()
        }

    assert digests(restored_files) == digests(files) and len(digests(files)) == 6


def test_a_damaged_backup_is_refused_before_anything_is_restored(tmp_path, session, settings):
    demo.load_demo(session=session)
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.txt").write_text("原文", encoding="utf-8")
    target = tmp_path / "backup"
    backup.backup(settings=settings, directory=target, files_dir=files)
    (target / "files" / "a.txt").write_text("被改过", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="SHA-256"):
        backup.restore(settings=settings, directory=target, files_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValidationFailed, match="不是空的"):
        backup.backup(settings=settings, directory=target)
