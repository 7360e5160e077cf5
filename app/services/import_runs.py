"""Imports started from the upload page run in the background and report their progress."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from app.importers.rows import ReadLimits
from app.models import ImportRun
from app.security import Principal
from app.services import imports
from app.services.errors import NotFound
from app.services.scope import require_role
from app.sqltypes import utcnow

log = logging.getLogger("jixiao.imports")
# Progress of the imports running in this process: run id -> (rows done, rows total).
# SQLite lets one writer in at a time, and the import's own transaction is that writer until it
# commits, so there progress lives here; PostgreSQL also gets it in the run's row, for the other
# workers of a multi-process server.
_progress: dict[int, tuple[int, int | None, str]] = {}
PHASES = {"read": "读取文件", "store": "写入数据库"}
# Cancellations asked of the imports running in this process (run id -> who asked). On PostgreSQL the
# request is also written in the run's row (report.cancel_requested_by) for the other workers.
_cancelled: dict[int, str] = {}
# How often the process running an import says it is alive (PostgreSQL: in the run's row); a run not heard
# from for STALE_BEATS heartbeats belongs to a process that died (killed, restarted, its machine lost).
HEARTBEAT_SECONDS = 5.0
STALE_BEATS = 6
NOT_STARTED = "导入未能开始（服务内部错误），未写入任何内容；请稍后重新上传。"
CANCELLED = "导入已由{who}取消，未写入任何内容（导入是一个整体：要么全部写入，要么什么都不写）。"


class ImportCancelled(Exception):
    """Raised inside the import's progress callback: the transaction is rolled back, nothing is written."""

    def __init__(self, who: str):
        super().__init__(who)
        self.who = who


