"""Token scopes and expiry, with the route matrix built from the application's route table.

Every /api/v1 route declares the scope it needs (read, write, review, admin); a token lacking
it gets a 403 in Chinese, whatever its role. A route added without a declaration fails here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import select

from app.api.scopes import required_scope
from app.models import ApiToken
from app.security import token_digest
from app.services import tokens
from app.services.errors import ValidationFailed
from app.sqltypes import utcnow
from tests.api.read_data import YEAR, build
from tests.api.test_api_access import PUBLIC, call, fill, own_ids
from tests.api.test_tokens_cli import run_cli as run_cli_tokens

# What the issue asks of each kind of route, checked against what the routes declare.
REVIEW_ROUTES = {"approve", "return", "reopen"}
ADMIN_ROUTES = {
    ("POST", "/api/v1/imports"),
    ("PUT", "/api/v1/filing-windows/{year}"),
    ("PUT", "/api/v1/template-choices"),
    ("POST", "/api/v1/scoring-templates/{name}/versions"),
    ("POST", "/api/v1/monitoring/rounds"),  # the bureau opens and closes a year's monitoring
    ("POST", "/api/v1/monitoring/rounds/{round_id}/close"),
}
# POSTs that change nothing (a file in, a reading out): read, like a GET.
READ_POSTS = {("POST", "/api/v1/report-checks")}


def declared(app) -> list[tuple[str, str, str | None]]:
    """(method, path, declared scope) of every /api/v1 route the application serves."""
    out = []
    for context in iter_route_contexts(app.routes):
        path = context.path or ""
        if not path.startswith("/api/v1"):
            continue
        for method in sorted(getattr(context, "methods", None) or {"GET"}):
            if method != "HEAD" and (method, path) not in PUBLIC:
                out.append((method, path, required_scope(context.original_route.endpoint)))
    return out


@pytest.fixture
def world(session):
    w = build(session)
    for scope in tokens.SCOPES:  # one finance token per scope: the role that may carry them all
        row, secret = tokens.create_token(session=session, role="finance", name=f"只有 {scope}", scope=scope)
        w.secrets[f"only_{scope}"], w.token_ids[f"only_{scope}"] = secret, row.id
    return w


def test_every_route_declares_the_scope_it_needs(app):
    routes = declared(app)
    assert len(routes) >= 25
    missing = [(m, p) for m, p, s in routes if s not in tokens.SCOPES]
    assert not missing, f"routes without a declared token scope: {missing}"
    for method, path, scope in routes:
        if method == "GET" or (method, path) in READ_POSTS:
            assert scope == "read", (method, path, scope)
        elif path.rsplit("/", 1)[-1] in REVIEW_ROUTES:
            assert scope == "review", (method, path, scope)
        elif (method, path) in ADMIN_ROUTES:
            assert scope == "admin", (method, path, scope)
        else:
            assert scope == "write", (method, path, scope)


def test_every_route_against_every_scope(client, world, app):
    """A token with one scope: 403 (in Chinese, naming the scope) on every route needing another;
    never refused for its scope on the routes needing its own."""
    wrong, refused, passed = [], 0, 0
    for method, path, needed in declared(app):
        for scope in tokens.SCOPES:
            headers = world.auth(f"only_{scope}")
            response = call(client, method, fill(path, own_ids(world)), headers)
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            message = body.get("message", "") if isinstance(body, dict) else ""
            if scope == needed:
                if response.status_code == 403 and "此令牌没有" in message:
                    wrong.append((method, path, scope, "refused its own scope"))
                passed += 1
            else:
                if response.status_code != 403 or f"（{needed}）" not in message or "此令牌没有" not in message:
                    wrong.append((method, path, scope, response.status_code, message[:60]))
                refused += 1
    assert not wrong, wrong
    assert refused == 3 * passed and passed >= 25


def test_a_query_token_cannot_reopen_a_final_evaluation(client, world, session):
    """A finance token whose stored scope is read only: the decision is refused, nothing changes."""
    row = session.get(ApiToken, world.token_ids["finance"])
    row.scope = "read"
    session.add(row)
    session.commit()
    final = world.evaluations["p5"]
    response = client.post(
        f"/api/v1/self-evaluations/{final.id}/reopen",
        json={"opinion": "重新核对", "version": final.version},
        headers=world.auth("finance"),
    )
    assert response.status_code == 403, response.text
    assert "审核" in response.json()["message"]
    assert client.get(f"/api/v1/self-evaluations/{final.id}", headers=world.auth("finance")).json()["status"] == "final"


def test_a_token_made_before_scopes_keeps_read_write(client, world, session):
    """Stored "read write" (the old default): reads and a unit's saves work; decisions need a new token."""
    row = session.get(ApiToken, world.token_ids["finance"])
    row.scope = "read write"
    session.add(row)
    session.commit()
    assert client.get("/api/v1/units", headers=world.auth("finance")).status_code == 200
    final = world.evaluations["p5"]
    response = client.post(
        f"/api/v1/self-evaluations/{final.id}/reopen", json={"opinion": "重新核对"}, headers=world.auth("finance")
    )
    assert response.status_code == 403 and "review" in response.json()["message"]


