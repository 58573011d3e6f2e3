"""One source of truth for who may be mailed: every way of sending — the store, a `send
--subscribers FILE` one-off, a site that sends from its CSV — asks the same question
(`Suppressions.may_mail`), and only `subscribers import|add` and `serve` create the store.

Real processes throughout: the CLI, `newsletter serve` (one-click unsubscribes over HTTP) and
tests/helpers/spool_smtp.py, whose spool is what is counted.
"""

from __future__ import annotations

import sqlite3
import urllib.request

import pytest
from helpers.serve_process import running_serve
from helpers.smtp_server import free_port
from test_send_faults import Site, SpoolServer

from newsletter.subscribers import tokens

PEOPLE = [f"p{n:02}@example.org" for n in range(20)]


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    s.subscribers(PEOPLE)
    return s


def _with_public_url(site: Site) -> None:
    path = site.dir / "newsletter.toml"
    path.write_text(
        path.read_text().replace(
            "[newsletter]\n", '[newsletter]\npublic_url = "https://news.example.org/newsletter/"\n', 1
        )
    )


def _one_click(port: int, email: str, group: str) -> int:
    token = tokens.unsubscribe_token(b"k", email, group)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/unsubscribe?list={group}&email={email}&token={token}",
        data=b"List-Unsubscribe=One-Click",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_web_unsubscribes_are_honoured_by_a_one_off_csv_send(site, tmp_path):
    gone = PEOPLE[:5]
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        _with_public_url(site)
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        assert site.cli("build").returncode == 0
        port = free_port()
        with running_serve(site.dir, port, env=site.env):
            for email in gone:
                assert _one_click(port, email, "pe") == 200
        one_off = tmp_path / "one-off.csv"
        one_off.write_text("email,countries,name\n" + "".join(f"{p},pe,\n" for p in PEOPLE))
        run = site.cli("send", "--country", "pe", "--subscribers", str(one_off))
        assert run.returncode == 0, run.stderr
        assert "15 sent" in run.stderr and "5 unsubscribed" in run.stderr
        assert server.counts() == {p: 1 for p in PEOPLE[5:]}  # before #17: all 20


def test_commands_that_only_read_or_suppress_never_create_the_store(site, tmp_path):
    state = site.dir / ".newsletter"
    (tmp_path / "Maildir" / "new").mkdir(parents=True)
    (tmp_path / "Maildir" / "cur").mkdir()
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        assert site.cli("build").returncode == 0
        for command in (
            ["subscribers", "list"],
            ["bounces", str(tmp_path / "Maildir")],
            ["unsubscribe", PEOPLE[0]],
            ["subscribers", "history", PEOPLE[1]],
        ):
            run = site.cli(*command)
            assert "Traceback" not in run.stderr, run.stderr
            assert not (state / "subscribers.sqlite3").exists() and not (state / "subscribers.id").exists(), command
        run = site.cli("send", "--country", "pe")  # a CSV-only site: the CSV, less who unsubscribed
        assert run.returncode == 0, run.stderr
        assert server.counts() == {p: 1 for p in PEOPLE[1:]}


