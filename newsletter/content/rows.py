"""Rows: an entry's metadata without its body, as the manifest keeps it by year.

A full build writes every entry's row (see `manifest`); a rebuild that patches the last
build (`warm`) and a full build done year by year (`stream`) make entries from rows and
fetch bodies from the parse cache only for the entries they render in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from newsletter.content.catalog import ALL, Catalog, groups_of
from newsletter.content.entry import Entry

if TYPE_CHECKING:
    from newsletter.config import Config


class Row(NamedTuple):
    """An entry without its body, as the manifest stores it (a plain tuple on disk: `stored`,
    `loaded`)."""

    date: int
    """The date's ordinal."""
    title: str
    format: str
    source: str
    line: int
    link: str | None
    fixed_id: str | None
    """The entry's `Id:` line (as `Entry.fixed_id`: `catalog.gives_ids` reads both)."""
    countries: tuple[str, ...]
    id: str
    slug: str
    updated: str | None
    """ISO time of the last edit, if any."""
    key: str
    """The title key (with `date`, the entry's natural key)."""
    digest: str
    language: str | None


assert Entry._fields == (
    *("date", "title", "body", "body_format", "source", "line", "link", "fixed_id", "countries"),
    *("id", "slug", "updated", "title_key", "digest", "language"),
), "row_tuple unpacks entries in this order"


def row_tuple(e: Entry) -> tuple:
    """The row of entry `e` as a plain tuple: as `stored` keeps it (`as_row` makes it a `Row`).
    Unpacked once rather than read field by field: a batch of years makes one for every entry."""
    date, title, _, body_format, source, line, link, fixed_id, countries, eid, slug, updated, key, digest, lang = e
    return (
        date.toordinal(),
        title,
        body_format,
        source,
        line,
        link,
        fixed_id,
        tuple(countries or ()),
        eid,
        slug,
        updated.isoformat() if updated else None,
        key,
        digest,
        lang,
    )


_new_tuple = tuple.__new__


def as_row(flat: tuple) -> Row:
    """The `Row` of a plain tuple (`row_tuple`, `stored`), without `Row.__new__`'s Python call."""
    return _new_tuple(Row, flat)


def to_row(e: Entry) -> Row:
    return _new_tuple(Row, row_tuple(e))


def stored(rows) -> list[tuple]:
    """Rows as marshal keeps them (it takes no tuple subclass; a plain tuple stays itself)."""
    return list(map(tuple, rows))


def loaded(rows) -> list[Row]:
    """Rows as `stored` left them."""
    return [Row(*r) for r in rows]


def from_row(r: Row, body: str | None = None) -> Entry:
    """The entry of row `r`; without `body` it cannot be rendered in full."""
    return Entry(
        dt.date.fromordinal(r.date),
        r.title,
        cast(str, body),
        r.format,
        r.source,
        r.line,
        r.link,
        r.fixed_id,
        tuple(r.countries),
        r.id,
        r.slug,
        dt.datetime.fromisoformat(r.updated) if r.updated else None,
        r.key,
        r.digest,
        r.language,
    )


def row_key(r) -> tuple[int, str]:
    """The entry's natural key (date, title key): unique in a catalog. (File and line are not:
    a file with errors keeps the entries of its last good version, at their old lines.)"""
    return (r.date, r.key)


def row_order(r) -> tuple:
    """Catalog order (newest first; then file and line), as `catalog.sort_key`."""
    return (-r.date, r.source, r.line)


def row_groups(r) -> tuple[str, ...]:
    return (ALL, *groups_of(r.countries))


def members(rows) -> dict[str, list]:
    found: dict[str, list] = {}
    for r in rows:
        for g in row_groups(r):
            found.setdefault(g, []).append(r)
    return found


