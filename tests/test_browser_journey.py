"""The whole subscriber journey in a real browser (Playwright driving the system Chromium):
the built home page → sign up for two countries → the confirmation email from a real aiosmtpd →
its link → the next issue → its unsubscribe link → the button. The store is checked at each
step. Screenshots at 1200 and 390 px go to test-artifacts/ (or $NEWSLETTER_ARTIFACTS)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

from newsletter.cli import main
from newsletter.subscribers.store import SubscriberStore
from serve_process import running_serve
from smtp_server import SMTPServer, free_port

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("NEWSLETTER_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM = os.environ.get("NEWSLETTER_CHROMIUM", "/usr/bin/chromium")
BULLETIN = """2 September 2021

Mexico Opens a Shelter in Tapachula

The shelter has 120 beds and a clinic.

1 September 2021

Panama Trains Border Officials

Forty officials finished the course in Darién.

31 August 2021

Peru Extends Temporary Permits

The permits now last two years.
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def journey(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "journey-secret")
    site_port, app_port = free_port(), free_port()
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "week.txt").write_text(BULLETIN)
    with SMTPServer() as mail:
        (tmp_path / "newsletter.toml").write_text(
            f'title = "Border News"\nbase_url = "http://127.0.0.1:{site_port}/"\n'
            f'[newsletter]\nfrom_address = "news@example.org"\npublic_url = "http://127.0.0.1:{app_port}/"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {mail.port}\ntls = "none"\n')
        assert main(["build", "-q"]) == 0
        static = http.server.ThreadingHTTPServer(("127.0.0.1", site_port),
                                                 functools.partial(QuietHandler, directory=str(tmp_path / "feeds")))
        threading.Thread(target=static.serve_forever, daemon=True).start()
        try:
            with running_serve(tmp_path, app_port):
                yield tmp_path, site_port, mail
        finally:
            static.shutdown()


def lists(root: Path, email: str):
    with SubscriberStore(root / ".newsletter") as store:
        found = store.subscriber(email)
    return found[2] if found else None


def test_subscribe_confirm_receive_and_unsubscribe_in_chromium(journey):
    from playwright.sync_api import sync_playwright

    root, site_port, mail = journey
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        try:
            for width in (1200, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(f"http://127.0.0.1:{site_port}/index.html")
                page.screenshot(path=str(ARTIFACTS / f"home-{width}.png"), full_page=True)
                page.close()

            page = browser.new_page(viewport={"width": 390, "height": 900})
            page.goto(f"http://127.0.0.1:{site_port}/index.html")
            page.fill("#signup-email", "reader@example.org")
            page.uncheck("input[name=country][value=all]")
            page.check("input[name=country][value=mx]")
            page.check("input[name=country][value=pa]")
            page.click("form.signup button[type=submit]")
            page.wait_for_selector("text=Check your inbox")
            page.screenshot(path=str(ARTIFACTS / "check-inbox-390.png"))
            assert lists(root, "reader@example.org") == {"mx": "pending", "pa": "pending"}

            mail.wait_for(1)
            confirmation = mail.handler.received[0].message
            assert confirmation["To"] == "reader@example.org"
            link = re.search(r"http://\S+/confirm\?token=\S+", confirmation.get_body(("plain",)).get_content()).group(0)
            page.goto(link)
            assert page.locator("h1").inner_text() == "You are subscribed"
            page.set_viewport_size({"width": 1200, "height": 900})
            page.screenshot(path=str(ARTIFACTS / "confirmed-1200.png"))
            assert lists(root, "reader@example.org") == {"mx": "active", "pa": "active"}

            assert main(["send", "-q", "--country", "mx"]) == 0  # the next issue
            mail.wait_for(2)
            issue = mail.handler.received[1]
            assert issue.rcpt == ["reader@example.org"] and "Mexico" in issue.message["Subject"]
            unsubscribe = re.search(r"<(http://[^>]+/unsubscribe\?[^>]+)>", issue.message["List-Unsubscribe"]).group(1)
            page.goto(unsubscribe)
            page.screenshot(path=str(ARTIFACTS / "unsubscribe-1200.png"))
            assert lists(root, "reader@example.org") == {"mx": "active", "pa": "active"}  # a GET changes nothing
            page.click("button[type=submit]")
            page.wait_for_selector("text=You are unsubscribed")
            page.set_viewport_size({"width": 390, "height": 900})
            page.screenshot(path=str(ARTIFACTS / "unsubscribed-390.png"))
            assert lists(root, "reader@example.org") == {"mx": "unsubscribed", "pa": "active"}
        finally:
            browser.close()
    assert main(["send", "-q", "--country", "mx"]) == 0
    assert len(mail.handler.received) == 2  # nothing more to them about Mexico
