"""`newsletter bounces MAILBOX`: real DSNs (Postfix, Exim, Gmail, Outlook), a Yahoo ARF complaint,
`mailto:` unsubscribe requests, an odd legacy bounce; Maildir and mbox; reruns change nothing."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from newsletter.cli import main
from newsletter.subscribers.store import SubscriberStore

SAMPLES = Path(__file__).resolve().parent / "mail-samples"
SECRET = "bounce-test-secret"  # the samples' VERP addresses and tokens were made with it
PEOPLE = [
    "gone@example.net",
    "lost@example.com",
    "ghost@example.org",
    "busy@example.com",
    "annoyed@example.com",
    "reader@example.com",
    "victim@example.com",
    "oddity@example.com",
]


@pytest.fixture
def site(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    (tmp_path / "newsletter.toml").write_text(
        'base_url = "https://news.example.org/"\n[newsletter]\ndelivery = "lists"\nfrom_address = "news@example.org"\n'
        'bounce_address = "bounces@news.example.org"\n'
    )
    (tmp_path / "people.csv").write_text("email,countries,name\n" + "".join(f"{p},mx pe,\n" for p in PEOPLE))
    assert main(["subscribers", "import", "people.csv"]) == 0

    class Site:
        root = tmp_path

        def run(self, *args: str) -> tuple[int, str]:
            capsys.readouterr()
            code = main(list(args))
            return code, capsys.readouterr().err

        def lists(self, email: str) -> tuple[str, dict[str, str]]:
            with SubscriberStore(tmp_path / ".newsletter") as store:
                _, left, lists = store.subscriber(email)
            return left, lists

    return Site()


def maildir(folder: Path, names: list[str]) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for name in names:
        box.add((SAMPLES / name).read_bytes())
    box.close()
    return folder


def test_every_kind_of_returned_mail_is_acted_on_once(site, tmp_path):
    box = maildir(tmp_path / "Maildir", sorted(p.name for p in SAMPLES.glob("*.eml")))
    code, err = site.run("bounces", str(box))
    assert code == 0, err
    for hard in ("gone@example.net", "lost@example.com", "ghost@example.org", "oddity@example.com"):
        assert site.lists(hard) == ("bounced", {"mx": "bounced", "pe": "bounced"}), hard
    assert site.lists("annoyed@example.com") == ("complained", {"mx": "complained", "pe": "complained"})
    assert site.lists("busy@example.com") == ("", {"mx": "active", "pe": "active"})  # one soft bounce: counted
    assert site.lists("reader@example.com") == ("", {"mx": "unsubscribed", "pe": "active"})
    assert site.lists("victim@example.com") == ("", {"mx": "active", "pe": "active"})  # forged request: ignored
    assert "mailbox: 4 hard bounces, 1 soft bounce, 1 complaint, 1 unsubscribe, 2 not ours" in err
    with SubscriberStore(tmp_path / ".newsletter") as store:
        history = {p: store.history(p) for p in PEOPLE}
    assert history["reader@example.com"][-1][1:4] == ("mx", "unsubscribed", "mail")
    # A rerun finds every message processed and changes nothing.
    code, err = site.run("bounces", str(box))
    assert code == 0 and "mailbox: 9 already processed" in err
    with SubscriberStore(tmp_path / ".newsletter") as store:
        assert {p: store.history(p) for p in PEOPLE} == history


def test_soft_bounces_in_a_row_make_an_address_bounced(site, tmp_path):
    raw = (SAMPLES / "outlook-delay.eml").read_bytes()
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for n in range(3):
        box.add(raw.replace(b"Message-ID: <7b0c3f41", f"Message-ID: <{n}-7b0c3f41".encode()))
    box.close()
    code, err = site.run("bounces", str(tmp_path / "Maildir"))
    assert code == 0 and "3 soft bounces" in err
    assert site.lists("busy@example.com")[0] == "bounced"


def test_an_mbox_works_like_a_maildir(site, tmp_path):
    box = mailbox.mbox(tmp_path / "bounces.mbox", create=True)
    for name in ("postfix-hard.eml", "yahoo-arf.eml"):
        box.add((SAMPLES / name).read_bytes())
    box.close()
    code, err = site.run("bounces", str(tmp_path / "bounces.mbox"))
    assert code == 0 and "1 hard bounce, 1 complaint" in err
    assert site.lists("gone@example.net")[0] == "bounced"


def test_bounced_and_complained_addresses_are_never_sent_again(site, tmp_path):
    from helpers.smtp_server import SMTPServer

    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text("26 August 2021\n\nPeru Opens a Shelter\n\nIt has 80 beds.\n")
    maildir(tmp_path / "Maildir", ["postfix-hard.eml", "yahoo-arf.eml", "mailto-unsubscribe.eml"])
    assert site.run("bounces", str(tmp_path / "Maildir"))[0] == 0
    with SMTPServer() as server:
        with open(tmp_path / "newsletter.toml", "a") as fh:
            fh.write(f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n')
        assert main(["build", "-q"]) == 0
        code, err = site.run("send", "--country", "pe")
        assert code == 0, err
        got = set(server.handler.counts())
    assert got == set(PEOPLE) - {"gone@example.net", "annoyed@example.com"}


def test_an_import_never_resubscribes_who_left_unless_asked(site, tmp_path):
    maildir(tmp_path / "Maildir", ["postfix-hard.eml", "mailto-unsubscribe.eml"])
    site.run("bounces", str(tmp_path / "Maildir"))
    code, err = site.run("subscribers", "import", "people.csv")
    assert code == 0 and "2 kept off lists they left" in err
    assert site.lists("gone@example.net")[0] == "bounced"
    assert site.lists("reader@example.com")[1]["mx"] == "unsubscribed"
    code, err = site.run("subscribers", "import", "people.csv", "--resubscribe")
    assert code == 0 and "2 put back on lists they had left" in err
    assert site.lists("gone@example.net") == ("", {"mx": "active", "pe": "active"})


# -- only what is tied to a message we sent counts (#17) -----------------------------------------
def _dsn(
    blocks: list[tuple[str, str, str]],
    *,
    to: str = "bounces@news.example.org",
    mid: str = "<x@news.example.org>",
    own: str = "<dsn-1@mx.example.net>",
) -> bytes:
    """A DSN to `to` with one block per (address, action, status), returning a message `mid`."""
    report = "".join(
        f"\nFinal-Recipient: rfc822; {a}\nAction: {action}\nStatus: {status}\n" for a, action, status in blocks
    )
    return (
        f"Return-Path: <>\nTo: {to}\nFrom: MAILER-DAEMON@mx.example.net\nSubject: Delivery Status Notification\n"
        f"Message-ID: {own}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThe message could not be delivered.\n\n"
        f"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n{report}\n"
        f"--B\nContent-Type: text/rfc822-headers\n\nFrom: News <news@example.org>\nSubject: Peru\nMessage-ID: {mid}\n\n"
        "--B--\n"
    ).encode()


def _arf(
    original_rcpt: str, *, mid: str = "<x@news.example.org>", return_path: str = "bounces@news.example.org"
) -> bytes:
    return (
        f"From: fbl@isp.example.net\nTo: fbl@news.example.org\nSubject: abuse report\nMessage-ID: <arf-{original_rcpt}>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nAn abuse report.\n\n"
        f"--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n"
        f"Original-Rcpt-To: <{original_rcpt}>\n\n"
        f"--B\nContent-Type: message/rfc822\n\nReturn-Path: <{return_path}>\nFrom: News <news@example.org>\n"
        f"To: {original_rcpt}\nMessage-ID: {mid}\nSubject: Peru\n\nHello\n\n--B--\n"
    ).encode()


def _box(folder: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(folder, create=True)
    for raw in messages:
        box.add(raw)
    box.close()
    return folder


def _delivered(site, email: str, mid: str) -> None:
    from newsletter.send.sendlog import SendLog

    log = SendLog(site.root / ".newsletter")
    log.claim("pe/2021-W34", email, mid, "c0ffee")
    log.mark_sent("pe/2021-W34", email)
    log.close()


def test_forged_bounces_and_complaints_naming_a_victim_change_nothing(site, tmp_path):
    forged = [
        _dsn([("victim@example.com", "failed", "5.1.1")], own="<f1@x>"),  # to the bare bounce address
        _arf("victim@example.com"),  # Original-Rcpt-To names the victim, no token of ours
        _dsn([("victim@example.com", "failed", "5.1.1")], to="bounces+aaaaaaaaaaaaaaaa@news.example.org", own="<f2@x>"),
    ]  # a token we never made
    code, err = site.run("bounces", str(_box(tmp_path / "Maildir", forged)))
    assert code == 0, err
    assert site.lists("victim@example.com") == ("", {"mx": "active", "pe": "active"})
    with SubscriberStore(tmp_path / ".newsletter") as store:
        assert store.history("victim@example.com")[-1][2] == "active"
    assert "victim@example.com: a bounce that is not tied to a message we sent" in err
    assert "a complaint that is not tied to a message we sent (it names victim@example.com)" in err
    assert "0 hard" not in err and "hard bounce" not in err.split("mailbox:")[1]


def test_a_bounce_tied_by_the_message_id_of_a_logged_delivery_counts_for_that_address_only(site, tmp_path):
    _delivered(site, "lost@example.com", "<m1.pe@news.example.org>")
    box = _box(
        tmp_path / "Maildir",
        [
            _dsn([("lost@example.com", "failed", "5.1.1")], mid="<m1.pe@news.example.org>", own="<d1@x>"),
            _dsn([("victim@example.com", "failed", "5.1.1")], mid="<m1.pe@news.example.org>", own="<d2@x>"),  # not hers
            _arf("victim@example.com", mid="<m1.pe@news.example.org>"),
        ],
    )  # a complaint about lost@'s message
    code, err = site.run("bounces", str(box))
    assert code == 0, err
    with SubscriberStore(tmp_path / ".newsletter") as store:
        assert sorted(e[2] for e in store.history("lost@example.com") if e[1] == "*") == [
            "bounced",
            "complained",
        ]  # Maildir order
    assert site.lists("victim@example.com") == ("", {"mx": "active", "pe": "active"})
    assert "mailbox: 1 hard bounce, 1 complaint" in err  # the complaint counts for lost@, whose message it was


def test_one_dsn_is_one_soft_bounce_and_unknown_addresses_create_nothing(site, tmp_path):
    _delivered(site, "busy@example.com", "<m2.pe@news.example.org>")
    _delivered(site, "stranger@example.net", "<m3.pe@news.example.org>")  # sent once, not in the store
    box = _box(
        tmp_path / "Maildir",
        [
            _dsn([("busy@example.com", "delayed", "4.4.7")] * 3, mid="<m2.pe@news.example.org>", own="<d3@x>"),
            _dsn([("stranger@example.net", "delayed", "4.4.7")], mid="<m3.pe@news.example.org>", own="<d4@x>"),
            _dsn([("nobody@example.net", "failed", "5.1.1")], own="<d5@x>"),
        ],
    )
    with SubscriberStore(tmp_path / ".newsletter") as store:
        before = store.count()
    code, err = site.run("bounces", str(box))
    assert code == 0, err
    assert "mailbox: 2 soft bounces" in err  # busy@ once (not three times), stranger@ reported
    with SubscriberStore(tmp_path / ".newsletter") as store:
        assert store.count() == before
        assert store.subscriber("stranger@example.net") is None and store.subscriber("nobody@example.net") is None
        assert (
            store.db.execute("SELECT soft_bounces FROM subscribers WHERE email = 'busy@example.com'").fetchone()[0] == 1
        )


def test_odd_maildir_entries_are_skipped_with_a_line_never_a_hang(site, tmp_path):
    import os
    import subprocess
    import sys

    box = maildir(tmp_path / "Maildir", ["postfix-hard.eml"])
    os.mkfifo(box / "new" / "1700000000.fifo.host")
    os.symlink(box / "new" / "gone", box / "new" / "1700000001.dangling.host")
    (box / "new" / "1700000002.folder.host").mkdir()
    os.symlink(box / "cur" / "1700000003.loop.host", box / "cur" / "1700000003.loop.host")
    run = subprocess.run(
        [sys.executable, "-m", "newsletter", "bounces", str(box)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NEWSLETTER_SECRET": SECRET},
    )
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "1700000000.fifo.host: not a regular file (a FIFO, device or folder); skipped" in run.stderr
    assert "1700000001.dangling.host: a dangling symbolic link; skipped" in run.stderr
    assert "1700000002.folder.host: not a regular file" in run.stderr
    assert "1700000003.loop.host: cannot read it" in run.stderr
    assert "mailbox: 1 hard bounce, 4 skipped" in run.stderr
    assert site.lists("gone@example.net")[0] == "bounced"  # the rest is processed


def test_a_fifo_given_as_the_mbox_is_one_line(site, tmp_path):
    import os

    os.mkfifo(tmp_path / "bounces.mbox")
    code, err = site.run("bounces", str(tmp_path / "bounces.mbox"))
    assert code == 2 and "not a Maildir or an mbox file" in err


def test_a_mailto_request_without_our_token_is_ignored_even_from_the_address_itself(site, tmp_path):
    spoofed = (
        b"From: Victim <victim@example.com>\nTo: news@example.org\nSubject: unsubscribe mx victim@example.com\n"
        b"Message-ID: <spoof-1@mail.example.net>\n\nunsubscribe\n"
    )
    code, err = site.run("bounces", str(_box(tmp_path / "Maildir", [spoofed])))
    assert code == 0 and "1 not ours" in err
    assert site.lists("victim@example.com") == ("", {"mx": "active", "pe": "active"})


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="needs root: runs `bounces` as another user")
def test_an_unreadable_maildir_entry_is_skipped_with_a_line(tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    shared = Path(tempfile.mkdtemp(prefix="newsletter-test-"))
    try:
        os.chmod(shared, 0o755)
        (shared / "newsletter.toml").write_text('base_url = "https://news.example.org/"\n')
        box = maildir(shared / "Maildir", ["postfix-hard.eml"])
        for path in [shared, *shared.rglob("*")]:
            os.chown(path, 65534, 65534)
        secret = box / "new" / "1700000004.secret.host"
        secret.write_bytes((SAMPLES / "exim-hard.eml").read_bytes())
        os.chmod(secret, 0o600)  # root's: the run below is nobody's
        run = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-m",
                "newsletter",
                "bounces",
                "Maildir",
            ],
            cwd=shared,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NEWSLETTER_SECRET": SECRET, "HOME": str(shared)},
        )
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        assert "1700000004.secret.host: cannot read it (Permission denied); skipped" in run.stderr
        assert "1 skipped" in run.stderr
    finally:
        shutil.rmtree(shared, ignore_errors=True)
