"""Sending digests (issue #18 items 1, 3, 4): one message per (subscriber, period), each entry
once, exactly once, over several SMTP connections. Every check counts what a real SMTP server
in its own process stored (tests/helpers/spool_smtp.py), never what `send` said."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_digest import WEEK
from test_send_faults import SpoolServer

WEEKS = (
    textwrap.dedent(WEEK)
    .lstrip("\n")
    .replace("\n3 March 2025", "\n18 March 2025")
    .replace(
        "Colombia Holds A Census\n\nAn older story from Colombia, from the week before.",
        "Venezuela Repairs A Bridge\n\nThe bridge reopened to traffic.",
    )
    + """
19 March 2025

Peru Counts Llamas

The census found more llamas than last year.
"""
)
W11_DONE = "2025-03-17T08:00+00:00"  # 10–16 March has ended, and the 6 h delay has passed
W12_DONE = "2025-03-24T08:00+00:00"


class DigestSite:
    """A site folder driven by the real CLI in subprocesses."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "site"
        (self.dir / "bulletins").mkdir(parents=True)
        (self.dir / "bulletins" / "news.txt").write_text(WEEKS)
        self.env = {**os.environ, "NEWSLETTER_SECRET": "k"}

    def configure(self, port: int, newsletter: str = "", **smtp) -> None:
        options = {"retry_delay": 0.01, "timeout": 5, **smtp}
        (self.dir / "newsletter.toml").write_text(
            'base_url = "https://news.example.org/"\n'
            '[newsletter]\nfrom_address = "news@example.org"\nunsubscribe_url = "https://news.example.org/unsubscribe"\n'
            + newsletter
            + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
            + "".join(f"{k} = {v}\n" for k, v in options.items())
        )

    def subscribers(self, rows: list[str]) -> None:
        (self.dir / "subscribers.csv").write_text("email,countries,name\n" + "".join(r + "\n" for r in rows))

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "newsletter", *args, "--config", str(self.dir / "newsletter.toml")]

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            self.command(*args), cwd=self.dir, capture_output=True, text=True, timeout=timeout, env=self.env
        )

    def due(self, now: str, *extra: str) -> subprocess.CompletedProcess:
        run = self.cli("send", "--due", "--now", now, *extra)
        assert "Traceback" not in run.stderr, run.stderr
        return run

    def spawn_due(self, now: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command("send", "--due", "--now", now),
            cwd=self.dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            start_new_session=True,
        )


@pytest.fixture
def site(tmp_path):
    return DigestSite(tmp_path)


