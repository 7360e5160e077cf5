"""Two app processes, one PostgreSQL database: a logged-in user's requests may land on either.

Nothing a request needs lives in one process's memory: the login session is a row, the version an
autosave checks is a row, an import's progress and its heartbeat are written in its row. These tests
start two real uvicorn processes (random loopback ports) on one database and move the same browser
(the same cookies) between them, as a reverse proxy in front of `--scale app=N` does.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import ImportRun, Indicator, Project, SelfEvaluation, Unit
from app.services import evaluations, import_runs
from app.services.demo import load_demo
from app.sqltypes import utcnow
from tests import factories
from tests.conftest import as_app_role, migrate

SEED = Path(__file__).resolve().parent / "data" / "seed_003.txt"
UNIT = "广州市无线电监测站"
PROJECT = "专项工作培训费"
HEARTBEAT = 0.5  # seconds; a run silent for STALE_BEATS of them (3 s) is dead


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Replica:
    """One `uvicorn app.main:create_app` process on a loopback port; its output goes to a file."""

    def __init__(self, url: str, secret: str, **env: str):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        environment = dict(
            os.environ,
            DATABASE_URL=url,
            JIXIAO_ENV="test",
            SECRET_KEY=secret,
            JIXIAO_IMPORT_HEARTBEAT_SECONDS=str(HEARTBEAT),
            **env,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1"]
            + ["--port", str(self.port), "--log-level", "warning"],
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90  # a loaded shared machine starts Python slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"replica on {self.port} did not start:\n{self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def shared(pg_server) -> Iterator[tuple[str, sa.Engine]]:
    """One migrated database with the demo data; (the app role's URL, the owner's engine)."""
    owner_url = pg_server.create_database().replace("postgresql://", "postgresql+psycopg://")
    migrate(owner_url)
    owner = sa.create_engine(owner_url, pool_size=2)
    with Session(owner, expire_on_commit=False) as session:
        load_demo(session=session)
        evaluations.ensure_evaluations(session=session)
        factories.user(session, "root", "admin")
        session.commit()
    yield as_app_role(owner_url), owner
    owner.dispose()
    pg_server.drop_database(owner_url.replace("postgresql+psycopg://", "postgresql://"))


@pytest.fixture(scope="module")
def replicas(shared, tmp_path_factory) -> Iterator[tuple[Replica, Replica]]:
    url, _ = shared
    files = str(tmp_path_factory.mktemp("shared-files"))  # the one volume every replica mounts
    a = Replica(url, "replica-test-secret-0123456789", JIXIAO_FILES_DIR=files)
    b = Replica(url, "replica-test-secret-0123456789", JIXIAO_FILES_DIR=files)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()


def _login(base: str, username: str, password: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as c:
        r = c.post("/login", data={"username": username, "password": password}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return c.cookies


def _version(text: str) -> int:
    return int(re.search(r'id="ev-version" name="version" value="(\d+)"', text).group(1))


def test_a_session_started_on_one_replica_is_honoured_by_the_other(replicas, shared):
    a, b = replicas
    _, owner = shared
    cookies = _login(a.base, "wuxian_jiancezhan", "jixiao-demo")
    with Session(owner) as s:
        project = s.exec(
            select(Project).join(Unit, Unit.id == Project.unit_id).where(Project.name == PROJECT, Unit.name == UNIT)
        ).first()
        eid = s.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
        indicator_id = s.exec(
            select(Indicator.id).where(Indicator.project_id == project.id).order_by(Indicator.position)
        ).first()
    with httpx.Client(base_url=a.base, cookies=cookies) as on_a, httpx.Client(base_url=b.base, cookies=cookies) as on_b:
        page_b = on_b.get(f"/evaluations/{eid}")  # the page, on the replica that did not log in
        assert page_b.status_code == 200 and "<html" in page_b.text and PROJECT in page_b.text
        version = _version(page_b.text)
        # The autosave on B, with the version the page on B was rendered with ...
        saved = on_b.post(
            f"/evaluations/{eid}/rows/{indicator_id}",
            data={"version": version, "actual": "1次"},
            headers={"HX-Request": "true"},
        )
        assert saved.status_code == 200, saved.text
        # ... is seen by A, with its new version; A refuses the stale version B just used up.
        page_a = on_a.get(f"/evaluations/{eid}")
        assert _version(page_a.text) == version + 1 and 'value="1次"' in page_a.text
        stale = on_a.post(
            f"/evaluations/{eid}/rows/{indicator_id}",
            data={"version": version, "actual": "2次"},
            headers={"HX-Request": "true"},
        )
        assert stale.status_code == 409, stale.text
        # Logging out on A ends the session on B at once.
        assert on_a.post("/logout", follow_redirects=False).status_code == 303
        after = on_b.get(f"/evaluations/{eid}", follow_redirects=False)
        assert after.status_code in (303, 401) or "/login" in after.headers.get("location", "")


def test_an_import_started_on_one_replica_is_followed_on_the_other(replicas):
    a, b = replicas
    cookies = _login(a.base, "root", factories.PASSWORD)
    with httpx.Client(base_url=a.base, cookies=cookies) as on_a, httpx.Client(base_url=b.base, cookies=cookies) as on_b:
        started = on_a.post(
            "/admin/imports",
            data={"year": "2024", "dry_run": "on"},
            files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        location = started.headers["location"]
        for _ in range(300):
            fragment = on_b.get(location, headers={"HX-Request": "true"})
            assert fragment.status_code == 200
            if "every 500ms" not in fragment.text:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the import did not finish, as seen from the other replica")
        # The report, read from the run's row: the demo holds this table already, so nothing changes.
        assert "检查通过，未写入（试运行）" in fragment.text, fragment.text
        assert '<th>未变项目</th><td class="num">34</td>' in fragment.text, fragment.text


def test_a_run_whose_process_died_is_failed_by_the_other_replica_and_a_live_one_is_not(replicas, shared):
    a, b = replicas
    _, owner = shared
    with Session(owner, expire_on_commit=False) as s:
        dead = ImportRun(
            filename="dead.xlsx", year=2024, status="running", heartbeat_at=utcnow() - timedelta(seconds=30)
        )
        live = ImportRun(
            filename="live.xlsx", year=2024, status="running", heartbeat_at=utcnow() + timedelta(seconds=60)
        )
        s.add_all([dead, live])
        s.commit()
    cookies = _login(a.base, "root", factories.PASSWORD)
    with httpx.Client(base_url=b.base, cookies=cookies) as on_b:
        shown = on_b.get(f"/admin/imports/{dead.id}", headers={"HX-Request": "true"}).text
        assert "服务在这次导入进行中停止或重启" in shown and "every 500ms" not in shown
        still = on_b.get(f"/admin/imports/{live.id}", headers={"HX-Request": "true"}).text
        assert "every 500ms" in still  # beating: left running
    with Session(owner) as s:
        assert s.get(ImportRun, dead.id).status == "failed"
        assert s.get(ImportRun, live.id).status == "running"
        s.execute(sa.delete(ImportRun).where(ImportRun.id.in_((dead.id, live.id))))
        s.commit()


def test_a_running_import_writes_its_heartbeat(shared):
    _, owner = shared
    with Session(owner, expire_on_commit=False) as s:
        run = ImportRun(filename="beat.xlsx", year=2024, status="running", heartbeat_at=utcnow() - timedelta(hours=1))
        s.add(run)
        s.commit()
    import threading

    stop = threading.Event()
    beat = threading.Thread(target=import_runs._beat, args=(owner, run.id, 0.05, stop))
    beat.start()
    time.sleep(0.5)
    stop.set()
    beat.join(5)
    with Session(owner) as s:
        heard = s.get(ImportRun, run.id).heartbeat_at
        assert heard > utcnow() - timedelta(seconds=5)
        s.execute(sa.delete(ImportRun).where(ImportRun.id == run.id))
        s.commit()


def test_an_import_whose_process_is_killed_is_reported_failed_by_the_other_replica(replicas, shared):
    """A real death: replica C is SIGKILLed in the middle of a long import; B, polling the run, shows it
    failed with the reason once C's heartbeat has been silent for STALE_BEATS beats, not running for ever."""
    from bench.tables import csv_bytes

    _, b = replicas
    url, owner = shared
    c = Replica(url, "replica-test-secret-0123456789")
    try:
        c.wait_ready()
        cookies = _login(c.base, "root", factories.PASSWORD)
        with httpx.Client(base_url=c.base, cookies=cookies, timeout=60) as on_c:
            started = on_c.post(
                "/admin/imports",
                data={"year": "2024", "dry_run": "1"},
                files={"file": ("big.csv", csv_bytes(100_000), "text/csv")},
                follow_redirects=False,
            )
        assert started.status_code == 303, started.text
        run_id = int(started.headers["location"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 60
        while True:  # under way: its progress has reached the row (written by C)
            with Session(owner) as s:
                run = s.get(ImportRun, run_id)
                if run.status == "running" and run.rows_done > 0:
                    break
                assert run.status in ("pending", "running"), f"finished before it could be killed: {run.status}"
            assert time.monotonic() < deadline, "the import did not get under way"
            time.sleep(0.05)
        c.proc.kill()
        c.proc.wait(10)
        with httpx.Client(base_url=b.base, cookies=cookies) as on_b:
            shown = on_b.get(f"/admin/imports/{run_id}", headers={"HX-Request": "true"}).text
            assert "every 500ms" in shown  # just killed: its last heartbeat is still recent
            for _ in range(100):
                shown = on_b.get(f"/admin/imports/{run_id}", headers={"HX-Request": "true"}).text
                if "every 500ms" not in shown:
                    break
                time.sleep(0.1)
        assert "服务在这次导入进行中停止或重启" in shown, shown
        with Session(owner) as s:
            assert s.get(ImportRun, run_id).status == "failed"
    finally:
        if c.proc.poll() is None:
            c.stop()
        else:
            c.log.close()


def test_an_attachment_uploaded_on_one_replica_is_downloaded_from_the_other(replicas, shared):
    """佐证材料 live in JIXIAO_FILES_DIR, shared by the replicas (content-addressed, renamed into place)."""
    from app.models import Attachment

    a, b = replicas
    _, owner = shared
    cookies = _login(a.base, "wuxian_jiancezhan", "jixiao-demo")
    with Session(owner) as s:
        project = s.exec(
            select(Project).join(Unit, Unit.id == Project.unit_id).where(Project.name == PROJECT, Unit.name == UNIT)
        ).first()
        eid = s.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    body = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + os.urandom(64)
    with httpx.Client(base_url=a.base, cookies=cookies) as on_a, httpx.Client(base_url=b.base, cookies=cookies) as on_b:
        uploaded = on_a.post(
            f"/evaluations/{eid}/attachments",
            files={"file": ("佐证.pdf", body, "application/pdf")},
            headers={"HX-Request": "true"},
        )
        assert uploaded.status_code == 200, uploaded.text
        with Session(owner) as s:
            attachment_id = s.exec(select(Attachment.id).order_by(Attachment.id.desc())).first()
        downloaded = on_b.get(f"/attachments/{attachment_id}")
        assert downloaded.status_code == 200 and downloaded.content == body
