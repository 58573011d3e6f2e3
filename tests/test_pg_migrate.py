"""`newsletter db migrate --to postgresql://…` moves a SQLite site to PostgreSQL (every row, every
count checked), and `newsletter backup` works for both backends (pg_dump for PostgreSQL)."""

from __future__ import annotations

import sqlite3

import psycopg
from test_send_faults import Site, SpoolServer

from newsletter.subscribers.store import SubscriberStore


def _sqlite_counts(state) -> dict[str, int]:
    found = {}
    for schema, name in (("subscribers", "subscribers.sqlite3"), ("sendlog", "sendlog.sqlite3")):
        db = sqlite3.connect(state / name)
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            found[f"{schema}.{table}"] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        db.close()
    return found


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("subscribers.subscribers", "subscribers.events", "sendlog.deliveries", "sendlog.issues")
        }


def test_a_sqlite_site_moved_to_postgresql_keeps_every_delivery_and_unsubscribe(tmp_path, pg_url):
    emails = [f"a{n}@example.org" for n in range(5)] + ["gone@example.org"]
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        site.subscribers(emails)
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        assert site.cli("unsubscribe", "gone@example.org").returncode == 0
        site.cli("build")
        assert site.cli("send", "--country", "pe").returncode == 0
        state = site.dir / ".newsletter"
        run = site.cli("db", "migrate", "--to", pg_url)
        assert run.returncode == 0, run.stderr
        assert "6 subscribers" in run.stderr and "5 deliveries" in run.stderr and "every count checked" in run.stderr
        before = _sqlite_counts(state)
        assert before["subscribers.subscribers"] == 6 and before["sendlog.deliveries"] == 5
        assert _counts(pg_url) == {t: before[t] for t in _counts(pg_url)}
        # From now on the folder uses PostgreSQL: nobody is sent the issue again, gone@ stays gone.
        (state / "sendlog.sqlite3").rename(state / "sendlog.sqlite3.old")
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0 and "0 sent, 5 already sent" in run.stderr, run.stderr
        assert site.cli("subscribers", "add", "new@example.org", "--country", "pe").returncode == 0  # ids go on
        history = site.cli("subscribers", "history", "gone@example.org")
        assert "unsubscribed" in history.stdout, (history.stdout, history.stderr)
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == {**{e: 1 for e in emails if e != "gone@example.org"}, "new@example.org": 1}
        again = site.cli("db", "migrate", "--to", pg_url)
        assert again.returncode == 2 and "in PostgreSQL already" in again.stderr


def test_migrate_refuses_a_database_that_already_has_rows(tmp_path, pg_url):
    site = Site(tmp_path)
    site.configure(1)
    assert site.cli("unsubscribe", "x@example.org").returncode == 0
    with SubscriberStore(tmp_path / "other", database=pg_url) as store:
        store.unsubscribe("y@example.org", None, via="cli")
    run = site.cli("db", "migrate", "--to", pg_url)
    assert run.returncode == 2 and "already has rows" in run.stderr, run.stderr
    assert not list((site.dir / ".newsletter").glob("*.pg-id"))  # the folder still uses SQLite


def test_backup_and_restore_of_a_postgresql_site(tmp_path, pg_url):
    site = Site(tmp_path)
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        config = site.dir / "newsletter.toml"
        config.write_text(f'database = "{pg_url}"\n' + config.read_text())
        site.subscribers(["a@example.org", "gone@example.org"])
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        site.cli("unsubscribe", "gone@example.org")
        site.cli("build")
        assert site.cli("send", "--country", "pe").returncode == 0
        backup = tmp_path / "backup"
        run = site.cli("backup", str(backup))
        assert run.returncode == 0 and "database.dump" in run.stderr, run.stderr
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA sendlog CASCADE")
            conn.execute("DROP SCHEMA subscribers CASCADE")
        assert site.cli("send", "--country", "pe").returncode == 2  # an emptied database is refused
        # another host's serve or sender on the database (the local lock cannot see it): refused
        with psycopg.connect(pg_url, autocommit=True, application_name="newsletter otherhost:4242"):
            run = site.cli("backup", "--restore", str(backup))
        assert run.returncode == 2 and "otherhost" in run.stderr and "nothing was restored" in run.stderr, run.stderr
        assert site.cli("send", "--country", "pe").returncode == 2  # still the emptied database
        run = site.cli("backup", "--restore", str(backup))
        assert run.returncode == 0, run.stderr
        assert "deliveries since may be sent again" in run.stderr and "unsubscribes" in run.stderr, run.stderr
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0 and "0 sent, 1 already sent" in run.stderr, run.stderr
        assert server.counts() == {"a@example.org": 1}


def test_migrate_waits_for_nothing_and_refuses_while_a_send_runs(tmp_path, pg_url):
    from newsletter.send.sendlog import SendLog

    site = Site(tmp_path)
    site.configure(1)
    assert site.cli("unsubscribe", "x@example.org").returncode == 0
    with SendLog(site.dir / ".newsletter"):  # holds the send lock, as a running send does
        run = site.cli("db", "migrate", "--to", pg_url)
    assert run.returncode == 2 and "a `newsletter send` is running" in run.stderr, run.stderr
    assert not list((site.dir / ".newsletter").glob("*.pg-id"))


def test_a_sqlite_site_given_a_database_url_without_migrating_is_refused_not_emptied(tmp_path, pg_url):
    site = Site(tmp_path)
    site.configure(1)
    assert site.cli("unsubscribe", "gone@example.org").returncode == 0  # the SQLite send log remembers it
    config = site.dir / "newsletter.toml"
    config.write_text(f'database = "{pg_url}"\n' + config.read_text())
    for command in (["unsubscribe", "x@example.org"], ["status"]):
        run = site.cli(*command)
        assert run.returncode == 2, run.stderr
        [line] = run.stderr.strip().splitlines()
        assert "is in SQLite" in line and f"newsletter db migrate --to {pg_url}" in line, line
    assert site.cli("db", "migrate", "--to", pg_url).returncode == 0
    assert site.cli("status").returncode == 0
