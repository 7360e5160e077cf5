"""200 concurrent requests against one real uvicorn worker with a small pool: every one answered 2xx,
no pool timeout, the connections within the budget (the thread-limit vs pool deadlock of
shared/perf-notes.md: sync endpoints stall when more requests are in flight than connections)."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.models import Indicator, Project
from app.services import demo, tokens
from app.settings import SettingsError, load_settings

CLIENTS = 200
POOL, OVERFLOW = 3, 2


@pytest.fixture
def small_pool(monkeypatch):
    """The server started by live_server reads these (it copies the environment)."""
    monkeypatch.setenv("DB_POOL_SIZE", str(POOL))
    monkeypatch.setenv("JIXIAO_DB_MAX_OVERFLOW", str(OVERFLOW))
    # a stall shows as pool timeouts within the test's time, not after minutes
    monkeypatch.setenv("JIXIAO_DB_POOL_TIMEOUT", "5")


def _connections(session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.exec(
        sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    ).one()[0]


def test_200_concurrent_requests_on_one_worker_all_answer(session, small_pool, live_server):
    demo.load_demo(session=session)
    _, secret = tokens.create_token(session=session, role="finance", name="并发读取", scope="read")
    project_ids = session.exec(select(Project.id).order_by(Project.id)).all()
    after = session.exec(select(Indicator.id).order_by(Indicator.id).offset(50)).first()
    urls = []
    for n in range(CLIENTS):
        kind = n % 4
        if kind == 0:
            urls.append(f"/api/v1/projects/{project_ids[n % len(project_ids)]}")
        elif kind == 1:
            urls.append("/api/v1/indicators?year=2024&met=false&limit=50")
        elif kind == 2:
            urls.append("/api/v1/stats/units?year=2024")
        else:
            urls.append(f"/api/v1/projects?year=2024&limit=20&after={after}")
    gate = threading.Barrier(CLIENTS)
    answers: list = [None] * CLIENTS
    busiest = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            busiest[0] = max(busiest[0], _connections(session) or 0)
            session.rollback()

    def run(n: int) -> None:
        with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}, timeout=90) as c:
            gate.wait()
            try:
                answers[n] = c.get(urls[n]).status_code
            except httpx.HTTPError as exc:  # a client that waited in vain counts against the server
                answers[n] = type(exc).__name__

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    done.set()
    watcher.join()
    counts = Counter(answers)
    assert set(counts) == {200}, counts
    if session.get_bind().dialect.name == "postgresql":
        assert 0 < busiest[0] <= POOL + OVERFLOW, busiest[0]


def test_workers_times_the_pool_must_fit_the_connection_budget():
    url = "postgresql://u@db/jixiao"
    fits = load_settings(DATABASE_URL=url, JIXIAO_WORKERS=4, DB_POOL_SIZE=10, JIXIAO_DB_MAX_OVERFLOW=5)
    assert fits.workers * (fits.db_pool_size + fits.db_max_overflow) <= fits.db_connection_budget == 60
    with pytest.raises(SettingsError, match="连接数超出预算.*5 个进程.*= 75"):
        load_settings(DATABASE_URL=url, JIXIAO_WORKERS=5, DB_POOL_SIZE=10, JIXIAO_DB_MAX_OVERFLOW=5)
    assert load_settings(DATABASE_URL=url, JIXIAO_WORKERS=5, JIXIAO_DB_CONNECTION_BUDGET=80).workers == 5
    defaults = load_settings(DATABASE_URL=url)
    assert (defaults.db_pool_size, defaults.db_max_overflow, defaults.workers) == (10, 5, 1)


def test_a_request_that_waits_too_long_in_line_gets_a_503():
    """The line is bounded: past JIXIAO_REQUEST_QUEUE_TIMEOUT a request is answered 503, never left hanging;
    the request in front finishes normally and frees its place."""
    import asyncio

    from starlette.responses import PlainTextResponse

    from app.db import DatabaseGate

    answers: list[int] = []

    async def main() -> None:
        release = asyncio.Event()

        async def slow(scope, receive, send):
            await release.wait()
            await PlainTextResponse("好")(scope, receive, send)

        gate = DatabaseGate(slow, limit=1, wait_seconds=0.2, busy=lambda scope: PlainTextResponse("忙", 503))

        async def request() -> None:
            async def receive():
                return {"type": "http.request", "body": b""}

            async def send(message):
                if message["type"] == "http.response.start":
                    answers.append(message["status"])

            await gate({"type": "http", "path": "/api/v1/units", "method": "GET", "headers": []}, receive, send)

        first = asyncio.create_task(request())
        await asyncio.sleep(0.05)
        await request()  # waits 0.2 s behind the first, then 503
        release.set()
        await first
        await request()  # the place is free again

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    thread.join(10)
    assert answers == [503, 200, 200]


def _drive_gate(gate_kwargs: dict, script) -> list:
    """Run `script(request, release)` on an event loop against a DatabaseGate in front of an app that
    answers /slow when `release` is set and anything else at once; returns [(path, status)] in the
    order the answers started."""
    import asyncio

    from starlette.responses import PlainTextResponse

    from app.db import DatabaseGate

    answers: list = []

    async def main() -> None:
        release = asyncio.Event()

        async def app(scope, receive, send):
            if scope["path"].endswith("/slow"):
                await release.wait()
            await PlainTextResponse("好")(scope, receive, send)

        gate = DatabaseGate(app, busy=lambda scope: PlainTextResponse("忙", 503), **gate_kwargs)

        async def request(path: str) -> None:
            async def receive():
                return {"type": "http.request", "body": b""}

            async def send(message):
                if message["type"] == "http.response.start":
                    answers.append((path, message["status"]))

            await gate({"type": "http", "path": path, "method": "GET", "headers": []}, receive, send)

        await script(request, release)

    thread = threading.Thread(target=lambda: asyncio.run(main()))
    thread.start()
    thread.join(20)
    return answers


def test_only_the_running_limit_runs_at_once_and_the_rest_wait_their_turn():
    """JIXIAO_REQUEST_CONCURRENCY: with places free (limit 3) but one running turn, a second request waits
    for the turn and, past the queue timeout, gets its 503; once the first ends, the turn is free again."""
    import asyncio

    async def script(request, release):
        first = asyncio.create_task(request("/api/v1/slow"))
        await asyncio.sleep(0.05)
        await request("/api/v1/units")  # no turn within 0.2 s: 503
        release.set()
        await first
        await asyncio.gather(*(request("/api/v1/units") for _ in range(3)))  # every turn and place came back

    answers = _drive_gate({"limit": 3, "running": 1, "wait_seconds": 0.2, "long_seconds": 30}, script)
    assert answers == [("/api/v1/units", 503), ("/api/v1/slow", 200)] + [("/api/v1/units", 200)] * 3


def test_a_long_request_steps_aside_and_the_short_one_behind_it_runs():
    """A request still running after JIXIAO_REQUEST_LONG_SECONDS gives its turn to the next one in line
    (an export streaming does not hold the short reads behind it); it keeps its place and finishes."""
    import asyncio

    async def script(request, release):
        long = asyncio.create_task(request("/api/v1/slow"))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(request("/api/v1/units"), 5)  # answered while the long one still runs
        release.set()
        await long

    answers = _drive_gate({"limit": 2, "running": 1, "wait_seconds": 5, "long_seconds": 0.2}, script)
    assert answers == [("/api/v1/units", 200), ("/api/v1/slow", 200)]


def test_a_request_cancelled_while_waiting_for_its_turn_gives_its_place_back():
    """A request waiting for a running turn holds a place; cancelled there (a shutdown, a cancel scope around
    the app), it gives the place back: otherwise each such cancel would shrink the process's places for good
    and it would end up answering only 503."""
    import asyncio

    async def script(request, release):
        long = asyncio.create_task(request("/api/v1/slow"))  # one of the two places, and the one turn
        await asyncio.sleep(0.05)
        waiting = asyncio.create_task(request("/api/v1/units"))  # the second place, waiting for the turn
        await asyncio.sleep(0.05)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        # the second place is free again: this one takes it and runs once the long one steps aside (0.2 s),
        # while the long one still holds the first place
        await request("/api/v1/units")
        release.set()
        await long

    answers = _drive_gate({"limit": 2, "running": 1, "wait_seconds": 0.5, "long_seconds": 0.2}, script)
    assert answers == [("/api/v1/units", 200), ("/api/v1/slow", 200)]