def messages(spool: Path) -> list[tuple[str, email.message.EmailMessage]]:
    found = []
    for path in sorted(spool.glob("*.eml")):
        found.append(
            (path.name.rsplit(".", 2)[0], email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        )
    return found


def test_a_subscriber_of_two_lists_gets_one_message_per_period_with_each_entry_once(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["both@example.org,ve co,Both", "pe@example.org,pe,"])
        first = site.due(W11_DONE)
        assert first.returncode == 0, first.stderr
        assert server.counts() == {"both@example.org": 1, "pe@example.org": 1}
        second = site.due(W12_DONE)
        assert second.returncode == 0, second.stderr
        assert server.counts() == {"both@example.org": 2, "pe@example.org": 2}
        assert site.due(W12_DONE).returncode == 0
        assert server.counts() == {"both@example.org": 2, "pe@example.org": 2}  # never twice
        got = messages(tmp_path / "spool")
    subjects = sorted((who, m["Subject"]) for who, m in got)
    assert subjects == [
        ("both@example.org", "News \u2014 10\u201316 March 2025"),
        ("both@example.org", "News \u2014 17\u201323 March 2025"),
        ("pe@example.org", "News \u2014 10\u201316 March 2025"),
        ("pe@example.org", "News \u2014 17\u201323 March 2025"),
    ]
    week11 = next(m for who, m in got if who == "both@example.org" and "10\u201316" in m["Subject"])
    text = week11.get_body(("plain",)).get_content()
    assert text.count("Border Crossing Reopens Between Venezuela And Colombia") == 1
    assert "Colombia Plants Trees" in text and "Peru Opens" not in text and "Also about Venezuela" in text
    assert week11["List-Id"] == '"News" <digest.news.example.org>'


TRIALS = int(os.environ.get("NEWSLETTER_KILL_TRIALS", "12"))
SEED = int(os.environ.get("NEWSLETTER_KILL_SEED", "20261130"))
COUNTRIES = "ar bo br cl co cr cu ec gt hn mx ni pa pe py sv uy ve".split()


def trials(count: int, quick: int) -> list:
    return [pytest.param(n, marks=[pytest.mark.slow] if n >= quick else []) for n in range(count)]


def log_rows(site: DigestSite, key: str | None = None) -> dict[str, str]:
    """email → status in the send log (read only), for one key or every digest key."""
    import sqlite3

    db = sqlite3.connect(f"file:{site.dir / '.newsletter' / 'sendlog.sqlite3'}?mode=ro", uri=True)
    try:
        query = "SELECT email, status FROM deliveries WHERE issue " + ("= ?" if key else "LIKE 'digest/%'")
        return dict(db.execute(query, (key,) if key else ()).fetchall())
    finally:
        db.close()


def many(n: int) -> list[str]:
    """`n` subscribers with different choices of two countries (Peru among them for a third)."""
    return [f"m{i:02d}@example.org,{COUNTRIES[i % len(COUNTRIES)]} {'pe' if i % 3 == 0 else 've'}," for i in range(n)]


def settle(site: DigestSite, now: str, runs: int = 6) -> subprocess.CompletedProcess:
    for _ in range(runs):
        run = site.due(now)
        if run.returncode == 0:
            return run
    return run


def assert_exactly_once(site: DigestSite, server: SpoolServer, emails: list[str]) -> dict[str, str]:
    counts = server.counts()
    assert max(counts.values(), default=0) <= 1, f"stored twice: {counts}"
    status = log_rows(site, "digest/2025-W11")
    for address in emails:
        assert status.get(address) in ("sent", "sending"), (address, status.get(address))
        if status[address] == "sent":
            assert counts.get(address) == 1, f"{address} recorded as sent but the server has nothing"
    return status


@pytest.mark.parametrize("trial", trials(TRIALS, quick=2))
def test_digest_send_killed_at_random_moments_never_sends_twice(site, tmp_path, trial):
    import random
    import signal

    rng = random.Random(SEED * 18 + trial)
    rows = many(24)
    emails = [r.split(",")[0] for r in rows]
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.02") as server:
        site.configure(server.port, connections=rng.choice([1, 3, 4]))
        site.subscribers(rows)
        kills = 0
        for _ in range(2):
            proc = site.spawn_due(W11_DONE)
            time.sleep(rng.uniform(0.3, 1.5))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                kills += 1
            proc.communicate()
        settle(site, W11_DONE)
        status = assert_exactly_once(site, server, emails)
    assert sum(1 for s in status.values() if s == "sending") <= kills * 4  # at most one per connection per kill


def test_a_lost_reply_is_uncertain_and_never_resent(site, tmp_path):
    rows = many(9)
    emails = [r.split(",")[0] for r in rows]
    with SpoolServer(tmp_path / "spool", "--drop-after-store", "3") as server:
        site.configure(server.port, connections=1)
        site.subscribers(rows)
        first = site.due(W11_DONE)
        assert first.returncode == 1 and first.stderr.count("uncertain: no reply after the message was sent") == 3
        last = settle(site, W11_DONE)
        assert "left from earlier runs: 0 failed, 3 uncertain" in last.stderr
        status = assert_exactly_once(site, server, emails)
    assert sum(1 for s in status.values() if s == "sending") == 3
    assert server.counts() == {e: 1 for e in emails}  # the uncertain ones were stored: not sent again


def test_a_silent_server_leaves_messages_uncertain_not_resent(site, tmp_path):
    rows = many(2)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "1.5") as server:
        site.configure(server.port, timeout=0.5, connections=2)
        site.subscribers(rows)
        run = site.due(W11_DONE)
        assert run.returncode == 1 and "2 uncertain" in run.stderr
        assert site.due(W11_DONE).returncode == 0
        assert server.counts() == {"m00@example.org": 1, "m01@example.org": 1}
    assert set(log_rows(site).values()) == {"sending"}


