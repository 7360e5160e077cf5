"""Load generators on 127.0.0.1: closed loop (N clients, each sending its next request as soon as
the last is answered) and paced (N users, each about one request a second, jittered). aiohttp,
keep-alive, no caching; every response is read to the end and its status counted."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench import cpu

# (method, url, headers, json body or None) for the next request; random ids from the whole data set
Make = Callable[[random.Random], tuple[str, str, dict, object]]
# called with (request, status, body) after each answer: correctness checks record what they need
Check = Callable[[tuple, int, bytes], Awaitable[None] | None]


@dataclass
class Run:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # exceptions by type (timeouts, resets)
    others: float | None = None  # share of the machine's CPU other processes took meanwhile (bench/cpu.py)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1000

    @property
    def non_2xx(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300) + sum(self.errors.values())


async def _one(session, req, run: Run, check: Check | None) -> None:
    method, url, headers, body = req
    t = time.perf_counter()
    try:
        async with session.request(method, url, headers=headers, json=body) as resp:
            data = await resp.read()
            status = resp.status
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none ends the run
        run.errors[type(exc).__name__] += 1
        return
    run.latencies.append(time.perf_counter() - t)
    run.statuses[status] += 1
    run.requests += 1
    if check is not None:
        r = check(req, status, data)
        if asyncio.iscoroutine(r):
            await r


async def closed(
    make: Make, *, clients: int, seconds: float, seed: int = 1, check: Check | None = None, timeout: float = 60
) -> Run:
    import aiohttp

    run = Run()
    conn = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        deadline = time.perf_counter() + seconds

        async def client(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while time.perf_counter() < deadline:
                await _one(session, make(rng), run, check)

        with cpu.window() as measured:
            start = time.perf_counter()
            await asyncio.gather(*(client(n) for n in range(clients)))
            run.seconds = time.perf_counter() - start
    run.others = measured.others
    return run


async def paced(
    make: Make,
    *,
    users: int,
    seconds: float,
    per_second: float = 1.0,
    seed: int = 1,
    check: Check | None = None,
    timeout: float = 60,
) -> Run:
    """Each user sends about `per_second` requests a second (exponential gaps), whatever the answers' speed."""
    import aiohttp

    run = Run()
    conn = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        deadline = time.perf_counter() + seconds
        pending: set[asyncio.Task] = set()

        async def user(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            await asyncio.sleep(rng.random() / per_second)
            while time.perf_counter() < deadline:
                task = asyncio.create_task(_one(session, make(rng), run, check))
                pending.add(task)
                task.add_done_callback(pending.discard)
                await asyncio.sleep(rng.expovariate(per_second))

        with cpu.window() as measured:
            start = time.perf_counter()
            await asyncio.gather(*(user(n) for n in range(users)))
            if pending:
                await asyncio.gather(*pending)
            run.seconds = time.perf_counter() - start
    run.others = measured.others
    return run
