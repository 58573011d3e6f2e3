"""serve's own messages (confirm a sign-up, "you are already subscribed", your preferences
link), rendered from templates/web/mail.html.j2 and mail.txt.j2 in the site's language: the
newsletter's look (its colours, a 600 px column that shrinks to the screen, dark mode), a
button instead of a long link, and a plain-text part that carries the link in full.

The HTML's CSS is inlined by premailer (mail clients drop `<style>` or parts of it); that costs
milliseconds, paid by the background sender, never by a request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import escape

from newsletter.render.newsletters.inline import inline_css
from newsletter.render.newsletters.mime import Message, address

if TYPE_CHECKING:
    from newsletter.config import Config


@dataclass(frozen=True)
class Mail:
    kind: str  # confirm, already, manage
    subject: str
    data: bytes


class MailMaker:
    def __init__(self, config: Config, env, words, css: str) -> None:
        self.config = config
        self.env = env
        self.text_env = env.overlay(autoescape=False)  # the text part is not HTML
        self.words = words
        self.css = css
        self.domain = config.authority.split("@")[-1]
        self._cache: dict[str, str] = {}

    def _parts(self, kind: str, values: dict) -> tuple[str, str, str]:
        w, site = self.words, self.config.title
        subject = w.t(f"mail.{kind}.subject", site=site)
        flat = {k: (", ".join(v) if isinstance(v, list) else v) for k, v in values.items()}
        slots = {
            "intro": w.t(f"mail.{kind}.intro", site=site, **flat),
            "link": values["confirm"] if kind == "confirm" else values["preferences"],
            "after": w.t(f"mail.{kind}.after", site=site, **flat),
        }
        text = self.text_env.get_template("web/mail.txt.j2").render(
            site=self.config, text=w.t(f"mail.{kind}.text", site=site, **flat), why=w.t("mail.why", site=site)
        )
        html = self._inlined(kind, subject)
        for name, value in slots.items():
            html = html.replace(f"nlslot{name}x", str(escape(value)))
        return subject, text, html

    def _inlined(self, kind: str, subject: str) -> str:
        """The kind's HTML with its CSS inlined, once (premailer takes ~20 ms a document), with
        slots for what differs per message."""
        if kind not in self._cache:
            w = self.words
            html = self.env.get_template("web/mail.html.j2").render(
                site=self.config,
                words=w,
                subject=subject,
                css=self.css,
                button=w.t(f"mail.{kind}.button"),
                why=w.t("mail.why", site=self.config.title),
                intro="nlslotintrox",
                link="nlslotlinkx",
                after="nlslotafterx",
            )
            self._cache[kind] = inline_css(html)
        return self._cache[kind]

    def make(self, kind: str, email: str, values: dict, *, ident: str | None = None) -> Mail:
        """The message; `ident` makes its Message-ID (the same for every try of one outbox row)."""
        subject, text, html = self._parts(kind, values)
        mid = ident or hashlib.blake2b(f"{kind}\n{email}\n{secrets.token_hex(8)}".encode(), digest_size=12).hexdigest()
        message = Message(
            from_addr=address(self.config.newsletter_from_name, self.config.newsletter_from_address),
            to_addr=email,
            subject=subject,
            date=dt.datetime.now(dt.UTC),
            message_id=f"<{mid}.{kind}@{self.domain}>",
            text=text,
            html=html,
            headers=(("Auto-Submitted", "auto-generated"),),
        )
        return Mail(kind, subject, message.compose())
