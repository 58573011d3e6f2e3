"""The plan of a build: which way it goes, and the reason for every cheaper way not taken.

Every build — `build`, `build --full`, `watch`, `watch --once`, the daemon's rebuilds —
tries the ways below in order and takes the first whose rule holds; each way that is ruled
out says why, in the plan (`newsletter build --explain` prints it without writing; `-v`
prints the plan a build ran). The rules, in one table (docs/architecture.md explains them):

| way | taken when |
| --- | --- |
| unchanged | one-shot, not `--full`; every bulletin has the size and mtime the last build recorded (none changed within a tick of it); configuration, templates and version are the same; every output is as written |
| patch | one-shot, not `--full`; the last one-shot build left a catalog to patch, made with the same configuration, templates and version; no output folder's mtime moved; at most 3 files (or 10 %) changed, none with `Id:` lines; no duplicate, clashing id or moved slug; each changed group's newest entries can be refilled; the catalog does not empty; the parse cache holds every entry |
| live | the watch daemon, after its first build, with the catalog in memory; at most 3 files (or 10 %) changed; no duplicate or clashing slug or id |

Both fast ways take what used to split them: a file with errors (its last good entries stay),
a country that appears or loses its last entry, and a newest date that moves the newsletter
archive's window forwards or backwards.
| batches | one-shot, not `--strict`; no `Id:` lines and no item in two files; identity records already split by year |
| in memory | always possible: `--strict`, the daemon's first build, `Id:` lines, the same item in two files |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

WAYS = ("unchanged", "patch", "live", "batches", "in memory")


@dataclass
class Plan:
    """What one build did or would do, step by step."""

    steps: list[tuple[str, bool, str]] = field(default_factory=list)
    """(way, taken, reason)."""
    way: str = ""
    units: str = ""
    """Which units the way taken renders (every unit, or those a change touches)."""

    def skip(self, way: str, reason: str) -> None:
        """`way` is ruled out, because of `reason` (said as a person would read it)."""
        self.steps.append((way, False, reason))
        log.debug("not %s: %s", way, reason)

    def take(self, way: str, reason: str) -> None:
        self.way = way
        self.steps.append((way, True, reason))
        log.debug("%s: %s", way, reason)

    def renders(self, *, groups, years, periods, entries: int, retired: int = 0) -> None:
        """Record the units a patch renders: entry pages, and the lists `groups`' feeds and
        pages, their year pages of `years` and their newsletter issues of `periods`."""
        parts = [f"{entries} entry page{'s' if entries != 1 else ''}",
                 f"feeds and pages of {', '.join(sorted(groups)) or 'no list'}"]
        if years:
            parts.append("year pages of " + ", ".join(map(str, sorted(years))))
        if periods:
            shown = sorted(periods)
            parts.append("issues of " + ", ".join(shown[:6]) + (" …" if len(shown) > 6 else ""))
        if retired:
            parts.append(f"{retired} entry page{'s' if retired != 1 else ''} removed")
        self.units = "; ".join(parts) + "; the home page and the OPML"

    def lines(self) -> list[str]:
        said = [f"{'→' if taken else '✗'} {way}: {reason}" for way, taken, reason in self.steps]
        return said + ([f"  renders: {self.units}"] if self.units else [])
