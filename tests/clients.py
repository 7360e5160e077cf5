"""Many real HTTP clients released at one instant against a live server (the concurrency tests).

Each client opens its own connection first, then all wait at a barrier and send together: what the
server sees is N requests arriving at once, not one after another. A client whose request fails at
the transport (timeout, reset) answers the exception's name, so that a server that left a client
waiting in vain counts against the server instead of hanging the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx


def at_once(
    base_url: str,
    headers: dict[str, str],
    clients: int,
    send: Callable[[httpx.Client, int], object],
    timeout: float = 60,
) -> list[object]:
    """Run `send(client, n)` for n in 0..clients-1 in as many threads released together; their answers in order."""
    gate = threading.Barrier(clients)
    answers: list[object] = [None] * clients

    def run(n: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=timeout) as c:
            gate.wait()
            try:
                answers[n] = send(c, n)
            except httpx.HTTPError as exc:
                answers[n] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * 2)
    return answers
