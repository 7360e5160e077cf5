"""Every route of the application × every role (unit, department, finance, admin, anonymous), generated
from the route table: a route added without a rule in RULES fails here.

Each call is made with a real session of that role (the API accepts a same-origin session as well as a
token; token scopes have their own matrix in tests/api/test_token_scopes.py). Outcomes:
- anonymous: 401 (API) or a redirect to /login (pages), unless the route is PUBLIC;
- a role the rule does not name: 403;
- a role it names: anything the handler itself answers (200, a redirect, 404 for an id it may not
  see, 409 for a state, 422 for the empty body) — never 401/403;
- nobody, ever, a 5xx.
BODY routes validate their JSON/form body before the role is checked, so with the empty body sent
here a role they refuse may see 422 instead of 403 (their role rules are tested with real bodies in
their own test files); they still never succeed for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from app.security import SESSION_COOKIE
from app.services import sessions
from app.sqltypes import utcnow
from tests import factories
from tests.api.read_data import YEAR, build

ROLES = ("unit", "department", "finance", "admin")
EVERYONE = frozenset(ROLES)
REVIEWERS = frozenset({"department", "finance", "admin"})
BUREAU = frozenset({"finance", "admin"})
ADMIN = frozenset({"admin"})
UNIT = frozenset({"unit"})
DECIDERS = frozenset({"department", "finance"})  # approve / return a self-evaluation
TABLE_EDITORS = frozenset({"unit", "finance", "admin"})  # a 绩效目标表's rows (a department reviews it)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = EVERYONE  # who may use it once logged in
    public: bool = False  # anonymous too
    body: bool = False  # the body is validated before the role (see the module docstring)


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()
BODY = Rule(body=True)

# The one declared table: (method, path template) -> rule. HEAD mirrors GET where both exist.
RULES: dict[tuple[str, str], Rule] = {
    # probes, login, the icon, the API's own description
    ("GET", "/healthz"): PUBLIC,
    ("HEAD", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("HEAD", "/readyz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    # /api/v1 reads: every role, filtered to what it may see
    ("GET", "/api/v1/targets/parse"): SIGNED_IN,
    ("GET", "/api/v1/self-evaluations"): SIGNED_IN,
    ("GET", "/api/v1/review-queue"): Rule(REVIEWERS),  # a unit has no review queue: 403
    ("GET", "/api/v1/self-evaluations/{evaluation_id}"): SIGNED_IN,
    ("GET", "/api/v1/self-evaluations/{evaluation_id}/history"): SIGNED_IN,
    ("GET", "/api/v1/units"): SIGNED_IN,
    ("GET", "/api/v1/projects"): SIGNED_IN,
    ("GET", "/api/v1/projects/{project_id}"): SIGNED_IN,
    ("GET", "/api/v1/indicators"): SIGNED_IN,
    ("GET", "/api/v1/stats/units"): SIGNED_IN,
    ("GET", "/api/v1/stats/departments"): SIGNED_IN,
    ("GET", "/api/v1/filing-windows/{year}"): SIGNED_IN,
    ("GET", "/api/v1/funds"): SIGNED_IN,
    ("GET", "/api/v1/funds/{fund_id}"): SIGNED_IN,
    ("GET", "/api/v1/fund-nodes/{node_id}"): SIGNED_IN,
    # 佐证材料: read by whoever may see the parent (404 otherwise); uploaded by the parent's writer
    ("GET", "/api/v1/self-evaluations/{evaluation_id}/attachments"): SIGNED_IN,
    ("GET", "/api/v1/indicators/{indicator_id}/attachments"): SIGNED_IN,
    ("GET", "/api/v1/funds/{fund_id}/attachments"): SIGNED_IN,
    ("GET", "/api/v1/fund-nodes/{node_id}/attachments"): SIGNED_IN,
    ("GET", "/api/v1/attachments/{attachment_id}"): SIGNED_IN,
    ("GET", "/api/v1/attachments/{attachment_id}/content"): SIGNED_IN,
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/attachments"): Rule(UNIT, body=True),
    ("POST", "/api/v1/indicators/{indicator_id}/attachments"): Rule(UNIT, body=True),
    ("POST", "/api/v1/funds/{fund_id}/attachments"): Rule(REVIEWERS, body=True),
    ("POST", "/api/v1/fund-nodes/{node_id}/attachments"): BODY,
    ("DELETE", "/api/v1/attachments/{attachment_id}"): BODY,
    ("POST", "/evaluations/{evaluation_id:int}/attachments"): Rule(UNIT, body=True),
    ("POST", "/funds/{fund_id:int}/attachments"): BODY,
    ("GET", "/attachments/{attachment_id:int}"): SIGNED_IN,
    ("POST", "/attachments/{attachment_id:int}/delete"): BODY,
    ("GET", "/api/v1/funds/{fund_id}/tree.xlsx"): SIGNED_IN,
    ("GET", "/api/v1/funds/{fund_id}/indicators"): SIGNED_IN,
    ("GET", "/api/v1/monitoring"): SIGNED_IN,
    ("GET", "/api/v1/monitoring/projects/{project_id}"): SIGNED_IN,
    # /api/v1 decisions and administration
    ("POST", "/api/v1/imports"): Rule(BUREAU),
    ("GET", "/api/v1/audit"): Rule(BUREAU),
    ("GET", "/api/v1/scoring-templates"): SIGNED_IN,
    ("GET", "/api/v1/scoring-templates/{name}"): SIGNED_IN,
    ("POST", "/api/v1/scoring-templates/{name}/versions"): Rule(BUREAU, body=True),
    ("GET", "/api/v1/template-choices"): SIGNED_IN,
    ("PUT", "/api/v1/template-choices"): Rule(BUREAU, body=True),
    ("GET", "/admin/audit"): Rule(BUREAU),
    ("PUT", "/api/v1/filing-windows/{year}"): Rule(BUREAU),
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/submit"): Rule(UNIT),
    ("GET", "/api/v1/projects/{project_id}/adjustments"): SIGNED_IN,
    ("POST", "/api/v1/projects/{project_id}/adjustments"): Rule(UNIT, body=True),
    ("POST", "/api/v1/adjustments/{adjustment_id}/approve"): Rule(DECIDERS, body=True),
    ("POST", "/api/v1/adjustments/{adjustment_id}/return"): Rule(DECIDERS, body=True),
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/withdraw"): Rule(UNIT),
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/approve"): Rule(DECIDERS),
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/return"): Rule(DECIDERS),
    ("POST", "/api/v1/self-evaluations/{evaluation_id}/reopen"): Rule(frozenset({"finance"})),
    # /api/v1 writes with a body
    ("PUT", "/api/v1/self-evaluations/{evaluation_id}"): BODY,
    ("POST", "/api/v1/projects"): BODY,
    ("PUT", "/api/v1/projects/{project_id}"): BODY,
    ("PATCH", "/api/v1/projects/{project_id}"): BODY,
    ("DELETE", "/api/v1/projects/{project_id}"): BODY,
    ("POST", "/api/v1/projects/{project_id}/indicators"): BODY,
    ("PUT", "/api/v1/indicators/{indicator_id}"): BODY,
    ("PATCH", "/api/v1/indicators/{indicator_id}"): BODY,
    ("DELETE", "/api/v1/indicators/{indicator_id}"): BODY,
    ("POST", "/api/v1/projects/{project_id}/target-table/submit"): BODY,
    ("POST", "/api/v1/projects/{project_id}/target-table/approve"): BODY,
    ("POST", "/api/v1/projects/{project_id}/target-table/return"): BODY,
    ("POST", "/api/v1/report-checks"): BODY,
    ("POST", "/api/v1/funds"): BODY,
    ("PUT", "/api/v1/funds/{fund_id}"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/nodes"): BODY,
    ("PUT", "/api/v1/fund-nodes/{node_id}"): BODY,
    ("PUT", "/api/v1/fund-nodes/{node_id}/spending"): BODY,
    ("DELETE", "/api/v1/fund-nodes/{node_id}"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/deductions"): BODY,
    ("DELETE", "/api/v1/funds/{fund_id}/deductions/{deduction_id}"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/submit"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/withdraw"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/approve"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/return"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/reopen"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/tree"): BODY,
    ("POST", "/api/v1/funds/{fund_id}/indicators"): BODY,
    ("PUT", "/api/v1/fund-indicators/{indicator_id}"): BODY,
    ("DELETE", "/api/v1/fund-indicators/{indicator_id}"): BODY,
    # pages: everyone's
    ("GET", "/"): SIGNED_IN,
    ("GET", "/evaluations/print"): SIGNED_IN,
    ("GET", "/evaluations/export.xlsx"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/print"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/export.xlsx"): SIGNED_IN,
    # 离线填报: anyone who may see a 自评表 downloads its fill-in workbook; only a unit uploads one
    ("GET", "/evaluations/offline.xlsx"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/offline.xlsx"): SIGNED_IN,
    ("POST", "/evaluations/offline"): Rule(UNIT, body=True),
    ("GET", "/api/v1/self-evaluations/offline.xlsx"): SIGNED_IN,
    ("GET", "/api/v1/self-evaluations/{evaluation_id}/offline.xlsx"): SIGNED_IN,
    ("POST", "/api/v1/self-evaluations/offline"): Rule(UNIT, body=True),
    ("GET", "/targets"): SIGNED_IN,
    ("GET", "/targets/{project_id:int}"): SIGNED_IN,
    ("GET", "/targets/{project_id:int}/print"): SIGNED_IN,
    ("GET", "/targets/understand"): SIGNED_IN,
    ("GET", "/report-checks"): SIGNED_IN,
    ("GET", "/admin/imports/template.xlsx"): SIGNED_IN,
    ("GET", "/funds"): SIGNED_IN,
    ("GET", "/funds/{fund_id}"): SIGNED_IN,
    ("GET", "/fund-nodes/{node_id}/edit"): SIGNED_IN,
    ("GET", "/funds/{fund_id}/tree.xlsx"): SIGNED_IN,
    ("GET", "/funds/{fund_id:int}/report"): SIGNED_IN,
    ("GET", "/funds/{fund_id:int}/report.docx"): SIGNED_IN,
    ("GET", "/funds/{fund_id:int}/report.pdf"): SIGNED_IN,
    ("GET", "/funds/{fund_id:int}/report/print"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/report"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/report.docx"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/report.pdf"): SIGNED_IN,
    ("GET", "/evaluations/{evaluation_id:int}/report/print"): SIGNED_IN,
    # pages: a unit fills in its self-evaluation and its 自评报告
    ("POST", "/evaluations/{evaluation_id:int}/report/save"): Rule(UNIT),
    ("POST", "/evaluations/{evaluation_id:int}/rows/{indicator_id:int}"): Rule(UNIT),
    ("POST", "/evaluations/{evaluation_id:int}/money"): Rule(UNIT),
    ("POST", "/evaluations/{evaluation_id:int}/goal"): Rule(UNIT),
    ("POST", "/evaluations/{evaluation_id:int}/submit"): Rule(UNIT),
    ("POST", "/evaluations/{evaluation_id:int}/withdraw"): Rule(UNIT),
    # pages: 绩效目标表 (the action called here is 申报, a unit's)
    ("POST", "/targets"): BODY,
    ("POST", "/targets/{project_id:int}/copy"): Rule(TABLE_EDITORS),
    ("POST", "/targets/{project_id:int}/project"): Rule(TABLE_EDITORS),
    ("POST", "/targets/{project_id:int}/rows/{indicator_id:int}"): Rule(TABLE_EDITORS),
    ("POST", "/targets/{project_id:int}/rows"): Rule(TABLE_EDITORS),
    ("POST", "/targets/{project_id:int}/rows/{indicator_id:int}/delete"): Rule(TABLE_EDITORS),
    ("POST", "/targets/{project_id:int}/act/{action}"): Rule(UNIT),
    ("POST", "/targets/{project_id:int}/adjustments"): Rule(UNIT),
    ("POST", "/targets/adjustments/{adjustment_id:int}/approve"): Rule(DECIDERS),
    ("POST", "/targets/adjustments/{adjustment_id:int}/return"): Rule(DECIDERS),
    # pages: review and overview
    ("GET", "/reviews"): Rule(REVIEWERS),
    ("POST", "/reviews/batch"): Rule(DECIDERS),
    ("POST", "/evaluations/submit-all"): Rule(UNIT),
    ("GET", "/reviews/{evaluation_id:int}"): Rule(REVIEWERS),
    ("POST", "/reviews/{evaluation_id:int}"): BODY,
    ("GET", "/overview"): Rule(REVIEWERS),
    # pages: the bureau's administration
    ("GET", "/admin/imports"): Rule(BUREAU),
    ("POST", "/admin/imports"): Rule(BUREAU),
    ("POST", "/admin/imports/{run_id:int}/cancel"): Rule(BUREAU),
    ("GET", "/admin/imports/{run_id:int}"): Rule(BUREAU),
    ("GET", "/admin/windows"): Rule(BUREAU),
    ("POST", "/admin/windows"): Rule(BUREAU),
    ("GET", "/admin/scoring"): Rule(BUREAU),
    ("POST", "/admin/scoring"): Rule(BUREAU),
    ("POST", "/admin/scoring/choices"): Rule(BUREAU),
    ("POST", "/report-checks"): BODY,
    # pages: special funds (a fund's department and the bureau; others get 404 for its ids)
    ("POST", "/funds"): BODY,
    ("POST", "/funds/{fund_id}/nodes"): BODY,
    ("POST", "/fund-nodes/{node_id}"): BODY,
    ("POST", "/fund-nodes/{node_id}/delete"): BODY,
    ("POST", "/fund-nodes/{node_id}/spending"): BODY,
    ("POST", "/funds/{fund_id}/deductions"): BODY,
    ("POST", "/funds/{fund_id}/deductions/{deduction_id}/delete"): BODY,
    ("POST", "/funds/{fund_id}/act"): BODY,
    ("POST", "/funds/{fund_id}/tree"): BODY,
    ("POST", "/funds/{fund_id:int}/report/save"): BODY,
    ("POST", "/funds/{fund_id}/indicators"): BODY,
    ("POST", "/fund-indicators/{indicator_id}"): BODY,
    ("POST", "/fund-indicators/{indicator_id}/delete"): BODY,
    # /api/v1 and pages: mid-year monitoring (双监控): the bureau's rounds, a unit's report
    ("PUT", "/api/v1/monitoring/projects/{project_id}"): BODY,
    ("POST", "/api/v1/monitoring/rounds"): Rule(BUREAU, body=True),
    ("POST", "/api/v1/monitoring/rounds/{round_id}/close"): Rule(BUREAU),
    ("GET", "/monitoring"): SIGNED_IN,
    ("GET", "/monitoring/export.xlsx"): SIGNED_IN,
    ("GET", "/monitoring/projects/{project_id:int}"): SIGNED_IN,
    ("POST", "/monitoring/rounds"): Rule(BUREAU),
    ("POST", "/monitoring/rounds/{round_id:int}/close"): Rule(BUREAU),
    ("POST", "/monitoring/projects/{project_id:int}/spent"): Rule(UNIT),
    ("POST", "/monitoring/projects/{project_id:int}/indicators/{indicator_id:int}"): Rule(UNIT),
    # pages: accounts and their sessions
    ("GET", "/admin/users"): Rule(ADMIN),
    ("POST", "/admin/users/{user_id}/end-sessions"): Rule(ADMIN),
}
PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def served(app) -> list[tuple[str, str]]:
    """(method, path template) of every route the application serves (static files aside)."""
    out = []
    for context in iter_route_contexts(app.routes):
        methods = getattr(context, "methods", None)
        if not methods:  # the /static mount
            continue
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue  # Starlette's own HEAD for a GET route
            out.append((method, context.path))
    return out


def test_every_route_has_a_rule_and_every_rule_a_route(app):
    routes = set(served(app))
    assert len(routes) >= 100
    missing = sorted(routes - set(RULES))
    assert not missing, f"routes without a rule in tests/test_route_matrix.py RULES: {missing}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"rules for routes the app no longer serves: {stale}"


@pytest.fixture
def world(session):
    w = build(session)
    w.users = {
        "unit": factories.user(session, "m_unit", "unit", unit_row=w.a1),
        "department": factories.user(session, "m_dept", "department", dept=w.dept_a),
        "finance": factories.user(session, "m_fin", "finance"),
        "admin": factories.user(session, "m_admin", "admin"),
    }
    return w


def _ids(w) -> dict[str, int | str]:
    """Ids of the objects the unit user owns (its department's, for the others), by parameter name."""
    return {
        "project_id": w.projects["p1"].id,
        "evaluation_id": w.evaluations["p1"].id,
        "indicator_id": w.indicators["i1"].id,
        "year": YEAR,
        "run_id": 1,
        "fund_id": 1,
        "node_id": 1,
        "deduction_id": 1,
        "adjustment_id": 1,
        "attachment_id": 1,
        "round_id": 1,
        "user_id": w.users["unit"].id,
        "action": "submit",
        "name": "national-2020",
    }


def _client(app, session, user) -> TestClient:
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    if user is not None:  # a fresh session per call: a route that logs out ends only its own
        secret = sessions.start(session=session, user=user, address="testclient", now=utcnow())
        client.cookies.set(SESSION_COOKIE, secret, domain="testserver.local")
    return client


def _outcome(response) -> str:
    if response.status_code >= 500:
        return "error"
    if response.status_code == 401 or response.headers.get("location", "").startswith("/login"):
        return "login"
    if response.status_code == 403:
        return "denied"
    return "ok"


def test_every_route_against_every_role(app, session, world):
    ids = _ids(world)
    wrong = []
    for method, path in served(app):
        rule = RULES[(method, path)]
        url = PARAM.sub(lambda m: str(ids[m.group(1)]), path)
        if method == "GET":
            url += f"?year={YEAR}"
        body = {}
        if method in ("POST", "PUT", "PATCH"):
            body = {"json": {}} if path.startswith("/api/") else {"data": {"unknown": "1"}}
        for who in ("anonymous", *ROLES):
            user = world.users.get(who)
            response = _client(app, session, user).request(method, url, follow_redirects=False, **body)
            got = _outcome(response)
            refused_body = rule.body and response.status_code in (404, 409, 422)
            if got == "error":
                ok = False
            elif rule.public:
                ok = got != "denied"  # logging out sends anyone to /login
            elif who == "anonymous":
                ok = got == "login"
            elif who in rule.roles:
                ok = got == "ok"
            else:
                ok = got == "denied" or refused_body
            if not ok:
                wrong.append((method, path, who, response.status_code, got))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_target_preview_opened_directly_is_not_a_500(app, session, world):
    """The matrix found it: /targets/understand rendered the whole page without its context (500)."""
    client = _client(app, session, world.users["unit"])
    direct = client.get("/targets/understand?annual_target=≥95%", follow_redirects=False)
    assert direct.status_code == 303 and direct.headers["location"] == "/targets"
    fragment = client.get("/targets/understand?annual_target=≥95%", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "95" in fragment.text