def test_an_unreachable_server_ends_the_run_with_one_line_and_records_nothing(site):
    from helpers.smtp_server import free_port

    site.configure(free_port(), retry_delay=0.05)
    site.subscribers(many(30))
    run = site.due(W11_DONE)
    assert run.returncode == 1
    assert len([line for line in run.stderr.splitlines() if "cannot reach the SMTP server" in line]) == 1
    assert log_rows(site) == {}


def test_overlapping_due_runs_send_each_digest_once(site, tmp_path):
    rows = many(12)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "0.3") as server:
        site.configure(server.port, connections=2)
        site.subscribers(rows)
        first = site.spawn_due(W11_DONE)
        deadline = time.monotonic() + 20
        while not server.counts() and time.monotonic() < deadline:
            time.sleep(0.01)
        second = site.due(W11_DONE)
        assert second.returncode != 0 and "another `newsletter send` is running" in second.stderr
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        assert server.counts() == {r.split(",")[0]: 1 for r in rows}


def test_messages_go_out_over_several_connections_at_once(site, tmp_path):
    import signal

    rows = many(8)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "20") as server:
        site.configure(server.port, timeout=30, connections=4)
        site.subscribers(rows)
        proc = site.spawn_due(W11_DONE)
        deadline = time.monotonic() + 15
        while sum(server.counts().values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        stored_while_waiting = sum(server.counts().values())
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    # Four messages were stored while the first reply (20 s away) had not come: four connections.
    assert stored_while_waiting == 4
    assert sorted(log_rows(site).values()) == ["sending"] * 4  # claimed before their ".": uncertain


def test_a_newcomer_gets_digests_of_periods_ending_after_they_joined(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["early@example.org,pe,"])
        assert site.due(W11_DONE).returncode == 0
        site.subscribers(["early@example.org,pe,", "late@example.org,pe,"])
        assert site.due("2025-03-19T08:00+00:00").returncode == 0  # mid-week: late is seen
        assert site.due(W12_DONE).returncode == 0
        got = sorted((who, m["Subject"]) for who, m in messages(tmp_path / "spool"))
    assert got == [
        ("early@example.org", "News \u2014 10\u201316 March 2025"),
        ("early@example.org", "News \u2014 17\u201323 March 2025"),
        ("late@example.org", "News \u2014 17\u201323 March 2025"),
    ]


def test_the_digest_reflects_the_lists_chosen_when_it_is_sent(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["x@example.org,pe,"])
        assert site.due(W11_DONE).returncode == 0
        site.subscribers(["x@example.org,pe ve,"])  # changed mid-week
        assert site.due(W12_DONE).returncode == 0
        got = {m["Subject"]: m.get_body(("plain",)).get_content() for _, m in messages(tmp_path / "spool")}
    week12 = got["News \u2014 17\u201323 March 2025"]
    assert "Venezuela Repairs A Bridge" in week12 and "Peru Counts Llamas" in week12
    assert "Border Crossing" not in got["News \u2014 10\u201316 March 2025"]


def test_a_period_without_news_for_their_lists_sends_nothing(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter="enabled = false\n")
        site.subscribers(["quiet@example.org,ar,", "co@example.org,co,"])
        assert site.due(W11_DONE).returncode == 0
        assert server.counts() == {}  # newsletters are off
        site.configure(server.port)
        assert site.due(W11_DONE).returncode == 0
        last = site.due(W12_DONE)
        assert last.returncode == 0 and "--due: no digest due; the digests of 2025-W13 fall due at" in last.stderr
        assert server.counts() == {"co@example.org": 1}  # Colombia had no news in the second week


def test_dry_run_writes_each_digest_to_the_outbox_and_reports_per_period(site, tmp_path):
    site.configure(1)
    site.subscribers(["both@example.org,ve co,", "pe@example.org,pe,"])
    run = site.due(W11_DONE, "--dry-run")
    assert run.returncode == 0, run.stderr
    assert "digest/2025-W11 (10\u201316 March 2025, weekly, 2 distinct choices): 2 written to the outbox" in run.stderr
    outbox = site.dir / ".newsletter" / "outbox" / "digest-2025-W11"
    assert sorted(p.name for p in outbox.iterdir()) == ["both@example.org.eml", "pe@example.org.eml"]
    assert not (site.dir / ".newsletter" / "sendlog.sqlite3").exists() or log_rows(site) == {}
    limited = site.due(W11_DONE, "--country", "pe")
    assert limited.returncode == 2 and 'delivery = "lists"' in limited.stderr and "Traceback" not in limited.stderr


def test_an_unsubscribed_address_gets_no_digest(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["stay@example.org,pe,", "gone@example.org,pe co,"])
        assert site.cli("unsubscribe", "gone@example.org").returncode == 0
        run = site.due(W11_DONE)
        assert run.returncode == 0 and "1 unsubscribed" in run.stderr
        assert server.counts() == {"stay@example.org": 1}


def test_a_stop_signal_ends_a_parallel_run_within_two_seconds(site, tmp_path):
    import signal

    rows = many(8)
    with SpoolServer(tmp_path / "spool", "--reply-delay", "20") as server:
        site.configure(server.port, timeout=30, connections=2)
        site.subscribers(rows)
        proc = site.spawn_due(W11_DONE)
        deadline = time.monotonic() + 15
        while sum(server.counts().values()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        took = time.monotonic() - asked
        assert took < 2.0, f"stopping took {took:.2f} s"
        assert "Traceback" not in err and proc.returncode == 1
        counts = server.counts()
    assert sorted(counts.values()) == [1, 1]  # the two messages on their way when the signal came
    assert log_rows(site) == {e: "sending" for e in counts}  # left uncertain, never resent; nothing else tried


def test_each_subscriber_gets_digests_at_the_frequency_they_chose(site, tmp_path):
    offered = 'frequencies = ["weekly", "monthly"]\nsend_since = "2025-03-01"\n'
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter=offered)
        site.subscribers(
            ["weekly@example.org,pe co,,weekly", "monthly@example.org,pe co,,monthly", "default@example.org,pe,,"]
        )
        assert site.due("2025-04-01T08:00+00:00").returncode == 0
        assert site.due("2025-04-02T08:00+00:00").returncode == 0
        got = sorted((who, m["Subject"]) for who, m in messages(tmp_path / "spool"))
        monthly = next(m for who, m in messages(tmp_path / "spool") if who == "monthly@example.org")
    assert got == [
        ("default@example.org", "News \u2014 10\u201316 March 2025"),
        ("default@example.org", "News \u2014 17\u201323 March 2025"),
        ("monthly@example.org", "News \u2014 March 2025"),
        ("weekly@example.org", "News \u2014 10\u201316 March 2025"),
        ("weekly@example.org", "News \u2014 17\u201323 March 2025"),
    ]
    text = monthly.get_body(("plain",)).get_content()
    assert all(text.count(t) == 1 for t in ("Border Crossing", "Peru Opens", "Colombia Plants", "Peru Counts"))


def test_a_change_of_frequency_mid_period_is_what_the_next_digest_follows(site, tmp_path):
    offered = 'frequencies = ["weekly", "monthly"]\n'
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter=offered)
        site.subscribers(["x@example.org,pe,,weekly"])
        assert site.due(W11_DONE).returncode == 0
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        with_store = site.dir / "changed.csv"
        with_store.write_text("email,countries,name,frequency\nx@example.org,pe,,monthly\n")
        assert site.cli("subscribers", "import", str(with_store)).returncode == 0
        exported = site.cli("subscribers", "export").stdout
        assert site.due(W12_DONE).returncode == 0  # now monthly: no weekly digest
        assert site.due("2025-04-01T08:00+00:00").returncode == 0
        got = [m["Subject"] for _, m in messages(tmp_path / "spool")]
    assert "x@example.org,pe,,monthly" in exported.splitlines()
    assert sorted(got) == ["News \u2014 10\u201316 March 2025", "News \u2014 March 2025"]


