"""The 审计记录 page: finance and administrators read the audit with its values before and after,
filtered; units are refused."""

from __future__ import annotations

from app.services import audit
from tests import factories


def _seed(session) -> None:
    audit.record(
        session=session,
        actor="导入者",
        action="import.update",
        entity_type="project",
        entity_id=7,
        before={"project": {"budget": "100"}},
        after={"project": {"budget": "999"}},
        note="导入 表.csv",
    )
    audit.record(session=session, actor="某人", action="login.failure", entity_type="user", entity_id=None)
    session.commit()


def test_finance_reads_and_filters_the_audit_page(client, session):
    _seed(session)
    factories.user(session, "cz", "finance")
    factories.login(client, "cz")
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "import.update" in page.text and "999" in page.text and "login.failure" in page.text
    assert 'href="/admin/audit"' in page.text  # in the navigation
    only = client.get("/admin/audit?action=login.failure").text
    assert "<td>login.failure</td>" in only and "<td>import.update</td>" not in only


def test_a_unit_cannot_open_the_audit_page(client, session):
    _seed(session)
    dept = factories.department(session)
    factories.user(session, "dw", "unit", unit_row=factories.unit(session, "示例单位", dept))
    factories.login(client, "dw")
    page = client.get("/admin/audit")
    assert page.status_code == 403 and "999" not in page.text
