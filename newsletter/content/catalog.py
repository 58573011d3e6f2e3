"""All entries, de-duplicated, identified, sorted newest first and grouped by country."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from newsletter.content.entry import Entry, entry_id, shorten, with_identity
from newsletter.diagnostics import Diagnostic

ALL = "all"
REGIONAL = "regional"


@dataclass(frozen=True)
class Catalog:
    """Immutable view of the site's content. `groups` maps a group name to its entries, newest first.

    Group names are lowercase ISO alpha-2 codes, plus `all` and `regional` (entries that name
    no country).
    """

    entries: tuple[Entry, ...]
    groups: Mapping[str, tuple[Entry, ...]]
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    def countries(self) -> list[str]:
        """Country codes with at least one entry, sorted."""
        return sorted(g for g in self.groups if g not in (ALL, REGIONAL))


def item_key(entry: Entry) -> tuple[dt.date, str]:
    """The item an entry is: the same date and title (its title key) in two places is one
    item, published once — the first in catalog order (`build_catalog`). The one place this
    rule is written; `content.rows.row_key` is the same key of a stored row."""
    return (entry.date, entry.title_key)


def told_apart(
    entries: list[Entry], recorded: Callable[[dt.date, str], str | None] | None = None
) -> tuple[list[Entry], list[Diagnostic]]:
    """Entries whose titles differ only in case or punctuation ("Peru: Rain Returns!", "Peru
    Rain Returns") on the same date share a title key, but are two items: each gets a key of
    its own (and so its own slug and id), the key with `-2`, `-3`… — with a warning quoting
    both titles. The same title twice is still one item (`build_catalog`).

    Which title keeps which key: first the one the state recorded — `recorded(date, key)` is
    the content digest (`Entry.digest`) of the entry that held that key in the last build, or
    None —, so that an entry already published keeps its id and address when a variant is
    added, whatever the titles; then the others in code-point order of the exact titles
    (whatever the files' order), the first free key each: on a site without state, the title
    that sorts first keeps the plain key."""
    first: dict[tuple, Entry] = {}
    clashing: set[tuple] = set()
    for entry in entries:
        key = item_key(entry)
        if (seen := first.setdefault(key, entry)) is not entry and seen.title != entry.title:
            clashing.add(key)
    if not clashing:
        return entries, []
    taken = set(first)
    diagnostics: list[Diagnostic] = []
    renamed: dict[int, Entry] = {}
    groups: dict[tuple, list[Entry]] = {key: [] for key in clashing}
    for entry in entries:
        if (group := groups.get(item_key(entry))) is not None:
            group.append(entry)
    for key in sorted(clashing):
        date, plain = key
        # by the exact title first: which one keeps the plain key does not depend on the
        # entries' order in the files (swapping two must not swap their ids and addresses)
        ordered = sorted(groups[key], key=lambda e: (e.title, sort_key(e)))
        titles: dict[str, Entry] = {}  # title → its first entry, in code-point order
        for entry in ordered:
            titles.setdefault(entry.title, entry)
        keys = _recorded_keys(date, plain, ordered, len(titles), taken, recorded) if recorded else {}
        used = set(keys.values())
        for title in titles:
            if title not in keys:
                new, n = plain, 2
                while new in used or (new != plain and (date, new) in taken):
                    new, n = f"{plain}-{n}", n + 1
                keys[title] = new
                used.add(new)
        taken.update((date, k) for k in used)
        holder = next((t for t in titles if keys[t] == plain), None)
        for title, entry in titles.items():
            if keys[title] != plain:  # given a key of its own: warned of, quoting the plain key's title
                was = titles[holder if holder is not None else next(t for t in titles if t != title)]
                diagnostics.append(
                    Diagnostic(
                        entry.source,
                        entry.line,
                        "warning",
                        f'"{entry.title}" ({entry.date.isoformat()}) differs only in case or punctuation from '
                        f'"{was.title}" in {was.source}:{was.line}; both are published, as two entries',
                    )
                )
        for entry in ordered:
            if (new := keys[entry.title]) != entry.title_key:
                renamed[id(entry)] = entry._replace(title_key=new)
    return [renamed.get(id(e), e) for e in entries], diagnostics


def _recorded_keys(
    date: dt.date,
    plain: str,
    entries: list[Entry],
    count: int,
    taken: set[tuple],
    recorded: Callable[[dt.date, str], str | None],
) -> dict[str, str]:
    """{title: the key `recorded` says its entry held} for the `entries` of one title key
    (`count` titles): the plain key, then `-2`, `-3`… while records are found (gaps of a
    removed variant included, up to `count`). A key that is now another entry's own title key
    is not kept."""
    by_digest = {e.digest: e.title for e in entries if e.digest}
    keys: dict[str, str] = {}
    n = 1
    while True:
        key = plain if n == 1 else f"{plain}-{n}"
        digest = recorded(date, key)
        if digest is None and n > count:
            return keys
        title = by_digest.get(digest) if digest else None
        if title is not None and title not in keys and (n == 1 or (date, key) not in taken):
            keys[title] = key
        n += 1


def repeats(keys: Iterable) -> bool:
    """Whether an item appears twice among `keys` (`item_key`s, or `row_key`s): which copy
    wins then depends on the whole site's order, so only a full build may decide."""
    keys = list(keys)
    return len(set(keys)) != len(keys)


def gives_ids(entries: Iterable[Entry] | Iterable[Any]) -> bool:
    """Whether any entry (or stored row, `content.rows.Row`) has an `Id:` line: such ids are
    checked for clashes in file order over the whole site, so only a full build in memory
    may give them out. The one place this rule is written."""
    return any(e.fixed_id for e in entries)


def groups_of(countries: tuple[str, ...] | None) -> tuple[str, ...]:
    """The country groups an entry with these countries belongs to (besides `all`): its
    countries, or `regional` when it names none. The one place this rule is written."""
    return tuple(countries) if countries else (REGIONAL,)


def sort_key(entry: Entry) -> tuple:
    """Newest first; within a day, files in path order and entries in file order."""
    return (-entry.date.toordinal(), entry.source, entry.line)


def sort_entries(entries) -> list[Entry]:
    """`sorted(entries, key=sort_key)`, in three stable passes (no key tuple per entry)."""
    ordered = sorted(entries, key=attrgetter("line"))
    ordered.sort(key=attrgetter("source"))
    ordered.sort(key=attrgetter("date"), reverse=True)
    return ordered


def published(entry: Entry, tz: ZoneInfo) -> dt.datetime:
    """When an entry is published: midnight of its date in the configured zone."""
    return dt.datetime(entry.date.year, entry.date.month, entry.date.day, tzinfo=tz)


def build_catalog(entries: Iterable[Entry], *, authority: str, identity: Mapping | None = None) -> Catalog:
    """De-duplicate (same date and title = one entry), give ids and slugs, sort and group.

    `identity`, when given, maps an entry's natural key to an `(id, slug, updated)` kept from
    earlier builds, so that edited entries keep their id (see `newsletter.state.identity`).
    """
    diagnostics: list[Diagnostic] = []
    seen: dict[tuple, Entry] = {}
    for entry in sort_entries(entries):
        key = item_key(entry)
        first = seen.get(key)
        if first is not None:
            diagnostics.append(
                Diagnostic(
                    entry.source,
                    entry.line,
                    "warning",
                    f'"{entry.title}" ({entry.date.isoformat()}) is already in {first.source}:{first.line}, with the '
                    "same title; publishing it once",
                )
            )
            continue
        seen[key] = entry
    unique = list(seen.values())

    slugs: set[str] = set()
    ids: set[str] = set()
    final: list[Entry] = []
    for entry in unique:
        kept = identity.get(item_key(entry)) if identity else None
        if kept is not None:
            eid, slug, updated = kept
            if entry.fixed_id:  # an `Id:` line wins over the id kept for the entry (added or changed later)
                eid = entry_id(authority, entry.date, shorten(entry.key[1]), entry.fixed_id)
        else:
            short = shorten(entry.key[1])
            slug = f"{entry.date.isoformat()}-{short}"
            eid = entry_id(authority, entry.date, short, entry.fixed_id)
            updated = None
        base, n = slug, 2
        while slug in slugs:
            slug = f"{base}-{n}"
            n += 1
        if eid in ids:
            diagnostics.append(
                Diagnostic(
                    entry.source, entry.line, "warning", f"id {eid} is used by another entry; this one gets a new id"
                )
            )
            eid = entry_id(authority, entry.date, slug.split("-", 3)[-1])
        slugs.add(slug)
        ids.add(eid)
        final.append(with_identity(entry, eid, slug, updated))

    groups: dict[str, list[Entry]] = {ALL: final, REGIONAL: []}
    for entry in final:
        for code in groups_of(entry.countries):
            groups.setdefault(code, []).append(entry)
    return Catalog(tuple(final), {k: tuple(v) for k, v in sorted(groups.items())}, tuple(diagnostics))
