"""The static site the feeds link to: home page, one page per group, one page per entry."""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jinja2
from jinja2.runtime import Macro
from markupsafe import Markup, escape

from newsletter.content.entry import Entry
from newsletter.content.markup import body_html, body_text, summarize
from newsletter.render.head import ShareTags, icon_link
from newsletter.render.inherit import PagePieces
from newsletter.render.links import Links
from newsletter.render.templating import Templates
from newsletter.render.words import Words, month_year

if TYPE_CHECKING:
    from newsletter.config import Config


def _groupby_month(entries: Iterable[Entry], lang: str = "en"):
    for (year, month), items in itertools.groupby(entries, key=lambda e: (e.date.year, e.date.month)):
        yield month_year(year, month, lang), list(items)


def _private(template: jinja2.Template) -> jinja2.Template:
    """A copy of `template` whose globals are a plain dict rather than Jinja's ChainMap over the
    environment's: every render copies them into a new context, and copying a ChainMap costs
    about 4 µs a page (15 % of an entry page). The globals are read once, here."""
    copy = object.__new__(type(template))
    copy.__dict__.update(template.__dict__)
    copy.globals = dict(template.globals)
    return copy


@functools.lru_cache(maxsize=4096)  # an entry's teaser shows on its page, its lists and the home page
def _teaser(body: str, body_format: str) -> str:
    return summarize(body_text(body, body_format), 200)


def teaser(entry: Entry) -> str:
    """An entry's first sentences as plain text: for summaries and `<meta name="description">`.
    A plain-text body is its own text: cutting it is cheaper than the cache's look-up (which
    saves rendering a Markdown body again)."""
    if entry.body_format == "markdown":
        return _teaser(entry.body, entry.body_format)
    return summarize(entry.body, 200)


_safe = str.__new__
"""`_safe(Markup, text)`: `Markup(text)` for a `str`, without `Markup.__new__`'s Python-level
checks (~0.5 µs; three a page)."""


FAVICON_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".gif": "image/gif",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


def brand_files(config: Config) -> dict[str, str]:
    """Where the brand's files go in the output folder (`logo`, `favicon`: file names there;
    `image`: the logo again for link previews, which take no SVG), by the configured files' suffix."""
    logo = f"logo{Path(config.brand_logo).suffix.lower()}" if config.brand_logo else ""
    favicon = f"favicon{Path(config.brand_favicon).suffix.lower()}" if config.brand_favicon else "favicon.svg"
    return {
        "logo": logo,
        "favicon": favicon,
        "favicon_type": FAVICON_TYPES.get(Path(favicon).suffix, ""),
        "image": logo if logo and not logo.endswith(".svg") else "",
    }


class Chrome:
    """The parts of every page around its content — the `<head>` tags, the header and the
    footer — made in Python once per folder depth (`root`) rather than by the template on
    every page: they are the same on 100,000 entry pages but for the title, description and
    URL, and Jinja's output of some forty small pieces cost more than the page's own content."""

    def __init__(self, config: Config, words: Words, signup_origin: str) -> None:
        self.config = config
        self.words = words
        self.brand = brand_files(config)
        self.signup_origin = signup_origin
        self._heads: dict[str, str] = {}
        self._headers: dict[tuple[str, bool], Markup] = {}
        self._footers: dict[str, Markup] = {}
        image = config.base_url + self.brand["image"] if self.brand["image"] else ""
        self._share = ShareTags(config.title, config.language, image)

    def head(self, root: str, title: str, description: str, canonical: str, og_type: str, language: str = "") -> Markup:
        """The `<head>` tags after `<title>`: description, canonical URL, Open Graph and Twitter
        card tags, then what every page at this depth has (viewport, CSP, icon, stylesheet)."""
        fixed = self._heads.get(root)
        if fixed is None:
            form = self.signup_origin.replace('"', "%22") or "'none'"  # scheme://host of a checked URL
            fixed = self._heads[root] = (
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'self'; "
                f"img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action {form}\">\n"
                + icon_link(root + self.brand["favicon"], self.brand["favicon_type"])
                + f'\n<link rel="stylesheet" href="{escape(root)}site.css">'
            )
        return _safe(Markup, self._share.page(title, description, canonical, og_type, language, fixed))

    def header(self, root: str, is_home: bool) -> Markup:
        made = self._headers.get((root, is_home))
        if made is None:
            c, logo = self.config, self.brand["logo"]
            size = 40 if is_home else 32
            img = (
                f'<img class="logo" src="{escape(root + logo)}" alt="" width="{size}" height="{size}"> ' if logo else ""
            )
            title = (
                f'<h1 class="home">{img}{escape(c.title)}</h1>'
                if is_home
                else f'<a class="home" href="{escape(root)}index.html">{img}{escape(c.title)}</a>'
            )
            tagline = f'\n  <p class="tagline">{escape(c.description)}</p>' if c.description else ""
            made = self._headers[(root, is_home)] = Markup(f'<header class="site">\n  {title}{tagline}\n</header>')
        return made

    def footer(self, root: str) -> Markup:
        made = self._footers.get(root)
        if made is None:
            c, w = self.config, self.words
            brand = ""
            if c.brand_footer_text:
                text = escape(c.brand_footer_text)
                if c.brand_footer_link:
                    text = Markup(f'<a href="{escape(c.brand_footer_link)}">{text}</a>')
                brand = f'  <p class="brand">{text}</p>\n'
            made = self._footers[root] = Markup(
                f'<footer class="site">\n{brand}  <a href="{escape(root)}feeds.opml">{escape(w.t("all_feeds"))}</a> ·\n'
                f'  <a href="{escape(root)}all/index.html">{escape(w.t("all"))}</a>\n</footer>'
            )
        return made


