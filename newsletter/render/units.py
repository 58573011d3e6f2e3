"""Units of output: what a build renders, each with a fingerprint of what it is made from.

A unit (`Unit`) is a key, a fingerprint and `render`: an entry's page, a group's feeds, its page, a year
page, a newsletter issue, the home page… `render()` returns `(path, bytes)` pairs. The
writer renders a unit only when its fingerprint changed. `OutputUnits` is mixed into the
build context (`newsletter.builder.context`), whose configuration, templates and renderers it
uses.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from newsletter.content.catalog import ALL, REGIONAL, Catalog
from newsletter.content.entry import Entry
from newsletter.content.rows import CatalogHead, Row, members, row_groups, row_key, row_order

if TYPE_CHECKING:
    from newsletter.config import Config

_new_unit = tuple.__new__

HOME_LATEST = 10
"""How many of the newest entries the home page shows."""


class Unit(NamedTuple):
    """One unit of output: its key (`output/keys.py`), a fingerprint of everything its files
    are made from, and how to make them (`render()` → (path, bytes) pairs)."""

    key: str
    fingerprint: str
    render: Callable[[], list[tuple[str, bytes]]]


def entry_digest(entry: Entry) -> str:
    """Everything an entry's outputs depend on, as a short string (no hashing: it is cheap)."""
    return (
        f"{entry.digest}{entry.date.toordinal()}{entry.id}/{entry.slug}/{','.join(entry.countries or ())}/"
        f"{entry.updated.isoformat() if entry.updated else ''}/{entry.language or ''}"
    )


class _Digests:
    """`entry_digest`, computed once per entry object (entries appear in several groups);
    a full build computes them all up front, which is quicker than one call per use."""

    def __init__(self, entries: tuple[Entry, ...] = ()) -> None:
        self.cache: dict[int, str] = {id(e): entry_digest(e) for e in entries}

    def __call__(self, entry: Entry) -> str:
        value = self.cache.get(id(entry))
        if value is None:
            value = self.cache[id(entry)] = entry_digest(entry)
        return value

    def joined(self, entries) -> str:
        """The digests of `entries`, comma-separated."""
        cache = self.cache
        try:
            return ",".join([cache[id(e)] for e in entries])
        except KeyError:
            for e in entries:
                if id(e) not in cache:
                    cache[id(e)] = entry_digest(e)
            return ",".join([cache[id(e)] for e in entries])


def _minus_year(entry: Entry) -> int:
    return -entry.date.year


def entries_by_year(entries: tuple[Entry, ...]) -> list[tuple[int, tuple[Entry, ...]]]:
    """Entries (newest first) split by year, newest year first."""
    years: list[tuple[int, tuple[Entry, ...]]] = []
    start, count = 0, len(entries)
    while start < count:  # each year's end by bisection, not a year read per entry (every group of every batch)
        year = entries[start].date.year
        end = bisect.bisect_right(entries, -year, start, count, key=_minus_year)
        years.append((year, entries[start:end]))
        start = end
    return years


def _entry_page(renderer, links, urls: dict, entry: Entry) -> list[tuple[str, bytes]]:
    """An entry's page; its URL from `urls` when its year's sitemap, rendered first in this
    process, left it there (`OutputUnits._year_urls`)."""
    url = urls.pop(id(entry), None) or links.entry_page_url(entry)
    return [(links.entry_page_path(entry.slug), renderer.entry_page(entry, url))]


def _year_page(
    renderer, lines: dict, group: str, title: str, year: int, entries: tuple[Entry, ...]
) -> list[tuple[str, bytes]]:
    return [(renderer.links.year_page_path(group, year), renderer.year_page(group, title, year, entries, lines))]


def archive_since(config: Config, newest: dt.date | None) -> str:
    """The first period the newsletter archive keeps when the newest entry is of `newest`
    ("" when newsletters are off or there is no entry). The one place this is decided: the
    units, the year batches, both patches (`builder.change.ArchiveWindow`) and the send runner
    ask here."""
    from newsletter.render.newsletters.issue import archive_start

    if not config.newsletter_enabled or newest is None:
        return ""
    return archive_start(newest, config.newsletter_period, config.newsletter_archive_periods)


