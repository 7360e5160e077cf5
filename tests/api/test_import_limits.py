"""Import limits through the API (a zip bomb, a sheet using all 1,048,576 rows, the settings), and imports
left running by a process that died, marked failed when the server starts again."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlmodel import select

from app.main import create_app
from app.models import ImportRun
from tests import factories
from tests.importers.xlsx_crafted import full_height_sheet, zip_bomb

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _import(client, path, name):
    return client.post("/api/v1/imports", data={"year": "2024"}, files={"file": (name, path.read_bytes(), XLSX)})


@pytest.fixture
def finance(client, session):
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    return client


def test_a_zip_bomb_upload_is_refused_with_the_reason(finance, tmp_path):
    # past the default unpacked limit (1.5 GB, a province's xlsx unpacks to ~1.2 GB)
    response = _import(finance, zip_bomb(tmp_path / "bomb.xlsx", unpacked=2 * 1024**3), "bomb.xlsx")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "too_large" and error["where"] == "bomb.xlsx"
    assert "压缩炸弹" in error["message"] and "1,536 MB" in error["message"]


def test_a_sheet_using_every_row_stops_at_the_row_limit(db, settings, session, tmp_path):
    # the default (1,100,000) takes a full sheet of 1,048,576 rows; a deployment's lower limit stops early
    from fastapi.testclient import TestClient

    factories.user(session, "czj", "finance")
    app = create_app(settings.model_copy(update={"import_max_rows": 200_000}))
    path = full_height_sheet(tmp_path / "full.xlsx")
    try:
        with TestClient(app) as client:
            factories.login(client, "czj")
            started = time.monotonic()
            response = _import(client, path, "full.xlsx")
            elapsed = time.monotonic() - started
    finally:
        app.state.engine.dispose()
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "too_large" and "200,000 行" in error["message"]
    assert error["where"] == "full.xlsx 工作表“绩效目标表” 第200001行", error["where"]
    assert elapsed < 60


def test_the_limits_are_settings(db, settings, session, tmp_path):
    from fastapi.testclient import TestClient

    factories.user(session, "czj", "finance")
    small = settings.model_copy(update={"import_max_rows": 1000, "import_max_uncompressed_bytes": 2 * 1024 * 1024})
    app = create_app(small)
    try:
        with TestClient(app) as client:
            factories.login(client, "czj")
            tall = _import(client, full_height_sheet(tmp_path / "tall.xlsx", rows=20_000), "tall.xlsx").json()
            assert [e["code"] for e in tall["errors"]] == ["too_large"] and "1,000 行" in tall["errors"][0]["message"]
            wide = _import(client, full_height_sheet(tmp_path / "big.xlsx", rows=60_000), "big.xlsx").json()
            assert "2 MB 的导入上限" in wide["errors"][0]["message"]
    finally:
        app.state.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_imports_left_running_by_a_dead_process_are_failed_at_start(client, session, settings):
    factories.user(session, "czj", "finance")
    runs = {status: ImportRun(filename=f"{status}.xlsx", year=2024, status=status) for status in ("pending", "running")}
    runs["done"] = ImportRun(filename="done.xlsx", year=2024, status="done", report={"ok": True, "errors": []})
    session.add_all(runs.values())
    session.commit()
    ids = {status: run.id for status, run in runs.items()}

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "JIXIAO_ENV": "test"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "有 2 个导入因服务停止而未完成" in output, output

    session.expire_all()
    status = {name: session.get(ImportRun, run_id) for name, run_id in ids.items()}
    assert {name: run.status for name, run in status.items()} == {
        "pending": "failed",
        "running": "failed",
        "done": "done",
    }
    assert status["running"].finished_at is not None
    factories.login(client, "czj")
    page = client.get(f"/admin/imports/{ids['running']}")
    assert "服务在这次导入进行中停止或重启" in page.text and "重新导入同一文件是安全的" in page.text
    assert [r.status for r in session.exec(select(ImportRun).where(ImportRun.status == "running"))] == []
