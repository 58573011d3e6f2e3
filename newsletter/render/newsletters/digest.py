"""Digests: one message per subscriber per period, with the entries of every list they chose.

A subscriber's *choice* is the lists they get (resolved against the catalog: `*` becomes the
countries with news), their frequency and their language. Everyone with the same choice gets
the same digest, so a digest is composed and rendered once per (choice, period) — the cost
grows with distinct choices, not with subscribers — and only the links and tokens are put in
per message (`DigestRenderer.message`), on the already inlined HTML.

An entry is in a digest once however many of the chosen lists hold it: under the first of
its own countries (in the order the entry names them) that was chosen, with the other chosen
ones named; under `regional` when it names no country; under `all` when only `all` brings it.
Sections are ordered by their title in the digest's language, then regional, then all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from markupsafe import escape

from newsletter.content.catalog import ALL, REGIONAL, Catalog, groups_of, sort_key
from newsletter.content.entry import Entry
from newsletter.content.markup import body_html, body_text, summarize
from newsletter.render.newsletters.inline import InlinedTemplate, inline_template
from newsletter.render.newsletters.issue import IssueRenderer, message_token, wrap_text
from newsletter.render.newsletters.mime import Message, address, phrase_and_id
from newsletter.render.newsletters.periods import period_bounds, period_label
from newsletter.render.templating import Templates
from newsletter.render.words import Words, group_title

UNSUBSCRIBE_PLACEHOLDER = "nl-digest-unsubscribe-7a41c2"
PREFERENCES_PLACEHOLDER = "nl-digest-preferences-e35d98"
DIGEST_KEY = "digest"
"""Send-log keys of digests are `digest/<period id>` (the id says the frequency)."""
EVERY_LIST = "*"
"""A digest's unsubscribe link leaves every list: the message is about all of them."""


@dataclass(frozen=True, slots=True)
class Choice:
    """What a subscriber gets: sorted list names that have news, a frequency, a language."""

    lists: tuple[str, ...]
    frequency: str
    language: str
    after: dt.date | None = None
    """Only entries dated on or after this day: the subscriber's earlier digests (of any
    frequency) covered the days before it (`send.digest.DigestSender.coverage`)."""


@dataclass(frozen=True)
class Section:
    group: str
    title: str
    entries: tuple[tuple[Entry, tuple[str, ...]], ...]
    """(entry, the other chosen lists it names), newest first."""


@dataclass(frozen=True)
class Digest:
    choice: Choice
    period_id: str
    label: str
    sections: tuple[Section, ...]

    @property
    def key(self) -> str:
        return f"{DIGEST_KEY}/{self.period_id}"

    @property
    def entries(self) -> list[Entry]:
        return [e for s in self.sections for e, _ in s.entries]


@dataclass(frozen=True)
class RenderedDigest:
    digest: Digest
    subject: str
    preheader: str
    html: str
    """Inlined HTML with the unsubscribe and preferences placeholders."""
    text: str
    full_entries: int
    content: str
    """Hash of subject, HTML and text: what every subscriber with this choice is sent."""


