"""`newsletter send` under real faults: a server that stores a message and then drops the
connection or answers late, one killed and restarted mid-run, one that refuses connections,
`send` itself killed at random moments, damaged send logs, and runs from another directory.

Every check counts what the server *stored* (a spool folder written before it replies), never
what it logged or what `send` said.
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
from helpers.smtp_server import free_port
from helpers.spool_smtp import stored

HERE = Path(__file__).resolve().parent
TRIALS = int(os.environ.get("NEWSLETTER_KILL_TRIALS", "12"))
SEED = int(os.environ.get("NEWSLETTER_KILL_SEED", "20261130"))


def trials(count: int, quick: int) -> list:
    """Trial numbers; all but the first `quick` are marked slow (`make test-slow` runs them)."""
    return [pytest.param(n, marks=[pytest.mark.slow] if n >= quick else []) for n in range(count)]


BULLETIN = """26 August 2021

Peru Opens Two Border Shelters

The shelters in Tumbes hold 300 beds.

24 August 2021

Peruvian Volunteers Train in Lima

Forty volunteers finished the course.
"""


class SpoolServer:
    """tests/helpers/spool_smtp.py in its own process, on a fixed port so that it can be restarted."""

    def __init__(self, spool: Path, *flags: str) -> None:
        self.spool = spool
        self.flags = flags
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> SpoolServer:
        ready = self.spool.parent / f"ready-{self.port}"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "helpers" / "spool_smtp.py"),
                str(self.port),
                str(self.spool),
                "--ready",
                str(ready),
                *self.flags,
            ],
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert time.monotonic() < deadline, "the SMTP server did not start"
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> SpoolServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill()

    def counts(self) -> dict[str, int]:
        return stored(self.spool)


class Site:
    """A site folder (config, bulletins, subscribers) driven by the real CLI in subprocesses,
    run from `cwd` with `--config site/newsletter.toml` unless told otherwise."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "site"
        (self.dir / "bulletins").mkdir(parents=True)
        (self.dir / "bulletins" / "peru.txt").write_text(BULLETIN)
        self.elsewhere = root / "elsewhere"
        self.elsewhere.mkdir()
        self.env = {**os.environ, "NEWSLETTER_SECRET": "k"}

    def configure(self, port: int, **smtp: float) -> None:
        options = {"retry_delay": 0.01, "timeout": 5, **smtp}
        (self.dir / "newsletter.toml").write_text(
            'base_url = "https://news.example.org/"\n'
            '[newsletter]\ndelivery = "lists"\nfrom_address = "news@example.org"\nunsubscribe_url = "https://news.example.org/unsubscribe"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
            + "".join(f"{k} = {v}\n" for k, v in options.items())
        )

    def subscribers(self, emails: list[str], lists: str = "pe") -> None:
        (self.dir / "subscribers.csv").write_text("email,countries,name\n" + "".join(f"{e},{lists},\n" for e in emails))

    def cli(self, *args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "newsletter", *args, "--config", str(self.dir / "newsletter.toml")],
            cwd=cwd or self.elsewhere,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )

    def spawn_send(self) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsletter",
                "send",
                "--country",
                "pe",
                "--config",
                str(self.dir / "newsletter.toml"),
            ],
            cwd=self.elsewhere,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            start_new_session=True,
        )

    def status(self) -> dict[str, str]:
        """email → status, from `newsletter status` (what the operator is told)."""
        run = self.cli("status", "--country", "pe", "--issue", "2021-W34")
        assert run.returncode == 0, run.stderr
        return {line.split()[0]: line.split()[1] for line in run.stdout.splitlines() if "@" in line}

    def send_until_settled(self, runs: int = 6) -> list[subprocess.CompletedProcess]:
        """Rerun `send` as an operator would until a run has nothing left to try."""
        done = []
        for _ in range(runs):
            run = self.cli("send", "--country", "pe")
            done.append(run)
            assert "Traceback" not in run.stderr, run.stderr
            if run.returncode == 0:
                break
        return done


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    return s


