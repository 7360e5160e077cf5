"""Twenty clients attach files to one 自评表 at once against a real uvicorn, on SQLite and PostgreSQL:
half send the same bytes (one address on disk), half their own. Every upload is answered 201, none
5xx and none left waiting; each row downloads exactly its bytes; the file store holds one file per
distinct content and nothing half-written; the audit chain stays whole."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.models import Attachment
from app.services import audit
from tests.api.read_data import build
from tests.clients import at_once

CLIENTS = 20
SAME = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + os.urandom(200_000)


@pytest.fixture
def files_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "files"
    monkeypatch.setenv("JIXIAO_FILES_DIR", str(directory))  # before the live server starts
    return directory


def test_twenty_clients_attaching_at_once_all_stored_once_each(files_dir, session, live_server):
    world = build(session)
    ev = world.evaluations["p1"]
    ev.status = "draft"
    session.add(ev)
    session.commit()
    own = [b"%PDF-1.4\n" + os.urandom(50_000) + b"\n%%EOF\n" for _ in range(CLIENTS // 2)]
    bodies = [SAME if n % 2 == 0 else own[n // 2] for n in range(CLIENTS)]

    def attach(c: httpx.Client, n: int) -> tuple:
        r = c.post(
            f"/api/v1/self-evaluations/{ev.id}/attachments",
            files={"file": (f"佐证{n}.pdf", bodies[n], "application/pdf")},
        )
        return (r.status_code, r.json().get("id") if r.status_code == 201 else r.text)

    answers = dict(enumerate(at_once(live_server, world.auth("unit_a1"), CLIENTS, attach)))
    assert Counter(a[0] for a in answers.values()) == {201: CLIENTS}, answers

    with httpx.Client(base_url=live_server, headers=world.auth("unit_a1"), timeout=60) as c:
        for n, (_, attachment_id) in answers.items():
            got = c.get(f"/api/v1/attachments/{attachment_id}/content")
            assert got.status_code == 200 and got.content == bodies[n], n
    session.expire_all()
    rows = session.exec(
        select(Attachment).where(Attachment.parent_kind == "evaluation", Attachment.parent_id == ev.id)
    ).all()
    assert len(rows) == CLIENTS
    stored = sorted(p for p in files_dir.rglob("*") if p.is_file())
    assert [p.name for p in stored] == sorted({hashlib.sha256(b).hexdigest() for b in bodies})
    assert audit.verify(session=session).ok