def test_send_test_mails_one_digest_or_issue_to_an_address_and_records_nothing(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["pe@example.org,pe,"])
        site.cli("build")
        run = site.cli("send", "--test", "me@example.org", "--country", "co", "--country", "ve", "--issue", "2025-W11")
        assert run.returncode == 0, run.stderr
        assert '--test: "News \u2014 10\u201316 March 2025" mailed to me@example.org (not recorded' in run.stderr
        everything = site.cli("send", "--test", "me@example.org")  # every list, the newest period with news
        assert everything.returncode == 0 and "17\u201323 March 2025" in everything.stderr
        (site.dir / "newsletter.toml").write_text(
            (site.dir / "newsletter.toml").read_text().replace("[newsletter]\n", '[newsletter]\ndelivery = "lists"\n')
        )
        issue = site.cli("send", "--test", "me@example.org", "--country", "pe", "--issue", "2025-W11")
        assert issue.returncode == 0 and "Peru \u2014 10\u201316 March 2025" in issue.stderr
        assert site.cli("send", "--test", "me@example.org").returncode == 2  # a list issue needs its list
        got = messages(tmp_path / "spool")
        assert server.counts() == {"me@example.org": 3}
        assert site.due(W11_DONE).returncode == 0  # the real send is not affected: pe@ gets its issue
        assert server.counts() == {"me@example.org": 3, "pe@example.org": 1}
    text = (
        next(m for _, m in got if "10\u201316" in m["Subject"] and "News" in m["Subject"])
        .get_body(("plain",))
        .get_content()
    )
    assert text.count("Border Crossing") == 1 and "Peru Opens" not in text
    assert log_rows(site) == {}  # no digest recorded as sent