def _assert_exactly_once(
    site: Site, server: SpoolServer, emails: list[str], *, pending_ok: bool = False
) -> dict[str, str]:
    """Nobody stored twice; everyone stored or reported uncertain (or, after a stop, still
    pending and stored nowhere); whoever is recorded as sent was stored."""
    counts = server.counts()
    assert max(counts.values(), default=0) <= 1, f"stored twice: {counts}"
    status = site.status()
    for email in emails:
        if pending_ok and status.get(email) == "pending":
            assert email not in counts
            continue
        assert status.get(email) in ("sent", "uncertain"), (email, status.get(email))
        if status[email] == "sent":
            assert counts.get(email) == 1, f"{email} recorded as sent but the server has nothing"
    return status


def test_server_that_stores_then_drops_the_connection_never_gets_a_message_twice(site, tmp_path, backend):
    backend.seed(site.dir / ".newsletter")  # on SQLite and on PostgreSQL
    emails = [f"r{n}@example.org" for n in range(7)]
    with SpoolServer(tmp_path / "spool", "--drop-after-store", "3") as server:
        site.configure(server.port)
        site.subscribers(emails)
        assert site.cli("build").returncode == 0
        first = site.cli("send", "--country", "pe")
        assert first.returncode == 1
        assert first.stderr.count("uncertain: no reply after the message was sent") == 2
        runs = site.send_until_settled()
        assert runs[-1].returncode == 0 and "left from earlier runs: 0 failed, 2 uncertain" in runs[-1].stderr
        status = _assert_exactly_once(site, server, emails)
    assert sorted(e for e, s in status.items() if s == "uncertain") == ["r2@example.org", "r5@example.org"]
    assert server.counts() == {e: 1 for e in emails}  # the uncertain ones were in fact stored: not resent


def test_reply_after_the_timeout_is_uncertain_and_not_resent(site, tmp_path):
    emails = ["a@example.org", "b@example.org"]
    with SpoolServer(tmp_path / "spool", "--reply-delay", "1.5") as server:
        site.configure(server.port, timeout=0.5)
        site.subscribers(emails)
        site.cli("build")
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 1 and "2 uncertain" in run.stderr
        assert site.cli("send", "--country", "pe").returncode == 0
        status = _assert_exactly_once(site, server, emails)
    assert set(status.values()) == {"uncertain"}
    assert server.counts() == {"a@example.org": 1, "b@example.org": 1}


@pytest.mark.slow_on_postgresql
@pytest.mark.parametrize("trial", trials(6, quick=1))
def test_server_killed_and_restarted_mid_run(site, tmp_path, trial, backend):
    backend.seed(site.dir / ".newsletter")  # on SQLite and on PostgreSQL
    rng = random.Random(SEED + trial)
    emails = [f"k{n:02d}@example.org" for n in range(30)]
    server = SpoolServer(tmp_path / "spool", "--reply-delay", "0.02").start()
    try:
        site.configure(server.port)
        site.subscribers(emails)
        site.cli("build")
        proc = site.spawn_send()
        target = rng.randint(3, 20)
        deadline = time.monotonic() + 30
        while sum(server.counts().values()) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        server.kill()  # kill -9, mid-run
        time.sleep(rng.uniform(0.0, 0.3))
        server.start()
        _, err = proc.communicate(timeout=30)
        assert "Traceback" not in err, err
        site.send_until_settled()
        status = _assert_exactly_once(site, server, emails)
    finally:
        server.kill()
    assert sum(1 for s in status.values() if s == "uncertain") <= 1  # only the message caught by the kill


def test_refused_connections_stop_the_run_within_seconds(site):
    emails = [f"x{n}@example.org" for n in range(200)]
    site.configure(free_port(), retry_delay=0.2)
    site.subscribers(emails)
    site.cli("build")
    started = time.monotonic()
    run = site.cli("send", "--country", "pe")
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if "cannot reach the SMTP server" in line]
    assert len(lines) == 1 and "Connection refused" in lines[0] and "3 tries in a row" in lines[0]
    assert elapsed < 10, f"an unreachable server held the run for {elapsed:.1f} s"
    assert "Traceback" not in run.stderr
    assert set(site.status().values()) == {"pending"}  # nothing recorded as sent or failed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_a_run_waiting_on_the_server_within_two_seconds(site, tmp_path, sig):
    emails = ["slow1@example.org", "slow2@example.org"]
    with SpoolServer(tmp_path / "spool", "--reply-delay", "20") as server:
        site.configure(server.port, timeout=30)
        site.subscribers(emails)
        site.cli("build")
        proc = site.spawn_send()
        deadline = time.monotonic() + 20
        while not server.counts() and time.monotonic() < deadline:
            time.sleep(0.01)
        asked = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - asked
        assert took < 2.0, f"stopping took {took:.2f} s"
        assert "Traceback" not in err and proc.returncode == 1
        status = _assert_exactly_once(site, server, emails, pending_ok=True)
    assert status == {"slow1@example.org": "uncertain", "slow2@example.org": "pending"}


