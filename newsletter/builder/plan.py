"""The plan of a build: which way it goes, and the reason for every cheaper way not taken.

`plan(request, state)` is the one decision. It walks the ways in order (`WAYS`) and takes
the first whose rules all hold; a way ruled out says why. The rules are one list, `RULES`:
each names its way, says what breaks it (in the words the plan prints), and — when it can
be told before the way runs — checks it against the `BuildState`, the survey of what the
last build left (its stamp, the manifest's head, the files changed since). A rule only the
running way can see broken (an `Id:` line in a file it parsed, a duplicate) has no check:
the way raises `FallBack(name)`, the state records it, and `plan` is asked again, which now
rules that way out and takes the next. `build`, `watch` and `build --explain` all call
`plan`; the table in docs/architecture.md is `rules_table()` (a test keeps them equal;
`python -m newsletter.builder.plan docs/architecture.md` rewrites it).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from newsletter.builder.reader import Reader
from newsletter.builder.session import DaemonSession
from newsletter.builder.workers import SMALL_SITE_BYTES, small_site_bytes
from newsletter.content.rows import CatalogHead
from newsletter.content.sources import Source, find_sources
from newsletter.diagnostics import Diagnostic
from newsletter.state import stamp as stamps
from newsletter.state.manifest import ManifestHead, load_head, load_manifest, manifest_path

if TYPE_CHECKING:
    from newsletter.builder.context import BuildContext
    from newsletter.config import Config

log = logging.getLogger(__name__)

WAYS = ("unchanged", "patch", "batches", "live", "in memory")
"""In the order they are tried: the cheapest first. `in memory` is always possible."""

ONE_SHOT = ("unchanged", "patch", "batches")
"""The ways only a one-shot build (not the daemon) may take."""

MAX_FILES = 3
"""At most this many changed bulletin files (or `MAX_SHARE` of all, if more) are patched in,
by either fast way; above that a full build is as quick and simpler."""
MAX_SHARE = 0.1


def few_changed(changed: int, total: int) -> bool:
    """Whether `changed` files out of `total` are few enough to patch in (both fast ways)."""
    return changed <= max(MAX_FILES, MAX_SHARE * total)


@dataclass(frozen=True)
class BuildRequest:
    """What a build was asked to do (the command line, or the daemon)."""

    config: Config
    inputs: list[str]
    out_dir: Path
    state_dir: Path
    templates_dir: str | Path | None = None
    strict: bool = False
    full: bool = False
    verify: bool = True
    """False: the outputs this process wrote are trusted without a stat (the daemon)."""
    track_changes: bool = False
    force: frozenset[str] = frozenset()
    """Resolved paths read again even if size and mtime look unchanged (the watcher's events)."""
    progress: Callable[[str, int, int], None] | None = None
    explain: bool = False
    """Only say what would be done (`build --explain`)."""

    @property
    def manifest(self) -> Path:
        return manifest_path(self.state_dir, self.out_dir)


class Changes(NamedTuple):
    """The bulletin files changed since the last one-shot build, as its manifest head records them."""

    sources: list[Source]
    changed: list[Source]
    removed: list[str]
    stats: dict[str, tuple[int, int]]
    """(mtime, size) of every source."""
    error: str
    """Why a file could not be stat'ed ("" when all could)."""


def _shown(names: list[str]) -> str:
    """The first three of `names`, and how many more."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class BuildState:
    """What the planner looks at: the inputs and what the last build left. Each fact is read
    on first use, once; the ways read the same facts from here (no second look)."""

    def __init__(
        self, request: BuildRequest, reader: Reader, session: DaemonSession, started: float | None = None
    ) -> None:
        """`reader` parses through the caches this process keeps between builds (`reader.caches`);
        `session`: the watch daemon's (a one-shot build's is the default one)."""
        self.request, self.reader, self.session = request, reader, session
        self.context, self.caches = reader.context, reader.caches
        self.started = time.perf_counter() if started is None else started
        self.started_ns = time.time_ns() - int((time.perf_counter() - self.started) * 1e9)
        self.broken: dict[str, str] = {}
        """Way → the reason it fell back while running (a rule without a check)."""
        self.leftovers_removed = False

    @cached_property
    def found(self) -> tuple[list[Source], list[Diagnostic]]:
        """(bulletin files, notes on what was skipped)."""
        r = self.request
        return find_sources(r.inputs, skip=[r.out_dir, r.state_dir])

    @cached_property
    def stamp(self) -> stamps.Stamp | None:
        """The inputs' stamp, taken before anything is read: a file saved during the build makes the next differ."""
        return stamps.stamp_of(self.reader.fingerprints, self.found[0])

    @cached_property
    def record(self) -> tuple[dict | None, str]:
        """(what the last one-shot build recorded, "") or (None, why it cannot be used)."""
        assert self.stamp is not None
        return stamps.load(stamps.stamp_path(self.request.manifest), self.stamp)

    @cached_property
    def intact(self) -> int | None:
        """How many outputs the manifest lists, if all are as written; else None."""
        return stamps.outputs_intact(self.request.manifest, self.request.out_dir)

    @cached_property
    def head(self) -> ManifestHead | None:
        return load_head(self.request.manifest)

    @property
    def catalog(self) -> CatalogHead | None:
        """The patchable catalog the last one-shot build left in the head, if any."""
        return self.head.catalog if self.head is not None else None

    @cached_property
    def changes(self) -> Changes:
        """What changed since the build the head's catalog records (see `builder.patch`)."""
        sources, catalog = self.found[0], self.catalog
        assert catalog is not None
        recorded, written_ns = catalog.sources, catalog.written_ns
        changed, seen = [], {}
        for source in sources:
            try:
                st = os.stat(source.path)
            except OSError as exc:
                return Changes(sources, [], [], {}, f"{source.display}: {exc}")
            seen[source.display] = (st.st_mtime_ns, st.st_size)
            rec = recorded.get(source.display)
            if (
                rec is None
                or rec[0] != st.st_size
                or rec[1] != st.st_mtime_ns
                or stamps.racily_clean(st.st_mtime_ns, written_ns)
            ):
                changed.append(source)
        return Changes(sources, changed, sorted(set(recorded) - set(seen)), seen, "")

    def read(self):
        """(entries, diagnostics, files) of every bulletin, read once (`Reader.read`)."""
        if "_read" not in self.__dict__:
            r = self.request
            self._read = self.reader.read(
                r.inputs, skip=[r.out_dir, r.state_dir], strict=r.strict, force=r.force, found=self.found
            )
        return self._read

    def drop_entries(self) -> None:
        """Forget the entries read (the catalog holds them now)."""
        if "_read" in self.__dict__:
            self._read = ([], *self._read[1:])

    @cached_property
    def live_changes(self) -> tuple[list[str], list[str]]:
        """(changed, removed) files since the daemon's last build (its snapshot)."""
        self.read()
        snap, current = self.session.snapshot, self.caches.results
        assert snap is not None  # the rule "no snapshot" is checked first
        changed = [d for d, r in current.items() if snap.results.get(d) is not r]
        return changed, [d for d in snap.results if d not in current]

    @property
    def one_shot(self) -> bool:
        """Whether the one-shot rules common to `unchanged`, `patch` and `batches` hold."""
        return not any(_broken(rule, self.request, self) for rule in RULES[:4])

    @cached_property
    def cached_parses(self) -> tuple[int, bool, bool]:
        """For `--explain`: (files the parse cache cannot answer for, whether those it answers
        for hold Id: lines, whether they hold the same item twice). The batches way finds these
        while it parses; explain reads the cache (and hashes each file) instead of guessing."""
        from newsletter.content.catalog import gives_ids, repeats
        from newsletter.state.parsecache import content_hash, with_last_good

        cache, missing, entries = self.caches.parse_cache, 0, []
        for source in self.found[0]:
            cached = cache.load(source.display) if cache is not None else None
            try:
                fresh = cached is not None and cached.content_hash == content_hash(source.path.read_bytes())
            except OSError:
                fresh = False
            if cached is None or not fresh:
                missing += 1
                continue
            entries.extend(with_last_good(source.display, cached).entries)
        return missing, gives_ids(entries), repeats((e.date.toordinal(), e.title_key) for e in entries)

    def outputs_moved(self) -> bool:
        from newsletter.output.writer import folder_mtimes_of

        dirs = self.catalog.dirs if self.catalog is not None else {}
        return not dirs or folder_mtimes_of(self.request.out_dir, dirs) != dirs

    @cached_property
    def rechecked(self) -> list[str]:
        """The files of `changes.changed` whose size and mtime are those recorded: read again
        only because they were saved just before the last build (`stamp.racily_clean`)."""
        recorded, stats = self.catalog.sources if self.catalog is not None else {}, self.changes.stats
        return sorted(
            s.display
            for s in self.changes.changed
            if (rec := recorded.get(s.display)) is not None and (rec[1], rec[0]) == stats.get(s.display)
        )

    def settings_changed(self) -> str | None:
        """`_settings_changed` since the catalog the last build left, naming the configuration's
        changed keys, the templates or newsletter itself when the last build's record tells."""
        assert self.catalog is not None
        said = _settings_changed(list(self.catalog.fingerprints), self.reader.fingerprints)
        if said != _SETTINGS:
            return said
        last = stamps.last_settings(stamps.stamp_path(self.request.manifest))
        now = site_settings(self.reader.context)
        if not last or set(last) != set(now):
            return said
        keys = [k.removeprefix("config:") for k in now if k.startswith("config:") and last[k] != now[k]]
        parts = [f"the configuration changed ({', '.join(keys)})"] if keys else []
        parts += [f"{what} changed" for what in ("the templates", "newsletter itself") if last[what] != now[what]]
        return "; ".join(parts) or said

    def what_changed(self) -> str | None:
        """Which of the bulletins, the configuration or templates changed since the last
        one-shot build, if the catalog it left tells; else None."""
        if self.catalog is None:
            return None
        settings = self.settings_changed()
        if settings or self.changes.error:
            return settings
        names, left = self.named_changes  # left: `build FILE`, not a change of theirs
        if not names and not left:
            return None
        said = [f"{'a bulletin' if len(names) == 1 else f'{len(names)} bulletins'} changed: {_shown(names)}"]
        if left:
            n = len(left)
            said.append(f"{'a bulletin is' if n == 1 else f'{n} bulletins are'} not among the inputs: {_shown(left)}")
        return "; ".join(said[not names :])

    @cached_property
    def named_changes(self) -> tuple[list[str], list[str]]:
        """(the bulletin files changed since the last one-shot build but for those only read
        again to be sure, and those removed, marked "(removed)"; the last build's files that
        are still there but not among the inputs), each sorted."""
        rechecked, still_there = set(self.rechecked), [(r, os.path.isfile(r)) for r in self.changes.removed]
        changed = [s.display for s in self.changes.changed if s.display not in rechecked]
        changed += [f"{r} (removed)" for r, there in still_there if not there]
        return sorted(changed), sorted(r for r, there in still_there if there)

    @cached_property
    def left_out(self) -> tuple[list[str], int, int | None]:
        """The last one-shot build's bulletin files that are still there but not among this
        build's inputs (`newsletter build FILE`: their entries go), how many files that build
        read, and how many entries those held (None when the parse cache cannot tell)."""
        last = stamps.last_files(stamps.stamp_path(self.request.manifest))
        now = {os.path.abspath(s.display) for s in self.found[0]}
        gone = [(name, where) for name, where in last if where not in now and os.path.isfile(where)]
        if not gone:
            return [], len(last), 0
        from newsletter.state.parsecache import with_last_good

        cache, entries = self.caches.parse_cache, 0
        for name, _ in gone:
            cached = cache.load(name) if cache is not None else None
            if cached is None:
                return [name for name, _ in gone], len(last), None
            entries += len(with_last_good(name, cached).entries)
        return [name for name, _ in gone], len(last), entries

    @cached_property
    def damaged(self) -> str | None:
        """Which outputs are missing or not as the last build wrote them (the first two, and
        how many), in words; None when the manifest cannot tell."""
        from newsletter.output.writer import changed_outputs

        state = load_manifest(self.request.manifest)
        if state is None:
            return None
        out = self.request.out_dir
        found = sorted(changed_outputs(state[1], out))
        if not found:
            return None
        shown = [f"{rel} ({'edited' if (out / rel).exists() else 'missing'})" for rel in found[:2]]
        more = f" and {len(found) - 2} more" if len(found) > 2 else ""
        n = len(found)
        return (
            f"{n} output{'s' if n != 1 else ''} {'is' if n == 1 else 'are'} missing or not as the last build "
            f"wrote {'it' if n == 1 else 'them'}: {', '.join(shown)}{more}"
        )


