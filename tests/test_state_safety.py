"""State safety (#17 item 7): two processes creating one send log at once (seeded trials), `backup
--restore` refusing while anything runs and replacing the files itself, a disk that fills during a
send (a real small tmpfs), rows that pass the integrity check but do not decode, and bulletin
folders holding a FIFO, a link loop or an unreadable sub-folder: one line each, never a hang.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.serve_process import running_serve
from helpers.smtp_server import free_port
from test_send_faults import SEED, Site, SpoolServer

HERE = Path(__file__).resolve().parent
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: mount a tmpfs, run as another user (CI is root)")

OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from newsletter.send.sendlog import SendLog
go = Path(sys.argv[2])
while not go.exists():
    pass
time.sleep(float(sys.argv[3]))
SendLog(Path(sys.argv[1])).close()
"""


def _trials(count: int, quick: int) -> list:
    return [pytest.param(n, marks=[pytest.mark.slow] if n >= quick else []) for n in range(count)]


@pytest.mark.parametrize("trial", _trials(30, 2))
def test_two_processes_creating_one_send_log_at_once_leave_it_usable(tmp_path, trial):
    rng = random.Random(SEED * 31 + trial)
    state, go = tmp_path / "state", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(state), str(go), f"{rng.random() * 0.003:.4f}"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.6)  # both are spinning on the go file by now
    go.write_text("go")
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    from newsletter.send.sendlog import SCHEMA_VERSION, SendLog

    log = SendLog(state)  # refused before #17 in 7 of 30 trials ("duplicate column name")
    assert log.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    log.close()
    db_id = (state / "sendlog.id").read_text().split()[0]
    db = sqlite3.connect(state / "sendlog.sqlite3")
    assert db.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()[0] == db_id  # one id, both agree
    db.close()


# -- backup --restore ---------------------------------------------------------------------------
@pytest.fixture
def site(tmp_path):
    return Site(tmp_path)


def _restore(site: Site, backup: Path) -> subprocess.CompletedProcess:
    return site.cli("backup", "--restore", str(backup))


def test_restore_refuses_while_a_send_runs_and_replaces_the_files_itself(site, tmp_path):
    state = site.dir / ".newsletter"
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["a@example.org", "b@example.org"])
        site.cli("build")
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        assert site.cli("send", "--country", "pe").returncode == 0
        backup = tmp_path / "backup"
        assert site.cli("backup", str(backup)).returncode == 0
        # afterwards: c@ joins and is sent the issue, a@ leaves; then the databases are restored
        assert site.cli("subscribers", "add", "c@example.org", "--country", "pe").returncode == 0
        assert site.cli("unsubscribe", "a@example.org").returncode == 0
        assert site.cli("send", "--country", "pe").returncode == 0
        assert any(state.glob("*-wal"))
    with SpoolServer(tmp_path / "spool-slow", "--reply-delay", "20") as slow:
        site.configure(slow.port, timeout=30)
        site.subscribers(["d@example.org"])
        site.cli("subscribers", "import", str(site.dir / "subscribers.csv"))
        sending = site.spawn_send()
        deadline = time.monotonic() + 20
        while not slow.counts() and time.monotonic() < deadline:
            time.sleep(0.01)
        run = _restore(site, backup)
        assert run.returncode == 2 and "a `newsletter send` is running" in run.stderr, run.stderr
        sending.send_signal(signal.SIGTERM)
        sending.communicate(timeout=10)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("sendlog.sqlite3", "sendlog.id"):
        (damaged / name).write_bytes((backup / name).read_bytes()[:3000] if name.endswith("3") else b"x")
    run = _restore(site, damaged)
    assert run.returncode == 2 and "damaged" in run.stderr and "nothing was restored" in run.stderr, run.stderr
    run = _restore(site, backup)
    assert run.returncode == 0, run.stderr
    assert not any(state.glob("*-wal")) and not any(state.glob("*-shm")) and not any(state.glob(".*.restoring"))
    out = site.cli("subscribers", "list").stdout
    assert "c@example.org" not in out and "a@example.org" in out.split("subscribed")[0] + out  # as backed up
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert rows["a@example.org"] == "subscribed"
    status = site.status()
    assert status == {"a@example.org": "sent", "b@example.org": "sent"}