def test_status_and_resolve_settle_an_uncertain_digest(site, tmp_path):
    rows = many(3)
    with SpoolServer(tmp_path / "spool", "--drop-after-store", "3") as server:
        site.configure(server.port, connections=1)
        site.subscribers(rows)
        assert site.due(W11_DONE).returncode == 1
        overview = site.cli("status").stdout
        assert any(
            line.split()[:2] == ["digest/2025-W11", "2"] and line.split()[2] == "1" for line in overview.splitlines()
        ), overview
        detail = site.cli("status", "--country", "digest", "--issue", "2025-W11").stdout.splitlines()
        uncertain = [line.split()[0] for line in detail if "uncertain" in line]
        assert len(uncertain) == 1 and len(detail) == 3
        resend = site.cli("resolve", "--country", "digest", "--issue", "2025-W11", "--all-uncertain", "--resend")
        assert resend.returncode == 0 and "released; the next run sends it" in resend.stderr
        assert site.due(W11_DONE).returncode == 0
        assert server.counts()[uncertain[0]] == 2  # released by the operator: sent again, as asked
    assert set(log_rows(site).values()) == {"sent"}


def test_a_changed_digest_is_reported_never_resent_and_can_be_corrected(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["first@example.org,pe,", "other@example.org,co,"])
        assert site.due(W11_DONE).returncode == 0
        news = site.dir / "bulletins" / "news.txt"
        news.write_text(news.read_text().replace("hosts 200 people", "hosts 250 people"))
        again = site.due(W11_DONE)
        assert again.returncode == 0 and "digest/2025-W11 changed after it was first sent: 1 recipient" in again.stderr
        assert server.counts() == {"first@example.org": 1, "other@example.org": 1}
        fixed = site.due(W11_DONE, "--correction")
        assert fixed.returncode == 0, fixed.stderr
        assert site.due(W11_DONE, "--correction").returncode == 0  # a correction goes once too
        got = sorted((who, m["Subject"]) for who, m in messages(tmp_path / "spool"))
    assert got == [
        ("first@example.org", "Correction: News \u2014 10\u201316 March 2025"),
        ("first@example.org", "News \u2014 10\u201316 March 2025"),
        ("other@example.org", "News \u2014 10\u201316 March 2025"),
    ]


def test_after_a_switch_from_list_issues_no_period_is_sent_twice(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter='delivery = "lists"\n')
        site.subscribers(["pe@example.org,pe,"])
        site.cli("build")
        assert site.due(W11_DONE).returncode == 0  # Peru's list issue of 10–16 March
        toml = site.dir / "newsletter.toml"
        toml.write_text(toml.read_text().replace('delivery = "lists"\n', ""))  # now digests (the default)
        assert site.due(W11_DONE).returncode == 0
        assert site.due(W12_DONE).returncode == 0
        got = sorted(m["Subject"] for _, m in messages(tmp_path / "spool"))
    assert got == ["News \u2014 17\u201323 March 2025", "Peru \u2014 10\u201316 March 2025"]


