"""The app's critical paths through a real PgBouncer in transaction pooling (JIXIAO_DB_TRANSACTION_POOLER).

PgBouncer (`apt-get install pgbouncer`; .ci/run installs it) is started here on a random loopback port,
in front of the test PostgreSQL server, with fewer server connections than the app has client
connections, so that consecutive transactions of one client land on different server connections:
what breaks session state (prepared statements, SET, LISTEN, session advisory locks) breaks here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db import make_engine
from app.models import Indicator, Project, SelfEvaluation, Unit
from app.services import evaluations
from app.services.demo import load_demo
from app.settings import load_settings
from tests import factories
from tests.conftest import APP_PASSWORD, APP_ROLE, IN_CI, migrate

SEED = Path(__file__).resolve().parent / "data" / "seed_003.txt"
HX = {"HX-Request": "true"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if os.path.exists(p)), None)


@pytest.fixture(scope="module")
def bouncer(pg_server) -> Iterator[tuple[str, str]]:
    """A migrated database with the demo data behind PgBouncer (transaction mode, 2 server connections);
    yields (the app role's URL through PgBouncer, the owner's direct URL)."""
    binary = _pgbouncer_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true and no pgbouncer (apt-get install pgbouncer)", pytrace=False)
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    owner_url = pg_server.create_database()
    migrate(owner_url.replace("postgresql://", "postgresql+psycopg://"))
    server = sa.engine.make_url(owner_url)
    with Session(sa.create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://"))) as session:
        load_demo(session=session)
        evaluations.ensure_evaluations(session=session)
        factories.user(session, "root", "admin")
        session.commit()
        session.get_bind().dispose()

    workdir = tempfile.mkdtemp(prefix="jixiao-pgbouncer-")
    port = _free_port()
    users = Path(workdir, "users.txt")
    users.write_text(
        f'"{APP_ROLE}" "{APP_PASSWORD}"\n"{server.username}" "{server.password or ""}"\n', encoding="utf-8"
    )
    config = Path(workdir, "pgbouncer.ini")
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {users}",
                "pool_mode = transaction",
                # Fewer server connections than the app's pool: a client's next transaction often runs
                # on another server connection, as in production under load.
                "default_pool_size = 2",
                "max_client_conn = 200",
                "ignore_startup_parameters = extra_float_digits",
                "",
            ]
        ),
        encoding="utf-8",
    )
    prefix: list[str] = []
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(workdir, "postgres", "postgres")
        for f in (users, config):
            shutil.chown(f, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([*prefix, binary, str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = server.set(host="127.0.0.1", port=port, username=APP_ROLE, password=APP_PASSWORD)
    app_url = url.render_as_string(hide_password=False).replace("postgresql://", "postgresql+psycopg://")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(app_url.replace("+psycopg", ""), connect_timeout=2, prepare_threshold=None):
                    break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"pgbouncer did not start:\n{log.read().decode(errors='replace')}")
                time.sleep(0.1)
        yield app_url, owner_url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
        pg_server.drop_database(owner_url)


def _settings(url: str, pooler: bool = True):
    return load_settings(
        DATABASE_URL=url,
        JIXIAO_ENV="test",
        SECRET_KEY="test-secret-key-0123456789",
        JIXIAO_DB_TRANSACTION_POOLER="true" if pooler else "false",
        DB_POOL_SIZE="6",
        JIXIAO_IMPORT_HEARTBEAT_SECONDS="0.2",
    )


def _interleave(engine: sa.Engine, clients: int = 3, rounds: int = 8) -> list[str]:
    """Short transactions from several pooled connections in turn, each running a statement of its own
    more often than psycopg's prepare threshold (5); the errors met."""
    errors: list[str] = []
    connections = [engine.connect() for _ in range(clients)]
    try:
        for i in range(rounds):
            for n, connection in enumerate(connections):
                try:
                    connection.execute(sa.text(f"SELECT {n} + count(*) FROM app_user WHERE id > :i"), {"i": i})
                    connection.commit()
                except sa.exc.DBAPIError as exc:  # collected: the assertion says which
                    errors.append(str(exc.orig).splitlines()[0])
                    connection.rollback()
    finally:
        for connection in connections:
            connection.close()
    return errors


def test_with_the_pooler_setting_no_prepared_statement_breaks(bouncer):
    url, _ = bouncer
    engine = make_engine(_settings(url))
    try:
        assert _interleave(engine) == []
        with Session(engine) as s:  # the statement timeout holds per transaction (SET LOCAL)
            assert s.execute(sa.text("SHOW statement_timeout")).scalar_one() == "30s"
    finally:
        engine.dispose()


def test_without_it_psycopg_prepared_statements_break_behind_pgbouncer(bouncer):
    """Why the setting exists: psycopg prepares a statement run 5 times on a connection; PgBouncer then
    hands that client's next transaction a server connection that never saw it."""
    url, _ = bouncer
    engine = make_engine(_settings(url, pooler=False))
    try:
        errors = _interleave(engine)
    finally:
        engine.dispose()
    assert any("prepared statement" in e for e in errors), errors


def test_the_critical_paths_run_through_pgbouncer(bouncer):
    """Login, a page, autosaves with their version (and a stale one refused), an import in the
    background with its progress, and a full export, all through PgBouncer in transaction mode."""
    from app.main import create_app

    url, owner_url = bouncer
    app = create_app(_settings(url))
    try:
        with TestClient(app, base_url="http://testserver") as client:
            assert client.get("/readyz").status_code == 200
            factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
            owner = sa.create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://"))
            with Session(owner) as s:
                project = s.exec(
                    select(Project)
                    .join(Unit, Unit.id == Project.unit_id)
                    .where(Project.name == "专项工作培训费", Unit.name == "广州市无线电监测站")
                ).first()
                eid = s.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
                ids = s.exec(select(Indicator.id).where(Indicator.project_id == project.id)).all()
            owner.dispose()
            page = client.get(f"/evaluations/{eid}")
            assert page.status_code == 200
            version = int(re.search(r'id="ev-version" name="version" value="(\d+)"', page.text).group(1))
            for round_ in range(8):  # more than psycopg's prepare threshold (5) of the same statements
                for indicator_id in ids[:2]:
                    saved = client.post(
                        f"/evaluations/{eid}/rows/{indicator_id}",
                        data={"version": version, "deviation_reason": f"第{round_}次"},
                        headers=HX,
                    )
                    assert saved.status_code == 200, saved.text
                    version += 1
            stale = client.post(
                f"/evaluations/{eid}/rows/{ids[0]}", data={"version": version - 1, "actual": "1次"}, headers=HX
            )
            assert stale.status_code == 409
            client.post("/logout")

            factories.login(client, "root")
            started = client.post(
                "/admin/imports",
                data={"year": "2024", "dry_run": "1"},
                files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
                follow_redirects=False,
            )
            assert started.status_code == 303
            for _ in range(300):
                fragment = client.get(started.headers["location"], headers=HX)
                if "every 500ms" not in fragment.text:
                    break
                time.sleep(0.1)
            assert "检查通过，未写入（试运行）" in fragment.text, fragment.text

            listed = client.get("/api/v1/indicators", params={"year": 2024, "limit": 5})
            assert listed.status_code == 200 and len(listed.json()["items"]) == 5
            exported = client.get("/api/v1/indicators", params={"year": 2024, "format": "csv"})
            assert exported.status_code == 200
            assert exported.text.count("\n") > 100
            stats = client.get("/api/v1/stats/units", params={"year": 2024})
            assert stats.status_code == 200 and stats.json()["items"]
    finally:
        app.state.engine.dispose()
