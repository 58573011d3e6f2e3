"""Every form a person meets, clicked in a real browser (Playwright driving the system
Chromium, which sends Origin, Sec-Fetch-Site and referrer headers as people's browsers do):
the built home page's sign-up form, serve's own sign-up form, "send me my link", the
preferences form (change and save; leave everything), the unsubscribe button of an issue —
the store checked after each step, mail taken from a real aiosmtpd. Once with serve at the
root of its own port, once behind a reverse proxy at /newsletter/ on the site's origin (what
docs/nginx-newsletter.conf sets up). And a form on another site posting to serve: refused.
Screenshots at 1200 and 390 px go to test-artifacts/ (or $NEWSLETTER_ARTIFACTS)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import time
from pathlib import Path

import pytest
from helpers.prefix_proxy import PrefixProxy
from helpers.serve_process import running_serve
from helpers.smtp_server import SMTPServer, free_port

from newsletter.cli import main
from newsletter.subscribers.store import SubscriberStore

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("NEWSLETTER_ARTIFACTS", REPO / "test-artifacts"))
MANY = (
    "Argentina, Bolivia, Brazil, Chile, Colombia, Costa Rica, Ecuador, El Salvador, Guatemala, Honduras, "
    "Nicaragua, Paraguay, Uruguay and Venezuela"
)
BULLETIN = f"""3 September 2021

Ministers Meet on Migration Routes

Delegates of {MANY} agreed on a shared registry.

2 September 2021

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


def static_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_site(
    root: Path, *, base_url: str, public_url: str, smtp_port: int, proxies: int = 0, build: bool = True
) -> None:
    (root / "bulletins").mkdir(exist_ok=True)
    (root / "bulletins" / "week.txt").write_text(BULLETIN)
    (root / "newsletter.toml").write_text(
        f'title = "Border News"\nbase_url = "{base_url}"\n'
        f'[newsletter]\ndelivery = "lists"\nfrom_address = "news@example.org"\npublic_url = "{public_url}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n'
        f"[serve]\nproxies = {proxies}\nmail_retry = 0.5\n"
    )
    if build:
        assert main(["build", "-q"]) == 0


@pytest.fixture(autouse=True)
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def lists(root: Path, email: str):
    with SubscriberStore(root / ".newsletter") as store:
        found = store.subscriber(email)
    return found[2] if found else None


def left_as(root: Path, email: str) -> str:
    with SubscriberStore(root / ".newsletter") as store:
        found = store.subscriber(email)
    return found[1] if found else "?"