def rows_catalog(groups: dict[str, list], texts: dict[tuple[int, str], str]) -> Catalog:
    """The partial catalog a patch or a batch renders from: each group's rows (any order, no
    row twice in a group) as entries in catalog order, one entry object per row however many
    groups hold it, with its body from `texts` (by natural key) where the render needs one.
    The one way rows become a catalog again (`builder.patch`, `builder.batches`)."""
    made: dict[tuple[int, str], Entry] = {}

    def entry(r) -> Entry:
        key = row_key(r)
        e = made.get(key)
        if e is None:
            e = made[key] = from_row(r, texts.get(key))
        return e

    ordered = {g: tuple(entry(r) for r in sorted(rows, key=row_order)) for g, rows in sorted(groups.items())}
    return Catalog(ordered.get(ALL, ()), ordered, ())


def top_size(config: Config) -> int:
    """How many newest entries per group are kept: enough for feeds, group pages and the home page."""
    return max(config.feed_limit, 3)


def period_years(pid: str, period: str) -> set[int]:
    """The years of the dates in period `pid` (an ISO week can straddle two)."""
    if period == "weekly":
        year, week = pid.split("-W")
        monday = dt.date.fromisocalendar(int(year), int(week), 1)
        return {monday.year, (monday + dt.timedelta(days=6)).year}
    return {int(pid[:4])}


@dataclass
class CatalogHead:
    """What the manifest's head keeps for patching the catalog later (see `builder.patch`): the
    fingerprints it was made with (`Builder.fingerprints`), the whole catalog's summary (a
    `units.CatalogSummary`, flattened), each group's newest rows, per bulletin file what it
    was when read, and the output folders' mtimes."""

    fingerprints: list[str]
    written_ns: int
    """When the build that made it began (a file changed within a tick of it is read again)."""
    sources: dict[str, list]
    """Per bulletin file: [size, mtime, years, problems]."""
    total: int
    newest: int | None
    """The newest entry's date (ordinal)."""
    counts: dict[str, int]
    years: dict[str, list]
    listings: dict[str, list]
    nl_groups: list[str]
    top: dict[str, list[Row]]
    dirs: Any = ()
    """The folders holding outputs; once written, {folder: mtime}."""

    def stored(self) -> dict:
        """As the manifest's head keeps it (marshal data)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["top"] = {g: stored(rows) for g, rows in self.top.items()}
        return data

    @classmethod
    def loaded(cls, data: dict) -> CatalogHead:
        return cls(**{**data, "top": {g: loaded(rows) for g, rows in data["top"].items()}})


def head_catalog(
    fingerprints: list[str], stats, tops: dict[str, list], sources: dict[str, list], written_ns: int
) -> CatalogHead:
    """The head's catalog of a build with these fingerprints, `stats` (a `units.CatalogSummary`),
    each group's newest rows and per bulletin file [size, mtime, years, problems] as of
    `written_ns`."""
    return CatalogHead(
        fingerprints=list(fingerprints),
        written_ns=written_ns,
        sources=sources,
        total=stats.total,
        newest=stats.newest.toordinal() if stats.newest else None,
        counts=dict(stats.counts),
        years={g: [list(item) for item in ys] for g, ys in stats.years.items()},
        listings={g: [list(item) for item in ls] for g, ls in stats.listings.items()},
        nl_groups=list(stats.nl_groups),
        top={g: list(rows) for g, rows in tops.items()},
    )


def problems_of(result) -> list[tuple]:
    """A parse result's diagnostics as plain tuples (for the manifest)."""
    return [(d.path, d.line, d.severity, d.message) for d in result.diagnostics]


def bodies(cache, needed: dict[tuple[int, str], str], results: dict | None = None) -> dict[tuple[int, str], str]:
    """Bodies of the entries `needed` ({natural key: file}): from `results` (parse results
    by file) when given, else from the parse cache, last good versions included. Entries
    not found are left out."""
    found = {}
    by_source: dict[str, set] = {}
    for key, source in needed.items():
        by_source.setdefault(source, set()).add(key)
    for source, keys in by_source.items():
        result = (results or {}).get(source)
        if result is not None:
            entries = result.entries
        else:
            cached = cache.load(source) if cache is not None else None
            entries = (cached.result.entries + (cached.last_good.entries if cached.last_good else [])) if cached else []
        for e in entries:
            key = (e.date.toordinal(), e.title_key)
            if key in keys and key not in found:
                found[key] = e.body
    return found