Check = Callable[[BuildRequest, BuildState], "bool | str | None"]


@dataclass(frozen=True)
class Rule:
    """One reason a way cannot be taken."""

    ways: tuple[str, ...]
    name: str
    says: str
    """What the plan says when the rule is broken (a check may say it more precisely)."""
    check: Check | None = None
    """True (or the words to say) when the rule is broken; None: the way itself finds out
    while it runs, and raises `FallBack(name)`."""


_SETTINGS = "the configuration, the templates or newsletter itself changed"


def site_settings(context: BuildContext) -> dict[str, str]:
    """What `BuildContext.site_fingerprint` is made of, each part by name, for the record of a
    one-shot build (`state.stamp`): the next plan says which changed."""
    from newsletter import __version__
    from newsletter.builder.context import SITE_KEYS

    config = context.config
    said = {f"config:{k}": repr(getattr(config, k)) for k in SITE_KEYS}
    return said | {"the templates": context.templates.fingerprint(), "newsletter itself": __version__}


def _settings_changed(old: list[str], new: list[str]) -> str | None:
    """Which settings differ between two `Reader.fingerprints` (site, newsletters, parser), in words."""
    if old[:1] != new[:1]:
        return _SETTINGS
    if old[1:2] != new[1:2]:
        return "the [newsletter] options changed"
    if old[2:] != new[2:]:
        return "the configuration's aliases or exclusions changed (or newsletter's parser)"
    return None


