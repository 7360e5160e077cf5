"""make bench: province-scale data, jixiao (uvicorn, 2 workers) and the floor (Starlette + asyncpg +
orjson replaying jixiao's captured SQL, 2 workers) side by side in one run, scenario by scenario.

    python -m bench [--scale 0.1] [--seconds 8] [--only NAME ...] [--quick]

Writes bench/results/latest.json and .md and rewrites the figures part of bench/RESULTS.md.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import capture, data

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEFORE_FILE = HERE / "sql" / "department_unmet_before.json"
DEFAULT_SCALE = 0.25
YEAR = data.YEAR


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the data set the requests draw from --------------------------------------------------------


@dataclass
class World:
    url: str  # libpq
    creds: data.Credentials
    units: list[int]
    departments: list[int]
    projects: list[int]
    indicator_ids: tuple[int, int]
    evaluations: list[tuple[int, int]]  # (evaluation id, unit id)
    saves: list[tuple[int, int, int, int]]  # (evaluation id, unit id, first indicator id, version) of drafts

    @property
    def sa_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg://")


def world(url: str, creds: data.Credentials) -> World:
    with psycopg.connect(url) as c:
        q = lambda sql: c.execute(sql).fetchall()  # noqa: E731
        saves = q(
            "SELECT e.id, p.unit_id, i.id, e.version FROM self_evaluation e JOIN project p ON p.id = e.project_id"
            " JOIN LATERAL (SELECT id FROM indicator WHERE project_id = p.id ORDER BY id LIMIT 1) i ON true"
            " JOIN indicator_result r ON r.indicator_id = i.id"
            " WHERE e.status = 'draft' AND i.id IN (SELECT min(id) FROM indicator GROUP BY project_id)"
        )
        return World(
            url=url,
            creds=creds,
            units=[r[0] for r in q("SELECT id FROM unit")],
            departments=[r[0] for r in q("SELECT id FROM department")],
            projects=[r[0] for r in q(f"SELECT id FROM project WHERE year = {YEAR}")],
            indicator_ids=q(f"SELECT min(id), max(id) FROM indicator WHERE year = {YEAR}")[0],
            evaluations=[
                tuple(r)
                for r in q("SELECT e.id, p.unit_id FROM self_evaluation e JOIN project p ON p.id = e.project_id")
            ],
            saves=[tuple(r) for r in saves],
        )


# --- scenarios -------------------------------------------------------------------------------------

Req = tuple[str, str, dict, object]  # method, path (without host), headers, json body


@dataclass
class Scenario:
    name: str
    title: str
    # rng -> (inputs for the floor, jixiao request)
    make: Callable[[World, random.Random], tuple[dict, Req]]
    bar: str
    clients: int = 32
    floor: bool = True
    keys: Callable[[object], list] | None = None  # the ids a jixiao body shows, to compare with the floor


def _bearer(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def _cursor(after: int, route: str = "indicators") -> str:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(data.SECRET_KEY, salt="jixiao-api-cursor").dumps({"r": route, "a": after})


def s_unit_indicators(w: World, rng: random.Random):
    u = rng.choice(w.units)
    return {}, ("GET", f"/api/v1/indicators?year={YEAR}&limit=100", _bearer(w.creds.unit_tokens[u]), None)


def s_year_unmet_first(w: World, rng: random.Random):
    return {}, ("GET", f"/api/v1/indicators?year={YEAR}&met=false&limit=50", _bearer(w.creds.finance_token), None)


def s_year_unmet_deep(w: World, rng: random.Random):
    lo, hi = w.indicator_ids
    after = rng.randint(lo + (hi - lo) // 2, hi - 1000)
    path = f"/api/v1/indicators?year={YEAR}&met=false&limit=50&cursor={_cursor(after)}"
    return {"after": after}, ("GET", path, _bearer(w.creds.finance_token), None)


def s_project(w: World, rng: random.Random):
    p = rng.choice(w.projects)
    return {"project_id": p}, ("GET", f"/api/v1/projects/{p}", _bearer(w.creds.finance_token), None)


def s_department_unmet(w: World, rng: random.Random):
    d = rng.choice(w.departments)
    path = f"/api/v1/indicators?year={YEAR}&department={d}&met=false&limit=100"
    return {"department": d}, ("GET", path, _bearer(w.creds.finance_token), None)


def s_unit_stats(w: World, rng: random.Random):
    u = rng.choice(w.units)
    return {"unit": u}, ("GET", f"/api/v1/stats/units?year={YEAR}&unit={u}", _bearer(w.creds.finance_token), None)


def s_department_stats(w: World, rng: random.Random):
    d = rng.choice(w.departments)
    path = f"/api/v1/stats/departments?year={YEAR}&department={d}"
    return {"department": d}, ("GET", path, _bearer(w.creds.finance_token), None)


def s_html_evaluation(w: World, rng: random.Random):
    e, u = rng.choice(w.evaluations)
    headers = {"cookie": f"jixiao_session={w.creds.unit_cookies[u]}"}
    return {"evaluation_id": e, "user": u}, ("GET", f"/evaluations/{e}", headers, None)


def _items(body) -> list:
    return [i["id"] for i in body["items"]]


SCENARIOS = [
    Scenario("unit_indicators", "a unit's indicator list (100 rows)", s_unit_indicators, "≥ 0.5× floor", keys=_items),
    Scenario(
        "year_unmet_first", "year-wide unmet list, first page (50)", s_year_unmet_first, "≥ 0.5× floor", keys=_items
    ),
    Scenario("year_unmet_deep", "year-wide unmet list, deep page (50)", s_year_unmet_deep, "≥ 0.5× floor", keys=_items),
    Scenario(
        "project",
        "one project",
        s_project,
        "≥ 0.5× floor",
        keys=lambda b: [b["id"]] + [i["id"] for i in b["indicators"]],
    ),
    Scenario(
        "department_unmet",
        "a department's unmet list (100)",
        s_department_unmet,
        "≥ 20× the before query (floor replaying today's SQL)",
        keys=_items,
    ),
    Scenario(
        "unit_stats",
        "stats of one unit",
        s_unit_stats,
        "≥ 0.5× floor; ≥ 20× full scan",
        keys=lambda b: [i["id"] for i in b["items"]],
    ),
    Scenario(
        "department_stats",
        "stats of one department",
        s_department_stats,
        "≥ 0.5× floor; ≥ 20× full scan",
        keys=lambda b: [i["id"] for i in b["items"]],
    ),
    Scenario(
        "html_evaluation",
        "the HTML self-evaluation page",
        s_html_evaluation,
        "≥ 0.3× floor (floor here: same SQL + orjson, no template)",
    ),
]


# --- servers ---------------------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, args: list[str], env: dict, port: int):
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        raise SystemExit(f"{name} did not start: {Path(self.log.name).read_text()[-2000:]}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restarts(self) -> int:
        """Worker processes uvicorn had to start again (a crashed or killed worker)."""
        text = Path(self.log.name).read_text(errors="replace")
        return max(0, text.count("Started server process") - 2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def uvicorn(target: str, port: int, env: dict, *, factory: bool = False) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        *(["--factory"] if factory else []),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def start_jixiao(w: World, extra: dict | None = None) -> Server:
    port = _port()
    env = {"DATABASE_URL": w.sa_url, "SECRET_KEY": data.SECRET_KEY, "JIXIAO_ENV": "development", **(extra or {})}
    return Server("jixiao", uvicorn("app.main:create_app", port, env, factory=True), env, port)


def start_floor(w: World, programs: Path) -> Server:
    port = _port()
    env = {"BENCH_PROGRAMS": str(programs), "BENCH_DB": w.url, "BENCH_POOL": "20"}
    return Server("floor", uvicorn("bench.floor:app", port, env), env, port)


# --- capture ---------------------------------------------------------------------------------------


def capture_program(w: World, scenario: Scenario, seed: int = 99) -> list[capture.Step]:
    """Run jixiao in-process on two requests of the scenario (a warm-up, then the captured one)."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import load_settings

    app = create_app(load_settings(DATABASE_URL=w.sa_url, SECRET_KEY=data.SECRET_KEY, DB_POOL_SIZE=2))
    rng = random.Random(seed)
    with TestClient(app) as client:
        for _attempt in range(2):
            inputs, (method, path, headers, body) = scenario.make(w, rng)
            with capture.recording() as seen:
                r = client.request(method, path, headers=headers, json=body)
            assert r.status_code == 200, (scenario.name, r.status_code, r.text[:300])
    auth = headers.get("authorization", "")
    if auth:
        inputs = {**inputs, "token_hash": _digest(auth[7:])}
    app.state.engine.dispose()
    return capture.program(seen, inputs)


def before_program(w: World) -> list[capture.Step]:
    """Today's department unmet list (the 'before'): captured once and kept in bench/sql/."""
    if not BEFORE_FILE.exists():
        BEFORE_FILE.parent.mkdir(exist_ok=True)
        steps = capture_program(w, next(s for s in SCENARIOS if s.name == "department_unmet"))
        BEFORE_FILE.write_text(capture.dump({"department_unmet_before": steps}), encoding="utf-8")
    return capture.load(BEFORE_FILE.read_text(encoding="utf-8"))["department_unmet_before"]