def eventually(check, timeout: float = 10.0):
    """serve's sender works in the background: the store changes a moment after the page."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def next_mail(mail: SMTPServer, count: int):
    mail.wait_for(count)
    assert len(mail.handler.received) == count, f"expected mail number {count}"
    return mail.handler.received[count - 1].message


def link_in(message, path: str) -> str:
    """The link to `path` in the text part; the HTML part has it behind a button, not in full."""
    text = message.get_body(("plain",)).get_content()
    link = re.search(rf"http://\S+/{path}\?\S+", text).group(0)
    html = message.get_body(("html",)).get_content()
    assert f'href="{link.replace("&", "&amp;")}"' in html and f">{link}<" not in html
    return link


def shot(page, name: str, tag: str) -> None:
    if tag and name != "subscribe":
        return  # behind the proxy the pages are the same; one shows that its stylesheet loads
    for width in (1200, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}{tag}-{width}.png"), full_page=True)


def every_form(browser, root: Path, site_url: str, app_url: str, mail: SMTPServer, tag: str) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 900})
    received = len(mail.handler.received)

    # 1. the static home page's form
    page.goto(f"{site_url}index.html")
    page.fill("#signup-email", "reader@example.org")
    page.uncheck("input[name=country][value=all]")
    page.check("input[name=country][value=mx]")
    page.check("input[name=country][value=pa]")
    page.click("form.signup button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    assert eventually(lambda: lists(root, "reader@example.org") == {"mx": "pending", "pa": "pending"})
    received += 1
    confirmation = next_mail(mail, received)
    assert confirmation["To"] == "reader@example.org"
    page.goto(link_in(confirmation, "confirm"))
    assert page.locator("h1").inner_text() == "You are subscribed"
    shot(page, "confirmed", tag)
    assert lists(root, "reader@example.org") == {"mx": "active", "pa": "active"}

    # 2. serve's own sign-up form (the country pre-selected by the link); with nothing chosen
    # it comes back as the person left it (nothing checked, not "All news"), then with Peru
    page.goto(f"{app_url}subscribe?country=pe")
    assert page.locator("input[name=country][value=pe]").is_checked()
    shot(page, "subscribe", tag)
    page.fill("#email", "second@example.org")
    page.uncheck("input[name=country][value=pe]")
    page.click("form.signup button[type=submit]")
    page.wait_for_selector("p.error")
    assert page.locator("input[name=country]:checked").count() == 0
    assert page.input_value("#email") == "second@example.org" and lists(root, "second@example.org") is None
    page.check("input[name=country][value=pe]")
    page.click("form.signup button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    shot(page, "check-inbox", tag)
    assert eventually(lambda: lists(root, "second@example.org") == {"pe": "pending"})
    received += 1
    page.goto(link_in(next_mail(mail, received), "confirm"))
    assert lists(root, "second@example.org") == {"pe": "active"}

    # 3. an active address signs up again: the same page; the mail says it already is subscribed
    page.goto(f"{app_url}subscribe?country=pe")
    page.fill("#email", "second@example.org")
    page.click("form.signup button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    received += 1
    assert next_mail(mail, received)["Subject"] == "You are already subscribed to Border News"
    assert lists(root, "second@example.org") == {"pe": "active"}

    # 4. "send me my link" (the footer's link leads to it)
    page.goto(f"{app_url}subscribe")
    page.click("footer >> text=Change your subscription")
    assert page.url == f"{app_url}manage"
    shot(page, "manage", tag)
    page.fill("#email", "reader@example.org")
    page.click("form button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    received += 1
    preferences = link_in(next_mail(mail, received), "preferences")

    # 5. change the choice and save: the choice comes first and checked; the filter finds Peru
    page.goto(preferences)
    chosen = page.locator("fieldset.chosen input[name=country]")
    assert [chosen.nth(i).get_attribute("value") for i in range(chosen.count())] == ["mx", "pa"]
    assert all(chosen.nth(i).is_checked() for i in range(chosen.count()))
    shot(page, "preferences", tag)
    page.fill(".filter input", "per")
    assert page.locator("label:has(input[value=pe])").is_visible()
    assert not page.locator("label:has(input[value=ar])").is_visible()
    assert page.locator("label:has(input[value=pa])").is_visible()  # chosen ones stay in view
    shot(page, "preferences-filtered", tag)
    page.uncheck("input[name=country][value=pa]")
    page.check("input[name=country][value=pe]")
    page.click("button:not(.secondary)[type=submit]")
    page.wait_for_selector("h1:text('Saved')")
    shot(page, "saved", tag)
    assert lists(root, "reader@example.org") == {"mx": "active", "pa": "unsubscribed", "pe": "active"}

    # 6. leave everything
    page.goto(preferences)
    page.click("button.secondary")
    page.wait_for_selector("text=You are unsubscribed")
    assert left_as(root, "reader@example.org") == "unsubscribed"
    assert set(lists(root, "reader@example.org").values()) == {"unsubscribed"}
    # the first confirmation link, clicked again now: it brings nobody back, and says so
    page.goto(link_in(confirmation, "confirm"))
    assert page.locator("h1").inner_text() == "You are not subscribed"
    assert "You left after this confirmation link was sent" in page.inner_text("main")
    assert set(lists(root, "reader@example.org").values()) == {"unsubscribed"}
    shot(page, "not-confirmed", tag)
    page.click("text=Sign up again")
    assert sorted(page.locator("input[name=country]:checked").evaluate_all("els => els.map(e => e.value)")) == [
        "mx",
        "pa",
    ]

    # 7. the unsubscribe button of the next issue
    assert main(["send", "-q", "--country", "pe"]) == 0
    received += 1
    issue = next_mail(mail, received)
    assert issue["To"] == "second@example.org" and "Peru" in issue["Subject"]
    unsubscribe = re.search(r"<(http://[^>]+/unsubscribe\?[^>]+)>", issue["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(f"{app_url}unsubscribe?")
    page.goto(unsubscribe)
    shot(page, "unsubscribe", tag)
    assert lists(root, "second@example.org") == {"pe": "active"}  # a GET changes nothing
    page.click("button[type=submit]")
    page.wait_for_selector("text=You are unsubscribed")
    shot(page, "unsubscribed", tag)
    assert lists(root, "second@example.org") == {"pe": "unsubscribed"}
    page.close()


def test_every_form_at_the_root_in_chromium(browser, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "journey-secret")
    site_port, app_port = free_port(), free_port()
    with SMTPServer() as mail:
        write_site(
            tmp_path,
            base_url=f"http://127.0.0.1:{site_port}/",
            public_url=f"http://127.0.0.1:{app_port}/",
            smtp_port=mail.port,
        )
        static = static_server(tmp_path / "feeds", site_port)
        try:
            with running_serve(tmp_path, app_port):
                every_form(
                    browser, tmp_path, f"http://127.0.0.1:{site_port}/", f"http://127.0.0.1:{app_port}/", mail, ""
                )
                mail_screenshots(browser, mail)
        finally:
            static.shutdown()
    assert main(["send", "-q", "--country", "pe"]) == 0
    assert len(mail.handler.received) == 5  # nothing more to anyone about Peru


def test_every_form_behind_the_documented_proxy_prefix(browser, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "journey-secret")
    proxy_port, app_port = free_port(), free_port()
    site = f"http://127.0.0.1:{proxy_port}/"
    with SMTPServer() as mail:
        write_site(tmp_path, base_url=site, public_url=f"{site}newsletter/", smtp_port=mail.port, proxies=1)
        with running_serve(tmp_path, app_port), PrefixProxy(tmp_path / "feeds", app_port, proxy_port):
            every_form(browser, tmp_path, site, f"{site}newsletter/", mail, "-prefixed")


def test_a_form_on_another_site_is_refused_in_chromium(browser, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_SECRET", "journey-secret")
    site_port, app_port, evil_port = free_port(), free_port(), free_port()
    with SMTPServer() as mail:
        write_site(
            tmp_path,
            base_url=f"http://127.0.0.1:{site_port}/",
            public_url=f"http://127.0.0.1:{app_port}/",
            smtp_port=mail.port,
            build=False,
        )
        (tmp_path / "evil").mkdir()
        for name, action, fields in [
            ("signup", "subscribe", '<input name="country" value="mx">'),
            ("manage", "manage", ""),
        ]:
            (tmp_path / "evil" / f"{name}.html").write_text(
                f'<form method="post" action="http://127.0.0.1:{app_port}/{action}">'
                f'<input name="email" value="victim@example.org">{fields}<button>Win a prize</button></form>'
            )
        evil = static_server(tmp_path / "evil", evil_port)
        try:
            with running_serve(tmp_path, app_port):
                page = browser.new_page()
                for name in ("signup", "manage"):
                    page.goto(f"http://127.0.0.1:{evil_port}/{name}.html")
                    with page.expect_navigation():
                        page.click("button")
                    assert "Not sent" in page.content()
                time.sleep(0.5)  # had anything been queued, the sender would have sent it by now
        finally:
            evil.shutdown()
        assert lists(tmp_path, "victim@example.org") is None and mail.handler.received == []


def mail_screenshots(browser, mail: SMTPServer) -> None:
    """serve's mails as a phone shows them (375 px), light and dark: nothing wider than the screen."""
    for n, name in ((0, "mail-confirm"), (3, "mail-manage")):
        html = mail.handler.received[n].message.get_body(("html",)).get_content()
        for scheme in ("light", "dark"):
            page = browser.new_page(viewport={"width": 375, "height": 700}, color_scheme=scheme)
            page.set_content(html)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{scheme}-375.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            button = page.locator("a.button").bounding_box()
            assert button is not None and button["height"] >= 40 and button["x"] + button["width"] <= 375 - 16
            background = page.evaluate("getComputedStyle(document.querySelector('.wrap')).backgroundColor")
            assert background == ("rgb(24, 28, 34)" if scheme == "dark" else "rgb(255, 255, 255)")
            page.close()