_INPUTS = "a bulletin, the configuration, the templates or newsletter itself changed"
_TOUCHED = "an output is missing or is not as the last build wrote it"


def _inputs_changed(r: BuildRequest, s: BuildState) -> bool | str:
    return s.record[1] == "changed" and (s.what_changed() or _INPUTS)


def _snapshot_missing(r: BuildRequest, s: BuildState) -> bool | str:
    snap, before = s.session.snapshot, s.caches.written_before(r.out_dir)
    if snap is not None and snap.out_dir != r.out_dir:
        return "the daemon's last build was of another output folder"
    if snap is None and before:
        return "the daemon's last build found two entries with the same date and title (or id), which only a full build handles"
    return snap is None or not before


def _live_fingerprints(r: BuildRequest, s: BuildState) -> str | None:
    snap = s.session.snapshot
    assert snap is not None  # the rule "no snapshot" is checked first
    return _settings_changed(list(snap.fingerprints), s.reader.fingerprints)


def _live_many(r: BuildRequest, s: BuildState) -> str | None:
    changed, removed = s.live_changes
    n = len(set(changed) | set(removed))
    return None if few_changed(n, len(s.caches.results)) else _many(n)


def _patch_many(r: BuildRequest, s: BuildState) -> str | None:
    c = s.changes
    n = len(c.changed) + len(c.removed)
    return None if few_changed(n, len(c.sources)) else _many(n)


