"""The static site the feeds link to: home page, one page per group, one page per entry."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from newsletter.content.entry import Entry
from newsletter.content.markup import body_html, body_text, summarize
from newsletter.render.links import Links
from newsletter.render.templating import Templates
from newsletter.render.words import Words, month_year


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
    """An entry's first sentences as plain text: for summaries and `<meta name="description">`."""
    return _teaser(entry.body, entry.body_format)


FAVICON_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".gif": "image/gif",
                 ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def brand_files(config) -> dict[str, str]:
    """Where the brand's files go in the output folder (`logo`, `favicon`: file names there;
    `image`: the logo again for link previews, which take no SVG), by the configured files' suffix."""
    logo = f"logo{Path(config.brand_logo).suffix.lower()}" if config.brand_logo else ""
    favicon = f"favicon{Path(config.brand_favicon).suffix.lower()}" if config.brand_favicon else "favicon.svg"
    return {"logo": logo, "favicon": favicon, "favicon_type": FAVICON_TYPES.get(Path(favicon).suffix, ""),
            "image": logo if logo and not logo.endswith(".svg") else ""}


@dataclass(frozen=True)
class GroupSummary:
    code: str
    name: str
    count: int
    latest: tuple[Entry, ...]


class SiteRenderer:
    """Renders the site's HTML pages from templates; never touches the disk."""

    def __init__(self, templates: Templates, config, names: Mapping[str, str], *, newsletters: set[str]) -> None:
        self.templates = templates
        self.names = names
        env = templates.env
        words = Words(config.language)
        env.filters["longdate"] = words.date
        env.globals["words"] = words
        # Phrases without placeholders, for the parts of every page: a look-up, not a call
        # (Jinja's call of `words.t` costs about 5 µs; two a page are a second at 100k pages).
        env.globals["phrase"] = {key: text for key, text in words.table.items() if "{" not in text}
        env.filters["body_html"] = lambda e: Markup(body_html(e.body, e.body_format))
        env.filters["teaser"] = teaser
        env.globals["brand"] = brand_files(config)
        self.links = Links(config.base_url)
        env.filters["groupby_month"] = lambda entries: _groupby_month(entries, words.lang)
        self._newsletters = set(newsletters)
        env.globals["site"] = config
        env.globals["newsletters"] = self._newsletters
        public = urlsplit(config.newsletter_public_url)
        env.globals["signup_origin"] = f"{public.scheme}://{public.netloc}" if public.netloc else ""
        self._entry = _private(templates.get("entry.html.j2"))
        self._group = _private(templates.get("group.html.j2"))
        self._home = _private(templates.get("index.html.j2"))
        self._year = _private(templates.get("year.html.j2"))
        self._archive = _private(templates.get("archive.html.j2"))
        self._subscribe = _private(templates.get("subscribe.html.j2"))
        self.config = config

    def set_newsletter_groups(self, groups: set[str]) -> None:
        """The groups whose pages link to a newsletter archive (the same set, updated in place:
        the templates hold it)."""
        if groups != self._newsletters:
            self._newsletters.clear()
            self._newsletters.update(groups)

    def entry_page(self, entry: Entry, canonical: str) -> bytes:
        countries = [(c, self.names.get(c, c.upper())) for c in entry.countries or ()]
        return self._entry.render(entry=entry, countries=countries, canonical=canonical, root="../").encode()

    def group_page(self, group: str, name: str, latest: tuple[Entry, ...], years: list[tuple[int, int]]) -> bytes:
        """A group's page: its newest entries in full and its archive by year."""
        total = sum(count for _, count in years)
        return self._group.render(group=group, name=name, total=total, latest=latest, years=years, root="../",
                                  canonical=self.links.group_url(group)).encode()

    def subscribe_page(self, group: str, name: str, feeds: dict[str, str]) -> bytes:
        """A page for people that shows a group's feed addresses: what browsers without XSLT
        still show readably (the feeds themselves stay XML, for feed readers)."""
        return self._subscribe.render(group=group, name=name, feeds=feeds, root="../",
                                      canonical=self.links.url(f"{group}/subscribe.html")).encode()

    def year_page(self, group: str, name: str, year: int, entries: tuple[Entry, ...]) -> bytes:
        """Every entry of one group in one year, by month."""
        return self._year.render(group=group, name=name, year=year, entries=entries, root="../../",
                                 canonical=self.links.url(self.links.year_page_path(group, year))).encode()

    def archive_page(self, group: str, name: str, issues: list[tuple[str, str, int]]) -> bytes:
        """The newsletter archive of one group: every issue, newest first."""
        rows = [{"period_id": pid, "label": label, "count": count} for pid, label, count in issues]
        return self._archive.render(group=group, name=name, issues=rows, root="../../",
                                    canonical=self.links.url(self.links.archive_path(group))).encode()

    def home_page(self, total: int, groups: list[GroupSummary], regional: GroupSummary,
                  latest: tuple[Entry, ...] = ()) -> bytes:
        """The front page: the latest news first, then a compact index of the countries (each
        with its count), the sign-up form and the feeds."""
        names = {g.code: g.name for g in groups}
        return self._home.render(total=total, groups=groups, regional=regional, latest=latest, country_names=names,
                                 root="").encode()