def test_a_store_that_holds_nobody_beside_a_csv_with_people_stops_send(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        _with_public_url(site)
        assert site.cli("build").returncode == 0
        port = free_port()
        with running_serve(site.dir, port, env=site.env):  # serve creates the store
            assert _one_click(port, PEOPLE[3], "pe") == 200
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2 and "Traceback" not in run.stderr
        [line] = run.stderr.strip().splitlines()
        assert "holds nobody, but" in line and "lists 20 people" in line and "subscribers import" in line
        assert server.counts() == {}  # before #17: 0 of 20 reached, exit 0
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0, run.stderr
        assert server.counts() == {p: 1 for p in PEOPLE if p != PEOPLE[3]}


def _old_send_log(state, suppressed: dict[str, str]) -> None:
    """A send log as the versions before #17 left it: schema 2, suppressions in it."""
    from newsletter.send.sendlog import MIGRATIONS

    state.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(state / "sendlog.sqlite3")
    db.executescript(MIGRATIONS[1] + MIGRATIONS[2] + "PRAGMA user_version = 2;")
    for email, group in suppressed.items():
        db.execute("INSERT INTO suppressions VALUES (?, ?, '2021-08-30', 'cli')", (email, group))
    db.commit()
    db.close()


@pytest.mark.parametrize("store_first", [False, True])
def test_the_send_logs_suppressions_are_kept_and_moved_into_the_store(site, tmp_path, store_first):
    state = site.dir / ".newsletter"
    site.configure(1)
    if store_first:  # a store created before #17 (which then wrote suppressions to both)
        assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        (state / "sendlog.sqlite3").unlink(missing_ok=True)
        (state / "sendlog.id").unlink(missing_ok=True)
    _old_send_log(state, {PEOPLE[0]: "*", PEOPLE[1]: "pe", PEOPLE[2]: "mx"})
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        assert site.cli("build").returncode == 0
        if not store_first:  # a send log alone keeps them
            run = site.cli("send", "--country", "pe")
            assert run.returncode == 0, run.stderr
            assert server.counts() == {p: 1 for p in PEOPLE[2:]}
            assert site.cli("subscribers", "import", str(site.dir / "subscribers.csv")).returncode == 0
        else:
            assert site.cli("send", "--country", "pe").returncode == 0
            assert server.counts() == {p: 1 for p in PEOPLE[2:]}
        db = sqlite3.connect(state / "sendlog.sqlite3")
        assert db.execute("SELECT COUNT(*) FROM suppressions").fetchone()[0] == 0  # the store holds them now
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        db.close()
        out = site.cli("subscribers", "list").stdout
        rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
        assert rows[PEOPLE[0]][0] == "unsubscribed" and "pe:unsubscribed" in rows[PEOPLE[1]]
        assert "mx:unsubscribed" in rows[PEOPLE[2]]
        site.cli("subscribers", "add", PEOPLE[0], "--country", "pe")  # refused: they left
        run = site.cli("send", "--country", "pe", "--issue", "2021-W34")
        assert run.returncode == 0, run.stderr
        assert server.counts() == {p: 1 for p in PEOPLE[2:]}


def test_build_and_send_say_once_that_messages_lack_one_click_unsubscribe_without_public_url(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        path = site.dir / "newsletter.toml"
        path.write_text(path.read_text().replace('unsubscribe_url = "https://news.example.org/unsubscribe"\n', ""))
        for command in (["build"], ["send", "--country", "pe"]):
            run = site.cli(*command)
            assert run.returncode == 0, run.stderr
            assert run.stderr.count("newsletter.public_url is not set: messages have no one-click unsubscribe") == 1
        raw = next((tmp_path / "spool").glob("*.eml")).read_bytes()
        assert b"List-Unsubscribe-Post" not in raw  # what the line warns of
        _with_public_url(site)
        for command in (["build"], ["send", "--country", "pe"]):
            assert "public_url is not set" not in site.cli(*command).stderr


def test_bounces_on_a_site_without_a_store_are_kept_in_the_send_log_and_honoured(site, tmp_path):
    import mailbox

    from newsletter.subscribers.tokens import bounce_token

    state = site.dir / ".newsletter"
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        path = site.dir / "newsletter.toml"
        path.write_text(path.read_text().replace("[newsletter]\n", '[newsletter]\nbounce_address = "b@example.org"\n'))
        assert site.cli("build").returncode == 0
        assert site.cli("send", "--country", "pe", "--issue", "2021-W34").returncode == 0
        token = bounce_token(b"k", PEOPLE[7])
        box = mailbox.Maildir(tmp_path / "Maildir", create=True)
        box.add(
            f"To: b+{token}@example.org\nFrom: MAILER-DAEMON@mx.example.net\nSubject: failure\n"
            f"Message-ID: <b1@mx>\n\n550 5.1.1 <{PEOPLE[7]}>: no such user\n".encode()
        )
        box.close()
        run = site.cli("bounces", str(tmp_path / "Maildir"))
        assert run.returncode == 0 and "1 hard bounce" in run.stderr, run.stderr
        assert not (state / "subscribers.sqlite3").exists()
        db = sqlite3.connect(state / "sendlog.sqlite3")
        assert db.execute("SELECT email, list FROM suppressions").fetchall() == [(PEOPLE[7], "*")]
        db.close()
        (site.dir / "bulletins" / "more.txt").write_text(
            "1 September 2021\n\nPeru Opens a Third Shelter\n\nIt has 90 beds.\n"
        )
        assert site.cli("build").returncode == 0
        assert site.cli("send", "--country", "pe", "--issue", "2021-W35", "--force").returncode == 0
        assert server.counts() == {p: (1 if p == PEOPLE[7] else 2) for p in PEOPLE}  # W34 to all, W35 not to her
