"""What a patch changes, for both fast ways (the one-shot patch and the daemon's live path):
the units it renders and retires (`Change`, `render_affected`), and how it moves the
newsletter archive's window (`ArchiveWindow`) — decided once, here, for both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from newsletter.builder.execute import Outcome, Scope, execute
from newsletter.content.catalog import Catalog
from newsletter.content.entry import Entry
from newsletter.content.rows import Row, row_key
from newsletter.output.keys import parse_key
from newsletter.render.units import CatalogSummary, OutputUnits, Selection, archive_since

if TYPE_CHECKING:
    from newsletter.config import Config


class ArchiveWindow(NamedTuple):
    """The first period the newsletter archive keeps, before and after a change ("" when
    newsletters are off or there is no entry)."""

    before: str
    after: str

    @classmethod
    def of(cls, config: Config, before: dt.date | None, after: dt.date | None) -> ArchiveWindow:
        """The window for the newest dates `before` and `after` the change."""
        return cls(archive_since(config, before), archive_since(config, after))

    @property
    def moved(self) -> bool:
        """Every archive page changes (forwards: issues before `after` are retired)."""
        return self.before != self.after

    def returning(self, pid: str) -> bool:
        """Whether period `pid` comes back into the archive (the window grew backwards)."""
        return self.after <= pid < self.before


def changed_rows(old: list[Row], new: list[Row]) -> tuple[list[Row], list[Row]]:
    """Of the rows of the changed files before (`old`) and after (`new`) the change, (those
    that went or changed, those that came or changed). An entry whose row is the same but for
    its line (an entry above it grew or shrank) renders the same bytes — unless its place
    among its file's entries of its date moved, which the catalog orders by line."""
    before, after = {row_key(r): r for r in old}, {row_key(r): r for r in new}
    same = {k for k in before.keys() & after.keys() if _but_line(before[k]) == _but_line(after[k])}
    was, now = _places(before, same), _places(after, same)
    for place, keys in was.items():
        if now[place] != keys:
            same.difference_update(keys)
    return [r for r in old if row_key(r) not in same], [r for r in new if row_key(r) not in same]


def of_rows(entries: list[Entry], rows: list[Row]) -> list[Entry]:
    """The `entries` whose natural key is that of one of `rows`."""
    keys = {row_key(r) for r in rows}
    return [e for e in entries if (e.date.toordinal(), e.title_key) in keys]


def _but_line(r: Row) -> Row:
    return r._replace(line=0)


def _places(rows: dict[tuple[int, str], Row], keys: set[tuple[int, str]]) -> dict[tuple[str, int], list]:
    """The `keys` by (file, date), each list in line order."""
    places: dict[tuple[str, int], list] = {}
    for key in sorted(keys, key=lambda k: rows[k].line):
        places.setdefault((rows[key].source, rows[key].date), []).append(key)
    return places


@dataclass
class Change:
    """What a patch (live or one-shot) renders: the units of the `affected` groups for `years`
    and `periods`, the pages of `entries`; the pages of `gone` slugs and the issues before
    `since` (the archive's new start, when it moved) go."""

    affected: set[str]
    entries: list[Entry]
    gone: list[str]
    years: set[int]
    periods: set[str]
    since: str = ""
    stats: CatalogSummary | None = None
    """The whole catalog's summary, when `catalog` holds only part of it (the one-shot patch)."""

    def retired(self, produced: set[str], carried: list[str]) -> list[str]:
        """Of the units the last build made (`carried`), those this change no longer produces."""
        retire = [f"entry:{slug}" for slug in self.gone if f"entry:{slug}" not in produced]
        if self.affected or self.since:
            for key in carried:
                if key in produced:
                    continue
                kind, group, part = parse_key(key)
                if kind == "issue" and part < self.since:
                    retire.append(key)
                elif kind == "sitemap":  # a year's sitemap goes with the year's last entry
                    if group.isdigit() and int(group) in self.years:
                        retire.append(key)
                elif kind == "entry" or group not in self.affected:
                    continue  # entry pages go by `gone`; other groups' units stay
                elif kind == "year":
                    if int(part) in self.years:
                        retire.append(key)
                elif kind == "issue":
                    if part in self.periods:
                        retire.append(key)
                else:  # the group's own units: feeds, page, archive… and any kind added later
                    retire.append(key)
        return retire

    @property
    def selection(self) -> Selection:
        """The units this change renders."""
        return Selection(self.affected, self.entries, self.years, self.periods)


def render_affected(units: OutputUnits, catalog: Catalog, change: Change, scope: Scope) -> Outcome:
    """Render the units (of the build context `units`) that `change` touches over the last
    build's (`scope.previous`), retire those it no longer produces, and finish as `scope` says."""
    scope.partial, scope.retire = True, change.retired
    return execute(scope, units.units(catalog, change.selection, stats=change.stats))