def test_restore_refuses_while_watch_or_serve_runs(site, tmp_path):
    site.configure(1)
    path = site.dir / "newsletter.toml"
    path.write_text(
        path.read_text().replace(
            "[newsletter]\n", '[newsletter]\npublic_url = "https://news.example.org/newsletter/"\n', 1
        )
    )
    site.subscribers(["a@example.org"])
    assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
    site.cli("build")
    site.cli("send", "--country", "pe")  # nothing reachable: a send log all the same
    backup = tmp_path / "backup"
    assert site.cli("backup", str(backup)).returncode == 0
    watch = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "watch", "--config", str(path)],
        cwd=site.elsewhere,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=site.env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            run = _restore(site, backup)
            if run.returncode == 2 and "build or watch" in run.stderr:
                break
            assert time.monotonic() < deadline, run.stderr
            time.sleep(0.2)
    finally:
        watch.send_signal(signal.SIGTERM)
        watch.communicate(timeout=20)
    port = free_port()
    with running_serve(site.dir, port, env=site.env):
        run = _restore(site, backup)
        assert run.returncode == 2 and "`newsletter serve` is running" in run.stderr, run.stderr
    assert _restore(site, backup).returncode == 0


# -- a full disk during a send -------------------------------------------------------------------
@ROOT_ONLY
def test_a_disk_that_fills_during_a_send_is_one_line_and_nobody_gets_it_twice(site, tmp_path):
    people = [f"r{n:03}@example.org" for n in range(150)]
    state = site.dir / ".newsletter"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(state)], check=True)
    try:
        with SpoolServer(tmp_path / "spool") as server:
            site.configure(server.port)
            site.subscribers(people)
            assert site.cli("build").returncode == 0
            assert site.cli("status").returncode == 0  # no send log yet: "nothing sent yet"
            site.cli("unsubscribe", "nobody@example.org")  # creates the send log
            free = os.statvfs(state)
            filler = state / "filler"
            filler.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 96 * 1024))  # ~24 pages left
            run = site.cli("send", "--country", "pe")
            assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
            [line] = [x for x in run.stderr.splitlines() if x.strip()]
            assert "the disk is full" in line and "run it again" in line
            first = server.counts()
            assert 0 < len(first) < len(people) and max(first.values()) == 1
            filler.unlink()
            for _ in range(3):
                run = site.cli("send", "--country", "pe")
                assert "Traceback" not in run.stderr, run.stderr
            counts = server.counts()
            assert max(counts.values()) == 1  # nobody twice
            status = site.status()
            for email in people:
                assert status[email] in ("sent", "uncertain"), (email, status[email])
                if status[email] == "sent":
                    assert counts.get(email) == 1
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


# -- damaged rows --------------------------------------------------------------------------------
def test_rows_that_do_not_decode_are_one_line_naming_the_database(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["a@example.org", "b@example.org"])
        site.cli("build")
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        assert site.cli("send", "--country", "pe").returncode == 0
    state = site.dir / ".newsletter"
    for name, statement, commands in (
        (
            "sendlog.sqlite3",
            "UPDATE deliveries SET email = CAST(X'fffe41' AS TEXT) WHERE email = 'a@example.org'",
            [["send", "--country", "pe"], ["status"], ["status", "--country", "pe", "--issue", "2021-W34"]],
        ),
        (
            "subscribers.sqlite3",
            "UPDATE subscribers SET name = CAST(X'c328' AS TEXT)",
            [["subscribers", "list"], ["send", "--country", "pe"]],
        ),
    ):
        db = sqlite3.connect(state / name)
        db.execute(statement)
        db.commit()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # the check does not see it
        db.close()
        for command in commands:
            run = site.cli(*command)
            assert run.returncode == 2 and "Traceback" not in run.stderr, (command, run.stderr)
            [line] = [x for x in run.stderr.splitlines() if x.strip() and "is not read" not in x]
            assert f"{name}: the" in line and "damaged row" in line and "restore it from a backup" in line, line