def _many(n: int) -> str:
    return f"{n} files changed (at most {MAX_FILES}, or {MAX_SHARE:.0%} of them, are patched in)"


def _small_site(r: BuildRequest, s: BuildState) -> str | None:
    assert s.stamp is not None  # the rule "unreadable bulletin" is checked first
    limit = small_site_bytes()
    if s.stamp.size >= limit:
        return None
    return (
        f"a small site ({s.stamp.size:,} bytes of bulletins, under {limit:,}): "
        "the whole catalog at once is quicker than batches of years"
    )


_TWICE = "two entries have the same date and title, but for case or punctuation (the whole site's order decides between them)"

RULES: list[Rule] = [
    # the one-shot ways (`BuildState.one_shot` is the first four)
    Rule(ONE_SHOT, "strict", "--strict reads everything before it writes anything", lambda r, s: r.strict),
    Rule(ONE_SHOT, "daemon", "the watch daemon keeps its catalog in memory", lambda r, s: s.session.defer_saves),
    Rule(ONE_SHOT, "no state folder", "no state folder", lambda r, s: s.caches.parse_cache is None),
    Rule(ONE_SHOT, "trusted", "outputs are trusted without checks", lambda r, s: not r.verify),
    Rule(ONE_SHOT, "unreadable bulletin", "a bulletin could not be looked at", lambda r, s: s.stamp is None),
    Rule(("unchanged", "patch"), "full", "--full", lambda r, s: r.full),
    # unchanged (`state/stamp.py`)
    Rule(
        ("unchanged",),
        "no record",
        "no earlier one-shot build of this output folder",
        lambda r, s: s.record[1] == "missing",
    ),
    Rule(
        ("unchanged",),
        "record unreadable",
        "the record of the last build is unreadable",
        lambda r, s: s.record[1] == "unreadable",
    ),
    Rule(
        ("unchanged",),
        "inputs changed",
        _INPUTS + " (the plan says which, if the last build's record tells)",
        _inputs_changed,
    ),
    Rule(
        ("unchanged",),
        "racy",
        "a bulletin saved just before the last build must be read again to be sure",
        lambda r, s: s.record[1] == "racy",
    ),
    Rule(
        ("unchanged",),
        "outputs touched",
        _TOUCHED + " (the plan names it)",
        lambda r, s: s.intact is None and (s.damaged or _TOUCHED),
    ),
    # patch (`builder/patch.py`)
    Rule(("patch",), "no head", "no earlier build of this output folder", lambda r, s: s.head is None),
    Rule(
        ("patch",),
        "no catalog",
        "the last build left nothing to patch (the watch daemon's builds and builds that found two entries with the same "
        "date and title or id do not)",
        lambda r, s: s.catalog is None,
    ),
    Rule(
        ("patch",),
        "fingerprints",
        _SETTINGS + " (the plan says which, if it can tell)",
        lambda r, s: s.catalog is not None and s.settings_changed(),
    ),
    Rule(
        ("patch",),
        "identity not by year",
        "the entry ids kept in the state folder must first be read in full (or moved to the by-year layout)",
        lambda r, s: s.caches.identity_folder is None or not s.caches.identity_folder.is_dir(),
    ),
    Rule(
        ("patch",),
        "outputs moved",
        "outputs were added, removed or replaced since the last build",
        lambda r, s: s.outputs_moved(),
    ),
    Rule(
        ("patch",),
        "unstatable bulletin",
        "a bulletin cannot be looked at (the plan names it)",
        lambda r, s: s.changes.error or None,
    ),
    Rule(
        ("patch",),
        "nothing changed",
        "no bulletin changed",
        lambda r, s: not s.changes.changed and not s.changes.removed,
    ),
    Rule(
        ("patch",),
        "many files",
        f"more than {MAX_FILES} files (or {MAX_SHARE:.0%} of them) changed (the plan says how many)",
        _patch_many,
    ),
    Rule(("patch",), "year unreadable", "the state folder's record of one year's outputs is unreadable"),
    Rule(("patch",), "Id: lines", "an entry of a changed file has (or had) an Id: line"),
    Rule(
        ("patch",),
        "duplicates",
        "two entries have the same date and title, but for case or punctuation, or would get the same id",
    ),
    Rule(("patch",), "slug moved", "an entry the change did not touch would get another address or id"),
    Rule(
        ("patch",),
        "refill",
        "an entry left a list's feed, which must be refilled from older entries (the plan names the list)",
    ),
    Rule(("patch",), "last entry", "the site's last entry went"),
    Rule(("patch",), "bodies", "the state folder no longer holds the text of an entry to render again"),
    Rule(
        ("patch",),
        "outputs touched",
        "no bulletin changed (those saved just before the last build were read again to be sure), "
        "and an output is not as the last build wrote it (the plan names it)",
    ),
    # batches (`builder/batches.py`)
    Rule(
        ("batches",),
        "identity not by year",
        "the entry ids an earlier version kept are read and moved to the by-year layout in memory first",
        lambda r, s: (f := s.caches.identity_folder) is not None and not f.is_dir() and f.with_suffix(".json").exists(),
    ),
    Rule(
        ("batches",),
        "small site",
        f"a small site (bulletins under {SMALL_SITE_BYTES:,} bytes in all, or NEWSLETTER_SMALL_SITE_BYTES; the plan "
        "says how many): the whole catalog at once is quicker than batches of years",
        _small_site,
    ),
    Rule(("batches",), "Id: lines", "an entry has an Id: line (such ids are given in file order over the whole site)"),
    Rule(("batches",), "duplicates", _TWICE),
    # live (`builder/live.py`)
    Rule(("live",), "not the daemon", "not the watch daemon", lambda r, s: not s.session.defer_saves),
    Rule(("live",), "verify", "the first build of this daemon checks every output", lambda r, s: r.verify),
    Rule(
        ("live",),
        "no snapshot",
        "this daemon has not built this output folder yet, or its last build found two entries with the same "
        "date and title or id (the plan says which)",
        _snapshot_missing,
    ),
    Rule(
        ("live",),
        "fingerprints",
        "the configuration or the templates changed since the daemon's last build (the plan says which)",
        _live_fingerprints,
    ),
    Rule(
        ("live",),
        "many files",
        f"more than {MAX_FILES} files (or {MAX_SHARE:.0%} of them) changed (the plan says how many)",
        _live_many,
    ),
    Rule(("live",), "duplicates", _TWICE),
    Rule(("live",), "slug taken", "a slug or id is taken elsewhere (the full build numbers them in order)"),
]


