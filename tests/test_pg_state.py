"""The subscriber store and the send log in PostgreSQL (`database = "postgresql://…"`): one set of
SQL statements for both backends, numbered migrations, and the integrity marker in the database
— a database that a state folder had is never taken as empty when it was emptied or replaced."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from helpers.smtp_server import free_port

from newsletter.errors import StateError
from newsletter.send.sendlog import SCHEMA_VERSION, SendLog
from newsletter.subscribers.lists import Subscriber
from newsletter.subscribers.store import MIGRATIONS, SubscriberStore


def test_store_and_send_log_keep_the_same_promises_on_both_backends(backend, tmp_path):
    state = backend.seed(tmp_path / "state")
    with SubscriberStore(state) as store:
        assert store.add(Subscriber("Ann@Example.org", "Ann", frozenset({"fr", "de"})), via="cli") == "added"
        assert store.add(Subscriber("ann@example.org", "Ann", frozenset({"fr", "de"})), via="cli") == "unchanged"
        assert store.unsubscribe("ann@example.org", "fr", via="cli")
        assert not store.may_mail("ann@example.org", "fr") and store.may_mail("ann@example.org", "de")
        assert store.bounce("bo@example.org", hard=False, soft_limit=2) == "soft 0"  # unknown: nothing counted
        store.add(Subscriber("bo@example.org", "", frozenset({"de"})), via="csv")
        assert store.bounce("bo@example.org", hard=False, soft_limit=2) == "soft 1"
        assert store.bounce("bo@example.org", hard=False, soft_limit=2) == "bounced"
        assert [s.email for s in store.recipients()] == ["ann@example.org"]
        assert [h[1:4] for h in store.history("ann@example.org")] == [
            ("de", "active", "cli"),
            ("fr", "active", "cli"),
            ("fr", "unsubscribed", "cli"),
        ]
        assert store.set_frequency("ann@example.org", "monthly") and store.frequency("ann@example.org") == "monthly"
        store.mark_processed("k1", "done")
        store.mark_processed("k1", "again")
        assert store.processed("k1") and not store.processed("k2")
        assert store.remove("bo@example.org") and not store.known("bo@example.org")
    with SendLog(state) as log:
        log.claim("pe/2021-W34", "Ann@Example.org", "<m1@x>", "h1")
        assert log.statuses("pe/2021-W34") == {"ann@example.org": ("sending", "h1")}
        log.mark_sent("pe/2021-W34", "ann@example.org")
        log.mark("pe/2021-W34", "cy@example.org", "failed", "<m2@x>", "h1", "550 no")
        log.claim("pe/2021-W34", "cy@example.org", "<m3@x>", "h2")  # a claim replaces the row
        assert log.resolve("pe/2021-W34", "cy@example.org", sent=False)
        log.record_issue("pe/2021-W34", "h1")
        log.record_issue("pe/2021-W34", "h2")  # the first content stays
        assert log.issue_content("pe/2021-W34") == ("h1", "")
        log.add_members("all", ["A@x.org", "b@x.org"], "")
        log.add_members("all", ["a@x.org"], "later")
        assert log.members("all") == {"a@x.org": "", "b@x.org": ""}
        log.set_meta("schedule", "1")
        log.set_meta("schedule", "2")
        assert log.get_meta("schedule") == "2" and log.get_meta("nothing") is None
        assert log.sent_to("m1@x") == "ann@example.org"
        assert [r[:3] for r in log.rows()] == [("pe/2021-W34", "ann@example.org", "sent")]
    names = {p.name for p in state.iterdir()}
    if backend.url:
        assert {"sendlog.pg-id", "subscribers.pg-id"} <= names and not names & {
            "sendlog.sqlite3",
            "subscribers.sqlite3",
        }
    else:
        assert {"sendlog.sqlite3", "subscribers.sqlite3"} <= names


def test_each_backend_numbers_its_migrations(pg_url, tmp_path):
    with SubscriberStore(tmp_path, database=pg_url) as store, SendLog(tmp_path) as log:
        assert store.db.execute("SELECT version FROM schema_version").fetchone()[0] == max(MIGRATIONS)
        assert log.db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
        # each in a schema of its own: both have a meta table with a db_id of their own
        assert (
            store.db.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()
            != log.db.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()
        )


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from newsletter.send.sendlog import SendLog
from newsletter.subscribers.store import SubscriberStore
go = Path(sys.argv[3])
Path(sys.argv[4]).touch()  # imported: ready to go
while not go.exists():
    pass
SendLog(Path(sys.argv[1]), database=sys.argv[2]).close()
SubscriberStore(Path(sys.argv[1]), database=sys.argv[2]).close()
"""


@pytest.mark.parametrize("trial", [pytest.param(n, marks=[pytest.mark.slow] if n else []) for n in range(12)])
def test_machines_creating_one_database_at_once_share_one_schema(pg_url, tmp_path, trial):
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{n}" for n in range(3)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, str(tmp_path / f"host{n}"), pg_url, str(go), str(ready[n])],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    deadline = time.monotonic() + 30
    while not all(path.exists() for path in ready):  # all three spinning on the go file
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), [p.poll() for p in procs]
        time.sleep(0.01)
    go.write_text("go")
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    ids = {(tmp_path / f"host{n}" / "sendlog.pg-id").read_text().split()[0] for n in range(3)}
    assert len(ids) == 1  # one database, one db_id, recorded by each machine's state folder


def _site(tmp_path: Path, url: str) -> Path:
    (tmp_path / "newsletter.toml").write_text(
        f'base_url = "https://news.example.org/"\ndatabase = "{url}"\n[smtp]\nport = {free_port()}\n'
    )
    return tmp_path / "newsletter.toml"


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
        env={"PATH": "/usr/bin:/bin", "NEWSLETTER_SECRET": "k"},
    )


