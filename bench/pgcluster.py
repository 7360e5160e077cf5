"""A throwaway PostgreSQL for the benchmark: initdb into a temporary folder, started on a random
loopback port as the postgres user, stopped and removed at the end. TEST_DATABASE_URL instead, when set."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import psycopg

from bench import cpu

# A throwaway cluster tuned like a small server of its own; fsync off because it is thrown away
# (the floor and jixiao share it, so the ratios are unaffected).
SETTINGS = {
    "max_connections": "200",
    "shared_buffers": "512MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "checkpoint_timeout": "30min",
    "max_wal_size": "4GB",
    "listen_addresses": "127.0.0.1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    admin_url: str  # libpq URL to the maintenance database
    how: str
    max_connections: int = 100
    _stop: list = field(default_factory=list)
    postmaster: int | None = None  # its process: the CPU of its backends is the run's own (bench/cpu.py)

    def create_database(self, prefix: str = "jixiao_bench") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        while self._stop:
            self._stop.pop()()


def start() -> Cluster:
    """TEST_DATABASE_URL's server, else a private cluster from /usr/lib/postgresql/*/bin."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            mc = int(conn.execute("SHOW max_connections").fetchone()[0])
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        return Cluster(
            admin_url=url,
            # a shared server: its other databases' queries count as the run's own CPU (bench/cpu.py)
            how="TEST_DATABASE_URL",
            max_connections=mc,
            postmaster=_parent(backend),
        )
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise SystemExit("no PostgreSQL binaries (/usr/lib/postgresql/*/bin) and no TEST_DATABASE_URL")
    bindir = os.path.dirname(bins[-1])
    root = tempfile.mkdtemp(prefix="jixiao-bench-pg-")
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    port = _free_port()
    subprocess.run(
        prefix + [f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    opts = " ".join(f"-c {k}={v}" for k, v in {**SETTINGS, "port": str(port), "unix_socket_directories": root}.items())
    subprocess.run(
        prefix + [f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-o", opts, "-w", "start"],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    for _ in range(50):
        try:
            psycopg.connect(admin, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    return Cluster(
        admin_url=admin,
        how=f"throwaway cluster {bindir} on 127.0.0.1:{port}",
        max_connections=int(SETTINGS["max_connections"]),
        _stop=[stop],
        postmaster=cpu.postmaster_pid(data),
    )


def _parent(pid: int) -> int | None:
    """The postmaster of a backend on this machine (None when the server is elsewhere or not ours to see)."""
    try:
        import psutil

        return psutil.Process(pid).ppid()
    except Exception:  # noqa: BLE001 - another machine's pid, or psutil missing: nothing is counted as ours
        return None
