"""What every part of the web app shares, made once per app: the configuration, words, list
names, signers, rate limits, the templates; and the request helpers (pages, links, the
cross-site check, the store opened per request).

The store follows Flask's tutorial pattern: opened on first use in a request, kept on `g`,
closed when the request ends (`teardown_appcontext`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from flask import Response, current_app, g, request
from itsdangerous import URLSafeTimedSerializer

from newsletter.content.gazetteer import Gazetteer
from newsletter.render.templating import Templates
from newsletter.render.words import Words, group_title
from newsletter.subscribers import tokens
from newsletter.subscribers.lists import list_name
from newsletter.subscribers.outbox import Outbox, utcnow
from newsletter.subscribers.ratelimits import shared_client_limit
from newsletter.subscribers.store import SubscriberStore
from newsletter.web.limits import SlidingWindow

if TYPE_CHECKING:
    from newsletter.config import Config

HONEYPOT = "website"
SPECIAL = ("all", "regional")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@dataclass
class Site:
    config: Config
    state_dir: Path
    secret: bytes
    templates: Templates
    gazetteer: Gazetteer
    words: Words = field(init=False)
    names: dict[str, str] = field(init=False)
    wake: threading.Event = field(default_factory=threading.Event)
    """Set when a request queued a message: the sender looks at once instead of at its next poll."""

    def __post_init__(self) -> None:
        config = self.config
        self.public: str = config.newsletter_public_url
        self.allowed_origins = {o for o in (_origin(self.public), _origin(config.base_url)) if o}
        self.confirm_signer = URLSafeTimedSerializer(self.secret, salt="newsletter-confirm")
        self.confirm_seconds = int(config.serve_confirm_hours * 3600)
        # digest frequencies a person may choose (none to choose with one, or with list issues)
        self.frequencies = list(config.newsletter_frequencies) if config.newsletter_delivery == "digest" else []
        self.client_limit = (
            shared_client_limit(config.serve_client_rate, 600.0, self.state_dir)  # on PostgreSQL
            or SlidingWindow(config.serve_client_rate, 600.0)
        )
        self.env = self.templates.env.overlay(autoescape=True)
        self.words = Words(config.language)
        display = {c.lower(): n for c, n in self.gazetteer.display.items()}
        self.names = {code: group_title(code, self.words, display) for code in display}
        self._by_name = sorted(self.names, key=lambda c: self.names[c])
        self._with_news: tuple[float, set[str]] = (0.0, set())
        self._store_checked = False
        self._lock = threading.Lock()

    # -- stores ------------------------------------------------------------------------------
    def open_store(self) -> SubscriberStore:
        """A connection of its own; the first one of the process checks the database's integrity."""
        with self._lock:
            check, self._store_checked = not self._store_checked, True
        return SubscriberStore(self.state_dir, check=check)

    # -- links and names ----------------------------------------------------------------------
    def url(self, path: str, **query) -> str:
        """An address of this app, from `newsletter.public_url` (never from the request: behind
        a proxy the request's path lacks the proxy's prefix)."""
        return f"{self.public}{path}" + (f"?{urlencode(query)}" if query else "")

    def list_title(self, group: str) -> str:
        if group in SPECIAL:
            return self.words.t(group)
        return self.names.get(group, group.upper())

    def preferences_link(self, email: str) -> str:
        return self.url("preferences", email=email, token=tokens.preferences_token(self.secret, email))

    def confirm_link(self, token: str) -> str:
        return self.url("confirm", token=token)

    def lists_with_news(self) -> set[str]:
        """The countries the published site has a page for (`out/CC/index.html`), looked at
        once a minute; empty when serve cannot see the site (then every country is offered)."""
        stamp, found = self._with_news
        if time.monotonic() - stamp < 60 and stamp:
            return found
        out = Path(self.config.out)
        found = {code for code in self.names if (out / code / "index.html").is_file()}
        self._with_news = (time.monotonic(), found)
        return found

    def choices(self, selected: set[str], *, chosen_first: bool) -> list[tuple[str, str, bool]]:
        """(code, name, checked) to offer: `all`, `regional` and the countries with news, by name;
        with `chosen_first`, what the person chose comes first."""
        news = self.lists_with_news()
        codes = [c for c in self._by_name if c in news or c in selected] if news else list(self._by_name)
        offered = [(g, self.list_title(g), g in selected) for g in (*SPECIAL, *codes)]
        if chosen_first:
            offered.sort(key=lambda choice: not choice[2])  # stable: the rest keep their order
        return offered

    def chosen_frequency(self, value: str | None) -> str | None:
        """A frequency from a form: '' for the site's default period, None when there is no
        choice to make (or the value is not one of the offered ones)."""
        if len(self.frequencies) < 2 or value not in self.frequencies:
            return None
        return "" if value == self.config.newsletter_period else value

    def chosen_lists(self, values: list[str]) -> set[str]:
        return {g for g in (list_name(v, self.gazetteer) for v in values) if g is not None}

    # -- answers ------------------------------------------------------------------------------
    def page(self, name: str, status: int = 200, **context) -> Response:
        html = self.env.get_template(f"web/{name}.html.j2").render(
            site=self.config,
            url=self.url,
            list_title=self.list_title,
            words=self.words,
            frequencies=self.frequencies,
            **context,
        )
        return Response(html, status=status, mimetype="text/html")

    def bad_link(self, reason: str) -> Response:
        return self.page(
            "message",
            400,
            title=self.words.t("web.bad.title"),
            text=self.words.t("web.bad.text", reason=self.words.t(reason)),
        )

    def refused(self, status: int) -> Response:
        return self.page(
            "message", status, title=self.words.t(f"web.{status}.title"), text=self.words.t(f"web.{status}.text")
        )

    def cross_site(self) -> bool:
        """Whether a browser says this form was posted from another site. A browser sends
        `Origin` with every POST (`null` when the page's referrer policy hides it, which is why
        serve's pages say `same-origin`) and `Sec-Fetch-Site`; a plain HTTP client sends
        neither and is let through: what it could forge, it could as well send directly. Either
        header saying another site is enough to refuse (`Sec-Fetch-Site: cross-site` with an
        allowed Origin too)."""
        origin = request.headers.get("Origin")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site == "cross-site":
            return True
        if origin is not None and origin != "null":
            return origin not in self.allowed_origins
        if origin == "null":
            return fetch_site != "same-origin"
        return False

    def over_client_limit(self) -> bool:
        return not self.client_limit.allow(request.remote_addr or "?")

    def refuse_form(self) -> Response | None:
        """The answer to a form post from another site (403) or from a client over its limit (429)."""
        if self.cross_site():
            return self.refused(403)
        if self.over_client_limit():
            return self.refused(429)
        return None

    def queue(self, kind: str, email: str, data: dict) -> None:
        """A message for the background sender; the same work whatever the address."""
        now = utcnow()
        Outbox(store().db).queue(kind, email, data, expires=now + dt.timedelta(seconds=self.confirm_seconds), now=now)
        self.wake.set()


def site() -> Site:
    return current_app.extensions["newsletter"]


def store() -> SubscriberStore:
    """The request's store, opened on first use and closed when the request ends."""
    if "store" not in g:
        g.store = site().open_store()
    return g.store


def close_store(_exc=None) -> None:
    opened = g.pop("store", None)
    if opened is not None:
        opened.close()
