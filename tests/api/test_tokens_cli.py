"""jixiao tokens create | list | revoke, end to end against the API."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from app.models import ApiToken, AuditEvent
from app.security import token_digest
from app.services import tokens
from app.services.errors import DomainError
from tests import factories


def run_cli(settings, *args):
    env = dict(os.environ, DATABASE_URL=settings.database_url, JIXIAO_ENV="test")
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "tokens", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_create_use_list_revoke(settings, session, client):
    created = run_cli(settings, "create", "--role", "finance", "--name", "财政局数据平台")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("jx_") and len(secret.splitlines()) == 1  # stdout is the token alone
    assert "无法再次查看" in created.stderr

    row = session.exec(select(ApiToken)).one()
    assert row.token_hash == token_digest(secret) and secret[:10] == row.prefix
    assert secret not in (row.token_hash, row.name, row.scope)
    assert (row.role, row.unit_id, row.department_id) == ("finance", None, None)

    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/units", headers=headers).status_code == 200

    listing = run_cli(settings, "list")
    assert listing.returncode == 0, listing.stderr
    line = listing.stdout.strip()
    assert row.prefix in line and "财政局数据平台" in line and "finance" in line and "全部" in line
    assert "有效" in line and "最近使用 -" not in line  # the call above was recorded
    assert secret not in listing.stdout and row.token_hash not in listing.stdout

    revoked = run_cli(settings, "revoke", str(row.id))
    assert revoked.returncode == 0, revoked.stderr
    assert "已吊销令牌" in revoked.stdout
    response = client.get("/api/v1/units", headers=headers)
    assert response.status_code == 401 and "吊销" in response.json()["message"]
    assert "已吊销" in run_cli(settings, "list").stdout

    again = run_cli(settings, "revoke", str(row.id))
    assert again.returncode != 0 and "已于" in again.stderr and "Traceback" not in again.stderr

    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.entity_type == "api_token"))]
    assert actions == ["token.create", "token.use", "token.revoke"]  # its use recorded (once a minute)


def test_scoped_tokens_name_their_unit_or_department(settings, session, client):
    dept = factories.department(session, "广州市工业和信息化局", code="401")
    factories.unit(session, "广州市无线电监测站", dept, code="401001")
    factories.unit(session, "广州市工业和信息化产业发展中心", dept, code="401002")

    unit_token = run_cli(settings, "create", "--role", "unit", "--name", "监测站", "--unit", "401001")
    dept_token = run_cli(
        settings, "create", "--role", "department", "--name", "工信局", "--department", "广州市工业和信息化局"
    )
    assert unit_token.returncode == 0 and dept_token.returncode == 0, unit_token.stderr + dept_token.stderr

    listing = run_cli(settings, "list").stdout
    assert "unit  广州市无线电监测站" in listing and "department  广州市工业和信息化局" in listing

    units = client.get("/api/v1/units", headers={"Authorization": f"Bearer {unit_token.stdout.strip()}"}).json()
    assert [u["code"] for u in units["items"]] == ["401001"]
    units = client.get("/api/v1/units", headers={"Authorization": f"Bearer {dept_token.stdout.strip()}"}).json()
    assert [u["code"] for u in units["items"]] == ["401001", "401002"]


def test_mistakes_give_one_line_and_a_nonzero_exit(settings, session):
    dept = factories.department(session, "广州市工业和信息化局")
    factories.unit(session, "广州市无线电监测站", dept)
    for args, needle in [
        (["create", "--role", "unit", "--name", "x", "--unit", "不存在的单位"], "找不到单位"),
        (["revoke", "4242"], "不存在"),
    ]:
        result = run_cli(settings, *args)
        assert result.returncode != 0, args
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    assert session.exec(select(ApiToken)).all() == []


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"role": "unit"}, "--unit"),
        ({"role": "department"}, "--department"),
        ({"role": "department", "unit": "广州市无线电监测站", "department": "广州市工业和信息化局"}, "不能指定 --unit"),
        ({"role": "admin"}, "令牌角色"),
        ({"role": "finance", "unit": "广州市无线电监测站"}, "不能指定"),
        ({"role": "finance", "name": "  "}, "名称不能为空"),
        ({"role": "unit", "unit": "广州市无线电监测站", "department": "广州市交通运输局"}, "不属于"),
    ],
)
def test_token_rules(session, kwargs, needle):
    dept = factories.department(session, "广州市工业和信息化局")
    factories.department(session, "广州市交通运输局")
    factories.unit(session, "广州市无线电监测站", dept)
    with pytest.raises(DomainError, match=needle):
        tokens.create_token(session=session, **{"name": "令牌", **kwargs})
    assert session.exec(select(ApiToken)).all() == []
