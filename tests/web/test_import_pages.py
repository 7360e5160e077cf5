"""The upload page: real progress while the import runs in the background, then the report."""

from __future__ import annotations

import time
from pathlib import Path

from tests import factories

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_003.txt"


def _admin(client, session):
    factories.user(session, "root", "admin")
    factories.login(client, "root")


def _wait_for_report(client, location: str) -> str:
    for _ in range(200):
        fragment = client.get(location, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert "<html" not in fragment.text
        if "every 500ms" not in fragment.text:
            return fragment.text
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def test_upload_shows_progress_then_the_report(client, session):
    _admin(client, session)
    page = client.get("/admin/imports")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    response = client.post(
        "/admin/imports",
        data={"year": "2024"},
        files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    full = client.get(location)
    assert "<html" in full.text and "导入：seed_003.txt" in full.text
    report = _wait_for_report(client, location)
    assert "已写入数据库" in report
    assert '<th>新建项目</th><td class="num">34</td>' in report
    assert "警告" in report


def test_a_bad_upload_reports_errors_and_writes_nothing(client, session):
    _admin(client, session)
    response = client.post(
        "/admin/imports",
        data={"year": "2024"},
        files={"file": ("bad.csv", "年度,单位名称\n".encode(), "text/csv")},
        follow_redirects=False,
    )
    report = _wait_for_report(client, response.headers["location"])
    assert "未写入任何内容" in report and "错误" in report


def test_units_cannot_open_the_upload_page(client, session):
    dept = factories.department(session)
    unit = factories.unit(session, "单位甲", dept)
    factories.user(session, "u", "unit", unit_row=unit)
    factories.login(client, "u")
    assert client.get("/admin/imports").status_code == 403


def test_the_template_download_is_an_xlsx_with_an_explanation_sheet(client, session):
    import io

    from openpyxl import load_workbook

    _admin(client, session)
    response = client.get("/admin/imports/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert "说明" in book.sheetnames
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("年度", "主管部门", "单位名称")


def test_an_import_cancelled_from_its_page_writes_nothing(client, session, monkeypatch):
    """The import is held at its first write step until the cancel is in: deterministic, no sleeping
    race. On PostgreSQL the cancel also reaches it through the run's row (as from another worker)."""
    import threading

    from sqlmodel import select

    from app.models import ImportRun, Project
    from app.services import import_runs

    reached, gate = threading.Event(), threading.Event()
    real = import_runs.imports.import_file

    def held(**kw):
        forward = kw["on_progress"]

        def progress(done, total, phase):
            if phase == "store" and not reached.is_set():
                reached.set()
                gate.wait(20)
            forward(done, total, phase)

        return real(**{**kw, "on_progress": progress})

    monkeypatch.setattr(import_runs.imports, "import_file", held)
    _admin(client, session)
    response = client.post(
        "/admin/imports",
        data={"year": "2024"},
        files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    location = response.headers["location"]
    assert reached.wait(20), "the import never reached its write step"
    running = client.get(location)
    assert 'id="cancel-import"' in running.text
    cancelled = client.post(location + "/cancel", follow_redirects=False)
    assert cancelled.status_code == 303 and cancelled.headers["location"] == location
    if session.get_bind().dialect.name == "postgresql":
        import_runs._cancelled.clear()  # as if the cancel came through another worker: only the row says it
    gate.set()
    report = _wait_for_report(client, location)
    assert "已取消，未写入任何内容" in report and "导入已由root取消" in report
    session.expire_all()
    assert session.exec(select(Project)).all() == []
    run = session.exec(select(ImportRun)).one()
    assert run.status == "failed" and run.report["cancelled"] is True
    # a finished import is not cancelled again
    assert client.post(location + "/cancel", follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.exec(select(ImportRun)).one().report["cancelled"] is True


def test_reimport_page_refuses_approved_tables_then_files_adjustments_and_imports_drafts(client, session):
    """The page's options: a changed approved table is refused with the remedy in the page's words;
    ticked “提交调整申请”, the import files a request; ticked “作为草稿导入”, new tables are drafts."""
    from sqlmodel import select

    from app.models import Project, TargetAdjustment
    from tests.services.test_reimport import table

    _admin(client, session)
    page = client.get("/admin/imports").text
    assert 'name="as_draft"' in page and 'name="as_adjustment"' in page and 'name="adjustment_reason"' in page

    def upload(data: bytes, **form) -> str:
        response = client.post(
            "/admin/imports",
            data={"year": "2024", **form},
            files={"file": ("targets.csv", data, "text/csv")},
            follow_redirects=False,
        )
        return _wait_for_report(client, response.headers["location"])

    assert "已写入数据库" in upload(table())
    refused = upload(table(report_target="≥10份"))
    assert "已批复" in refused and "监测项目" in refused and "勾选“修改已批复的表时提交调整申请”" in refused
    assert session.exec(select(TargetAdjustment)).all() == []
    filed = upload(table(report_target="≥10份"), as_adjustment="1", adjustment_reason="任务量调减")
    assert "已写入数据库" in filed and "提交调整申请" in filed
    session.expire_all()
    (adj,) = session.exec(select(TargetAdjustment)).all()
    assert adj.reason == "任务量调减"
    extra = "2024,测试局,测试单位,U1,新项目,P-003,5,开展,开展,产出,数量指标,场次,≥4场,≥4场,50\n"
    assert "已写入数据库" in upload(table(extra=extra), as_draft="1")
    session.expire_all()
    assert session.exec(select(Project.target_status).where(Project.project_code == "P-003")).one() == "draft"


def test_an_upload_whose_import_cannot_start_leaves_no_temporary_file(client, session, monkeypatch):
    """The uploaded file is removed, and the run says it failed, when its thread cannot start."""
    import threading
    from types import SimpleNamespace

    import pytest
    from sqlmodel import select

    from app.models import ImportRun
    from app.services import import_runs
    from app.web import imports as page

    saved: list[Path] = []
    real_save = page.save_upload

    async def recording_save(upload, max_bytes):
        path = await real_save(upload, max_bytes)
        saved.append(path)
        return path

    class NoThread(threading.Thread):
        def start(self):
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(page, "save_upload", recording_save)
    monkeypatch.setattr(import_runs, "threading", SimpleNamespace(Thread=NoThread, Event=threading.Event))
    _admin(client, session)
    with pytest.raises(RuntimeError):
        client.post(
            "/admin/imports",
            data={"year": "2024"},
            files={"file": ("seed_003.txt", SEED.read_bytes(), "text/plain")},
            follow_redirects=False,
        )
    assert len(saved) == 1
    assert not saved[0].exists(), f"the upload was left behind in {saved[0]}"
    session.expire_all()
    (run,) = session.exec(select(ImportRun)).all()
    assert run.status == "failed" and "导入未能开始" in run.report["errors"][0]["message"]


def test_uploads_left_by_a_killed_process_are_removed_and_fresh_ones_kept(tmp_path):
    """A process killed mid-import leaves its upload behind; the next start removes it, a day later."""
    import os
    import time

    from app.uploads import remove_stale_uploads

    old = tmp_path / "jixiao-upload-old.xlsx"
    fresh = tmp_path / "jixiao-upload-fresh.xlsx"
    other = tmp_path / "someone-else.xlsx"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (old, other):
        os.utime(path, (two_days_ago, two_days_ago))
    assert remove_stale_uploads(directory=tmp_path) == 1
    assert not old.exists() and fresh.exists() and other.exists()