def digest_content_hash(subject: str, html: str, text: str) -> str:
    h = hashlib.blake2b(digest_size=12)
    for part in (subject, html, text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _inlined(templates: Templates) -> InlinedTemplate:
    """The digest template with the newsletter CSS (and the digest's additions) inlined: once per
    send run (premailer, ~0.2 s), never per digest or per message."""
    loader = templates.env.loader
    assert loader is not None
    source = loader.get_source(templates.env, "digest.html.j2")[0]
    css = templates.read("newsletter.css").decode("utf-8") + "\n" + templates.read("digest.css").decode("utf-8")
    return inline_template(source, css)


class DigestComposer:
    """Choices and digests over one catalog; every result is cached for the run."""

    def __init__(
        self,
        catalog: Catalog,
        names: Mapping[str, str],
        *,
        default_frequency: str,
        frequencies: Iterable[str],
        language: str,
    ) -> None:
        self.catalog = catalog
        self.names = names
        self.default_frequency = default_frequency
        self.frequencies = tuple(frequencies)
        self.language = language
        self._lists: dict[tuple, tuple[str, ...]] = {}
        self._in_period: dict[tuple[str, str, str], tuple[Entry, ...]] = {}
        self._digests: dict[tuple[Choice, str], Digest | None] = {}
        self._words: dict[str, Words] = {}

    def choice(self, subscriber) -> Choice:
        """The subscriber's choice; a frequency the site no longer offers becomes its default."""
        key = (subscriber.groups, subscriber.excluded)
        lists = self._lists.get(key)
        if lists is None:
            lists = self._lists[key] = tuple(
                g for g in self.catalog.groups if self.catalog.groups[g] and subscriber.wants(g)
            )
        frequency = subscriber.frequency or self.default_frequency
        if frequency not in self.frequencies:
            frequency = self.default_frequency
        return Choice(lists, frequency, self.language)

    def words(self, lang: str) -> Words:
        words = self._words.get(lang)
        if words is None:
            words = self._words[lang] = Words(lang)
        return words

    def title(self, group: str, words: Words) -> str:
        return group_title(group, words, self.names)

    def entries(self, group: str, pid: str, frequency: str) -> tuple[Entry, ...]:
        key = (group, pid, frequency)
        found = self._in_period.get(key)
        if found is None:
            start, after = period_bounds(pid, frequency)
            picked = []
            for entry in self.catalog.groups.get(group, ()):  # newest first
                if entry.date >= after:
                    continue
                if entry.date < start:
                    break
                picked.append(entry)
            found = self._in_period[key] = tuple(picked)
        return found

    def digest(self, choice: Choice, pid: str) -> Digest | None:
        """The digest of one choice for one period; None when its lists had no news then."""
        key = (choice, pid)
        if key in self._digests:
            return self._digests[key]
        chosen = set(choice.lists)
        placed: dict[str, list[tuple[Entry, tuple[str, ...]]]] = {}
        seen: set[str] = set()
        for group in choice.lists:
            for entry in self.entries(group, pid, choice.frequency):
                if entry.id in seen or (choice.after is not None and entry.date < choice.after):
                    continue
                seen.add(entry.id)
                own = [g for g in groups_of(entry.countries) if g in chosen]
                home = own[0] if own else ALL
                placed.setdefault(home, []).append((entry, tuple(own[1:])))
        if not placed:
            self._digests[key] = None
            return None
        words = self.words(choice.language)
        order = {REGIONAL: 1, ALL: 2}
        sections = []
        for group in sorted(placed, key=lambda g: (order.get(g, 0), self.title(g, words).casefold(), g)):
            items = sorted(placed[group], key=lambda pair: sort_key(pair[0]))
            sections.append(Section(group, self.title(group, words), tuple(items)))
        digest = Digest(choice, pid, period_label(pid, choice.frequency, choice.language), tuple(sections))
        self._digests[key] = digest
        return digest


class DigestRenderer:
    """Renders digests once per (choice, period); `message` personalises one copy."""

    def __init__(self, issues: IssueRenderer, templates: Templates) -> None:
        self.issues = issues
        self.config = issues.config
        self.links = issues.links
        inlined = _inlined(templates).with_accent(self.config.brand_accent, self.config.brand_accent_dark)
        env = templates.env.overlay()
        env.filters["email_body"] = inlined.body_filter()
        env.filters["wrap"] = wrap_text
        self._html = env.from_string(inlined.source)
        self._text = env.get_template("digest.txt.j2")
        self._rendered: dict[tuple[Choice, str], RenderedDigest] = {}
        self._items: dict[tuple[str, str], dict] = {}
        self._from = address(self.config.newsletter_from_name, self.config.newsletter_from_address)
        domain = self.config.authority.split("@")[-1]
        self.list_domain = domain
        self._list_id = phrase_and_id(self.config.title, f"{DIGEST_KEY}.{domain}")

    def subject(self, digest: Digest) -> str:
        return f"{self.config.title} \u2014 {digest.label}"

    def render(self, digest: Digest, composer: DigestComposer) -> RenderedDigest:
        key = (digest.choice, digest.period_id)
        done = self._rendered.get(key)
        if done is not None:
            return done
        words = composer.words(digest.choice.language)
        sections = []
        flat: list[dict] = []
        for section in digest.sections:
            items = []
            for entry, also in section.entries:
                item = dict(self._item(entry, words))
                item["also"] = (
                    words.t("digest.also", names=", ".join(composer.title(g, words) for g in also)) if also else ""
                )
                items.append(item)
                flat.append(item)
            sections.append((section.title, items))
        subject = self.subject(digest)
        first = flat[0]["summary"] if flat else ""
        preheader = words.t("nl.preheader", items=words.count("items", len(flat)), first=first)[:150]
        lists = ", ".join(composer.title(g, words) for g in digest.choice.lists)
        base = {
            "subject": subject,
            "preheader": preheader,
            "label": digest.label,
            "words": words,
            "more_title": words.t(f"nl.more.{digest.choice.frequency}"),
            "why": words.t("digest.why", site=self.config.title, lists=lists),
            "site_url": self.links.url(""),
            "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
            "site": self.config,
            "logo_url": self.issues.logo_url,
            "preferences_url": PREFERENCES_PLACEHOLDER if self.config.newsletter_public_url else "",
        }

        def context(full: int) -> dict:
            shown, n = [], 0
            for title, items in sections:
                shown.append({"title": title, "entries": items[: max(0, full - n)]})
                n += len(items)
            return dict(base, sections=shown, overflow=flat[full:])

        full = len(flat)
        html = self._html.render(**context(full))
        limit = self.config.newsletter_max_bytes
        if len(html) * 4 > limit and len(html.encode()) > limit:
            low, high = 0, full  # the largest count of full entries that fits, as in list issues
            while low < high:
                mid = (low + high + 1) // 2
                if len(self._html.render(**context(mid)).encode()) <= limit:
                    low = mid
                else:
                    high = mid - 1
            full = low
            html = self._html.render(**context(full))
        text = self._text.render(**context(full))
        rendered = RenderedDigest(
            digest, subject, preheader, html, text, full, digest_content_hash(subject, html, text)
        )
        self._rendered[key] = rendered
        return rendered

    def _item(self, entry: Entry, words: Words) -> dict:
        """An entry's parts as the newsletter templates show them (as in list issues)."""
        key = (entry.id, words.lang)
        item = self._items.get(key)
        if item is None:
            text = body_text(entry.body, entry.body_format, urls=True)
            item = self._items[key] = {
                "title": entry.title,
                "url": self.links.entry_url(entry),
                "date_text": words.date(entry.date),
                "body_html": body_html(entry.body, entry.body_format),
                "body_text": text,
                "summary": summarize(text, 100),
                "lang": entry.language or self.config.language,
            }
        return item

    def message(
        self,
        rendered: RenderedDigest,
        recipient: tuple[str, str],
        *,
        secret: bytes | None,
        date: dt.datetime,
        subject: str | None = None,
        key: bytes | None = None,
    ) -> Message:
        """One subscriber's copy (`recipient`: name, address): their unsubscribe (from every
        list) and preferences links; the same Message-ID for the same period, address and
        content on every retry."""
        name, email = recipient
        issues = self.issues
        https = issues.personal_unsubscribe(EVERY_LIST, email, secret)
        mailto = issues.mailto_unsubscribe(EVERY_LIST, email, secret)
        link = https or mailto
        prefs = issues.preferences(email, secret)
        html = rendered.html.replace(UNSUBSCRIBE_PLACEHOLDER, str(escape(link)))
        text = rendered.text.replace(UNSUBSCRIBE_PLACEHOLDER, link)
        if prefs:
            html = html.replace(PREFERENCES_PLACEHOLDER, str(escape(prefs)))
            text = text.replace(PREFERENCES_PLACEHOLDER, prefs)
        digest = rendered.digest
        mid = message_token(key, f"{digest.key}\n{email.lower()}\n{rendered.content}")
        headers = [
            ("List-Id", self._list_id),
            ("List-Unsubscribe", f"<{mailto}>" + (f", <{https}>" if https else "")),
            ("List-Archive", f"<{self.links.url('')}>"),
        ]
        if https:
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        if self.config.newsletter_reply_to:
            headers.append(("Reply-To", self.config.newsletter_reply_to))
        return Message(
            from_addr=self._from,
            to_addr=address(name, email),
            subject=subject or rendered.subject,
            date=date,
            message_id=f"<{mid}.{DIGEST_KEY}@{self.list_domain}>",
            text=text,
            html=html,
            headers=tuple(headers),
        )