def test_watch_send_due_sends_digests_after_a_rebuild(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter='frequencies = ["weekly", "monthly"]\nsend_since = "2025-03-01"\n')
        assert (
            site.cli("subscribers", "add", "w@example.org", "--country", "pe", "--frequency", "monthly").returncode == 0
        )
        assert site.cli("watch", "--once", "--send-due").returncode == 0  # the real clock: March 2025 is over
        assert site.cli("watch", "--once", "--send-due").returncode == 0
        got = [m["Subject"] for _, m in messages(tmp_path / "spool")]
    assert got == ["News \u2014 March 2025"]


def test_a_server_that_relays_for_nobody_stops_a_parallel_run_and_marks_nobody(site, tmp_path):
    rows = many(10)
    with SpoolServer(tmp_path / "spool", "--relay-denied") as server:
        site.configure(server.port, connections=3)
        site.subscribers(rows)
        run = site.due(W11_DONE)
        assert run.returncode == 2
        lines = [line for line in run.stderr.splitlines() if "refused to relay" in line]
        assert len(lines) == 1 and "554 5.7.1" in lines[0]
        assert server.counts() == {}
    assert log_rows(site) == {}  # nobody marked failed
    with SpoolServer(tmp_path / "spool") as server:  # the relay is fixed
        site.configure(server.port, connections=3)
        assert site.due(W11_DONE).returncode == 0
        assert server.counts() == {r.split(",")[0]: 1 for r in rows}