@dataclass
class CatalogSummary:
    """What the site-wide units need to know about the whole catalog beyond its newest
    entries — counts, years and newsletter listings per group. Made three ways, all here:
    `of` a whole catalog (its years and listings are filled in by `OutputUnits.units` as it
    makes the units, `record`), `merge` of the year batches' summaries (`builder.batches`),
    and `patched` by a change of rows (`builder.patch`); the manifest's head keeps it
    (`content.rows.CatalogHead`)."""

    total: int
    newest: dt.date | None
    counts: dict[str, int]
    """Entries per group."""
    years: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    """Per group: (year, entries), newest year first."""
    listings: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    """Per newsletter group: (period id, label, entries) of every issue in the archive."""
    nl_groups: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, catalog: Catalog, newsletters: bool) -> CatalogSummary:
        """The summary of a whole catalog, years and listings to be filled in by `units`."""
        nl = [g for g in catalog.groups if catalog.groups[g]] if newsletters else []  # `issue.newsletter_groups`
        newest = catalog.entries[0].date if catalog.entries else None
        return cls(len(catalog.entries), newest, {g: len(es) for g, es in catalog.groups.items()}, nl_groups=nl)

    @classmethod
    def merge(cls, parts: list[CatalogSummary], newest: dt.date | None, nl_groups: list[str]) -> CatalogSummary:
        """The summary of a catalog made of `parts` (catalogs of disjoint years), whose
        newest date and newsletter groups are known; listings of each group newest first."""
        counts: dict[str, int] = {}
        years: dict[str, dict[int, int]] = {}
        listings: dict[str, list[tuple[str, str, int]]] = {g: [] for g in nl_groups}
        for part in parts:
            for g, n in part.counts.items():
                counts[g] = counts.get(g, 0) + n
                years.setdefault(g, {}).update(part.years.get(g, ()))
            for g, items in part.listings.items():
                listings[g].extend(items)
        for g in (ALL, REGIONAL):
            counts.setdefault(g, 0)
        return cls(
            counts[ALL],
            newest,
            counts,
            {g: sorted(per_year.items(), reverse=True) for g, per_year in years.items()},
            {g: sorted(items, reverse=True) for g, items in listings.items()},
            list(nl_groups),
        )

    @classmethod
    def patched(
        cls,
        head: CatalogHead,
        old_rows: list[Row],
        new_rows: list[Row],
        year_rows: dict[int, list[Row]],
        n: int,
        newsletters: bool,
    ) -> tuple[CatalogSummary, dict[str, list[Row]], set[str]]:
        """(summary, each group's `n` newest rows, the groups whose units change) of the
        catalog `head` records once the rows `old_rows` went and `new_rows` came; `year_rows`
        holds every row, as it is now, of the years they are in. Listings are left empty (the
        caller recounts the periods concerned). `Unrefillable` when a group's newest rows
        cannot be told from these."""
        old_members, new_members = members(old_rows), members(new_rows)
        affected = set(old_members) | set(new_members) | {ALL}
        counts = dict(head.counts)
        for g in affected:
            counts[g] = counts.get(g, 0) - len(old_members.get(g, ())) + len(new_members.get(g, ()))
            if not counts[g] and g not in (ALL, REGIONAL):
                del counts[g]  # a country whose last entry went: no longer a group (as in `build_catalog`)
        gone = {row_key(r) for r in old_rows}
        tops: dict[str, list[Row]] = {}
        for g in sorted(counts):  # a country that appears has all its entries in the changed files
            top = head.top.get(g, [])
            if g not in affected:
                tops[g] = top
                continue
            merged = sorted([r for r in top if row_key(r) not in gone] + new_members.get(g, []), key=row_order)[:n]
            # Entries older than the last of `top` are unknown here: the list must not need them.
            if len(top) == n and (len(merged) < n or row_order(merged[-1]) > row_order(top[-1])):
                raise Unrefillable(g)
            tops[g] = merged
        by_year = {}
        for g in tops:
            per_year = dict(map(tuple, head.years.get(g, [])))
            if g in affected:
                for y, rows in year_rows.items():
                    count = sum(1 for r in rows if g in row_groups(r))
                    if count:
                        per_year[y] = count
                    else:
                        per_year.pop(y, None)
            by_year[g] = sorted(per_year.items(), reverse=True)
        newest = tops[ALL][0].date if tops.get(ALL) else None
        nl_groups = [g for g in tops if counts[g]] if newsletters else []  # `newsletter_groups`
        summary = cls(
            head.total - len(old_rows) + len(new_rows),
            dt.date.fromordinal(newest) if newest else None,
            counts,
            by_year,
            {},
            nl_groups,
        )
        return summary, tops, affected