def _rule(way: str, name: str) -> Rule:
    for rule in RULES:
        if way in rule.ways and rule.name == name:
            return rule
    raise KeyError(f"no rule {name!r} for {way}")


class FallBack(Exception):  # it is not an error: the next way is taken
    """Raised by a running way whose rule `name` (one without a check) turned out broken."""

    def __init__(self, way: str, name: str, says: str | None = None) -> None:
        self.rule = _rule(way, name)
        self.way = way
        super().__init__(says or self.rule.says)


def _broken(rule: Rule, request: BuildRequest, state: BuildState) -> str | None:
    if rule.check is None:
        return None
    said = rule.check(request, state)
    return None if not said else said if isinstance(said, str) else rule.says


def left_out_words(left_out: tuple[list[str], int, int | None], removed: int | None = None) -> str | None:
    """`BuildState.left_out` in words: what `--explain` and `-v` say, and (with the outputs it
    `removed`) the warning a build prints; None when no file was left out."""
    gone, last, entries = left_out
    if not gone:
        return None
    shown, its = _shown(gone), "its" if len(gone) == 1 else "their"
    held = f"{its} entries" if entries is None else f"{its} {entries} entr{'y' if entries == 1 else 'ies'}"
    said = (
        f"{len(gone)} of the last build's {last} bulletin files {'is' if len(gone) == 1 else 'are'} not among "
        f"the inputs ({shown}): {held} "
    )
    if removed is None:
        said += "and the outputs only they make will be removed"
    else:
        said += f"{'is' if entries == 1 else 'are'} no longer published ({removed} output{'s' if removed != 1 else ''} removed)"
    return said + "; name them too, or build with no files to build the whole site"


