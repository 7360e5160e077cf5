"""Finding a PostgreSQL server for the tests: TEST_DATABASE_URL, else 127.0.0.1:5432, else a
private throwaway server started from the local PostgreSQL binaries. Each run gets its own database."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field

import psycopg


@dataclass
class PgServer:
    admin_url: str  # a URL to a maintenance database, for CREATE/DROP DATABASE
    how: str
    _cleanup: list = field(default_factory=list)
    data_dir: str | None = None  # set for a private server started here (it can be frozen: processes())

    def create_database(self, prefix: str = "jixiao_test") -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return _with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def processes(self) -> list[int]:
        """The private server's postmaster and every process it started (to SIGSTOP / SIGCONT them)."""
        assert self.data_dir is not None, "only a private server's processes are known"
        with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == postmaster:
                    children.append(int(entry))
        return [postmaster, *children]

    def stop(self) -> None:
        for fn in reversed(self._cleanup):
            fn()


def _with_database(url: str, name: str) -> str:
    base, _, rest = url.rpartition("/")
    query = ("?" + rest.split("?", 1)[1]) if "?" in rest else ""
    return f"{base}/{name}{query}"


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_private() -> PgServer | None:
    """A throwaway server of our own (initdb into a temporary directory, a random loopback port)."""
    return _start_private()


def _start_private() -> PgServer | None:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        return None
    bindir = os.path.dirname(bins[-1])
    root = tempfile.mkdtemp(prefix="jixiao-pg-")
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        # PostgreSQL refuses to run as root: run it as the postgres user.
        if shutil.which("runuser") is None:
            return None
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    user = "postgres"
    data = os.path.join(root, "data")
    port = _free_port()
    subprocess.run(
        prefix + [f"{bindir}/initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        prefix
        + [
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(root, "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    server = PgServer(f"postgresql://{user}@127.0.0.1:{port}/postgres", f"private server on port {port}", data_dir=data)

    def stop():
        subprocess.run(prefix + [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    server._cleanup.append(stop)
    return server


def find_server() -> tuple[PgServer | None, str]:
    """A PostgreSQL server and how it was found, or None and why not."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql+psycopg://", "postgresql://")
        if _answers(url):
            return PgServer(url, "TEST_DATABASE_URL"), ""
        return None, f"TEST_DATABASE_URL={url} does not answer"
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if _answers(local):
        return PgServer(local, "127.0.0.1:5432"), ""
    try:
        server = _start_private()
    except Exception as exc:  # initdb/pg_ctl failed
        return None, f"could not start a private PostgreSQL: {exc}"
    if server is None:
        return None, "no PostgreSQL at 127.0.0.1:5432 and no binaries under /usr/lib/postgresql"
    return server, ""
