"""Newsletter issues: which entries go in each, and how an issue is rendered.

An issue is rendered once (HTML with CSS already inlined, and plain text); the recipient's
unsubscribe link is a placeholder that `personalise` fills in, so sending never re-renders
or re-inlines anything per recipient. The web-archive copy gets a link without any token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlencode

from markupsafe import escape

from newsletter.content.catalog import ALL, Catalog, published
from newsletter.content.entry import Entry
from newsletter.content.markup import body_html, body_text, summarize
from newsletter.output.writer import write_atomic
from newsletter.render.links import Links
from newsletter.render.newsletters.inline import InlinedTemplate, inline_template
from newsletter.render.newsletters.mime import Message, address, phrase_and_id
from newsletter.render.newsletters.periods import period_id, period_label
from newsletter.render.newsletters.pieces import Pieces
from newsletter.render.templating import Templates
from newsletter.render.words import Words, group_title, joined_title
from newsletter.subscribers.tokens import mailto_token, preferences_token, unsubscribe_token

UNSUBSCRIBE_PLACEHOLDER = "nl-unsubscribe-link-9f3c1e"
_TOPBAR = b'<tr><td class="topbar"'
PREFERENCES_PLACEHOLDER = "nl-preferences-link-4b7d20"
_UNSUBSCRIBE = UNSUBSCRIBE_PLACEHOLDER.encode()
_PREFERENCES = PREFERENCES_PLACEHOLDER.encode()
_FOOTER = re.compile(r'(<td class="footer"[^>]*>)(.*?)(?=</td>)', re.S)
_LINK_STYLE = re.compile(r'<a [^>]*?style="([^"]*)"')
_BODY_OPEN = re.compile(rb"<body[^>]*>")
PREVIEW_RECIPIENT = ("Subscriber", "subscriber@example.invalid")
WRAP = 78
LIST_VARIABLES = ("group_name", "why", "more_link", "group_url", "feed_url")
"""The templates' variables that are the same for every issue of a list (`pieces.Pieces`)."""


@dataclass(frozen=True)
class Issue:
    """The entries of one group in one period, newest first."""

    group: str
    period_id: str
    label: str
    entries: tuple[Entry, ...]

    @property
    def key(self) -> str:
        return f"{self.group}/{self.period_id}"


@dataclass(frozen=True)
class RenderedIssue:
    issue: Issue
    subject: str
    preheader: str
    html_bytes: bytes
    """HTML (UTF-8) with CSS inlined and `UNSUBSCRIBE_PLACEHOLDER` where the personal link goes."""
    text_bytes: bytes
    full_entries: int
    """How many entries are shown in full; the rest are title links (size limit)."""

    # The web copy, the preview and every recipient's message are made from the UTF-8 bytes
    # (rendered so: `Pieces.render_utf8`), edited where they differ (their marks are ASCII, so
    # a search in the bytes finds what a search in the text would, at the same places).
    @cached_property
    def html(self) -> str:
        return self.html_bytes.decode()

    @cached_property
    def text(self) -> str:
        return self.text_bytes.decode()


def newsletter_groups(catalog: Catalog) -> list[str]:
    """Groups that get newsletters: every list with entries (each country, `all`, `regional`)."""
    return [g for g in catalog.groups if catalog.groups[g]]


def issues_for(entries: tuple[Entry, ...], group: str, period: str, since: str = "", lang: str = "en") -> list[Issue]:
    """One issue per period that has entries, newest first; only periods from `since` on
    (a period id, see `archive_start`) when it is given."""
    by_period: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        pid = period_id(entry.date, period)
        if pid < since:
            break  # entries are newest first
        by_period[pid].append(entry)
    return [
        Issue(group, pid, period_label(pid, period, lang), tuple(items))
        for pid, items in sorted(by_period.items(), reverse=True)
    ]


def archive_start(newest: dt.date, period: str, periods: int) -> str:
    """The oldest period id that still gets issues when the archive keeps `periods` periods."""
    if periods <= 0:
        return ""
    if period == "daily":
        return period_id(newest - dt.timedelta(days=periods - 1), period)
    if period == "weekly":
        return period_id(newest - dt.timedelta(weeks=periods - 1), period)
    months = newest.year * 12 + newest.month - 1 - (periods - 1)
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