SITE_LEVEL = (
    "site",
    "words",
    "phrase",
    "brand",
    "signup_origin",
    "chrome",
    "chrome_header",
    "chrome_home",
    "chrome_footer",
)
"""The globals a page template reads that are the same on every page of a build (`newsletters`
is not: it is updated in place between the daemon's builds)."""

ENTRY_FIXED = ("root", "is_home", "share_title", "description", "og_type")
"""What every entry page has the same of: its depth, and base.html.j2's variables that other
pages set and an entry page does not (likewise every year page)."""


EntryLines = dict[int, tuple[Entry, str, tuple[int, int]]]
"""Lines of entries made in one build: id(entry) → (entry, its line, its (year, month))."""
_LINE, _MONTH = operator.itemgetter(1), operator.itemgetter(2)


@dataclass(frozen=True)
class GroupSummary:
    code: str
    name: str
    count: int
    latest: tuple[Entry, ...]


class SiteRenderer:
    """Renders the site's HTML pages from templates; never touches the disk."""

    def __init__(
        self, templates: Templates, config: Config, names: Mapping[str, str], *, newsletters: set[str]
    ) -> None:
        self.templates = templates
        self.names = names
        env = templates.env
        words = self.words = Words(config.language)
        env.filters["longdate"] = words.date
        env.globals["words"] = words
        # Phrases without placeholders, for the parts of every page: a look-up, not a call
        # (Jinja's call of `words.t` costs about 5 µs; two a page are a second at 100k pages).
        env.globals["phrase"] = {key: text for key, text in words.table.items() if "{" not in text}
        env.filters["body_html"] = lambda e: _safe(Markup, body_html(e.body, e.body_format))
        env.filters["teaser"] = teaser
        env.globals["brand"] = brand_files(config)
        self.links = Links(config.base_url)
        env.filters["groupby_month"] = lambda entries: _groupby_month(entries, words.lang)
        self._newsletters = set(newsletters)
        env.globals["site"] = config
        env.globals["newsletters"] = self._newsletters
        public = urlsplit(config.newsletter_public_url)
        origin = env.globals["signup_origin"] = f"{public.scheme}://{public.netloc}" if public.netloc else ""
        chrome = self.chrome = env.globals["chrome"] = Chrome(config, words, origin)
        roots = ("", "../", "../../")  # the pages' depths: look-ups, not calls, on every page
        env.globals["chrome_header"] = {root: chrome.header(root, False) for root in roots}
        env.globals["chrome_home"] = chrome.header("", True)
        env.globals["chrome_footer"] = {root: chrome.footer(root) for root in roots}
        self.config = config
        self._countries: dict[tuple[str, ...] | None, tuple[tuple[tuple[str, str], ...], str]] = {}
        """Per set of countries: (code, name) pairs and their links on an entry page."""
        self._latest: dict[int, tuple[Entry, str]] = {}
        """Per entry (by id, with the entry): its item in the group pages' latest news."""

    # The page templates, each compiled on first use: a rebuild whose pages are all current (a
    # touched bulletin, an edit seen by one list's feed only) renders none, and compiling the six
    # costs ~80 ms, a third of a one-file rebuild at 10,000 entries.
    _group = functools.cached_property(lambda self: _private(self.templates.get("group.html.j2")))
    _home = functools.cached_property(lambda self: _private(self.templates.get("index.html.j2")))
    _archive = functools.cached_property(lambda self: _private(self.templates.get("archive.html.j2")))
    _subscribe = functools.cached_property(lambda self: _private(self.templates.get("subscribe.html.j2")))

    @functools.cached_property
    def _entry_pieces(self) -> PagePieces:
        """entry.html.j2 (and what it extends), its parts that are the same on every entry page
        rendered once (`render.inherit`)."""
        levels = dict.fromkeys(SITE_LEVEL + ENTRY_FIXED, 0)
        return PagePieces(self.templates.env, "entry.html.j2", levels, self.templates.fingerprint())

    @functools.cached_property
    def _year(self) -> PagePieces:
        """year.html.j2 (and what it extends) by pieces, as `_entry_pieces`."""
        levels = dict.fromkeys(SITE_LEVEL + ENTRY_FIXED, 0)
        return PagePieces(self.templates.env, "year.html.j2", levels, self.templates.fingerprint())

    @functools.cached_property
    def _entry_line(self) -> Callable[[Entry, str], str]:
        """The `entry_line(entry, root)` macro of _macros.html.j2: an entry's line in a list.
        A macro of exactly those two parameters (the bundled one) is called as its compiled
        function: the same text without Jinja's call machinery (argument matching, the
        `Markup` wrap) — a third of a line's cost, on 100,000 lines; `_months` joins the lines
        and marks the join safe."""
        return self._macro("_macros.html.j2", "entry_line")

    @functools.cached_property
    def _latest_item(self) -> Callable[[Entry, str], str]:
        """The `latest_item(entry, root)` macro of _latest.html.j2: an entry's item in a group
        page's latest news, called as `_entry_line` is."""
        return self._macro("_latest.html.j2", "latest_item")

    def _macro(self, template: str, name: str) -> Callable[[Entry, str], str]:
        """Macro `name(entry, root)` of `template`; one of exactly those two parameters as its
        compiled function (see `_entry_line`)."""
        macro = getattr(_private(self.templates.get(template)).make_module(), name)
        plain = (
            isinstance(macro, Macro)
            and tuple(getattr(macro, "arguments", ())) == ("entry", "root")
            and getattr(macro, "_argument_count", None) == 2
            and callable(getattr(macro, "_func", None))
            and not (macro.catch_kwargs or macro.catch_varargs or macro.caller or self.templates.env.is_async)
        )
        return macro._func if plain else macro

    @functools.cached_property
    def _country_links(self) -> Callable[[tuple[tuple[str, str], ...], str], str]:
        """The `country_links(countries, root)` macro of _countries.html.j2."""
        macros: Any = _private(self.templates.get("_countries.html.j2")).make_module()
        return macros.country_links

    def compile_templates(self) -> SiteRenderer:
        """Compile every page template now (before forking: the workers then share them)."""
        self._entry_pieces, self._group, self._home, self._year, self._archive, self._subscribe  # noqa: B018
        self._entry_line, self._latest_item, self._country_links  # noqa: B018
        return self

    def set_newsletter_groups(self, groups: set[str]) -> None:
        """The groups whose pages link to a newsletter archive (the same set, updated in place:
        the templates hold it). The group pages' items are made again: a user's `latest_item`
        may read the set."""
        if groups != self._newsletters:
            self._newsletters.clear()
            self._newsletters.update(groups)
            self._latest.clear()

    def entry_page(self, entry: Entry, canonical: str) -> bytes:
        made = self._countries.get(entry.countries)
        if made is None:
            countries = tuple((c, self.names.get(c, c.upper())) for c in entry.countries or ())
            made = self._countries[entry.countries] = (countries, self._country_links(countries, "../"))
        language = entry.language or ""
        head = self.chrome.head("../", entry.title, teaser(entry), canonical, "article", language)  # not in Jinja
        return self._entry_pieces.render(  # joined, then encoded: its ~20 texts are short (not `render_utf8`)
            {
                "entry": entry,
                "countries": made[0],
                "country_links": made[1],
                "canonical": canonical,
                "root": "../",
                "head_tags": head,
            }
        ).encode()

    def group_page(self, group: str, name: str, latest: tuple[Entry, ...], years: list[tuple[int, int]]) -> bytes:
        """A group's page: its newest entries in full and its archive by year. Each entry's item
        (the `latest_item` macro of _latest.html.j2) is made once for every group page it is on."""
        total = sum(count for _, count in years)
        return self._group.render(
            group=group,
            name=name,
            total=total,
            latest=latest,
            latest_items=_safe(Markup, "\n".join(self._latest_items(latest))),
            years=years,
            root="../",
            canonical=self.links.group_url(group),
        ).encode()

    def _latest_items(self, latest: tuple[Entry, ...]) -> Iterator[str]:
        made, item = self._latest, self._latest_item
        for entry in latest:
            kept = made.get(id(entry))
            if kept is None or kept[0] is not entry:
                if len(made) > 60_000:  # a long-lived daemon: entries come and go
                    made.clear()
                kept = made[id(entry)] = (entry, item(entry, "../"))
            yield kept[1]

    def subscribe_page(self, group: str, name: str, feeds: dict[str, str]) -> bytes:
        """A page for people that shows a group's feed addresses: what browsers without XSLT
        still show readably (the feeds themselves stay XML, for feed readers)."""
        return self._subscribe.render(
            group=group, name=name, feeds=feeds, root="../", canonical=self.links.url(f"{group}/subscribe.html")
        ).encode()

    def year_page(
        self, group: str, name: str, year: int, entries: tuple[Entry, ...], lines: EntryLines | None = None
    ) -> bytes:
        """Every entry of one group in one year, by month. `lines`: the entries' lines made so
        far in this build (an entry is on the year pages of two or three lists)."""
        canonical = self.links.url(self.links.year_page_path(group, year))
        head = self.chrome.head(
            "../../",
            f"{name}, {year}",
            f"{name}, {year}: {self.words.count('items', len(entries))}.",
            canonical,
            "website",
        )
        months = self._months(entries, {} if lines is None else lines)
        return self._year.render_utf8(  # each text encoded on its own: the months' lines, mostly ASCII, are copied
            {
                "group": group,
                "name": name,
                "year": year,
                "entries": entries,
                "months": months,
                "root": "../../",
                "canonical": canonical,
                "head_tags": head,
            }
        )

    def _months(self, entries: tuple[Entry, ...], made: EntryLines) -> Iterator[tuple[str, Markup]]:
        """(month, its entries' lines) of one year's entries, newest first: each entry's line
        made by the `entry_line` macro of _macros.html.j2 once (`made` keeps it, with the
        entry's month) for every list it is on. A generator: a user's year.html.j2 that lists
        `entries` itself costs nothing here."""
        # `made` holds the entries: their ids are not reused meanwhile
        rows: list[Any] = list(map(made.get, map(id, entries)))
        if None in rows:
            line = self._entry_line
            for i, row in enumerate(rows):
                if row is None:
                    entry = entries[i]
                    day = entry.date
                    rows[i] = made[id(entry)] = (entry, line(entry, "../../"), (day.year, day.month))
        lang = self.words.lang
        for (year, month), group in itertools.groupby(rows, _MONTH):
            yield month_year(year, month, lang), _safe(Markup, "\n".join(map(_LINE, group)))

    def archive_page(self, group: str, name: str, issues: list[tuple[str, str, int]]) -> bytes:
        """The newsletter archive of one group: every issue, newest first."""
        rows = [{"period_id": pid, "label": label, "count": count} for pid, label, count in issues]
        return self._archive.render(
            group=group, name=name, issues=rows, root="../../", canonical=self.links.url(self.links.archive_path(group))
        ).encode()

    def home_page(
        self, total: int, groups: list[GroupSummary], regional: GroupSummary, latest: tuple[Entry, ...] = ()
    ) -> bytes:
        """The front page: the latest news first, then a compact index of the countries (each
        with its count), the sign-up form and the feeds."""
        names = {g.code: g.name for g in groups}
        return self._home.render(
            total=total, groups=groups, regional=regional, latest=latest, country_names=names, root=""
        ).encode()