@pytest.mark.parametrize("damage", ["dropped", "emptied", "replaced", "no db_id"])
def test_a_database_emptied_or_replaced_under_a_state_folder_is_refused(pg_url, pg_cluster, tmp_path, damage):
    config = _site(tmp_path, pg_url)
    assert _cli(config, "unsubscribe", "gone@example.org").returncode == 0
    assert _cli(config, "subscribers", "add", "ann@example.org", "--country", "fr").returncode == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        if damage == "dropped":
            conn.execute("DROP SCHEMA subscribers CASCADE")
        elif damage == "emptied":  # e.g. a database restored from the wrong dump, then migrated again
            conn.execute("DROP SCHEMA subscribers CASCADE")
            conn.execute("DROP SCHEMA sendlog CASCADE")
        elif damage == "no db_id":
            conn.execute("DELETE FROM subscribers.meta")
    if damage == "replaced":  # the URL now names another database that has a store of its own
        other = pg_cluster.fresh()
        SubscriberStore(tmp_path / "elsewhere", database=other).close()
        config = _site(tmp_path, other)
    for command in (["subscribers", "list"], ["unsubscribe", "x@example.org"]) + (
        (["status"],) if damage == "emptied" else ()
    ):
        run = _cli(config, *command)
        assert run.returncode == 2, (command, run.stdout, run.stderr)
        [line] = run.stderr.strip().splitlines()
        assert "Traceback" not in line and ("pg_restore" in line or "restore it from a backup" in line), line
        assert "subscriber store" in line or "send log" in line
    if damage != "replaced":
        with psycopg.connect(pg_url, autocommit=True) as conn:  # nothing was created in its place
            assert (
                conn.execute("SELECT to_regclass('subscribers.subscribers')").fetchone()[0] is None
                or damage == "no db_id"
            )


def test_a_state_folder_that_moved_to_postgresql_never_falls_back_to_empty_sqlite_files(pg_url, tmp_path):
    config = _site(tmp_path, pg_url)
    assert _cli(config, "subscribers", "add", "ann@example.org", "--country", "fr").returncode == 0
    config.write_text('base_url = "https://news.example.org/"\n')  # the option was dropped from the config
    run = _cli(config, "subscribers", "list")
    assert run.returncode == 0 and "ann@example.org" in run.stdout  # the folder remembers its database
    assert not (tmp_path / ".newsletter" / "subscribers.sqlite3").exists()
    for marker in (tmp_path / ".newsletter").glob("*.pg-id"):  # going back to SQLite on purpose
        marker.unlink()
    run = _cli(config, "subscribers", "list")
    assert run.returncode == 0 and "ann@example.org" not in run.stdout


def test_an_unreachable_database_server_is_one_line(tmp_path):
    config = _site(tmp_path, f"postgresql://nobody@127.0.0.1:{free_port()}/news")
    for command in (["subscribers", "list"], ["unsubscribe", "x@example.org"]):
        run = _cli(config, *command)
        assert run.returncode == 2
        [line] = run.stderr.strip().splitlines()
        assert line.startswith("newsletter: postgresql://nobody@127.0.0.1:") and "cannot connect" in line, line


def test_the_database_option_must_be_a_postgresql_url(tmp_path):
    (tmp_path / "newsletter.toml").write_text('database = "mysql://x@y/z"\n')
    run = _cli(tmp_path / "newsletter.toml", "status")
    assert run.returncode == 2 and "database" in run.stderr and "postgresql://" in run.stderr


def test_a_store_opened_by_url_refuses_a_state_folder_that_recorded_another(pg_url, pg_cluster, tmp_path):
    SendLog(tmp_path, database=pg_url).close()
    other = pg_cluster.fresh()
    SendLog(tmp_path / "b", database=other).close()
    with pytest.raises(StateError, match="another send log than this state folder had") as refused:
        SendLog(tmp_path, database=other)
    assert f"recorded it in {pg_url}, `database` names {other}" in str(refused.value)


def test_a_refusal_names_both_databases_and_never_a_password(pg_url, pg_cluster, tmp_path):
    from newsletter.state.pg import shown

    SendLog(tmp_path, database=pg_url).close()
    other = pg_cluster.fresh().replace("postgres@", "postgres:s3cret@")  # trust auth: any password is taken
    SendLog(tmp_path / "b", database=other).close()
    with pytest.raises(StateError) as refused:
        SendLog(tmp_path, database=other)
    assert "s3cret" not in str(refused.value) and shown(other) in str(refused.value) and pg_url in str(refused.value)
    assert shown(other).count("***") == 1


def test_a_send_log_that_lost_rows_is_refused_but_its_own_resends_are_not(backend, tmp_path):
    state = backend.seed(tmp_path / "state")
    log = SendLog(state)
    for n in range(3):
        log.claim("2021-W34/pe", f"p{n}@example.org", f"<m{n}@x>", "c")
    log.mark_sent("2021-W34/pe", "p0@example.org")
    log.close()
    log = SendLog(state)
    assert log.resolve("2021-W34/pe", "p1@example.org", sent=False)  # `resolve --resend` deletes its row
    log.close()
    SendLog(state).close()  # not refused: the program's own deletion
    log = SendLog(state)
    log.db.execute("DELETE FROM deliveries WHERE email = 'p0@example.org'")  # rows lost behind its back
    log.db.close()
    with pytest.raises(StateError, match=r"lost deliveries \(it holds 1, it had 2\).*restore it from a backup"):
        SendLog(state)