GLOSS = {
    "patch": "only what the changed files touch is rendered again",
    "batches": "a full build, year by year, reusing the outputs that are unchanged",
    "live": "the watch daemon renders again only what the changed files touch",
    "in memory": "a full build of the whole catalog at once, reusing the outputs that are unchanged",
}
"""What each way is, said under the way taken."""


@dataclass
class Plan:
    """What one build did or would do, step by step."""

    steps: list[tuple[str, bool, str]] = field(default_factory=list)
    """(way, taken, reason)."""
    way: str = ""
    units: str = ""
    """Which units the way taken renders (every unit, or those a change touches)."""
    unless: tuple[str, list[str]] = ("", [])
    """`--explain`: (what happens then, the rules the way taken checks only while it runs)."""
    left_out: tuple[list[str], int, int | None] = ([], 0, 0)
    """The last build's bulletin files not among the inputs (`BuildState.left_out`)."""

    def skip(self, way: str, reason: str) -> None:
        """`way` is ruled out, because of `reason` (said as a person would read it)."""
        self.steps.append((way, False, reason))
        log.debug("not %s: %s", way, reason)

    def take(self, way: str, reason: str) -> None:
        self.way = way
        self.steps.append((way, True, reason))
        log.debug("%s: %s", way, reason)

    def settle(self, reason: str) -> None:
        """Say more precisely why the way taken was taken (what it found running)."""
        way, taken, _ = self.steps[-1]
        assert taken and way == self.way
        self.steps[-1] = (way, True, reason)
        log.debug("%s: %s", way, reason)

    def renders(self, *, groups, years, periods, entries: int, retired: int = 0) -> None:
        """Record the units a patch renders: entry pages, and the lists `groups`' feeds and
        pages, their year pages of `years` and their newsletter issues of `periods`."""
        parts = [
            f"{entries} entry page{'s' if entries != 1 else ''}",
            f"feeds and pages of {', '.join(sorted(groups)) or 'no list'}",
        ]
        if years:
            parts.append("year pages of " + ", ".join(map(str, sorted(years))))
        if periods:
            shown = sorted(periods)
            parts.append("issues of " + ", ".join(shown[:6]) + (" …" if len(shown) > 6 else ""))
        if retired:
            parts.append(f"{retired} entry page{'s' if retired != 1 else ''} removed")
        self.units = "; ".join(parts) + "; the home page and the OPML"

    def lines(self) -> list[str]:
        """The plan as printed: ways ruled out one after another for the same reason on one
        line; under the way taken, what it is, what would make it fall back and what it renders."""
        said: list[str] = []
        merged: list[tuple[list[str], bool, str]] = []
        for way, taken, reason in self.steps:
            if merged and not taken and not merged[-1][1] and merged[-1][2] == reason:
                merged[-1][0].append(way)
            else:
                merged.append(([way], taken, reason))
        for ways, taken, reason in merged:
            said.append(f"{'→' if taken else '✗'} {', '.join(ways)}: {reason}")
            if taken and ways[0] in GLOSS:
                said.append(f"  ({ways[0]}: {GLOSS[ways[0]]})")
        then, rules = self.unless
        if rules:
            said += [f"  {then}:"] + [f"  - {says}" for says in rules]
        if left_out := left_out_words(self.left_out):
            said.append(f"  warning: {left_out}")
        return said + ([f"  renders: {self.units}"] if self.units else [])