def test_a_stop_signal_ends_a_run_in_back_off_within_two_seconds(site):
    site.configure(free_port(), retry_delay=30, max_connect_failures=5)
    site.subscribers(["a@example.org"])
    site.cli("build")
    proc = site.spawn_send()
    while "retrying in" not in proc.stderr.readline():  # refused once: now waiting 30 s before the next try
        assert proc.poll() is None
    # the line is out, but the write may not have returned yet: a stop then lands in the logging
    # call, not in the back-off (send's signal handler logs: "reentrant call inside
    # BufferedWriter", reported). The back-off is 30 s: 0.2 s later it is surely waiting.
    time.sleep(0.2)
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - asked < 2.0
    assert "Traceback" not in err and "stopped early" in err


@pytest.mark.slow_on_postgresql  # make test kills senders on PostgreSQL in test_pg_senders.py and test_send.py
@pytest.mark.parametrize("trial", trials(TRIALS, quick=2))
def test_send_killed_at_random_moments_never_sends_twice(site, tmp_path, trial, backend):
    backend.seed(site.dir / ".newsletter")  # on SQLite and on PostgreSQL
    rng = random.Random(SEED * 31 + trial)
    emails = [f"z{n:02d}@example.org" for n in range(25)]
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.01") as server:
        site.configure(server.port)
        site.subscribers(emails)
        site.cli("build")
        kills = 0
        for _ in range(2):
            proc = site.spawn_send()
            time.sleep(rng.uniform(0.2, 1.2))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.communicate()
        site.send_until_settled()
        status = _assert_exactly_once(site, server, emails)
    assert sum(1 for s in status.values() if s == "uncertain") <= kills


# -- one state wherever it runs ----------------------------------------------------------------
def test_build_send_unsubscribe_from_another_directory_share_one_state(site, tmp_path):
    emails = ["stay@example.org", "left@example.org"]
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(emails)
        assert site.cli("build").returncode == 0
        assert (site.dir / "feeds" / "pe" / "atom.xml").exists()  # out = "feeds" next to the config file
        assert site.cli("unsubscribe", "left@example.org").returncode == 0
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == {"stay@example.org": 1}
        # From the site's own folder (and with a relative --config) it is the same state.
        again = subprocess.run(
            [sys.executable, "-m", "newsletter", "send", "--country", "pe"],
            cwd=site.dir,
            capture_output=True,
            text=True,
            env=site.env,
        )
        assert again.returncode == 0 and "0 sent, 1 already sent, 1 unsubscribed" in again.stderr
    assert not any(site.elsewhere.iterdir()), "a run from another directory left files there"
    assert (site.dir / ".newsletter" / "sendlog.sqlite3").exists()
    assert server.counts() == {"stay@example.org": 1}


def test_command_line_paths_are_relative_to_the_current_directory(site, tmp_path):
    site.configure(free_port())
    run = site.cli("build", "--out", "here-out", "--state", "here-state")
    assert run.returncode == 0, run.stderr
    assert (site.elsewhere / "here-out" / "index.html").exists() and (site.elsewhere / "here-state").is_dir()


# -- a send log that lost its memory is refused ------------------------------------------------
@pytest.mark.parametrize("damage", ["empty", "garbage", "missing", "truncated"])
def test_a_lost_or_damaged_send_log_stops_send_and_unsubscribe(site, tmp_path, damage):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["a@example.org", "b@example.org"])
        site.cli("build")
        assert site.cli("send", "--country", "pe").returncode == 0
        log = site.dir / ".newsletter" / "sendlog.sqlite3"
        if damage == "empty":
            log.write_bytes(b"")
        elif damage == "garbage":
            log.write_bytes(b"this is not a database" * 300)
        elif damage == "missing":
            log.unlink()
        else:
            log.write_bytes(log.read_bytes()[:1500])
        for command in (["send", "--country", "pe"], ["unsubscribe", "a@example.org"], ["send", "--due"]):
            run = site.cli(*command)
            assert run.returncode == 2, (command, run.stderr)
            assert "Traceback" not in run.stderr
            [line] = run.stderr.strip().splitlines()
            assert str(log) in line and "restore it from a backup" in line
        assert server.counts() == {"a@example.org": 1, "b@example.org": 1}


