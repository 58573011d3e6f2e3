"""docs/subscriptions.md: the PostgreSQL password is given in `PGPASSWORD` or in `~/.pgpass` (libpq
reads both; the URL then names no password), or in the URL, shown as `***` in messages. Tested
on the run's cluster, with a role of this test's own that must give a password (scram-sha-256,
a pg_hba.conf line for that role and database alone, put first and taken back after)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from helpers.pgcluster import SUPERUSER
from helpers.smtp_server import free_port

SECRET = "c0rrect-h0rse"


def _sql(url: str, sql: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture
def password_db(pg_cluster, pg_url) -> Iterator[str]:
    """The URL (no password in it) of a database owned by a role that must give SECRET."""
    db = pg_url.rsplit("/", 1)[1]
    role = f"pw_{db}"
    _sql(pg_url, f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    _sql(pg_url, f"ALTER DATABASE {db} OWNER TO {role}")
    hba = pg_cluster.data / "pg_hba.conf"
    rule = f"host {db} {role} 127.0.0.1/32 scram-sha-256\n"
    url = pg_url.replace(f"//{SUPERUSER}@", f"//{role}@")

    def edit(change) -> None:
        with open(pg_cluster.root / "hba.lock", "a") as lock:  # other workers' tests may do the same
            fcntl.flock(lock, fcntl.LOCK_EX)
            text = hba.read_text()
            hba.write_text(change(text))
            _sql(pg_cluster.url(), "SELECT pg_reload_conf()")

    edit(lambda text: rule + text)
    try:
        deadline = time.monotonic() + 10
        while True:  # the postmaster reads the file again when it gets to the signal
            try:
                psycopg.connect(url, autocommit=True, connect_timeout=5).close()
            except psycopg.OperationalError as exc:
                assert "password" in str(exc), exc
                break
            assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
            time.sleep(0.02)
        yield url
    finally:
        edit(lambda text: text.replace(rule, ""))
        _sql(pg_cluster.url(), f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        _sql(pg_cluster.url(), f"ALTER DATABASE {db} OWNER TO {SUPERUSER}")
        _sql(pg_url, f"REASSIGN OWNED BY {role} TO {SUPERUSER}")
        _sql(pg_url, f"DROP OWNED BY {role}")
        _sql(pg_cluster.url(), f"DROP ROLE {role}")


def _cli(root: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    config = root / "newsletter.toml"
    config.write_text(f'base_url = "https://news.example.org/"\ndatabase = "{url}"\n[smtp]\nport = {free_port()}\n')
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "NEWSLETTER_SECRET": "k", "HOME": str(root), **env},
    )


def _state_files(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".pgpass")


def test_the_database_password_is_taken_from_pgpassword_or_pgpass_never_written(tmp_path, password_db):
    # without a password: refused, one line, exit 2 — nothing created
    run = _cli(tmp_path, password_db, "unsubscribe", "gone@example.org")
    assert run.returncode == 2, run
    [line] = run.stderr.strip().splitlines()
    assert "cannot connect" in line and "password" in line, line
    # a wrong one: refused the same way, and never shown
    run = _cli(tmp_path, password_db, "unsubscribe", "gone@example.org", PGPASSWORD="wrong-one")
    assert run.returncode == 2 and "cannot connect" in run.stderr and "wrong-one" not in run.stderr, run
    # PGPASSWORD: accepted; the store and the send log are made in that database
    run = _cli(tmp_path, password_db, "unsubscribe", "gone@example.org", PGPASSWORD=SECRET)
    assert run.returncode == 0, run
    run = _cli(tmp_path, password_db, "subscribers", "list", PGPASSWORD=SECRET)
    assert run.returncode == 0, run
    # ~/.pgpass (mode 600) of the user that runs newsletter, without PGPASSWORD
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"127.0.0.1:*:*:{password_db.split('//', 1)[1].split('@', 1)[0]}:{SECRET}\n")
    pgpass.chmod(0o600)
    assert _cli(tmp_path, password_db, "subscribers", "list").returncode == 0
    # the URL names no password, so neither the config nor the state folder holds it
    assert SECRET.encode() not in _state_files(tmp_path)
    assert any(p.suffix == ".pg-id" for p in tmp_path.rglob("*"))


def test_a_password_in_the_url_is_accepted_and_shown_as_stars(tmp_path, password_db):
    with_password = password_db.replace("@", f":{SECRET}@", 1)
    assert _cli(tmp_path, with_password, "unsubscribe", "gone@example.org").returncode == 0
    wrong = password_db.replace("@", ":not-it@", 1)
    (other := tmp_path / "other").mkdir()
    run = _cli(other, wrong, "subscribers", "list")
    assert run.returncode == 2 and "not-it" not in run.stderr and ":***@" in run.stderr, run