def start(
    *,
    engine: sa.Engine,
    path: Path,
    filename: str,
    year: int | None,
    dry_run: bool,
    force: bool,
    principal: Principal,
    max_bytes: int,
    limits: ReadLimits | None = None,
    options: dict | None = None,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> int:
    """Record an import run and start it in a background thread; returns the run's id. The thread
    reads the file at `path` as a stream and removes it when it is done. `options`: as_draft,
    as_adjustment, adjustment_reason (imports.import_file)."""
    run_id = None
    try:
        with Session(engine) as session:
            run = ImportRun(
                filename=filename[:500],
                year=year,
                dry_run=dry_run,
                status="pending",
                created_by_id=principal.user_id,
                heartbeat_at=utcnow(),
            )
            session.add(run)
            session.commit()
            run_id = run.id
        thread = threading.Thread(
            target=_run,
            name=f"import-{run_id}",
            daemon=True,
            args=(engine, run_id, path, filename, year, dry_run, force, principal, max_bytes, limits, options or {}),
            kwargs={"heartbeat_seconds": heartbeat_seconds},
        )
        thread.start()
    except BaseException:
        # The thread never took the file over: remove it here, or every failed start leaves an upload
        # in the temporary directory; and a run recorded without a thread would wait for ever.
        Path(path).unlink(missing_ok=True)
        if run_id is not None:
            _finish_failed(engine, run_id, NOT_STARTED, filename)
        raise
    return run_id


def _run(
    engine,
    run_id,
    path,
    filename,
    year,
    dry_run,
    force,
    principal,
    max_bytes,
    limits,
    options=None,
    *,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> None:
    last = [0.0]
    beating = threading.Event()
    if engine.dialect.name != "sqlite":  # SQLite: one server, one writer — the import's transaction
        threading.Thread(
            target=_beat,
            name=f"import-{run_id}-heartbeat",
            daemon=True,
            args=(engine, run_id, heartbeat_seconds, beating),
        ).start()

    def progress(done: int, total: int | None, phase: str) -> None:
        _progress[run_id] = (done, total, phase)
        if run_id in _cancelled:
            raise ImportCancelled(_cancelled[run_id])
        now = time.monotonic()
        if engine.dialect.name == "sqlite" or (now - last[0] < 0.5 and done != total):
            return
        last[0] = now
        with Session(engine) as s:  # its own short transaction, beside the import's one
            s.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(rows_done=done, rows_total=total))
            asked = s.execute(sa.select(ImportRun.report).where(ImportRun.id == run_id)).scalar()
            s.commit()
        if isinstance(asked, dict) and asked.get("cancel_requested_by"):
            raise ImportCancelled(str(asked["cancel_requested_by"]))

    try:
        _progress[run_id] = (0, None, "read")
        with Session(engine) as s:
            s.execute(sa.update(ImportRun).where(ImportRun.id == run_id).values(status="running"))
            s.commit()
        with Session(engine, expire_on_commit=False) as session:
            report = imports.import_file(
                session=session,
                path=path,
                filename=filename,
                year=year,
                dry_run=dry_run,
                force=force,
                actor=principal,
                max_bytes=max_bytes,
                on_progress=progress,
                limits=limits,
                **(options or {}),
            )
        body = report.to_json()
        status = "done" if report.ok else "failed"
    except ImportCancelled as cancelled:
        body = {
            "ok": False,
            "cancelled": True,
            "errors": [{"message": CANCELLED.format(who=cancelled.who), "where": filename}],
            "warnings": [],
            "counts": {},
        }
        status = "failed"
    except Exception as exc:  # reported on the page, never a silent death of the thread
        log.exception("import %s failed", run_id)
        body = {
            "ok": False,
            "errors": [{"message": f"导入时发生内部错误：{exc}", "where": filename}],
            "warnings": [],
            "counts": {},
        }
        status = "failed"
    try:
        with Session(engine) as s:
            done, total, _ = _progress.get(run_id, (0, None, ""))
            s.execute(
                sa.update(ImportRun)
                .where(ImportRun.id == run_id)
                .values(status=status, report=body, finished_at=utcnow(), rows_done=done, rows_total=total)
            )
            s.commit()
    finally:
        beating.set()
        _progress.pop(run_id, None)
        _cancelled.pop(run_id, None)
        Path(path).unlink(missing_ok=True)


def _beat(engine: sa.Engine, run_id: int, seconds: float, stop: threading.Event) -> None:
    """Write the run's heartbeat every `seconds` until it ends (its own short transactions, beside the
    import's one, which may sit in one long statement for minutes)."""
    while not stop.wait(seconds):
        try:
            with Session(engine) as s:
                s.execute(
                    sa.update(ImportRun)
                    .where(ImportRun.id == run_id, ImportRun.status.in_(("pending", "running")))
                    .values(heartbeat_at=utcnow())
                )
                s.commit()
        except Exception:  # the database is away for a moment: the next beat tries again
            log.warning("import %s: heartbeat not written", run_id, exc_info=True)


def _finish_failed(engine: sa.Engine, run_id: int, message: str, where: str) -> None:
    body = {"ok": False, "errors": [{"message": message, "where": where}], "warnings": [], "counts": {}}
    try:
        with Session(engine) as s:
            s.execute(
                sa.update(ImportRun)
                .where(ImportRun.id == run_id, ImportRun.status.in_(("pending", "running")))
                .values(status="failed", report=body, finished_at=utcnow())
            )
            s.commit()
    except Exception:
        log.exception("import %s: could not be marked failed", run_id)


def cancel(*, engine: sa.Engine, run_id: int, principal: Principal) -> bool:
    """Ask a pending or running import to stop; it rolls back at its next progress step. False when
    it has already finished (then nothing changes)."""
    require_role(principal, "admin", "finance")
    with Session(engine) as s:
        run = s.get(ImportRun, run_id)
        if run is None:
            raise NotFound("导入记录不存在")
        if run.status not in ("pending", "running"):
            return False
        who = principal.name or "管理员"
        _cancelled[run_id] = who
        if engine.dialect.name != "sqlite":  # other workers' imports read it from the row
            s.execute(
                sa.update(ImportRun)
                .where(ImportRun.id == run_id, ImportRun.status.in_(("pending", "running")))
                .values(report={"cancel_requested_by": who})
            )
            s.commit()
    return True


# An import is one transaction: a process that died mid-import wrote all of it or (far more likely) none.
INTERRUPTED = (
    "服务在这次导入进行中停止或重启，导入没有完成。导入是一个整体：要么全部写入，要么什么都不写；"
    "请查看数据后重新导入——重新导入同一文件是安全的，不会产生重复数据。"
)


def fail_interrupted(*, engine: sa.Engine, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> int:
    """Mark the imports a dead process left pending or running as failed, saying why; returns how many.

    SQLite has one server: every unfinished run is its own, dead. On PostgreSQL other replicas may be
    running imports right now: only the runs whose heartbeat stopped are failed."""
    body = {"ok": False, "errors": [{"message": INTERRUPTED, "where": "整个文件"}], "warnings": [], "counts": {}}
    unfinished = ImportRun.status.in_(("pending", "running"))
    if engine.dialect.name != "sqlite":
        cutoff = utcnow() - timedelta(seconds=heartbeat_seconds * STALE_BEATS)
        unfinished = sa.and_(unfinished, sa.or_(ImportRun.heartbeat_at.is_(None), ImportRun.heartbeat_at < cutoff))
    with Session(engine) as s:
        result = s.execute(
            sa.update(ImportRun).where(unfinished).values(status="failed", report=body, finished_at=utcnow())
        )
        s.commit()
    return result.rowcount


def get_run(
    *, session: Session, run_id: int, principal: Principal, heartbeat_seconds: float = HEARTBEAT_SECONDS
) -> ImportRun:
    """An import run; admins and the finance bureau see every run. A run whose process stopped beating
    (on any replica) is failed here, saying why, rather than shown as running for ever."""
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("导入记录不存在")
    stale = sa.or_(
        ImportRun.heartbeat_at.is_(None),
        ImportRun.heartbeat_at < utcnow() - timedelta(seconds=heartbeat_seconds * STALE_BEATS),
    )
    if run.status in ("pending", "running") and run_id not in _progress and session.get_bind().dialect.name != "sqlite":
        body = {"ok": False, "errors": [{"message": INTERRUPTED, "where": run.filename}], "warnings": [], "counts": {}}
        failed = session.execute(
            sa.update(ImportRun)
            .where(ImportRun.id == run_id, ImportRun.status.in_(("pending", "running")), stale)
            .values(status="failed", report=body, finished_at=utcnow())
        )
        session.commit()
        if failed.rowcount:
            log.warning("import %s: its process stopped beating; marked failed", run_id)
        session.refresh(run)
    if run.status in ("pending", "running") and run_id in _progress:
        run.rows_done, run.rows_total, _ = _progress[run_id]
        session.expunge(run)  # shown, never written back from here
    return run


def phase_of(run_id: int) -> str:
    """What a running import is doing now, in Chinese."""
    return PHASES.get(_progress.get(run_id, (0, None, ""))[2], "")


def recent(*, session: Session, principal: Principal, limit: int = 20) -> list[ImportRun]:
    """The latest imports, newest first (the import page's list)."""
    require_role(principal, "admin", "finance")
    return list(session.exec(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))