def _files(names: list[str], verb: str = "changed") -> str:
    return (
        f"{len(names)} file{'s' if len(names) != 1 else ''} {verb}: "
        + ", ".join(names[:5])
        + (" …" if len(names) > 5 else "")
    )


def _patched_in(state: BuildState) -> str:
    """The files a patch reads: those changed, and those read again to be sure."""
    rechecked = state.rechecked
    changed, left = state.named_changes
    said = _files(changed) if changed else "no file changed"
    if left:  # `build FILE`
        said += "; " + _files(left, "not among the inputs (their entries go)").replace(" file not", " file is not", 1)
    if rechecked:
        said += "; " + _files(rechecked, "read again to be sure (saved just before the last build)")
    return said


def _unchecked(way: str, but: tuple[str, ...] = ()) -> list[str]:
    """What the rules `way` checks only while it runs say (`--explain` lists them), but for
    the rules named in `but`, without the table's "(the plan names it)"."""
    return [
        re.sub(r" \(the plan [^)]*\)$", "", rule.says)
        for rule in RULES
        if way in rule.ways and rule.check is None and rule.name not in but
    ]


def _taken(way: str, request: BuildRequest, state: BuildState) -> str:
    """Why `way` is taken, as far as it is known before it runs."""
    if way == "unchanged":
        return f"nothing changed since the last build; its {state.intact} outputs are as written"
    if way == "patch":
        return _patched_in(state)
    if way == "live":
        changed, removed = state.live_changes
        touched = sorted(set(changed) | set(removed))
        return _files(touched) if touched else "no bulletin changed"
    if way == "batches":
        if not request.explain:
            return "unless reading the files shows: " + "; ".join(_unchecked(way)) + " (then in memory)"
        missing, n = state.cached_parses[0], len(state.found[0])
        files = f"{n} file{'s' if n != 1 else ''}"
        if not missing:
            return (
                f"all {files} are as the last build read them: no Id: line, no two entries with the same date and title"
            )
        return f"{missing} of {files} {'is' if missing == 1 else 'are'} new or changed since the last build read them"
    return "the whole catalog at once"


