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
PEOPLE = ["gone@example.net", "lost@example.com", "ghost@example.org", "busy@example.com", "annoyed@example.com",
          "reader@example.com", "victim@example.com", "oddity@example.com"]


@pytest.fixture
def site(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    (tmp_path / "newsletter.toml").write_text(
        'base_url = "https://news.example.org/"\n[newsletter]\nfrom_address = "news@example.org"\n'
        'bounce_address = "bounces@news.example.org"\n')
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
    from smtp_server import SMTPServer

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
