"""How much of the machine's CPU went to processes that are not the run's own while a scenario ran.

These machines are shared: other sessions' tests and builds take CPU from jixiao and the floor while
they are measured, and the load average cannot tell that apart from the run's own processes (200
clients, two stacks of workers and PostgreSQL's backends make a load of 5-10 by themselves). Runs
under such contention gave the ratios that mattered 2-3× higher than a quiet run of the same code
(bench/RESULTS.md): the floor, the cheaper stack, loses most when CPU is scarce. So each timed run
measures it: the machine's busy CPU time (steal included: another virtual machine's) minus the CPU
time of the run's own processes — this process and its descendants (the servers, the import
process) and the PostgreSQL cluster's postmaster and its backends — over the run's wall time and
the machine's cores. The suite records it beside each figure and judges no bar on a run where others
took more than OTHERS_LIMIT of the machine.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

OTHERS_LIMIT = 0.15  # of the machine's CPU: above it, the run's ratio is not judged

ROOTS: list[int] = [os.getpid()]  # the suite adds the PostgreSQL cluster's postmaster (pgcluster.start)


def _busy() -> float:
    import psutil

    t = psutil.cpu_times()
    # Linux counts guest time inside user; iowait is idle time
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0) + getattr(t, "steal", 0)


def _ours() -> float:
    """CPU seconds of the run's processes: each live one's own and its reaped children's. A process that
    ends inside the window moves, whole, into its parent's children's time: the difference of two
    readings still counts only what it used inside the window."""
    import psutil

    seen: set[int] = set()
    total = 0.0
    for pid in ROOTS:
        try:
            root = psutil.Process(pid)
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for p in family:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                t = p.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


@dataclass
class Window:
    others: float | None = None  # share of the machine's CPU (0-1) other processes used; None: not measured


@contextmanager
def window():
    """Measure what other processes took of the machine while the block ran."""
    w = Window()
    try:
        start = time.perf_counter(), _busy(), _ours()
    except ImportError:  # psutil is a bench extra; without it nothing is judged on it
        yield w
        return
    yield w
    seconds = time.perf_counter() - start[0]
    if seconds > 0:
        others = (_busy() - start[1]) - (_ours() - start[2])
        w.others = max(0.0, others / (seconds * (os.cpu_count() or 1)))


def postmaster_pid(data_dir: str) -> int | None:
    """The cluster's postmaster, from its postmaster.pid (first line)."""
    try:
        with open(os.path.join(data_dir, "postmaster.pid"), encoding="ascii") as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None