class Unrefillable(Exception):
    """A group's newest rows cannot be refilled by a patch (entries older than those the head
    keeps would be needed): a full build must do it."""

    def __init__(self, group: str) -> None:
        super().__init__(f"an entry left the {group}/ feed, which must be refilled from older entries")
        self.group = group


class Selection(NamedTuple):
    """Which units `OutputUnits.units` makes (None: every one of that kind): the units of
    `groups` (feeds, pages, years, newsletter issues), the pages of `entries`, the year
    pages of `years` and the issues of `periods`; the site-wide units (static files, home
    page, each list's feeds, pages and archive, the sitemap index and lists) unless `site_wide`
    is False (a batch of years: their fingerprints are not computed for nothing)."""

    groups: set[str] | None = None
    entries: list[Entry] | None = None
    years: set[int] | None = None
    periods: set[str] | None = None
    site_wide: bool = True


EVERY_UNIT = Selection()


class _Pass(NamedTuple):
    """What every unit of one `units` call shares."""

    summary: CatalogSummary
    only: Selection
    recording: bool
    renderer: Any
    digest: _Digests
    fallback_updated: dt.datetime
    lines: dict
    """The entries' lines in the year pages, made once per entry (`SiteRenderer.year_page`)."""
    all_years: dict
    """year → the hash of `all`'s entries that year: its year page's and the year sitemap's."""
    urls: dict
    """id(entry) → its page's URL, left by its year's sitemap for its page (`_entry_page`)."""


