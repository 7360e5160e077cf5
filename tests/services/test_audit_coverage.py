"""What the audit records: an import's changes and deletions with the values before and after, the
rows it creates as one event with the file's SHA-256, exports, token use (once a minute), and the
operating-system account behind a CLI command."""

from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
import sys

import sqlalchemy as sa
from sqlmodel import select

from app.models import AuditEvent, Indicator, IndicatorResult, Project, SelfEvaluation
from app.services import audit, imports, tokens
from tests import factories

HEADER = (
    "年度,主管部门,单位名称,单位编码,项目名称,项目编码,年度预算数（万元）,实施周期目标,年度目标,一级指标,"
    "二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)


def table(budget: str, *, with_second: bool = True) -> bytes:
    rows = [
        f"2024,示例局,示例单位,U1,设备购置,P1,{budget},目标,年度目标,产出指标,数量指标,购置设备,10台,10台,50\n",
    ]
    if with_second:
        rows.append(
            f"2024,示例局,示例单位,U1,设备购置,P1,{budget},目标,年度目标,效益指标,社会效益指标,群众受益,≥90%,≥90%,40\n"
        )
    return (HEADER + "".join(rows)).encode()


def events(session, action: str | None = None) -> list[AuditEvent]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query))


def test_a_first_import_is_one_event_with_the_files_sha256_and_counts(session):
    data = table("100")
    report = imports.import_file(session=session, data=data, filename="表.csv", year=2024, actor="tester")
    assert report.ok and report.committed, report.errors
    (event,) = events(session)  # not one per created row
    assert event.action == "import"
    assert event.after["sha256"] == hashlib.sha256(data).hexdigest()
    assert event.after["counts"]["projects_created"] == 1 and event.after["counts"]["indicators_created"] == 2


def test_a_reimport_records_before_and_after_and_what_it_deleted(session):
    """A re-import changes a budget 100 → 999 and, with force, deletes a filled indicator: both old
    values, and the unit's text of the deleted row, can be read back from the audit."""
    # a draft (草稿): a re-import changes it in place (an approved table it would not: test_reimport.py)
    first = imports.import_file(session=session, data=table("100"), filename="表.csv", year=2024, as_draft=True)
    assert first.committed
    project = session.exec(select(Project)).one()
    filled = session.exec(select(Indicator).where(Indicator.name == "群众受益")).one()
    evaluation = session.exec(select(SelfEvaluation)).one()
    session.add(
        IndicatorResult(
            self_evaluation_id=evaluation.id,
            indicator_id=filled.id,
            year=2024,
            actual="85%",
            deviation_reason="单位填写的偏差原因：受疫情影响",
        )
    )
    session.commit()

    revised = table("999", with_second=False)
    report = imports.import_file(session=session, data=revised, filename="表2.csv", year=2024, force=True, actor="t")
    assert report.ok and report.committed, report.errors
    (change,) = events(session, "import.update")
    assert (change.entity_type, change.entity_id, change.stream) == ("project", project.id, f"project:{project.id}")
    assert change.before["project"]["budget"] == "100" and change.after["project"]["budget"] == "999"
    gone = change.before[f"indicator:{filled.id}"]
    assert change.after[f"indicator:{filled.id}"] is None
    assert gone["name"] == "群众受益" and gone["annual_target"] == "≥90%" and gone["weight"] == "40"
    assert gone["result"]["actual"] == "85%"
    assert gone["result"]["deviation_reason"] == "单位填写的偏差原因：受疫情影响"
    assert hashlib.sha256(revised).hexdigest() in change.note
    assert audit.verify(session=session).ok


def test_exports_are_recorded_with_who_and_what(client, session):
    dept = factories.department(session)
    factories.user(session, "cz", "finance")
    factories.unit(session, "示例单位", dept)
    factories.login(client, "cz")
    assert client.get("/api/v1/units?format=csv&q=示例").status_code == 200
    (event,) = events(session, "export")
    assert event.actor == "cz" and event.after["format"] == "csv" and event.after["what"] == "/api/v1/units"
    assert client.get("/evaluations/export.xlsx?year=2024").status_code == 200
    assert [e.after["what"] for e in events(session, "export")] == ["/api/v1/units", "/evaluations/export.xlsx"]


def test_token_use_is_recorded_once_a_minute(client, session):
    token_row, secret = tokens.create_token(session=session, role="finance", name="数据平台")
    headers = {"Authorization": f"Bearer {secret}"}
    for _ in range(3):
        assert client.get("/api/v1/units", headers=headers).status_code == 200
    (used,) = events(session, "token.use")
    assert (used.actor, used.entity_type, used.entity_id) == ("token:数据平台", "api_token", token_row.id)
    # a minute later the next call is recorded again
    session.execute(sa.update(type(token_row)).values(last_used_at=token_row.created_at.replace(year=2000)))
    session.commit()
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    assert len(events(session, "token.use")) == 2


def test_cli_actions_name_the_operating_system_account(settings, session):
    env = dict(os.environ, DATABASE_URL=settings.database_url, JIXIAO_ENV="test")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "add", "zhangsan", "--role", "finance", "--password-stdin"],
        input="a-long-password-1\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (event,) = events(session, "user.add")
    assert event.actor.startswith(f"cli:{pwd.getpwuid(os.geteuid()).pw_name}")
