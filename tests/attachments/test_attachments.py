"""佐证材料 (issue 12 §5): upload, list, download and delete through the API and the pages, the type
sniffed from the content, the size refused before the body is read, nothing half-stored after a
refusal or a disk error, tenancy, 409 after submission, and backup / restore with the files."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import Attachment, AuditEvent, SelfEvaluation
from app.services import attachments, backup
from tests import factories
from tests.api.read_data import build
from tests.test_request_limits import MULTIPART, call, multipart_chunks

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + os.urandom(2000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(500)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(500)
NAME = "2025年监测报告（佐证）.pdf"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def files_dir(tmp_path, app) -> Path:
    directory = tmp_path / "files"
    app.state.settings = app.state.settings.model_copy(update={"files_dir": directory})
    return directory


@pytest.fixture
def world(session):
    w = build(session)
    # p1 (广州市无线电监测站) back to a draft, so its unit may attach evidence
    ev = w.evaluations["p1"]
    ev.status = "draft"
    session.add(ev)
    session.commit()
    return w


def _stored(files_dir: Path) -> list[Path]:
    return sorted(p for p in files_dir.rglob("*") if p.is_file()) if files_dir.exists() else []


def _upload(client, world, url, content=PDF, name=NAME, who="unit_a1"):
    return client.post(url, files={"file": (name, content, "application/octet-stream")}, headers=world.auth(who))


def test_upload_list_download_delete_through_the_api(client, session, world, files_dir):
    ev = world.evaluations["p1"]
    response = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments")
    assert response.status_code == 201, response.text
    body = response.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert body["name"] == NAME and body["size"] == len(PDF) and body["sha256"] == digest
    assert body["content_type"] == "application/pdf" and body["uploader"]
    assert _stored(files_dir) == [files_dir / "attachments" / digest[:2] / digest]

    row = _upload(
        client, world, f"/api/v1/indicators/{world.indicators['i1'].id}/attachments", docx_bytes(), "明细.docx"
    )
    assert row.status_code == 201 and row.json()["content_type"].endswith("wordprocessingml.document")

    listed = client.get(f"/api/v1/self-evaluations/{ev.id}/attachments", headers=world.auth("unit_a1")).json()
    assert [a["name"] for a in listed["items"]] == [NAME]

    download = client.get(f"/api/v1/attachments/{body['id']}/content", headers=world.auth("unit_a1"))
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''2025%E5%B9%B4" in disposition
    assert "sandbox" in download.headers["content-security-policy"]

    gone = client.delete(f"/api/v1/attachments/{body['id']}", headers=world.auth("unit_a1"))
    assert gone.status_code == 204, gone.text
    assert client.get(f"/api/v1/self-evaluations/{ev.id}/attachments", headers=world.auth("unit_a1")).json() == {
        "items": []
    }
    assert client.get(f"/api/v1/attachments/{body['id']}", headers=world.auth("unit_a1")).status_code == 404
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity_type == "attachment")).all()
    assert sorted(actions) == ["attachment_delete", "attachment_upload", "attachment_upload"]


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        (EXE, "监测报告.pdf", "不是允许的文件类型"),  # an executable dressed as a PDF
        (PNG, "监测报告.pdf", "扩展名 .pdf 与内容不符"),  # a picture named .pdf
        (PDF, "监测报告.exe", "扩展名 .exe 与内容不符"),
        (b"PK\x03\x04not really a zip", "表.xlsx", "不是允许的文件类型"),
    ],
)
def test_the_type_is_sniffed_from_the_content_and_a_wrong_one_leaves_nothing(
    client, session, world, files_dir, content, name, words
):
    ev = world.evaluations["p1"]
    response = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments", content, name)
    assert response.status_code == 422, response.text
    assert words in response.json()["message"]
    assert session.exec(select(Attachment)).all() == []
    assert _stored(files_dir) == []


def test_an_oversize_attachment_is_refused_before_its_body_is_read(app, world, files_dir):
    ev = world.evaluations["p1"]
    headers = {"content-type": MULTIPART, **world.auth("unit_a1")}
    sent = call(
        app, "POST", f"/api/v1/self-evaluations/{ev.id}/attachments", multipart_chunks(64 << 20), headers,
        content_length=64 << 20,
    )  # fmt: skip
    assert sent.status == 413 and "JIXIAO_ATTACHMENT_MAX_BYTES" in sent.json()["message"], sent.body[:300]
    assert sent.pulled == 0
    # without a Content-Length: refused while it streams, long before 64 MB
    sent = call(app, "POST", f"/api/v1/self-evaluations/{ev.id}/attachments", multipart_chunks(64 << 20), headers)
    assert sent.status == 413 and sent.pulled < 30
    assert _stored(files_dir) == []


def test_a_disk_error_leaves_no_row_and_no_file(client, session, world, files_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(attachments.os, "replace", refuse)
    ev = world.evaluations["p1"]
    response = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments")
    assert response.status_code == 507, response.text
    assert "未保存任何内容" in response.json()["message"]
    assert session.exec(select(Attachment)).all() == []
    assert _stored(files_dir) == []  # no temporary file left behind


def test_a_read_only_store_leaves_nothing(client, session, world, files_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(attachments.tempfile, "NamedTemporaryFile", refuse)
    response = _upload(client, world, f"/api/v1/self-evaluations/{world.evaluations['p1'].id}/attachments")
    assert response.status_code == 507 and "Permission denied" in response.json()["message"]
    assert session.exec(select(Attachment)).all() == [] and _stored(files_dir) == []


def test_a_failed_commit_removes_the_file_it_placed(client, session, world, files_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is gone"))

    monkeypatch.setattr(attachments.audit, "record", broken)
    response = _upload(client, world, f"/api/v1/self-evaluations/{world.evaluations['p1'].id}/attachments")
    assert response.status_code == 503
    assert session.exec(select(Attachment)).all() == [] and _stored(files_dir) == []


def test_another_unit_or_department_gets_404_whatever_id_it_tries(client, session, world, files_dir, app):
    ev = world.evaluations["p1"]
    row = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments").json()
    # the other department's unit, by token
    for method, url in [
        ("GET", f"/api/v1/attachments/{row['id']}"),
        ("GET", f"/api/v1/attachments/{row['id']}/content"),
        ("DELETE", f"/api/v1/attachments/{row['id']}"),
        ("GET", f"/api/v1/self-evaluations/{ev.id}/attachments"),
        ("GET", f"/api/v1/indicators/{world.indicators['i1'].id}/attachments"),
        ("GET", f"/api/v1/attachments/{row['id'] + 1000}"),
    ]:
        assert client.request(method, url, headers=world.auth("unit_b1")).status_code == 404, url
    assert _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments", who="unit_b1").status_code == 404
    # the department above sees it but may not change it; the other department sees nothing (pages)
    seen = client.get(f"/api/v1/attachments/{row['id']}/content", headers=world.auth("dept_a"))
    assert seen.status_code == 200 and seen.content == PDF
    assert client.delete(f"/api/v1/attachments/{row['id']}", headers=world.auth("dept_a")).status_code == 403
    factories.user(session, "other_dept", "department", dept=world.dept_b)
    factories.user(session, "other_unit", "unit", unit_row=world.a2)
    for who in ("other_dept", "other_unit"):
        factories.login(client, who)
        assert client.get(f"/attachments/{row['id']}").status_code == 404
        assert client.post(f"/attachments/{row['id']}/delete").status_code == 404
        client.post("/logout")
    assert session.exec(select(Attachment).where(Attachment.deleted_at.is_not(None))).all() == []


def test_deleting_after_submission_is_409(client, session, world, files_dir):
    ev = world.evaluations["p1"]
    row = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments").json()
    stored = session.get(SelfEvaluation, ev.id)
    stored.status = "submitted"
    session.add(stored)
    session.commit()
    response = client.delete(f"/api/v1/attachments/{row['id']}", headers=world.auth("unit_a1"))
    assert response.status_code == 409 and "已送审" in response.json()["message"]
    again = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments")
    assert again.status_code == 409
    assert client.get(f"/api/v1/attachments/{row['id']}/content", headers=world.auth("unit_a1")).status_code == 200


def test_the_page_attaches_lists_downloads_and_deletes(client, session, world, files_dir):
    factories.user(session, "a1_user", "unit", unit_row=world.a1)
    factories.login(client, "a1_user")
    ev = world.evaluations["p1"]
    page = client.get(f"/evaluations/{ev.id}")
    assert 'id="attachments"' in page.text and 'id="attachment-file"' in page.text
    # a plain form post (no JavaScript): 303 back to the page, which lists the file
    sent = client.post(
        f"/evaluations/{ev.id}/attachments",
        data={"target": f"indicator:{world.indicators['i1'].id}"},
        files={"file": ("照片.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/evaluations/{ev.id}#attachments"
    page = client.get(f"/evaluations/{ev.id}").text
    assert "照片.png" in page and "PNG 图片" in page and "监测报告" in page
    row = session.exec(select(Attachment)).one()
    assert client.get(f"/attachments/{row.id}").content == PNG
    # htmx: the block alone, with the refusal beside the form
    refused = client.post(
        f"/evaluations/{ev.id}/attachments",
        files={"file": ("说明.pdf", EXE, "application/pdf")},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 422 and "<html" not in refused.text
    assert "不是允许的文件类型" in refused.text and "照片.png" in refused.text
    deleted = client.post(f"/attachments/{row.id}/delete", headers={"HX-Request": "true"})
    assert deleted.status_code == 200 and "尚未上传佐证材料" in deleted.text


def test_a_fund_node_takes_evidence_from_its_recipient(client, session, world, files_dir):
    from decimal import Decimal

    from app.domain.funds import GUANGDONG_FUND
    from app.models import FundEvaluation, FundNode, SpecialFund
    from app.services import templates

    fund = SpecialFund(year=2025, name="专项资金", total=Decimal("100"), department_id=world.dept_a.id,
                       template_name=GUANGDONG_FUND)  # fmt: skip
    session.add(fund)
    session.commit()
    template = templates.current_template(session=session, name=GUANGDONG_FUND)
    session.add(FundEvaluation(fund_id=fund.id, template_id=template.id))
    node = FundNode(fund_id=fund.id, kind="recipient", name="广州市无线电监测站", unit_id=world.a1.id,
                    allocated=Decimal("100"))  # fmt: skip
    session.add(node)
    session.commit()
    sent = _upload(client, world, f"/api/v1/fund-nodes/{node.id}/attachments", PNG, "现场.png")
    assert sent.status_code == 201, sent.text
    assert _upload(client, world, f"/api/v1/funds/{fund.id}/attachments", PNG, "现场.png").status_code == 403
    assert client.get(f"/api/v1/fund-nodes/{node.id}/attachments", headers=world.auth("unit_b1")).status_code == 404
    factories.user(session, "a1_user", "unit", unit_row=world.a1)
    factories.login(client, "a1_user")
    assert "现场.png" in client.get(f"/funds/{fund.id}").text
    client.post("/logout")
    factories.user(session, "a_dept", "department", dept=world.dept_a)
    factories.login(client, "a_dept")
    report = client.get(f"/funds/{fund.id}/report/print")
    assert report.status_code == 200 and "佐证材料清单" in report.text and "现场.png" in report.text


def test_backup_and_restore_carry_the_files(
    request, tmp_path_factory, tmp_path, client, session, world, files_dir, settings, owner_engine
):
    from tests.conftest import new_database
    from tests.services.test_backup import _rows, _settings

    ev = world.evaluations["p1"]
    row = _upload(client, world, f"/api/v1/self-evaluations/{ev.id}/attachments").json()
    (files_dir / "attachments" / ".upload-in-flight.tmp").write_bytes(b"half")  # an upload still streaming in
    result = backup.backup(settings=settings, directory=tmp_path / "backup", files_dir=files_dir)
    relative = f"attachments/{row['sha256'][:2]}/{row['sha256']}"
    assert result.files == 1
    kind = "sqlite" if settings.is_sqlite else "postgres"
    fresh_url, drop = new_database(request, kind, tmp_path_factory)
    fresh = sa.create_engine(fresh_url)
    restored = tmp_path / "restored"
    try:
        manifest = backup.restore(settings=_settings(fresh_url), directory=tmp_path / "backup", files_dir=restored)
        assert manifest["files"] == {relative: row["sha256"]}
        assert hashlib.sha256((restored / relative).read_bytes()).hexdigest() == row["sha256"]
        assert _rows(fresh, "attachment") == _rows(owner_engine, "attachment")
        with Session(fresh) as s:
            copy = s.exec(select(Attachment)).one()
        assert attachments.path_of(restored, copy.sha256).read_bytes() == PDF
    finally:
        fresh.dispose()
        drop()


def test_the_print_and_the_report_list_the_attachments(client, session, world, files_dir):
    import docx

    ev = world.evaluations["p1"]
    row = _upload(client, world, f"/api/v1/indicators/{world.indicators['i1'].id}/attachments").json()
    factories.user(session, "a1_user", "unit", unit_row=world.a1)
    factories.login(client, "a1_user")
    printed = client.get(f"/evaluations/{ev.id}/print").text
    assert "佐证材料清单" in printed and NAME in printed and row["sha256"][:12] in printed
    report = client.get(f"/evaluations/{ev.id}/report/print").text
    assert "佐证材料清单" in report and NAME in report and row["sha256"][:12] in report
    body = client.get(f"/evaluations/{ev.id}/report.docx")
    assert body.status_code == 200
    document = docx.Document(io.BytesIO(body.content))
    texts = [p.text for p in document.paragraphs]
    assert any("佐证材料清单" in t for t in texts), texts
    cells = [[c.text for c in r.cells] for t in document.tables for r in t.rows]
    evidence = next(r for r in cells if NAME in r)
    assert evidence[0] == "1" and evidence[1] == NAME and "监测报告" in evidence[2]
    assert evidence[3] == "2 KB" and evidence[4] == "PDF 文档" and evidence[5] == row["sha256"][:12]
