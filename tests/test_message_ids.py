"""Message-IDs cannot be computed by a subscriber (#17 trial): bounces and complaints are tied to
a delivery by the Message-ID they cite, so a subscriber who could compute another person's
Message-ID from their own copy could forge a DSN or an ARF report that removes that person.

The send goes to tests/helpers/spool_smtp.py in its own process; what counts is what the store holds."""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import sqlite3
from pathlib import Path

import pytest
from test_bounces import _arf, _dsn
from test_send_faults import BULLETIN, SpoolServer

from newsletter.cli import main
from newsletter.send.sendlog import SendLog
from newsletter.subscribers.store import SubscriberStore

ATTACKER, VICTIM, OTHER = "mallory@example.com", "victim@example.com", "carol@example.com"


@pytest.fixture
def sent(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "k")
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "peru.txt").write_text(BULLETIN)
    (tmp_path / "people.csv").write_text(
        "email,countries,name\n" + "".join(f"{p},pe,\n" for p in (ATTACKER, VICTIM, OTHER))
    )
    with SpoolServer(tmp_path / "spool") as server:
        (tmp_path / "spool").mkdir(exist_ok=True)
        (tmp_path / "newsletter.toml").write_text(
            'base_url = "https://news.example.org/"\nbulletins = ["bulletins"]\n'
            '[newsletter]\ndelivery = "lists"\nfrom_address = "news@example.org"\nbounce_address = "bounces@news.example.org"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\nretry_delay = 0.01\n'
        )
        assert main(["subscribers", "import", "people.csv"]) == 0
        assert main(["build", "-q"]) in (0, 1)
        assert main(["send", "-q", "--country", "pe"]) == 0
        assert server.counts() == {ATTACKER: 1, VICTIM: 1, OTHER: 1}
    capsys.readouterr()
    return tmp_path


def _copy(root: Path, rcpt: str) -> email.message.EmailMessage:
    path = next((root / "spool").glob(f"{rcpt}.*.eml"))
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def _unkeyed(issue: str, rcpt: str, content: str) -> str:
    """The Message-ID as it was made before the fix: anyone who knows the issue and its content can make it."""
    return hashlib.blake2b(f"{issue}\n{rcpt}\n{content}".encode(), digest_size=16).hexdigest()


def test_a_subscriber_cannot_forge_a_bounce_or_complaint_that_removes_someone_else(sent, capsys):
    mine = _copy(sent, ATTACKER)["Message-ID"]
    # everything the attacker could learn or guess, and more: the issue key and content hash from the log
    db = sqlite3.connect(sent / ".newsletter" / "sendlog.sqlite3")
    issue, content = db.execute("SELECT issue, content FROM deliveries WHERE email = ?", (ATTACKER,)).fetchone()
    db.close()
    suffix = mine.split(".", 1)[1]  # "pe@news.example.org>"
    assert (
        mine != f"<{_unkeyed(issue, ATTACKER, content)}.{suffix}"
    )  # the attacker cannot check a guess on their own copy
    forged = f"<{_unkeyed(issue, VICTIM, content)}.{suffix}"
    box = mailbox.Maildir(sent / "Maildir", create=True)
    box.add(_dsn([(VICTIM, "failed", "5.1.1")], mid=forged, own="<forged-dsn@x>"))  # to the bare bounce address
    box.add(_arf(VICTIM, mid=forged))
    box.close()
    assert main(["bounces", str(sent / "Maildir")]) == 0
    err = capsys.readouterr().err
    with SubscriberStore(sent / ".newsletter") as store:
        assert store.subscriber(VICTIM)[1:] == ("", {"pe": "active"})
    assert "not tied to a message we sent" in err
    # the genuine bounce of the victim's real copy still counts, for her only
    real = _copy(sent, VICTIM)["Message-ID"]
    box = mailbox.Maildir(sent / "Maildir2", create=True)
    box.add(_dsn([(VICTIM, "failed", "5.1.1")], mid=real, own="<real-dsn@mx>"))
    box.close()
    assert main(["bounces", str(sent / "Maildir2")]) == 0
    with SubscriberStore(sent / ".newsletter") as store:
        assert store.subscriber(VICTIM)[1:] == ("bounced", {"pe": "bounced"})
        assert store.subscriber(OTHER)[1:] == ("", {"pe": "active"})


def test_message_ids_are_keyed_by_the_state_and_stable_in_it(sent):
    first = SendLog(sent / ".newsletter")
    key = first.message_key()
    first.close()
    again = SendLog(sent / ".newsletter")
    assert again.message_key() == key and len(key) == 32  # made once, kept
    again.close()
    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config
    from newsletter.content.catalog import build_catalog
    from newsletter.render.newsletters.issue import issues_for

    config = load_config(sent / "newsletter.toml", {})
    builder = Builder(config)
    entries, _, _ = builder.read(["bulletins"])
    renderer = builder.context.issue_renderer
    rendered = renderer.render(
        issues_for(build_catalog(entries, authority=config.authority).groups["pe"], "pe", "weekly")[0]
    )
    one = renderer.message(rendered, ("", VICTIM), secret=b"k", version="c", key=key).message_id
    assert renderer.message(rendered, ("", VICTIM), secret=b"k", version="c", key=key).message_id == one
    assert renderer.message(rendered, ("", VICTIM), secret=b"k", version="c", key=b"another state").message_id != one
    assert renderer.message(rendered, ("", VICTIM), secret=b"k", version="c").message_id != one
