"""Several senders on one PostgreSQL database — as on three machines, each with a state folder
of its own — send each message exactly once and together reach everyone (`send` and `send
--due` at once), counted in what a real SMTP server (tests/helpers/spool_smtp.py) stored."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_send_faults import SEED, Site, SpoolServer, trials


def _hosts(site: Site, url: str, port: int, emails: list[str], hosts: int = 3, delivery: str = "lists") -> list[str]:
    site.configure(port)
    config = site.dir / "newsletter.toml"
    config.write_text(
        f'database = "{url}"\n' + config.read_text().replace('delivery = "lists"\n', f'delivery = "{delivery}"\n')
    )
    (site.dir / "in.csv").write_text("email,countries,name\n" + "".join(f"{e},pe,\n" for e in emails))
    assert site.cli("subscribers", "import", str(site.dir / "in.csv")).returncode == 0
    states = [str(site.root / f"host{n}") for n in range(hosts)]
    for state in states:
        run = site.cli("build", "--state", state)
        assert run.returncode == 0, run.stderr
    return states


def _spawn(site: Site, state: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsletter",
            "send",
            *args,
            "--state",
            state,
            "--config",
            str(site.dir / "newsletter.toml"),
        ],
        cwd=site.elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=site.env,
        start_new_session=True,
    )


def test_three_senders_on_one_database_send_each_message_once_and_reach_everyone(tmp_path, pg_url):
    emails = [f"m{n:03d}@example.org" for n in range(90)]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.01") as server:
        states = _hosts(site, pg_url, server.port, emails)
        procs = [
            _spawn(site, states[0], "--country", "pe"),
            _spawn(site, states[1], "--country", "pe"),
            _spawn(site, states[2], "--due", "--now", "2021-09-01T12:00"),
        ]
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (_, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0 and "Traceback" not in err, err
        counts = server.counts()
    assert counts == {e: 1 for e in emails}  # everyone, nobody twice
    sent = [int(err.strip().splitlines()[-1].split(" sent")[0].rsplit(" ", 1)[-1]) for _, err in results]
    assert sum(sent) == len(emails), [err for _, err in results]  # shared out, none sent twice
    status = site.cli("status", "--country", "pe", "--issue", "2021-W34", "--state", states[0])
    assert status.stdout.count(" sent") >= len(emails), status.stdout


@pytest.mark.slow
def test_three_due_runs_of_digests_on_one_database_send_each_digest_once(tmp_path, pg_url):
    emails = [f"d{n:03d}@example.org" for n in range(60)]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.01") as server:
        states = _hosts(site, pg_url, server.port, emails, delivery="digest")
        procs = [_spawn(site, state, "--due", "--now", "2021-09-01T12:00") for state in states]
        results = [p.communicate(timeout=120) for p in procs]
        for proc, (_, err) in zip(procs, results, strict=True):
            assert proc.returncode == 0 and "Traceback" not in err, err
        counts = server.counts()
    assert counts == {e: 1 for e in emails}


@pytest.mark.parametrize("trial", trials(6, quick=1))
def test_senders_killed_at_random_moments_beside_others_never_send_twice(tmp_path, pg_url, trial):
    rng = random.Random(SEED * 7 + trial)
    emails = [f"k{n:03d}@example.org" for n in range(40)]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.02") as server:
        states = _hosts(site, pg_url, server.port, emails, hosts=2)
        victim, other = _spawn(site, states[0], "--country", "pe"), _spawn(site, states[1], "--country", "pe")
        time.sleep(rng.uniform(0.3, 1.0))
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)  # its advisory locks go with its connection
        victim.communicate()
        _, err = other.communicate(timeout=120)
        assert "Traceback" not in err, err
        run = site.cli("send", "--country", "pe", "--state", states[1])  # what an operator reruns
        assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr
        counts = server.counts()
    assert max(counts.values()) == 1, counts
    status = site.cli("status", "--country", "pe", "--issue", "2021-W34", "--state", states[1]).stdout
    uncertain = [e for e in emails if f"{e} uncertain" in " ".join(status.split())]
    assert len(uncertain) <= 1  # only a message the kill caught after its final "."
    assert set(counts) | set(uncertain) == set(emails) and set(uncertain) <= set(counts) | set(uncertain)


def test_a_database_connection_lost_mid_send_is_one_line_and_nobody_gets_it_twice(tmp_path, pg_url):
    import psycopg

    emails = [f"c{n:03d}@example.org" for n in range(30)]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.05") as server:
        [state] = _hosts(site, pg_url, server.port, emails, hosts=1)
        proc = _spawn(site, state, "--country", "pe")
        deadline = time.monotonic() + 30
        while sum(server.counts().values()) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        with psycopg.connect(pg_url, autocommit=True) as conn:  # the server drops every connection of the sender
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and "Traceback" not in err, err
        assert "database failed" in err.strip().splitlines()[-1], err
        site.cli("send", "--country", "pe", "--state", state)
        counts = server.counts()
    assert counts == {e: 1 for e in emails}  # an uncertain one (reply taken, not recorded) was stored once


@pytest.mark.parametrize(
    "damage", ["TRUNCATE sendlog.deliveries", "DELETE FROM sendlog.deliveries WHERE email < 'm010'"]
)
def test_a_send_log_that_lost_rows_is_refused_not_sent_again(tmp_path, pg_url, damage):
    import psycopg

    emails = [f"m{n:03d}@example.org" for n in range(20)]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool") as server:
        [state] = _hosts(site, pg_url, server.port, emails, hosts=1)
        first = _spawn(site, state, "--country", "pe")
        assert first.communicate(timeout=120) and first.returncode == 0
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(damage)  # the db_id in meta survives
        again = _spawn(site, state, "--due", "--now", "2021-09-01T12:00")
        _, err = again.communicate(timeout=120)
        counts = server.counts()
    assert counts == {e: 1 for e in emails}, err  # nobody mailed again
    assert again.returncode == 2, err
    [line] = err.strip().splitlines()
    assert "send log" in line and "restore it from a backup" in line and "Traceback" not in line, line


def test_a_message_another_live_sender_holds_is_in_flight_not_uncertain_and_resolve_leaves_it(tmp_path, pg_url):
    import psycopg

    from newsletter.send.sendlog import SendLog, _lock_key

    emails = [f"m{n:03d}@example.org" for n in range(5)]
    site = Site(tmp_path)
    key, held = "pe/2021-W34", "m002@example.org"
    with SpoolServer(tmp_path / "spool") as server:
        [state] = _hosts(site, pg_url, server.port, emails, hosts=1)
        other = psycopg.connect(pg_url, autocommit=True)  # another sender, on another host, mid-message
        try:
            other.execute("SELECT pg_advisory_lock(%s)", (_lock_key(key, held),))
            log = SendLog(Path(state), database=pg_url)
            log.claim(key, held, "<x@example.org>", "c")
            log.close()
            run = _spawn(site, state, "--country", "pe")
            _, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
            assert "1 being sent by another sender" in err and "uncertain" not in err, err
            resolve = site.cli(
                "resolve", "--country", "pe", "--issue", "2021-W34", "--all-uncertain", "--resend", "--state", state
            )
            assert "being sent by another sender" in resolve.stderr, resolve.stderr
            with psycopg.connect(pg_url, autocommit=True) as conn:  # its row untouched
                assert conn.execute("SELECT status FROM sendlog.deliveries WHERE email = %s", (held,)).fetchone() == (
                    "sending",
                )
        finally:
            other.close()  # that sender died: now it is uncertain, and resolve may release it
        resolve = site.cli(
            "resolve", "--country", "pe", "--issue", "2021-W34", "--all-uncertain", "--resend", "--state", state
        )
        assert resolve.returncode == 0 and "released" in resolve.stderr, resolve.stderr
        counts = server.counts()
    assert counts == {e: 1 for e in emails if e != held}