def _unless(way: str, request: BuildRequest, state: BuildState) -> tuple[str, list[str]]:
    """`--explain`: what would make the way taken fall back, found only while it runs."""
    if not request.explain:
        return "", []
    if way == "patch":  # "outputs touched" is a patch of files read again only to be sure
        changed = any(state.named_changes)
        rules = _unchecked(way, ("outputs touched",) if changed else ())
        return "a full build is done instead if reading the changed files shows that", rules
    if way == "batches" and state.cached_parses[0]:
        return "the build is done in memory instead if reading them shows that", _unchecked(way)
    return "", []


def _known_to_explain(way: str, request: BuildRequest, state: BuildState) -> str | None:
    """`--explain` only: the batches way's own rules (checked while it runs), answered from
    the parse cache for the files it holds."""
    if way != "batches" or not request.explain:
        return None
    _, ids, twice = state.cached_parses
    found = {"Id: lines": ids, "duplicates": twice}
    return next((r.says for r in RULES if way in r.ways and r.check is None and found.get(r.name)), None)


def _fell_back(way: str, reason: str, state: BuildState) -> str:
    """What a way that fell back while running says: its rule's words, with the outputs named
    when it found one not as the last build wrote it."""
    if way == "patch" and reason == _rule(way, "outputs touched").says:
        return "no bulletin changed (those saved just before the last build were read again to be sure), and " + (
            state.damaged or _TOUCHED
        )
    return reason


def plan(request: BuildRequest, state: BuildState) -> Plan:
    """The way this build goes: the first of `WAYS` that no rule of `RULES` rules out (nor a
    fall-back recorded in `state`), with every way ruled out before it and why."""
    p = Plan()
    for way in WAYS:
        reason = state.broken.get(way)
        if reason is None:
            for rule in RULES:
                if way in rule.ways and (reason := _broken(rule, request, state)):
                    break
            else:
                reason = _known_to_explain(way, request, state)
        else:
            reason = _fell_back(way, reason, state)
        if reason:
            p.skip(way, reason)
            continue
        p.take(way, _taken(way, request, state))
        p.unless = _unless(way, request, state)
        # the daemon: its first build only (it says once per start what `watch FILE` leaves out)
        if way in ONE_SHOT or way == "in memory" and (not state.session.defer_saves or state.session.snapshot is None):
            p.left_out = state.left_out
        return p
    raise AssertionError("the in-memory way has no rule that can break it")


# -- the documentation's table -------------------------------------------------------------------
DOCS_START = "<!-- rules: generated by `python -m newsletter.builder.plan docs/architecture.md` -->"
DOCS_END = "<!-- rules: end -->"


def rules_table() -> str:
    """`RULES` as the markdown table docs/architecture.md shows."""
    lines = ["| way | rule | checked | when broken, the plan says |", "| --- | --- | --- | --- |"]
    for rule in RULES:
        when = "before" if rule.check is not None else "while it runs"
        says = rule.says.replace("|", "\\|")
        lines.append(f"| {', '.join(rule.ways)} | {rule.name} | {when} | {says} |")
    lines.append("| in memory | — | — | always possible |")
    return "\n".join(lines)


def docs_with_table(text: str) -> str:
    """`text` (docs/architecture.md) with the table between the markers rewritten."""
    head, _, rest = text.partition(DOCS_START)
    _, _, tail = rest.partition(DOCS_END)
    return f"{head}{DOCS_START}\n{rules_table()}\n{DOCS_END}{tail}"


if __name__ == "__main__":  # python -m newsletter.builder.plan docs/architecture.md
    path = Path(sys.argv[1])
    path.write_text(docs_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
