"""GET /api/v1/audit: finance and admin read the audit, filtered and paged, and export it with
text that never becomes a formula; units and departments are refused."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.services import audit, tokens
from tests import factories


def _seed(session) -> None:
    for n in range(3):
        audit.record(
            session=session,
            actor="cz",
            action="project.update",
            entity_type="project",
            entity_id=7,
            before={"budget": str(n)},
            after={"budget": str(n + 1)},
            note='=HYPERLINK("http://evil","点我")' if n == 0 else None,
        )
    audit.record(session=session, actor="x", action="login.failure", entity_type="user", entity_id=None)
    session.commit()


def test_finance_reads_filters_and_pages_the_audit(client, session):
    _seed(session)
    _, secret = tokens.create_token(session=session, role="finance", name="审计查询")
    headers = {"Authorization": f"Bearer {secret}"}
    page = client.get("/api/v1/audit?entity_type=project&entity_id=7&limit=2", headers=headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert [(e["stream"], e["seq"]) for e in body["items"]] == [("project:7", 1), ("project:7", 2)]
    assert body["items"][1]["before"] == {"budget": "1"} and body["items"][1]["after"] == {"budget": "2"}
    rest = client.get(body["next"], headers=headers).json()
    assert [e["seq"] for e in rest["items"]] == [3] and rest["next"] is None
    failures = client.get("/api/v1/audit?action=login.failure", headers=headers).json()["items"]
    assert [e["actor"] for e in failures] == ["x"]


def test_the_audit_export_writes_text_not_formulas(client, session):
    _seed(session)
    factories.user(session, "gly", "admin")
    factories.login(client, "gly")
    done = client.get("/api/v1/audit?format=csv&action=project.update")
    assert done.status_code == 200
    rows = list(csv.reader(io.StringIO(done.content.decode("utf-8-sig"))))
    notes = [r[rows[0].index("说明")] for r in rows[1:]]
    assert notes[0].startswith("'=HYPERLINK")
    book = load_workbook(io.BytesIO(client.get("/api/v1/audit?format=xlsx").content))
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value


def test_units_and_departments_cannot_read_the_audit(client, session):
    _seed(session)
    dept = factories.department(session)
    unit = factories.unit(session, "示例单位", dept)
    factories.user(session, "dw", "unit", unit_row=unit)
    factories.login(client, "dw")
    for url in ("/api/v1/audit", "/api/v1/audit?format=csv"):
        answer = client.get(url)
        assert answer.status_code == 403 and "审计" in answer.json()["message"]