@lru_cache(maxsize=8192)  # an entry appears in the issues of each of its countries and of `all`
def wrap_text(text: str, indent: str = "", width: int = WRAP) -> str:
    """Greedy word wrap at `width` columns; words longer than a line (URLs) are never broken.

    A paragraph's words joined by one space, then cut line by line at the last space that
    fits (one `rfind` a line, not a test a word)."""
    out = []
    rest_width = max(width - len(indent), 0)  # the lines after the first start with `indent`
    for paragraph in text.split("\n\n"):
        flat = " ".join(paragraph.split())
        lines, pos, size, line_width = [], 0, len(flat), max(width, 0)
        while pos < size:  # `pos`: where a line starts, at a word
            end = pos + line_width
            if end >= size:
                lines.append(flat[pos:])
                break
            cut = end if flat[end] == " " else flat.rfind(" ", pos, end)
            if cut <= pos:  # a word longer than the line: on a line of its own
                cut = flat.find(" ", end)
                if cut < 0:
                    lines.append(flat[pos:])
                    break
            lines.append(flat[pos:cut])
            pos, line_width = cut + 1, rest_width
        out.append(("\n" + indent).join(lines))
    return "\n\n".join(out)


BUNDLED_INLINED = Path(__file__).resolve().parents[2] / "data" / "inlined-newsletter.json"
"""The bundled newsletter template, inlined ahead of time (`tools/build_inlined_template.py`;
a test checks it is current): with the bundled templates, no build imports or runs premailer."""


def inline_key(source: str, css: str) -> str:
    # "2": the inliner strips CSS comments since; copies kept in a state folder before are stale
    return hashlib.blake2b(("2\0" + source + "\0" + css).encode(), digest_size=10).hexdigest()


def _load_inlined(path: Path, key: str | None = None) -> InlinedTemplate | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if key is not None and data.get("key") != key:
            return None
        return InlinedTemplate(data["source"], tuple(data["body_styles"]))
    except (OSError, ValueError, KeyError):
        return None


def cached_inline(templates: Templates, cache_dir: Path | None) -> InlinedTemplate:
    """The inlined newsletter template: inlined ahead of time for the bundled templates, else
    from the state folder when the templates are unchanged, else inlined now (and kept)."""
    loader = templates.env.loader
    assert loader is not None
    source = loader.get_source(templates.env, "newsletter.html.j2")[0]
    css = templates.read("newsletter.css").decode("utf-8")
    key = inline_key(source, css)
    bundled = _load_inlined(BUNDLED_INLINED, key)
    if bundled is not None:
        return bundled
    path = cache_dir / f"inlined-newsletter-{key}.json" if cache_dir is not None else None
    if path is not None:
        kept = _load_inlined(path)
        if kept is not None:
            return kept
    inlined = inline_template(source, css)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob("inlined-newsletter-*.json"):
            old.unlink(missing_ok=True)
        write_atomic(path, json.dumps({"source": inlined.source, "body_styles": list(inlined.body_styles)}).encode())
    return inlined


def _source(env, name: str) -> str:
    loader = env.loader
    assert loader is not None
    return loader.get_source(env, name)[0]


class _Links(NamedTuple):
    """What a message says that depends on its list and recipient only (`_personal_links`)."""

    prefs: str
    html_link: bytes
    """The unsubscribe link (the one-click https one, else the mailto one) in the HTML part."""
    text_link: bytes
    html_prefs: bytes
    text_prefs: bytes
    headers: tuple[tuple[str, str], ...]


