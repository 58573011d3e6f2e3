"""A throwaway PostgreSQL 15 cluster for the tests (Debian's binaries, `initdb`/`pg_ctl`).

One cluster per test run, shared by the xdist workers (`shared()`: the first worker that needs it
starts it, the last one done stops it; tests/conftest.py's `pg_cluster`): `initdb` in a
temporary folder, the server on 127.0.0.1 and a free port, its socket in that folder, `fsync`
off (the server is never killed: the processes our kill -9 trials kill are its clients). A test
that stops or restarts the server has a cluster of its own (`own_pg_cluster`). Run as root
(CI), it runs as `nobody` — PostgreSQL refuses to run as root. Each test gets a database of its
own (`fresh()`: CREATE DATABASE … TEMPLATE, a few milliseconds, named after its process).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"{BIN / 'initdb'} is missing: apt-get install -y postgresql (.ci/run does)")
        self.root = Path(tempfile.mkdtemp(prefix="newsletter-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "nobody" if os.geteuid() == 0 else None
        if self.user:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, self.user)
        self._names = itertools.count(1)
        self._run(
            BIN / "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        self.options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
        )
        self.start()
        self._run_sql("CREATE DATABASE template_newsletter")

    @classmethod
    def attach(cls, root: str, port: int) -> Cluster:
        """The cluster another process started (and will stop)."""
        self = cls.__new__(cls)
        self.root = Path(root)
        self.data = self.root / "data"
        self.port = port
        self.user = "nobody" if os.geteuid() == 0 else None
        self._names = itertools.count(1)
        return self

    def halt(self) -> None:
        """Stop the server as a crash would (`pg_ctl stop -m immediate`): its clients' connections break.
        This cluster runs with `synchronous_commit=off` (fast tests), so a crash would lose the
        last moments' commits, which a production server (`synchronous_commit=on`) never loses:
        they are written out first (CHECKPOINT)."""
        self._run_sql("CHECKPOINT")
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def start(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.root / "log", "-o", self.options, "-w", "start")

    def restart(self) -> None:
        """A crash and a restart: every open connection is closed, the data stays."""
        self.halt()
        self.start()

    def _run(self, *args: object) -> None:
        proc = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, user=self.user, cwd=self.root, timeout=60
        )
        if proc.returncode:
            raise RuntimeError(f"{args[0]}: {proc.stderr or proc.stdout}")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def _run_sql(self, sql: str, db: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute(sql)

    def fresh(self) -> str:
        """A new empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self._run_sql(f"CREATE DATABASE {name} TEMPLATE template_newsletter")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a test's database (its connections are ended first)."""
        name = url.rsplit("/", 1)[1]
        self._run_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        self._run_sql(f"DROP DATABASE IF EXISTS {name}")

    def stop(self) -> None:
        try:
            self._run(BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def _locked(folder: Path) -> Iterator[Path]:
    """The run's cluster record (`pg.json` in `folder`), held under an exclusive lock."""
    with open(folder / "pg.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder / "pg.json"


@contextmanager
def shared(folder: Path) -> Iterator[Cluster]:
    """The run's cluster (its record in `folder`, a folder every worker of the run sees): started
    by the first process that asks, stopped by the last one to let go."""
    with _locked(folder) as record:
        if record.exists():
            info = json.loads(record.read_text())
            cluster = Cluster.attach(info["root"], info["port"])
        else:
            cluster = Cluster()
            info = {"root": str(cluster.root), "port": cluster.port, "users": 0}
        info["users"] += 1
        record.write_text(json.dumps(info))
    try:
        yield cluster
    finally:
        with _locked(folder) as record:
            info = json.loads(record.read_text())
            info["users"] -= 1
            if info["users"]:
                record.write_text(json.dumps(info))
            else:
                record.unlink()
                cluster.stop()


def stop_shared(folder: Path) -> None:
    """Stop the run's cluster if a worker that died left it running (the run's end)."""
    if not (folder / "pg.lock").exists():
        return
    with _locked(folder) as record:
        if record.exists():
            info = json.loads(record.read_text())
            record.unlink()
            Cluster.attach(info["root"], info["port"]).stop()
