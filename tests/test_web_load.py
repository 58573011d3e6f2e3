"""200 people at once against a real `newsletter serve` (waitress) on 127.0.0.1, each confirming
with the link their mail brought: no error, and the store holds exactly one row per person and
list, in the state each journey left it."""

from __future__ import annotations

import re
import time

from helpers.serve_process import running_serve
from helpers.smtp_server import SMTPServer, free_port
from helpers.webload import journeys

from newsletter.subscribers.store import SubscriberStore

PEOPLE = 200


def test_200_concurrent_sign_ups_confirmations_and_unsubscribes(tmp_path):
    port = free_port()
    with SMTPServer() as mail:
        (tmp_path / "newsletter.toml").write_text(
            f'base_url = "https://news.example.org/"\n[newsletter]\npublic_url = "http://127.0.0.1:{port}/"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {mail.port}\ntls = "none"\n'
            "[serve]\nclient_rate = 10000\n"
        )
        with running_serve(tmp_path, port, env={"NEWSLETTER_SECRET": "load-secret", "PATH": "/usr/bin:/bin"}):

            def confirm_link(email: str) -> str:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    for received in list(mail.handler.received):
                        if received.rcpt == [email]:
                            text = received.message.get_body(("plain",)).get_content()
                            return re.search(r"http://\S+/confirm\?token=\S+", text).group(0)
                    time.sleep(0.02)
                raise AssertionError(f"no confirmation mail for {email}")

            latencies, errors = journeys(
                f"http://127.0.0.1:{port}/",
                b"load-secret",
                PEOPLE,
                concurrency=PEOPLE,
                origin="https://news.example.org",
                confirm_link=confirm_link,
            )
        assert errors == []
        assert len(latencies) == PEOPLE * 2 + PEOPLE // 2
        mail.wait_for(PEOPLE)
        assert sorted(r for m in mail.handler.received for r in m.rcpt) == sorted(
            f"load{n}@example.org" for n in range(PEOPLE)
        )
    with SubscriberStore(tmp_path / ".newsletter") as store:
        rows = store.rows()
        assert len(rows) == PEOPLE
        for email, _, _, lists in rows:
            n = int(email.removeprefix("load").split("@")[0])
            assert lists == {"mx": "unsubscribed" if n % 2 else "active"}, email
        events = sum(len(store.history(email)) for email, *_ in rows)
    assert events == PEOPLE * 2 + PEOPLE // 2  # pending, active, and unsubscribed for half: nothing twice