def test_send_test_dry_run_writes_the_outbox_and_an_address_that_left_is_refused(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["pe@example.org,pe,"])
        site.cli("build")
        dry = site.cli("send", "--test", "me@example.org", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        written = site.dir / ".newsletter" / "outbox" / "test" / "me@example.org.eml"
        assert (
            "17\u201323 March 2025" in dry.stderr
            and written.read_bytes().startswith(b"From: ")
            and str(written) in dry.stderr
        )
        assert server.counts() == {}  # --dry-run mails nothing
        assert site.cli("unsubscribe", "pe@example.org").returncode == 0
        for extra in ((), ("--country", "pe"), ("--dry-run",)):
            left = site.cli("send", "--test", "pe@example.org", *extra)
            assert left.returncode == 2 and "refused" in left.stderr and "suppression check" in left.stderr
            assert len(left.stderr.strip().splitlines()) == 1, left.stderr
        assert server.counts() == {}
        assert not (written.parent / "pe@example.org.eml").exists()


def test_on_a_digest_site_send_country_refuses_and_one_offs_still_work(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["mx@example.org,pe,"])
        assert site.cli("build").returncode == 0
        assert site.due(W12_DONE).returncode == 0
        assert server.counts() == {"mx@example.org": 1}  # the W12 digest
        for extra in ((), ("--issue", "2025-W11"), ("--dry-run",)):
            run = site.cli("send", "--country", "pe", *extra)
            assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
            [line] = run.stderr.strip().splitlines()
            assert "send --due" in line and '"digest"' in line
        assert server.counts() == {"mx@example.org": 1}  # not the same stories again as a list issue
        one_off = tmp_path / "one-off.csv"
        one_off.write_text("email,countries,name\nguest@example.org,pe,\n")
        run = site.cli("send", "--country", "pe", "--issue", "2025-W11", "--subscribers", str(one_off))
        assert run.returncode == 0, run.stderr
        assert site.cli("send", "--test", "me@example.org", "--country", "pe").returncode == 0
        assert server.counts() == {"mx@example.org": 1, "guest@example.org": 1, "me@example.org": 1}


def test_max_uncertain_counts_lost_replies_in_a_row_across_every_connection(site, tmp_path):
    rows = many(24)
    with SpoolServer(tmp_path / "spool", "--never-reply") as server:
        site.configure(server.port, timeout=0.5, connections=4, max_uncertain=3)
        site.subscribers(rows)
        run = site.due(W11_DONE)
        assert run.returncode == 1 and "messages in a row went out but no reply came" in run.stderr
        stored = sum(server.counts().values())
    # Three lost replies in a row stop the run; only messages already on their way (at most one
    # per other connection) may follow them — not 3 per connection (12).
    assert 3 <= stored <= 3 + 3, stored
    assert sorted(log_rows(site).values()) == ["sending"] * stored


def test_a_stop_signal_against_a_silent_server_with_four_connections_ends_within_two_seconds(site, tmp_path):
    import signal

    rows = many(12)
    with SpoolServer(tmp_path / "spool", "--never-reply") as server:
        site.configure(server.port, timeout=30, connections=4)
        site.subscribers(rows)
        proc = site.spawn_due(W11_DONE)
        deadline = time.monotonic() + 15
        while sum(server.counts().values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        took = time.monotonic() - asked
        counts = server.counts()
    assert took < 2.0, f"stopping took {took:.2f} s"
    assert "Traceback" not in err and proc.returncode == 1
    assert "newsletter: stopping (" in err
    assert sorted(counts.values()) == [1, 1, 1, 1]
    assert log_rows(site) == {e: "sending" for e in counts}  # uncertain, never resent


SILENT = """
import socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen(16)
held = []
while True:
    held.append(listener.accept()[0])  # never a greeting, never a reply
    with open(sys.argv[2], "w") as fh:
        fh.write(str(len(held)))
"""


def test_a_stop_signal_against_a_server_that_never_greets_ends_within_two_seconds(site, tmp_path):
    import signal

    from helpers.smtp_server import free_port

    port = free_port()
    accepted = tmp_path / "accepted"
    server = subprocess.Popen([sys.executable, "-c", SILENT, str(port), str(accepted)])
    try:
        time.sleep(0.5)
        site.configure(port, timeout=30, connections=4)
        site.subscribers(many(12))
        proc = site.spawn_due(W11_DONE)
        deadline = time.monotonic() + 20
        while not (accepted.exists() and accepted.read_text() == "4") and time.monotonic() < deadline:
            time.sleep(0.02)  # until every connection waits for a greeting that never comes
        assert accepted.read_text() == "4"
        time.sleep(0.2)
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=40)
        took = time.monotonic() - asked
    finally:
        server.kill()
        server.wait()
    assert took < 2.0, f"stopping took {took:.2f} s"
    assert "Traceback" not in err and proc.returncode == 1, err
    assert "newsletter: stopping (" in err
    assert log_rows(site) == {}  # nothing reached its final ".": nothing claimed


def test_a_subscribers_file_with_other_lists_is_not_called_a_change_of_the_digest(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(["x@example.org,pe,"])
        assert site.due(W11_DONE).returncode == 0
        other = tmp_path / "other.csv"
        other.write_text("email,countries,name\nx@example.org,pe co,\n")  # other lists than they chose
        run = site.due(W11_DONE, "--subscribers", str(other))
        assert run.returncode == 0, run.stderr
        assert "changed after it was first sent" not in run.stderr
        assert server.counts() == {"x@example.org": 1}  # and never twice
        assert "changed after" not in site.due(W11_DONE, "--correction").stderr
        assert server.counts() == {"x@example.org": 1}


def test_send_test_needs_no_subscriber_list_and_a_missing_list_is_a_newsletter_line(site, tmp_path):
    """`send --test ADDRESS` on a site with no subscribers.csv yet mails the digest (and, with
    delivery = "lists", the issue) to ADDRESS; a real send without the list says so in one
    `newsletter:` line (T21 finding 8)."""
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        assert not (site.dir / "subscribers.csv").exists()
        site.cli("build")
        digest = site.cli("send", "--test", "me@example.org")
        assert digest.returncode == 0, digest.stderr
        assert "mailed to me@example.org (not recorded as a delivery)" in digest.stderr
        (site.dir / "newsletter.toml").write_text(
            (site.dir / "newsletter.toml").read_text().replace("[newsletter]\n", '[newsletter]\ndelivery = "lists"\n')
        )
        issue = site.cli("send", "--test", "me@example.org", "--country", "pe", "--issue", "2025-W11")
        assert issue.returncode == 0 and "Peru \u2014 10\u201316 March 2025" in issue.stderr, issue.stderr
        assert server.counts() == {"me@example.org": 2}
        real = site.cli("send", "--country", "pe")
    assert real.returncode == 2
    lines = [x for x in real.stderr.splitlines() if x.strip()]
    assert lines and all(x.startswith("newsletter: ") for x in lines), real.stderr
    assert "no such subscriber list" in real.stderr and not (site.dir / "subscribers.csv").exists()
