"""A user who leaves while a save is being read is one line in the log, not a traceback; and every
page's /favicon.ico is there (it used to be a 404 on each page)."""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.services import evaluations
from app.services.demo import load_demo
from tests import factories

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _cookie_header(client) -> bytes:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items()).encode()


def test_a_client_leaving_mid_save_is_logged_as_one_info_line(app, client, session, caplog):
    load_demo(session=session)
    evaluations.ensure_evaluations(session=session)
    factories.login(client, "wuxian_jiancezhan", "jixiao-demo")
    eid = int(re.search(r'href="/evaluations/(\d+)"', client.get("/").text).group(1))
    body = b"version=1&spent=12"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": f"/evaluations/{eid}/money",
        "raw_path": f"/evaluations/{eid}/money".encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"origin", b"http://testserver"),
            (b"sec-fetch-site", b"same-origin"),
            (b"hx-request", b"true"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", _cookie_header(client)),
        ],
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}  # the tab was closed before the body arrived

    async def send(message):
        sent.append(message)

    caplog.clear()
    with caplog.at_level(logging.INFO):
        # its own thread and loop: a browser test earlier in the session may hold this thread's loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, app(scope, receive, send)).result()  # raises if the disconnect escapes

    records = [r for r in caplog.records if r.name.startswith(("jixiao", "uvicorn", "starlette", "fastapi"))]
    assert [r.levelno for r in records] == [logging.INFO], [(r.levelname, r.getMessage()) for r in records]
    assert f"/evaluations/{eid}/money" in records[0].getMessage() and records[0].exc_info is None
    assert "\n" not in records[0].getMessage()


def test_favicon_is_served_and_every_page_names_it(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
    assert len(icon.content) > 0
    login = client.get("/login").text
    assert '<link rel="icon" href="/favicon.ico"' in login
