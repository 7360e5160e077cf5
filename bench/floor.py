"""The floor: bare Starlette + asyncpg + orjson running the exact statements jixiao emitted for the
same request (captured by bench/capture.py), in the same order, with the same parameters.

GET /run/{scenario}?name=value… replays the scenario's program: inputs come from the query string
and from the Bearer token (its SHA-256, as jixiao looks it up); every row every statement answers
is serialised with orjson — except for a page (PAGES), whose floor renders jixiao's own template from
those rows (bench/floor_page.py). Run by the suite as `uvicorn bench.floor:app --workers 2`, with
BENCH_PROGRAMS (a file written by capture.dump) and BENCH_DB (a libpq URL) in the environment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from decimal import Decimal
from pathlib import Path

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.capture import Step, convert, load

PROGRAMS: dict[str, list[Step]] = {}
# the scenarios whose floor answers the page jixiao renders, from the same rows (bench/floor_page.py)
PAGES = {"html_evaluation"}
POOL: asyncpg.Pool | None = None


def _default(v):
    if isinstance(v, Decimal):
        return str(v)
    raise TypeError(type(v))


async def _init(conn: asyncpg.Connection) -> None:
    for t in ("json", "jsonb"):
        await conn.set_type_codec(
            t, encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog"
        )


async def startup() -> None:
    global POOL
    PROGRAMS.update(load(Path(os.environ["BENCH_PROGRAMS"]).read_text(encoding="utf-8")))
    if PAGES & PROGRAMS.keys():  # compiled at the start, as jixiao's workers do (app/main.py lifespan)
        from app.web.render import compile_templates

        compile_templates()
    POOL = await asyncpg.create_pool(
        os.environ["BENCH_DB"], min_size=2, max_size=int(os.environ.get("BENCH_POOL", 20)), init=_init
    )


async def shutdown() -> None:
    if POOL is not None:
        await POOL.close()


def _args(step: Step, inputs: dict, answered: list, now: dt.datetime, row=None) -> list:
    args = []
    for b in step.binds:
        if b.kind == "input":
            args.append(convert(inputs[b.name], b.type))
        elif b.kind == "row":
            source = row if row is not None else (answered[b.step][0] if answered[b.step] else None)
            if b.add:  # the next number after an earlier row's (1 when there is no row, or it is NULL)
                args.append((0 if source is None or source[b.column] is None else source[b.column]) + b.add)
            elif source is None:  # no row: what jixiao used then (captured), else NULL
                args.append(None if b.value is None else convert(b.value, b.type))
            else:
                args.append(source[b.column])
        elif b.kind == "format":
            if b.step is not None:
                first = answered[b.step][0] if answered[b.step] else None
                args.append(b.value.format(_row=None if first is None else first[b.column]))
            else:
                args.append(b.value.format(**inputs))
        elif b.kind == "now":
            args.append(now)
        else:
            args.append(convert(b.value, b.type))
    return args


async def run(request: Request) -> Response:
    program = PROGRAMS.get(request.path_params["scenario"])
    if program is None:
        return Response(b'{"detail":"unknown scenario"}', status_code=404)
    inputs = dict(request.query_params)
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        inputs["token_hash"] = hashlib.sha256(auth[7:].strip().encode()).hexdigest()
    cookie = request.cookies.get("jixiao_session")
    if cookie:
        inputs["session_hash"] = hashlib.sha256(cookie.encode()).hexdigest()
    now = dt.datetime.now(dt.UTC)
    answered: list[list] = []
    assert POOL is not None
    async with POOL.acquire() as conn:
        writes = any(s.writes for s in program)
        tx = conn.transaction() if writes else None
        if tx is not None:
            await tx.start()
        try:
            for step in program:
                if step.many_from is not None:
                    sets = [_args(step, inputs, answered, now, row) for row in answered[step.many_from]]
                    if sets:
                        await conn.executemany(step.sql, sets)
                    answered.append([])
                    continue
                answered.append(await conn.fetch(step.sql, *_args(step, inputs, answered, now)))
        except Exception:
            if tx is not None:
                await tx.rollback()
            raise
        if tx is not None:
            await tx.commit()
    if request.path_params["scenario"] in PAGES:
        from bench import floor_page

        try:
            html = floor_page.page(program, answered, int(inputs["evaluation_id"]), now)
        except floor_page.Refused:
            return Response(b"", status_code=401)
        return Response(html, media_type="text/html; charset=utf-8")
    body = orjson.dumps([[dict(r) for r in rows] for rows in answered], default=_default)
    return Response(body, media_type="application/json")


@contextlib.asynccontextmanager
async def lifespan(_app):
    await startup()
    yield
    await shutdown()


app = Starlette(routes=[Route("/run/{scenario}", run)], lifespan=lifespan)
