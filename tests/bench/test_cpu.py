"""bench/cpu.py: the CPU other processes take while a scenario runs is told apart from the run's own.
Checked with real processes burning CPU, one outside the run's family and one inside it; the figures
compared are CPU seconds the kernel accounted, not timings."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import psutil

from bench import cpu

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"


def _cpu_seconds(p: psutil.Process) -> float:
    t = p.cpu_times()
    return t.user + t.system


def test_a_process_outside_the_run_counts_as_others():
    # started through a shell that exits at once: the burner is re-parented, no descendant of this process
    out = subprocess.run(
        ["sh", "-c", f"{sys.executable} -c '{BURN.format(s=1.5)}' >/dev/null 2>&1 & echo $!"],
        capture_output=True,
        text=True,
        check=True,
    )
    burner = psutil.Process(int(out.stdout.strip()))
    assert burner.pid not in {c.pid for c in psutil.Process().children(recursive=True)}
    try:
        before = _cpu_seconds(burner)
        with cpu.window() as w:
            time.sleep(1.0)
            used = _cpu_seconds(burner) - before
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            burner.kill()  # whatever the machine's load: the test does not wait for it to finish its burn
    assert used > 0.05  # it ran while measured (a busy machine gives it less than a core)
    others_seconds = w.others * 1.0 * os.cpu_count()
    # at least what the burner used is others' (other sessions on the machine can only add to it);
    # the window is a little longer than the sleep and the kernel accounts in ticks: 80 %
    assert others_seconds >= 0.8 * used, (w.others, used)


def test_the_runs_own_children_are_not_others():
    before = cpu._ours()
    start = os.times()
    subprocess.run([sys.executable, "-c", BURN.format(s=1.0)], check=True)
    end = os.times()
    child = (end.children_user - start.children_user) + (end.children_system - start.children_system)
    assert child >= 0.9
    # the child, reaped by this process, moved into its children's time: counted as the run's own
    assert cpu._ours() - before >= 0.9 * child


def test_the_postmaster_of_a_throwaway_cluster_is_found(tmp_path):
    (tmp_path / "postmaster.pid").write_text("4242\n/var/lib/data\n1700000000\n5432\n", encoding="ascii")
    assert cpu.postmaster_pid(str(tmp_path)) == 4242
    assert cpu.postmaster_pid(str(tmp_path / "missing")) is None