class IssueRenderer:
    """Renders issues with the (inlined) newsletter templates; never touches the disk."""

    def __init__(
        self, templates: Templates, config, links: Links, names: Mapping[str, str], tz, cache_dir: Path | None = None
    ) -> None:
        self.config = config
        self.links = links
        self.names = names
        self.words = Words(config.language)
        self.tz = tz
        inlined = cached_inline(templates, cache_dir).with_accent(config.brand_accent, config.brand_accent_dark)
        env = templates.env.overlay()
        env.filters["email_body"] = inlined.body_filter()
        env.filters["wrap"] = wrap_text
        from newsletter.render.site import brand_files

        logo = brand_files(config)["logo"]
        self.logo_url = config.base_url + logo if logo else ""  # absolute: a mail has no base
        self._site_vars = {
            "more_title": self.words.t(f"nl.more.{config.newsletter_period}"),
            "words": self.words,
            "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
            "site": config,
            "logo_url": self.logo_url,
            "preferences_url": PREFERENCES_PLACEHOLDER if config.newsletter_public_url else "",
        }
        self._list_vars: dict[str, dict] = {}
        levels = dict.fromkeys(self._site_vars, 0) | dict.fromkeys(LIST_VARIABLES, 1)
        self._html = Pieces(env, inlined.source, None, levels)  # the same bytecode cache as from_source's
        self._text = Pieces(env, _source(env, "newsletter.txt.j2"), "newsletter.txt.j2", levels)
        self.list_domain = config.authority.split("@")[-1]
        self._items: dict[str, tuple[Entry, dict]] = {}  # an entry's parts, shared by its issues
        self._lists: dict[str, tuple[str, str]] = {}
        self._preview_links: dict[str, _Links] = {}
        self._tails: dict[tuple[str, bytes], bytes | None] = {}
        self._text_footers: dict[str, bytes] = {}
        self._from = address(config.newsletter_from_name, config.newsletter_from_address)
        self._names: dict[str, str] = {}

    def group_name(self, group: str) -> str:
        """The list's name in a subject: the site's title for `all` (kept by list: asked for
        each issue's subject and heading)."""
        name = self._names.get(group)
        if name is None:
            name = self._names[group] = (
                self.config.title if group == ALL else group_title(group, self.words, self.names)
            )
        return name

    def subject(self, issue: Issue) -> str:
        return f"{self.group_name(issue.group)} \u2014 {issue.label}"

    def heading(self, issue: Issue) -> str:
        """The issue's title under the site's: the list and the period; only the period for
        `all`, whose list name is the site's title already."""
        if issue.group == ALL:
            return issue.label[:1].upper() + issue.label[1:]
        return f"{self.group_name(issue.group)} \u2014 {issue.label}"

    def render(self, issue: Issue) -> RenderedIssue:
        """HTML and text parts; entries that do not fit `newsletter.max_bytes` become links."""
        items = [self._item(e) for e in issue.entries]
        subject = self.subject(issue)
        first = items[0]["summary"] if items else ""
        preheader = self.words.t("nl.preheader", items=self.words.count("items", len(items)), first=first)[:150]
        full = len(items)
        context = self._context(issue, subject, preheader, items, full)
        html = self._html.render_utf8(context, issue.group)
        limit = self.config.newsletter_max_bytes
        if len(html) > limit:
            low, high = 0, full  # the largest count of full entries that fits
            while low < high:
                mid = (low + high + 1) // 2
                context.update(entries=items[:mid], overflow=items[mid:])
                if len(self._html.render_utf8(context, issue.group)) <= limit:
                    low = mid
                else:
                    high = mid - 1
            full = low
            context.update(entries=items[:full], overflow=items[full:])
            html = self._html.render_utf8(context, issue.group)
        text = self._text.render_utf8(context, issue.group)
        return RenderedIssue(issue, subject, preheader, html, text, full)

    def _item(self, entry: Entry) -> dict:
        cached = self._items.get(entry.id)
        if cached is not None and cached[0] is entry:
            return cached[1]
        if len(self._items) > 8192:
            self._items.clear()
        item = self._make_item(entry)
        self._items[entry.id] = (entry, item)
        return item

    def _make_item(self, entry: Entry) -> dict:
        text = body_text(entry.body, entry.body_format, urls=True)
        lang = entry.language or self.config.language  # on its block: an attribute the inliner keeps
        return {
            "title": entry.title,
            "url": self.links.entry_url(entry),
            "date_text": self.words.date(entry.date),
            "body_html": body_html(entry.body, entry.body_format),
            "body_text": text,
            "summary": summarize(text, 100),
            "lang": lang,
        }

    def _context(self, issue, subject, preheader, items, full) -> dict:
        """The templates' variables: the site's, the list's (`LIST_VARIABLES`), the issue's."""
        group = issue.group
        list_vars = self._list_vars.get(group)
        if list_vars is None:
            name = self.group_name(group)
            list_vars = self._list_vars[group] = {
                "group_name": name,
                "why": self.words.of("nl.why", group, name=name, site=self.config.title),
                "more_link": self.words.of("nl.more", group, name=name),
                "group_url": self.links.group_url(group),
                "feed_url": self.links.feed_url(group, "atom"),
            }
            assert list_vars.keys() == set(LIST_VARIABLES)
        return {
            **self._site_vars,
            **list_vars,
            "subject": subject,
            "preheader": preheader,
            "label": issue.label,
            "entries": items[:full],
            "overflow": items[full:],
            "heading": self.heading(issue),
            "view_url": self.links.url(self.links.issue_path(group, issue.period_id, "html")),
        }

    # -- links and messages ----------------------------------------------------------------
    def generic_unsubscribe(self, group: str) -> str:
        """The unsubscribe link of the web-archive copy: no personal token."""
        if self.config.newsletter_unsubscribe_url:
            return self.config.newsletter_unsubscribe_url
        return self.mailto_unsubscribe(group)

    def mailto_unsubscribe(self, group: str, email: str | None = None, secret: bytes | None = None) -> str:
        """`unsubscribe LIST EMAIL TOKEN` in the subject; `newsletter bounces` acts on it."""
        subject = f"unsubscribe {group}" + (f" {email}" if email else "")
        if email and secret:
            subject += " " + mailto_token(secret, email, group)
        return f"mailto:{self.config.newsletter_unsubscribe_mailto}?subject={quote(subject)}"

    def preferences(self, email: str | None, secret: bytes | None) -> str:
        """The preferences page: personal (signed) in a message, the generic one elsewhere."""
        base = self.config.newsletter_public_url
        if not base:
            return ""
        if email is None or secret is None:
            return f"{base}preferences"
        return f"{base}preferences?{urlencode({'email': email, 'token': preferences_token(secret, email)})}"

    def personal_unsubscribe(self, group: str, email: str, secret: bytes | None) -> str | None:
        """The one-click https link with an HMAC token, when `unsubscribe_url` is set."""
        base = self.config.newsletter_unsubscribe_url
        if not base:
            return None
        token = unsubscribe_token(secret, email, group) if secret else "preview"
        query = urlencode({"list": group, "email": email, "token": token})
        return f"{base}{'&' if '?' in base else '?'}{query}"

    def visitor_links(self, group: str) -> tuple[str, list[tuple[str, str]]]:
        """What the public copy of an issue says to a visitor instead of "you receive this
        because you subscribed": a sentence, and (text, URL) links to sign up and to manage a
        subscription (serve asks for the address), or to the list's feeds without serve."""
        w = self.words
        sentence = w.of("nl.visitor", group, name=self.group_name(group))
        base = self.config.newsletter_public_url
        links = []
        if base:
            links.append((w.t("nl.signup"), f"{base}subscribe?{urlencode({'country': group})}"))
            links.append((w.t("nl.manage"), f"{base}preferences"))
        else:
            links.append((w.t("nl.follow"), self.links.url(f"{group}/subscribe.html")))
        links.append((w.of("nl.more", group, name=self.group_name(group)), self.links.group_url(group)))
        return sentence, links

    def archive_html(self, rendered: RenderedIssue) -> bytes:
        """The public web copy (UTF-8): no "view in browser" link to itself, a `<main>` landmark,
        and a footer for a visitor (sign up, manage) instead of the subscriber's personal links."""
        html = rendered.html_bytes
        top = html.find(_TOPBAR)  # the first `<tr><td class="topbar"` … `</tr>` and its line end
        if top >= 0:
            close = html.find(b"</tr>", top + len(_TOPBAR))
            if close >= 0:
                end = close + len(b"</tr>")
                view = memoryview(html)  # each edit joins views of the parts: one copy, not three
                html = b"".join((view[:top], view[end + 1 if html.startswith(b"\n", end) else end :]))
        title_end = html.find(b"</title>")
        if title_end >= 0:  # the tags every page of the site has: description, canonical, sharing, icon
            at = title_end + len(b"</title>")
            view = memoryview(html)
            html = b"".join((view[:at], self._web_head(rendered).encode(), view[at:]))
        start = html.rfind(b'<td class="footer"')  # near the end: found from there, not by a regex over it all
        tail = self._visitor_tail(rendered.issue.group, html[start:]) if start >= 0 else None
        if tail is not None:
            html = b"".join((memoryview(html)[:start], tail))
        else:  # a template without the bundled footer: its links, without a personal token
            unsubscribe = str(escape(self.generic_unsubscribe(rendered.issue.group)))
            html = html.replace(_UNSUBSCRIBE, unsubscribe.encode())
            html = html.replace(_PREFERENCES, str(escape(self.preferences(None, None))).encode())
        body = _BODY_OPEN.search(html)  # its literal start found by the regex engine: faster than a find first
        end = html.rfind(b"</body>")
        if body is None or end < 0:
            return html
        view, at = memoryview(html), body.end()
        return b"".join((view[:at], b"\n<main>", view[at:end], b"</main>\n", view[end:]))

    def _visitor_tail(self, group: str, tail: bytes) -> bytes | None:
        """`tail` (from the footer's cell on) with a visitor's footer in that cell, None when
        it has no such cell; kept by list and tail, the same for every issue of a list."""
        key = (group, tail)
        if key in self._tails:
            return self._tails[key]
        if len(self._tails) > 1000:
            self._tails.clear()
        footer = _FOOTER.match(tail.decode())
        done = None
        if footer is not None:
            style = _LINK_STYLE.search(footer.group(2))
            attrs = f' style="{style.group(1)}"' if style else ""
            sentence, links = self.visitor_links(group)
            inner = (
                f"\n{escape(sentence)}<br>\n"
                + " \u00b7 ".join(f'<a href="{escape(url)}"{attrs}>{escape(text)}</a>' for text, url in links)
                + "\n"
            )
            text = footer.string
            done = (text[: footer.start(2)] + inner + text[footer.end(2) :]).encode()
        self._tails[key] = done
        return done

    def message(
        self,
        rendered: RenderedIssue,
        recipient: tuple[str, str],
        *,
        secret: bytes | None,
        date: dt.datetime | None = None,
        version: str = "",
        key: bytes | None = None,
    ) -> Message:
        """The message for one `recipient` (name, address); the same Message-ID every time for the same pair,
        `version` (the sender passes the content's hash: changed content, another Message-ID) and
        `key` (the send log's `message_key`: without it, e.g. a preview, anyone can compute it)."""
        issue = rendered.issue
        name, email = recipient
        links = self._personal_links(issue.group, email, secret)
        html = rendered.html_bytes.replace(_UNSUBSCRIBE, links.html_link)
        text = rendered.text_bytes.replace(_UNSUBSCRIBE, links.text_link)
        if links.prefs:
            html = html.replace(_PREFERENCES, links.html_prefs)
            text = text.replace(_PREFERENCES, links.text_prefs)
        mid = message_token(key, f"{issue.key}\n{email.lower()}{chr(10) + version if version else ''}")
        when = date or published(issue.entries[0], self.tz)
        return Message(
            from_addr=self._from,
            to_addr=address(name, email),
            subject=rendered.subject,
            date=when,
            message_id=f"<{mid}.{issue.group}@{self.list_domain}>",
            text=text,
            html=html,
            headers=links.headers,
        )

    def _personal_links(self, group: str, email: str, secret: bytes | None) -> _Links:
        """`email`'s links in a message of `group` and its list headers; kept for the preview
        recipient (one per list: every preview of a build has them)."""
        preview = secret is None and email == PREVIEW_RECIPIENT[1]
        links = self._preview_links.get(group) if preview else None
        if links is None:
            https = self.personal_unsubscribe(group, email, secret)
            mailto = self.mailto_unsubscribe(group, email, secret)
            prefs = self.preferences(email, secret)
            link = https or mailto
            list_id, list_archive = self._list_headers(group)
            headers = [
                ("List-Id", list_id),
                ("List-Unsubscribe", f"<{mailto}>" + (f", <{https}>" if https else "")),
                ("List-Archive", list_archive),
            ]
            if https:
                headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
            if self.config.newsletter_reply_to:
                headers.append(("Reply-To", self.config.newsletter_reply_to))
            links = _Links(
                prefs,
                str(escape(link)).encode(),
                link.encode(),
                str(escape(prefs)).encode(),
                prefs.encode(),
                tuple(headers),
            )
            if preview:
                self._preview_links[group] = links
        return links

    def _list_headers(self, group: str) -> tuple[str, str]:
        """List-Id and List-Archive values of one group's list."""
        headers = self._lists.get(group)
        if headers is None:
            name = self.config.title if group == ALL else joined_title(self.config.title, self.group_name(group))
            list_id = phrase_and_id(name, f"{group}.{self.list_domain}")
            headers = self._lists[group] = (list_id, f"<{self.links.url(self.links.archive_path(group))}>")
        return headers

    @cached_property
    def _share(self):
        from newsletter.render.head import ShareTags
        from newsletter.render.site import brand_files

        c, brand = self.config, brand_files(self.config)
        return ShareTags(c.title, c.language, c.base_url + brand["image"] if brand["image"] else ""), brand

    def _web_head(self, rendered: RenderedIssue) -> str:
        """The web copy's tags after its title: those of the site's pages (`render.head`)."""
        share, issue = self._share[0], rendered.issue
        url = self.links.url(self.links.issue_path(issue.group, issue.period_id, "html"))
        languages = {e.language or self.config.language for e in issue.entries}  # all in one other: its locale
        tags = share.page(
            rendered.subject, rendered.preheader, url, "article", min(languages) if len(languages) == 1 else ""
        )
        return "\n" + tags + self._icon

    @cached_property
    def _icon(self) -> str:
        from newsletter.render.head import icon_link

        brand = self._share[1]
        return icon_link("../../" + brand["favicon"], brand["favicon_type"])

    def archive_text(self, rendered: RenderedIssue) -> bytes:
        """The plain-text part (UTF-8) as published next to the archive copy: a visitor's footer."""
        text = rendered.text_bytes
        cut = text.rfind(b"\n--\n")
        if cut >= 0:
            text = text[:cut] + self._text_footer(rendered.issue.group)
        else:  # a template without the bundled footer: its links, without a personal token
            text = text.replace(_UNSUBSCRIBE, self.generic_unsubscribe(rendered.issue.group).encode())
            text = text.replace(_PREFERENCES, self.preferences(None, None).encode())
        return text

    def _text_footer(self, group: str) -> bytes:
        """The text copy's footer for a visitor, from its `--` line on (once per list)."""
        kept = self._text_footers.get(group)
        if kept is None:
            sentence, links = self.visitor_links(group)
            colon = self.words.t("colon")
            footer = "\n--\n" + wrap_text(sentence) + "\n" + "".join(f"{t}{colon}{u}\n" for t, u in links)
            c = self.config
            if c.brand_footer_text:  # the brand's line, as the template writes it
                footer += (
                    wrap_text(c.brand_footer_text)
                    + (f"{colon}{c.brand_footer_link}" if c.brand_footer_link else "")
                    + "\n"
                )
            kept = self._text_footers[group] = footer.encode()
        return kept

    def preview_eml(self, rendered: RenderedIssue) -> bytes:
        """A complete message to a placeholder recipient, for previewing in a mail client."""
        return self.message(rendered, PREVIEW_RECIPIENT, secret=None).compose()


def message_token(key: bytes | None, what: str) -> str:
    """The unique part of a Message-ID: keyed with the state's secret key when sending, so that
    nobody can compute another recipient's Message-ID (bounces are tied to deliveries by it)."""
    return hashlib.blake2b(what.encode(), digest_size=16, key=key or b"").hexdigest()