def test_a_new_state_folder_starts_a_send_log(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["a@example.org"])
        site.cli("build", "--state", str(tmp_path / "fresh"))
        assert site.cli("send", "--country", "pe", "--state", str(tmp_path / "fresh")).returncode == 0
        assert server.counts() == {"a@example.org": 1}
    assert (tmp_path / "fresh" / "sendlog.id").exists()


def test_backup_and_restore_keep_every_delivery_and_unsubscribe(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["a@example.org", "gone@example.org"])
        site.cli("build")
        site.cli("unsubscribe", "gone@example.org")
        assert site.cli("send", "--country", "pe").returncode == 0
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        backup = tmp_path / "backup"
        assert site.cli("backup", str(backup)).returncode == 0
        state = site.dir / ".newsletter"
        (state / "sendlog.sqlite3").unlink()
        (state / "subscribers.sqlite3").write_bytes(b"")
        assert site.cli("send", "--country", "pe").returncode == 2
        for name in ("sendlog.sqlite3", "sendlog.id", "subscribers.sqlite3", "subscribers.id"):
            (state / name).write_bytes((backup / name).read_bytes())
        for stale in state.glob("sendlog.sqlite3-*"):
            stale.unlink()
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0 and "0 sent, 1 already sent" in run.stderr  # gone@ left: not a recipient
        assert server.counts() == {"a@example.org": 1}
        assert "gone@example.org" in site.cli("subscribers", "list").stdout  # the store came back too


def test_a_send_log_of_the_previous_version_is_migrated(site, tmp_path):
    from newsletter.send.sendlog import MIGRATIONS

    state = site.dir / ".newsletter"
    state.mkdir()
    db = sqlite3.connect(state / "sendlog.sqlite3")
    db.executescript(MIGRATIONS[1])
    db.execute("INSERT INTO deliveries VALUES ('pe/2021-W34', 'old@example.org', 'sent', '<x>', '', '2021-08-30')")
    db.execute("INSERT INTO suppressions VALUES ('quit@example.org', '*', '2021-08-30')")
    db.commit()
    db.close()
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["old@example.org", "quit@example.org", "new@example.org"])
        site.cli("build")
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0, run.stderr
        assert server.counts() == {"new@example.org": 1}


def test_two_sends_on_one_state_folder_never_overlap(site, tmp_path):
    with SpoolServer(tmp_path / "spool", "--reply-delay", "20") as server:
        site.configure(server.port, timeout=30)
        site.subscribers(["a@example.org", "b@example.org"])
        site.cli("build")
        first = site.spawn_send()
        deadline = time.monotonic() + 20
        while not server.counts() and time.monotonic() < deadline:
            time.sleep(0.01)
        second = site.cli("send", "--country", "pe")
        assert second.returncode == 2 and "another `newsletter send` is running" in second.stderr
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=10)
        assert server.counts() == {"a@example.org": 1}


def test_the_stop_line_is_written_safely_from_the_signal_handler(capfd, monkeypatch):
    """A stop signal can land while stderr's buffer is being written; the handler's line must
    not go through that buffer (a reentrant write was "--- Logging error ---" and a traceback)."""
    from newsletter.send.deliver import StopControl

    class Busy:  # stands for sys.stderr in the middle of a write
        def write(self, text):
            raise RuntimeError("reentrant call inside <_io.BufferedWriter name='<stderr>'>")

        def flush(self):
            raise RuntimeError("reentrant call")

    control = StopControl()
    control.phase = "recording"  # the outcome is being written: the stop is only noted
    monkeypatch.setattr(sys, "stderr", Busy())
    control._on_signal(signal.SIGTERM, None)
    control._on_signal(signal.SIGTERM, None)
    monkeypatch.undo()
    err = capfd.readouterr().err
    assert control.requested
    assert err.count("newsletter: stopping (the message in progress is finished or left untouched)") == 1
    assert "Logging error" not in err and "Traceback" not in err
