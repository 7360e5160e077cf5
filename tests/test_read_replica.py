"""DATABASE_READ_URL: the bureau's read-only /api/v1 lists, statistics and exports read from the replica;
logins, saves and the audit of an export write to the primary, never to the replica.

The "replica" here is a copy of the primary (CREATE DATABASE … TEMPLATE) reached as a role that may
only SELECT, with default_transaction_read_only on, and one unit renamed in the copy only: an answer
that names the renamed unit came from the replica; any write that reached it would fail (a 500).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.models import AuditEvent, IndicatorResult, SelfEvaluation
from app.services import evaluations
from app.services.demo import load_demo
from app.settings import load_settings
from tests import factories
from tests.conftest import as_app_role, migrate

UNIT = "广州市无线电监测站"
RENAMED = "广州市无线电监测站（只读副本）"
READER = f"jixiao_test_reader_{os.getpid()}"
READER_PASSWORD = "jixiao-test-reader"


def _psycopg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def primary_and_replica(pg_server) -> Iterator[tuple[str, str]]:
    """(the app role's URL of the primary, the read-only role's URL of the replica)."""
    primary = pg_server.create_database()
    migrate(primary.replace("postgresql://", "postgresql+psycopg://"))
    engine = sa.create_engine(primary.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session:
        load_demo(session=session)
        evaluations.ensure_evaluations(session=session)
        session.commit()
    engine.dispose()
    replica = pg_server.create_database(prefix="jixiao_test_replica")
    replica_name = replica.rsplit("/", 1)[1].split("?")[0]
    primary_name = primary.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{replica_name}"')
        admin.execute(f'CREATE DATABASE "{replica_name}" TEMPLATE "{primary_name}"')
        admin.execute(f"DROP ROLE IF EXISTS {READER}")
        admin.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}'")
        admin.execute(f"ALTER ROLE {READER} SET default_transaction_read_only = on")
    with psycopg.connect(replica, autocommit=True) as owner:
        owner.execute("UPDATE unit SET name = %s WHERE name = %s", (RENAMED, UNIT))
        owner.execute(f'GRANT CONNECT ON DATABASE "{replica_name}" TO {READER}')
        owner.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
        owner.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER}")
    reader_url = sa.engine.make_url(replica).set(username=READER, password=READER_PASSWORD)
    try:
        yield (
            as_app_role(primary.replace("postgresql://", "postgresql+psycopg://")),
            reader_url.render_as_string(hide_password=False),
        )
    finally:
        pg_server.drop_database(replica)
        pg_server.drop_database(primary)
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE IF EXISTS {READER}")


@pytest.fixture
def client(primary_and_replica) -> Iterator[TestClient]:
    from app.main import create_app

    primary, replica = primary_and_replica
    settings = load_settings(
        DATABASE_URL=primary, DATABASE_READ_URL=replica, JIXIAO_ENV="test", SECRET_KEY="test-secret-key-0123456789"
    )
    app = create_app(settings)
    try:
        with TestClient(app, base_url="http://testserver") as c:
            yield c
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()


def _counts(url: str) -> tuple[int, int, int]:
    """(audit rows, saved results, the sum of evaluation versions) of one database."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with Session(engine) as s:
            return (
                s.exec(select(sa.func.count()).select_from(AuditEvent)).one(),
                s.exec(select(sa.func.count()).select_from(IndicatorResult)).one(),
                s.exec(select(sa.func.coalesce(sa.func.sum(SelfEvaluation.version), 0))).one(),
            )
    finally:
        engine.dispose()


def test_the_bureaus_lists_stats_and_exports_read_the_replica(client, primary_and_replica):
    primary, replica = primary_and_replica
    factories.login(client, "caizhengju", "jixiao-demo")  # the login (a session row) is on the primary
    before_primary, before_replica = _counts(primary), _counts(replica)

    units = client.get("/api/v1/units", params={"limit": 500})
    assert units.status_code == 200, units.text
    names = {u["name"] for u in units.json()["items"]}
    assert RENAMED in names and UNIT not in names  # answered by the replica
    stats = client.get("/api/v1/stats/units", params={"year": 2024, "limit": 500})
    assert stats.status_code == 200 and RENAMED in stats.text
    projects = client.get("/api/v1/projects", params={"year": 2024, "limit": 500})
    assert projects.status_code == 200 and RENAMED in projects.text
    one = projects.json()["items"][0]["id"]
    assert client.get(f"/api/v1/projects/{one}").status_code == 200
    for fmt in ("csv", "xlsx"):
        exported = client.get("/api/v1/units", params={"format": fmt})
        assert exported.status_code == 200
    assert RENAMED in client.get("/api/v1/units", params={"format": "csv"}).content.decode("utf-8-sig")

    after_primary, after_replica = _counts(primary), _counts(replica)
    assert after_replica == before_replica  # nothing written to the replica
    assert after_primary[0] == before_primary[0] + 3  # the three exports' audit rows, on the primary


def test_a_save_writes_the_primary_and_never_touches_the_replica(client, primary_and_replica):
    primary, replica = primary_and_replica
    factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
    before_primary, before_replica = _counts(primary), _counts(replica)
    home = client.get("/")
    eid = int(re.search(r'href="/evaluations/(\d+)"', home.text).group(1))
    page = client.get(f"/evaluations/{eid}")
    assert page.status_code == 200
    version = int(re.search(r'id="ev-version" name="version" value="(\d+)"', page.text).group(1))
    indicator_id = int(re.search(r'<tr id="ind-(\d+)"', page.text).group(1))
    saved = client.post(
        f"/evaluations/{eid}/rows/{indicator_id}",
        data={"version": version, "deviation_reason": "经只读副本测试"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200, saved.text
    after_primary, after_replica = _counts(primary), _counts(replica)
    assert after_replica == before_replica
    assert after_primary[2] == before_primary[2] + 1 and after_primary[0] > before_primary[0]


def test_the_read_url_is_refused_beside_sqlite():
    from app.settings import SettingsError

    with pytest.raises(SettingsError, match="DATABASE_READ_URL"):
        load_settings(DATABASE_URL="sqlite:///x.db", DATABASE_READ_URL="postgresql://r@h/db", JIXIAO_ENV="test")