class OutputUnits:
    """Unit generation for the build context (see the module docstring)."""

    # provided by the build context (`newsletter.builder.context.BuildContext`)
    config: Config
    links: Any
    tz: Any
    templates: Any
    names: Any
    site_fingerprint: str
    newsletter_fingerprint: str
    issue_renderer: Any
    group_title: Callable[[str], str]
    site_renderer: Callable[[set[str]], Any]

    def units(
        self,
        catalog: Catalog,
        only: Selection = EVERY_UNIT,
        *,
        stats: CatalogSummary | None = None,
        record: CatalogSummary | None = None,
    ) -> Iterator[Unit]:
        """(key, fingerprint, render) for every unit of output `only` selects.

        With `stats`, counts, year lists and newsletter listings come from there rather than
        from `catalog`, which then needs to hold only each group's newest entries and every
        entry of `only.years` and `only.periods`; without, they are recorded as the units are
        made — in `record` (`CatalogSummary.of` the catalog), when given, for the caller to keep.
        """
        from newsletter.render.site import GroupSummary

        site_fp = self.site_fingerprint
        recording = stats is None
        if stats is None:  # years and listings are filled in as units are made
            stats = record if record is not None else CatalogSummary.of(catalog, self.config.newsletter_enabled)
        nl_groups = stats.nl_groups
        renderer = self.site_renderer(set(nl_groups))
        links = self.links
        groups, entries, years = only.groups, only.entries, only.years
        # Up front: every entry's when every group is made, else those whose pages are (a batch of years: all of its entries).
        digest = _Digests(catalog.entries if groups is None and entries is None else tuple(entries or ()))
        newest = stats.newest or dt.date(2000, 1, 1)
        fallback_updated = dt.datetime(newest.year, newest.month, newest.day, tzinfo=self.tz)
        made = _Pass(stats, only, recording, renderer, digest, fallback_updated, {}, {}, {})

        site_wide = only.site_wide
        if site_wide:
            yield Unit("static", site_fp + ":" + self._brand_fingerprint(), self._static_files)
        summaries = []
        for group, group_entries in catalog.groups.items():
            title = self.group_title(group)
            if site_wide and group not in (ALL, REGIONAL):
                summaries.append(GroupSummary(group, title, stats.counts.get(group, 0), ()))
            in_scope = groups is None or group in groups
            if recording and (in_scope or group == ALL):  # the sitemap index names every year of `all`
                stats.years[group] = [(year, len(items)) for year, items in entries_by_year(group_entries)]
            if in_scope:
                yield from self._group_units(made, group, title, group_entries)
        if site_wide:
            yield from self._home_unit(renderer, catalog, stats, digest, summaries, newest)
        yield from self._sitemap_units(catalog, stats, digest, years, site_wide, made)
        known, prefix, page, urls = digest.cache, site_fp + ":", functools.partial, made.urls
        for entry in catalog.entries if entries is None else entries:  # `Unit(…)` without its Python `__new__`
            yield _new_unit(
                Unit,
                (
                    f"entry:{entry.slug}",
                    prefix + (known.get(id(entry)) or digest(entry)),
                    page(_entry_page, renderer, links, urls, entry),
                ),
            )
        if self.config.newsletter_enabled:
            wanted = nl_groups if groups is None else [g for g in nl_groups if g in groups]
            yield from self._newsletter_units(made, catalog, wanted)

    def _home_unit(self, renderer, catalog, stats, digest, summaries, newest) -> Iterator[Unit]:
        """The home page (its fingerprint: every list's count, the newest entries and the total)."""
        from newsletter.render.site import GroupSummary

        site_fp = self.site_fingerprint
        summaries.sort(key=lambda s: s.name)
        regional_summary = GroupSummary(REGIONAL, self.group_title(REGIONAL), stats.counts.get(REGIONAL, 0), ())
        latest = catalog.groups.get(ALL, ())[: min(HOME_LATEST, self.config.feed_limit)]
        home_fp = (
            site_fp
            + ":"
            + hashlib.blake2b(
                repr([(s.code, s.count) for s in summaries + [regional_summary]]).encode()
                + digest.joined(latest).encode()
                + str(stats.total).encode(),
                digest_size=8,
            ).hexdigest()
        )
        yield Unit(
            "home", home_fp, lambda: self._home(renderer, stats.total, summaries, regional_summary, newest, latest)
        )

    def _group_units(self, made: _Pass, group: str, title: str, entries: tuple[Entry, ...]) -> Iterator[Unit]:
        """A group's feeds (unless it has no entries), its page and its year pages."""
        stats, renderer, digest = made.summary, made.renderer, made.digest
        count = stats.counts[group] if group in stats.counts else len(entries)  # a batch: its years
        if not count and group != ALL:  # no empty feed, no page of nothing
            return
        feeds, counts, only_years = bool(count), stats.years.get(group, []), made.only.years
        site_fp = self.site_fingerprint
        if made.only.site_wide:
            yield from self._list_units(made, group, title, entries, feeds, counts)
        for year, items in entries_by_year(entries):
            if only_years is not None and year not in only_years:
                continue
            year_hash = hashlib.blake2b(digest.joined(items).encode(), digest_size=8).hexdigest()
            if group == ALL:
                made.all_years[year] = year_hash
            year_fp = site_fp + ":" + year_hash
            yield Unit(
                f"year:{group}/{year}",
                year_fp,
                functools.partial(_year_page, renderer, made.lines, group, title, year, items),
            )

    def _list_units(self, made: _Pass, group: str, title: str, entries, feeds: bool, counts) -> Iterator[Unit]:
        """A group's feeds (if `feeds`), subscribe page and page: site-wide units."""
        renderer, site_fp, links = made.renderer, self.site_fingerprint, self.links
        top = entries[: self.config.feed_limit]
        feed_fp = site_fp + ":" + made.digest.joined(top)
        if feeds:
            yield Unit(f"feeds:{group}", feed_fp, lambda: self._feeds(group, title, entries, made.fallback_updated))
            urls = {fmt: links.feed_url(group, fmt) for fmt in ("atom", "rss", "json")}
            yield Unit(
                f"subscribe:{group}",
                site_fp + ":" + title,
                lambda: [(f"{group}/subscribe.html", renderer.subscribe_page(group, title, urls))],
            )
        yield Unit(
            f"page:{group}",
            feed_fp + ":" + repr(counts),
            lambda: [(links.group_page_path(group), renderer.group_page(group, title, top, counts))],
        )

    def _newsletter_units(self, made: _Pass, catalog: Catalog, nl_groups: list[str]) -> Iterator[Unit]:
        """Archive pages, then issues period by period (newest first) across groups, so that an
        entry's issues for its countries and for `all` are rendered close together."""
        from newsletter.render.newsletters.issue import issues_for

        stats, renderer, digest, only_periods = made.summary, made.renderer, made.digest, made.only.periods
        period = self.config.newsletter_period
        nl_fp = self.newsletter_fingerprint
        since = archive_since(self.config, stats.newest)
        all_issues = []
        # The issues themselves are needed for their units and to record listings: not by the
        # head of a batch build (its listings come from the batches, its units are no issues).
        wants_issues = made.recording or only_periods is None or bool(only_periods)
        for group in nl_groups:
            issues = (
                issues_for(catalog.groups.get(group, ()), group, period, since, self.config.language)
                if wants_issues
                else []
            )
            if made.recording:
                stats.listings[group] = [(i.period_id, i.label, len(i.entries)) for i in issues]
            if made.only.site_wide:
                listing = stats.listings[group]
                yield Unit(
                    f"archive:{group}",
                    nl_fp + ":" + hashlib.blake2b(repr(listing).encode(), digest_size=8).hexdigest(),
                    functools.partial(self._archive_page, renderer, group, listing),
                )
            all_issues.extend(issues)
        all_issues.sort(key=lambda i: i.period_id, reverse=True)
        for issue in all_issues:
            if only_periods is not None and issue.period_id not in only_periods:
                continue
            yield Unit(
                f"issue:{issue.key}",
                nl_fp + ":" + digest.joined(issue.entries),
                functools.partial(self._issue_outputs, issue),
            )

    def _archive_page(self, renderer, group: str, listing: list[tuple[str, str, int]]) -> list[tuple[str, bytes]]:
        return [(self.links.archive_path(group), renderer.archive_page(group, self.group_title(group), listing))]

    def _issue_outputs(self, issue):
        r = self.issue_renderer
        rendered = r.render(issue)
        path = self.links.issue_path
        return [
            (path(issue.group, issue.period_id, "html"), r.archive_html(rendered)),
            (path(issue.group, issue.period_id, "txt"), r.archive_text(rendered)),
            (path(issue.group, issue.period_id, "eml"), r.preview_eml(rendered)),
        ]

    def _feeds(self, group, title, entries, fallback_updated):
        from newsletter.render.feeds.atom import render_atom
        from newsletter.render.feeds.jsonfeed import render_json_feed
        from newsletter.render.feeds.model import feed_data
        from newsletter.render.feeds.rss import render_rss
        from newsletter.render.feeds.xmlfeed import feed_generator

        site = self._feed_site
        data = feed_data(group, title, entries, site, fallback_updated)
        fg = feed_generator(data, "atom", site.kept)  # filled once, serialised as Atom, then as RSS
        atom = render_atom(data, fg)
        return [
            (self.links.feed_path(group, "atom"), atom),
            (self.links.feed_path(group, "rss"), render_rss(data, fg)),
            (self.links.feed_path(group, "json"), render_json_feed(data, site.kept)),
        ]

    @functools.cached_property
    def _feed_site(self):
        """What every group's feeds share, and what an entry's feeds share (`FeedSite.kept`)."""
        from newsletter.render.feeds.model import FeedSite

        return FeedSite(self.config, self.links, self.tz, self.names)

    def _brand_fingerprint(self) -> str:
        """The brand's files, by content (the options are in the site fingerprint)."""
        h = hashlib.blake2b(digest_size=8)
        for path in (self.config.brand_logo, self.config.brand_favicon):
            if path:
                with open(path, "rb") as fh:
                    h.update(fh.read())
        return h.hexdigest()

    def _static_files(self) -> list[tuple[str, bytes]]:
        """The stylesheets, the favicon (the bundled one unless configured), the logo, robots.txt."""
        from newsletter.output.sitemap import robots_txt
        from newsletter.render.site import brand_files

        css = self.templates.read("site.css")
        c = self.config
        if (c.brand_accent, c.brand_accent_dark) != ("#0b5cad", "#7db7ff"):  # the colours site.css has
            css += (
                f"\n/* brand.accent, brand.accent_dark */\n:root {{ --accent: {c.brand_accent}; }}\n"
                f"@media (prefers-color-scheme: dark) {{ :root {{ --accent: {c.brand_accent_dark}; }} }}\n"
            ).encode()
        files = brand_files(c)
        out = [("site.css", css), ("feed.xsl", self._feed_stylesheet()), ("robots.txt", robots_txt(c.base_url))]
        with open(c.brand_favicon, "rb") if c.brand_favicon else open(self.templates.path("favicon.svg"), "rb") as fh:
            out.append((files["favicon"], fh.read()))
        if c.brand_logo:
            with open(c.brand_logo, "rb") as fh:
                out.append((files["logo"], fh.read()))
        return out

    def _feed_stylesheet(self) -> bytes:
        """feed.xsl, in the site's language, writing dates as the pages do."""
        from newsletter.render.words import Words, date_pattern

        words = Words(self.config.language)
        parts, months = date_pattern(words.lang)
        template = self.templates.env.get_template("feed.xsl")
        return template.render(site=self.config, words=words, date_parts=parts, month_names=months).encode()

    def _sitemap_units(self, catalog, stats, digest, only_years, site_wide=True, made=None):
        """The sitemap index, the lists' sitemap (unless not `site_wide`) and one per year
        (`newsletter.output.sitemap`); a year's comes with that year's other units
        (`only_years`, like the year pages)."""
        site_fp = self.site_fingerprint
        if site_wide:
            yield from self._site_sitemaps(stats)
        for year, items in entries_by_year(catalog.groups.get(ALL, ())):
            if only_years is not None and year not in only_years:
                continue
            known = made.all_years.get(year) if made else None  # as `all`'s year page (same entries)
            fp = site_fp + ":" + (known or hashlib.blake2b(digest.joined(items).encode(), digest_size=8).hexdigest())
            urls = made.urls if made else {}
            yield Unit(f"sitemap:{year}", fp, functools.partial(self._year_sitemap, year, items, urls))

    def _site_sitemaps(self, stats) -> Iterator[Unit]:
        """The sitemap index and the lists' sitemap."""
        from newsletter.output.sitemap import LISTS_SITEMAP, sitemap_index, urlset

        base, links, site_fp = self.config.base_url, self.links, self.site_fingerprint
        all_years = [year for year, _ in stats.years.get(ALL, [])]
        yield Unit(
            "sitemap:index", site_fp + ":" + repr(all_years), lambda: [("sitemap.xml", sitemap_index(base, all_years))]
        )
        listed = sorted(g for g, n in stats.counts.items() if n)
        nl = sorted(stats.nl_groups) if self.config.newsletter_enabled else []

        def lists() -> list[tuple[str, bytes]]:
            urls = [(base, "")]
            for g in listed:
                urls += [(links.group_url(g), ""), (links.url(f"{g}/subscribe.html"), "")]
            urls += [(links.url(links.archive_path(g)), "") for g in nl]
            return [(LISTS_SITEMAP, urlset(urls))]

        yield Unit("sitemap:lists", site_fp + ":" + repr((listed, nl)), lists)

    def _year_sitemap(self, year: int, entries: tuple[Entry, ...], pages: dict) -> list[tuple[str, bytes]]:
        from newsletter.output.sitemap import urlset, year_sitemap_path

        return [(year_sitemap_path(year), urlset(self._year_urls(year, entries, pages)))]

    def _year_urls(self, year: int, entries: tuple[Entry, ...], pages: dict) -> list[tuple[str, str]]:
        """The year sitemap's URLs; each entry's page URL is left in `pages` for its page."""
        links = self.links
        groups = {ALL}
        urls = []
        for e in entries:
            groups.update(e.countries or (REGIONAL,))
            pages[id(e)] = url = links.entry_page_url(e)
            urls.append((url, (e.updated.date() if e.updated else e.date).isoformat()))
        urls += [(links.url(links.year_page_path(g, year)), "") for g in sorted(groups)]
        return urls

    def _home(self, renderer, total, summaries, regional, newest, latest=()):
        from newsletter.render.feeds.opml import render_opml

        feeds = [
            (
                f"{self.config.title} \u2014 {self.group_title(g)}",
                self.links.feed_url(g, "atom"),
                self.links.group_url(g),
            )
            for g in [ALL, REGIONAL] + [s.code for s in summaries]
            if (total if g == ALL else regional.count if g == REGIONAL else 1)
        ]  # the feeds that exist
        return [
            ("index.html", renderer.home_page(total, summaries, regional, latest)),
            ("feeds.opml", render_opml(self.config.title, feeds, newest.isoformat())),
        ]