# -- bulletin folders ----------------------------------------------------------------------------
BULLETIN = "26 August 2021\n\nPeru Opens Two Border Shelters\n\nThe shelters in Tumbes hold 300 beds.\n"


def _build(cwd: Path, *extra: str, user: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "newsletter", "build", "bulletins", "--base-url", "https://news.example.org/", *extra]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_a_fifo_and_a_link_loop_among_the_bulletins_are_one_line_each_and_the_rest_is_published(tmp_path):
    folder = tmp_path / "bulletins"
    folder.mkdir()
    (folder / "peru.txt").write_text(BULLETIN)
    os.mkfifo(folder / "pipe.txt")
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("nowhere.txt", folder / "dangling.md")
    run = _build(tmp_path, timeout=60)  # before #17: waits on the FIFO for ever, holding the build lock
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1  # the loop and the dangling link are errors; the FIFO a warning
    lines = run.stderr.splitlines()
    assert "bulletins/pipe.txt: warning: a FIFO, not a bulletin file; skipped (never opened)" in lines
    assert "bulletins/loop.txt: a symbolic link loop; skipped" in lines
    assert "bulletins/dangling.md: a symbolic link to nothing (nowhere.txt); skipped" in lines
    assert "Peru Opens Two Border Shelters" in (tmp_path / "feeds" / "pe" / "atom.xml").read_text()
    again = _build(tmp_path, timeout=60)  # the lock was let go
    assert again.returncode == 1 and "Traceback" not in again.stderr
    watch = subprocess.run(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--once", "--base-url", "https://news.example.org/"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in watch.stderr and "pipe.txt" in watch.stderr, watch.stderr


@ROOT_ONLY
def test_an_unreadable_sub_folder_is_said_not_silently_skipped(tmp_path):
    import shutil
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="newsletter-test-"))
    try:
        os.chmod(shared, 0o777)
        (shared / "bulletins" / "locked").mkdir(parents=True)
        (shared / "bulletins" / "peru.txt").write_text(BULLETIN)
        (shared / "bulletins" / "locked" / "more.txt").write_text(BULLETIN.replace("Two", "Three"))
        os.chmod(shared / "bulletins", 0o755)
        os.chmod(shared / "bulletins" / "locked", 0o700)  # root's: the build runs as nobody
        run = _build(shared, user=True)
        assert "Traceback" not in run.stderr, run.stderr
        assert (
            "bulletins/locked: cannot read this folder (Permission denied); the bulletins in it are not "
            "published" in run.stderr
        )
        assert run.returncode == 1
        assert "Peru Opens Two Border Shelters" in (shared / "feeds" / "pe" / "atom.xml").read_text()
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_fifo_dropped_into_a_watched_folder_never_stops_the_daemon(tmp_path):
    folder = tmp_path / "bulletins"
    folder.mkdir()
    (folder / "peru.txt").write_text(BULLETIN)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--base-url", "https://news.example.org/"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def published(path: Path, text: str, timeout: float = 30) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if path.exists() and text in path.read_text():
                    return True
                time.sleep(0.1)
            return False

        assert published(tmp_path / "feeds" / "pe" / "atom.xml", "Border Shelters")
        os.mkfifo(folder / "pipe.txt")  # a stranger's FIFO: reading it would wait for a writer for ever
        time.sleep(0.5)
        os.utime(folder / "pipe.txt")  # "changed" again
        time.sleep(0.5)
        (folder / "mexico.txt").write_text(BULLETIN.replace("Peru", "Mexico").replace("Tumbes", "Tijuana"))
        assert published(tmp_path / "feeds" / "mx" / "atom.xml", "Mexico Opens Two Border Shelters")
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert "Traceback" not in err, err
    run = _build(tmp_path, timeout=60)  # the daemon let the build lock go
    assert "Traceback" not in run.stderr and "another newsletter build" not in run.stderr