def test_new_tokens_default_to_read_and_one_year(session, world):
    row, _ = tokens.create_token(session=session, role="finance", name="默认")
    assert row.scope == "read"
    assert timedelta(days=364) < row.expires_at - utcnow() <= timedelta(days=365)


@pytest.mark.parametrize("scope", ["review", "admin", "read review", "write,admin"])
def test_a_unit_token_cannot_carry_review_or_admin(session, world, scope):
    with pytest.raises(ValidationFailed, match="单位令牌不能有"):
        tokens.create_token(session=session, role="unit", name="单位", unit="广州市无线电监测站", scope=scope)


@pytest.mark.parametrize("scope", ["admin", "root", ""])
def test_a_department_token_cannot_administer_and_scopes_are_known(session, world, scope):
    with pytest.raises(ValidationFailed, match="令牌"):
        tokens.create_token(
            session=session, role="department", name="部门", department="广州市工业和信息化局", scope=scope
        )


def test_an_expired_token_is_refused(client, world, session):
    row = session.get(ApiToken, world.token_ids["finance"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    response = client.get(f"/api/v1/units?year={YEAR}", headers=world.auth("finance"))
    assert response.status_code == 401 and "过期" in response.json()["message"]


def test_cli_creates_a_review_token(settings, session, client, world):
    created = run_cli_tokens(
        settings,
        "create",
        "--role",
        "department",
        "--name",
        "部门审核",
        "--department",
        "广州市工业和信息化局",
        "--scope",
        "read review",
        "--days",
        "30",
    )
    assert created.returncode == 0, created.stderr
    assert "权限 read review" in created.stderr
    row = session.exec(select(ApiToken).where(ApiToken.name == "部门审核")).one()
    assert row.scope == "read review"
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    refused = run_cli_tokens(
        settings, "create", "--role", "unit", "--name", "单位", "--unit", "广州市无线电监测站", "--scope", "admin"
    )
    assert refused.returncode != 0 and "单位令牌不能有" in refused.stderr and "Traceback" not in refused.stderr
    listing = run_cli_tokens(settings, "list").stdout
    assert "权限 read review" in listing and "有效至" in listing


def test_cli_rotates_a_token(settings, session, client, world):
    """The new token has the old one's scope and a new expiry; the old one is refused at once."""
    old_id = world.token_ids["dept_a"]
    rotated = run_cli_tokens(settings, "rotate", str(old_id), "--days", "60")
    assert rotated.returncode == 0, rotated.stderr
    secret = rotated.stdout.strip()
    assert secret.startswith("jx_") and "已轮换" in rotated.stderr
    new = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(secret))).one()
    assert (new.name, new.role, new.department_id, new.scope) == (
        "dept_a 令牌",
        "department",
        world.dept_a.id,
        "read write review",
    )
    assert timedelta(days=59) < new.expires_at - utcnow() <= timedelta(days=60)
    assert client.get(f"/api/v1/units?year={YEAR}", headers=world.auth("dept_a")).status_code == 401
    assert client.get(f"/api/v1/units?year={YEAR}", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    again = run_cli_tokens(settings, "rotate", str(old_id))
    assert again.returncode != 0 and "已吊销" in again.stderr and "Traceback" not in again.stderr
