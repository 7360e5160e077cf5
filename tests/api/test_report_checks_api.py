"""POST /api/v1/report-checks, the page /report-checks and jixiao check-report (issue 12 §4)."""

from __future__ import annotations

import os
import subprocess
import sys

from app.main import create_app
from app.services import tokens
from tests import factories
from tests.report_files import SEED_PATH, docx_bytes, seed_lines
from tests.test_request_limits import MB, MULTIPART, call, multipart_chunks

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _seed_docx():
    return {"file": ("自评报告.docx", docx_bytes(seed_lines()), DOCX)}


def test_the_api_finds_the_seeds_one_discrepancy_with_its_lines(client, session):
    factories.user(session, "fin", "finance")
    factories.login(client, "fin")
    response = client.post("/api/v1/report-checks", files=_seed_docx())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["flag_count"] == 1 and body["flagged_lines"] == [698, 700]
    (flag,) = body["flags"]
    assert flag["check"] == "rate" and flag["declared"]["value"] == "97.42" and flag["computed"] == "97.35"
    assert flag["declared"]["line"] == 700 and "97.42%" in flag["declared"]["line_text"]
    assert {f["value"] for f in body["not_derivable"] if f["kind"] == "score_separate"} == {"100", "99", "96.2"}
    assert body["filename"] == "自评报告.docx" and body["figure_count"] == len(body["figures"])


def test_a_read_token_may_check_a_write_token_may_not_and_nobody_anonymous(client, session):
    _, read = tokens.create_token(session=session, role="finance", name="只读", scope="read")
    _, write = tokens.create_token(session=session, role="finance", name="只写", scope="write")
    files = {"file": ("r.txt", "预算 100万元，实际支出 90万元，资金支出率 90%。".encode(), "text/plain")}
    ok = client.post("/api/v1/report-checks", files=files, headers={"Authorization": f"Bearer {read}"})
    assert ok.status_code == 200 and ok.json()["flag_count"] == 0 and ok.json()["check_count"] == 1
    refused = client.post("/api/v1/report-checks", files=files, headers={"Authorization": f"Bearer {write}"})
    assert refused.status_code == 403 and "read" in refused.json()["message"]
    assert client.post("/api/v1/report-checks", files=files).status_code == 401


def test_an_unreadable_file_is_422_in_chinese(client, session):
    factories.user(session, "fin", "finance")
    factories.login(client, "fin")
    response = client.post("/api/v1/report-checks", files={"file": ("r.docx", b"not a docx", DOCX)})
    assert response.status_code == 422 and "docx" in response.json()["message"]


def test_an_oversize_report_is_refused_before_its_body_is_read(db, settings, session):
    app = create_app(settings.model_copy(update={"report_check_max_bytes": MB}))
    _, secret = tokens.create_token(session=session, role="finance", name="只读", scope="read")
    headers = {"authorization": f"Bearer {secret}", "content-type": MULTIPART}
    sent = call(app, "POST", "/api/v1/report-checks", multipart_chunks(3 * MB), headers, content_length=3 * MB + 400)
    assert sent.status == 413 and sent.pulled == 0
    assert "JIXIAO_REPORT_CHECK_MAX_BYTES" in sent.json()["message"]


def test_the_route_is_documented_with_an_example(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/report-checks"]["post"]
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert example["flags"][0]["computed"] == "97.35" and "核对" in operation["summary"]


def test_the_page_shows_the_flag_with_its_lines_as_a_fragment_for_htmx(client, session):
    factories.user(session, "unit1", "finance")
    factories.login(client, "unit1")
    page = client.get("/report-checks")
    assert page.status_code == 200 and 'name="file"' in page.text and "20 MB" in page.text
    fragment = client.post("/report-checks", files=_seed_docx(), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "1 项不符" in fragment.text and "第 700 行" in fragment.text and "97.35%" in fragment.text
    assert "单独评价得分" in fragment.text  # the per-处室 scores listed, not flagged
    full = client.post("/report-checks", files=_seed_docx())
    assert full.status_code == 200 and "<html" in full.text and "第 698 行" in full.text


def test_the_command_prints_the_flag_and_exits_1(settings):
    env = dict(os.environ, DATABASE_URL=settings.database_url, JIXIAO_ENV="test")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "check-report", str(SEED_PATH)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1, done.stderr
    assert "1 项不符" in done.stdout and "第700行 比率 97.42%" in done.stdout and "97.35%" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "app.cli", "check-report", "/nonexistent.docx"], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 2 and "文件不存在" in missing.stderr
