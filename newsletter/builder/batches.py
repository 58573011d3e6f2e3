"""Full one-shot builds that never hold the whole catalog: year by year.

The same observation as `warm` (entries interact only through their dates) lets a full
build run as a sequence of independent batches of consecutive years. First every bulletin
is parsed (on every core) into the parse cache, keeping in memory only what the plan needs:
each file's years and entry keys. Then each batch — a few thousand entries — is read back
from the parse cache in a worker process, given its identities (the identity records of
those years), catalogued, and rendered: entry pages, year pages, newsletter issues; its
manifest year files are written. What spans years comes last, in the parent: per-group
counts, newest entries and newsletter listings are merged from the batches' summaries,
and the feeds, group pages, archives and home page are rendered from them, as are the
weekly issues whose week straddles two years.

So memory grows with the largest batch, not with the catalog, and the output is the same,
byte for byte, as the in-memory build the watch daemon does (tests compare them). Builds
this does not handle — `Id:` lines (ids may clash across years), the same item in two
files — return None: the caller builds in memory.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from newsletter.builder.execute import Run, Scope, execute
from newsletter.builder.plan import BuildRequest, BuildState, FallBack, Plan
from newsletter.builder.reader import Reader
from newsletter.content.catalog import ALL, REGIONAL, Catalog, build_catalog, gives_ids, groups_of, repeats
from newsletter.content.entry import Entry
from newsletter.content.rows import (
    Row,
    as_row,
    bodies,
    head_catalog,
    members,
    period_years,
    problems_of,
    row_key,
    row_order,
    row_tuple,
    rows_catalog,
    top_size,
)
from newsletter.content.sources import Source
from newsletter.diagnostics import Diagnostic
from newsletter.output.keys import is_issue, unit_year
from newsletter.output.writer import WriteStats, empty_folder
from newsletter.render.units import CatalogSummary, Selection, archive_since
from newsletter.state.identity import IdentityStore
from newsletter.state.manifest import (
    invalidate,
    load_head,
    load_years,
    remove_years,
    save_head,
    save_years,
    split,
    years_on_disk,
)
from newsletter.state.parsecache import with_last_good

log = logging.getLogger(__name__)

BATCH = 4000
"""Entries per batch (whole years are never split)."""

SITE_WIDE_WEIGHT = 20
"""A site-wide unit (a list's three feeds, its page) costs about this many entry pages: the
head's few hundred are rendered on every core (`execute.Run.weight`)."""


@dataclass
class FileInfo:
    display: str
    stat: tuple[int, int] | None
    """(mtime, size) when it was read."""
    problems: list
    years: dict[int, int]
    keys: list
    groups: set
    newest: int
    fixed: bool


@dataclass
class BatchSummary:
    """What one batch (or pass) leaves for the parent: its catalog's summary (counts, years and
    listings, merged by `CatalogSummary.merge`), each group's newest rows and what it wrote."""

    years: list[int]
    summary: CatalogSummary = field(default_factory=lambda: CatalogSummary(0, None, {}))
    tops: dict[str, list] = field(default_factory=dict)
    stats: WriteStats = field(default_factory=WriteStats)
    files: dict[int, int] = field(default_factory=dict)
    folders: set = field(default_factory=set)
    problems: list = field(default_factory=list)
    straddling: dict[tuple[str, str], int] = field(default_factory=dict)
    """(group, period) → entries, for the archive's weekly issues whose week straddles two
    years (the parent renders those: `finish_build`)."""


def _info(reader: Reader, source: Source) -> FileInfo:
    result = reader.parse_source(source)
    memo = reader.caches.forget_parse(source.display)
    years: dict[int, int] = {}
    groups: set[str] = set()
    keys = []  # row keys
    newest = 0
    for e in result.entries:  # one pass: this runs for every entry of a scan
        day = e.date
        years[day.year] = years.get(day.year, 0) + 1
        groups.update(groups_of(e.countries))
        ordinal = day.toordinal()
        keys.append((ordinal, e.title_key))
        if ordinal > newest:
            newest = ordinal
    return FileInfo(
        source.display,
        memo[0] if memo else None,
        problems_of(result),
        years,
        keys,
        groups,
        newest,
        gives_ids(result.entries),
    )


def scan(reader: Reader, sources: list[Source]) -> list[FileInfo]:
    """Parse every source into the parse cache (on every core when it is worth it; this process
    makes the renderers meanwhile: the render workers forked later inherit them)."""
    from newsletter.builder.workers import map_in_processes

    todo, workers = reader.parsing_plan(sources)
    done: dict = {}
    if workers > 1:
        reader.context.tagger  # noqa: B018 - compiled once, before forking (else each process does)

        def share(items):
            return [_info(reader, s) for s in items]

        for part in map_in_processes(share, todo, workers, meanwhile=reader.prepare_rendering):
            done.update((i.display, i) for i in part)
    return [done.get(s.display) or _info(reader, s) for s in sources]


ISSUE_WEIGHT = 7
"""An entry of the newsletter archive costs about this many times an older entry (its issues:
html, text and the .eml for each list it is in; measured at 10k: ~700 against ~95 us): batches
of those years are smaller, so that the processes finish together."""


def split_years(
    infos: list[FileInfo], sources, workers: int = 1, weight: dict[int, int] | None = None
) -> list[tuple[list[int], list]]:
    """Batches of consecutive years (newest first) of about `BATCH` entries (fewer for a small
    site, so that every worker gets eight or so; fewer still in the heavier years: `weight`, see
    `year_weights`; and in the oldest years, a fraction of what is left: batches are claimed
    largest first, and the last ones, small, let the processes finish together), with their files."""
    files_of: dict[int, list] = {}
    by_name = {s.display: s for s in sources}
    for info in infos:
        for year in info.years:
            files_of.setdefault(year, []).append(by_name[info.display])
    weight = weight or year_weights(infos, "")
    left = sum(weight.values())
    size = min(BATCH, max(200, left // (8 * workers)))
    batches, years, count = [], [], 0
    for year in sorted(weight, reverse=True):
        years.append(year)
        count += weight[year]
        left -= weight[year]
        if count >= min(size, max(200, (left + count) // (2 * workers))):  # the oldest: smaller and smaller
            batches.append(years)
            years, count = [], 0
    if years:
        batches.append(years)
    out = []
    for years in batches:
        seen, files = set(), []
        for year in years:
            for s in files_of[year]:
                if s.display not in seen:
                    seen.add(s.display)
                    files.append(s)
        out.append((years, files))
    return out


def year_weights(infos: list[FileInfo], since: str) -> dict[int, int]:
    """How much work each year's entries are, about: their number, the entries of the
    newsletter archive (from period `since` on) counting `ISSUE_WEIGHT` times. The archive's
    first year is mostly older entries (a year's last weeks only, say): its entries are
    counted one by one."""
    from newsletter.render.newsletters.periods import frequency_of, period_bounds

    first = period_bounds(since, frequency_of(since))[0] if since else None
    per_year: dict[int, int] = {}
    for info in infos:
        for year, n in info.years.items():
            per_year[year] = per_year.get(year, 0) + n
    if first is None:
        return per_year
    weights = {y: n * (ISSUE_WEIGHT if y > first.year else 1) for y, n in per_year.items()}
    if first.year in weights:  # the year the archive begins in
        start, end = first.toordinal(), dt.date(first.year + 1, 1, 1).toordinal()
        extra = sum(1 for info in infos if first.year in info.years for day, _ in info.keys if start <= day < end)
        weights[first.year] += extra * (ISSUE_WEIGHT - 1)
    return weights


def _previous(shards: dict, years) -> tuple[dict, dict]:
    """The (units, files) of the manifest years `years` among `shards`, merged."""
    return (
        {k: v for y in years if y in shards for k, v in shards[y]["units"].items()},
        {k: v for y in years if y in shards for k, v in shards[y]["files"].items()},
    )


def _straddles(pid: str, period: str) -> bool:
    return len(period_years(pid, period)) > 1


def _parents(key: str, since: str, period: str) -> bool:
    """True for an issue of the archive whose week straddles two years: the parent renders
    those, once every batch is done."""
    if not is_issue(key):
        return False
    pid = key.rpartition("/")[2]
    return pid >= since and _straddles(pid, period)


@dataclass
class _Job:
    """What every batch shares (handed to forked workers)."""

    reader: Reader
    manifest: Path
    out_dir: Path
    newest: dt.date | None
    nl_groups: list[str]
    since: str
    track_changes: bool
    fresh: bool = False
    """The output folder was empty when the build began (see `SiteWriter`)."""
    best: dict[str, list] = field(default_factory=dict)
    """Each group's newest rows among the batches this process ran so far (each process has its
    own copy): a batch's rows that are older than all of them cannot be among the group's
    newest, and are not sent back (`keep_newest`)."""

    def __post_init__(self) -> None:
        self.fresh = empty_folder(self.out_dir)

    def summary(self) -> CatalogSummary:
        """What a batch's units know of the whole catalog: its newest date and newsletter lists."""
        return CatalogSummary(0, self.newest, {}, {}, {g: [] for g in self.nl_groups}, list(self.nl_groups))


def keep_newest(best: dict[str, list], group: str, top: list, n: int) -> list:
    """The rows of `top` (a batch's newest of `group`, newest first) that may be among the
    group's `n` newest: not those older than `n` rows of `best[group]` (the group's newest in
    the batches before); `best[group]` becomes the newest `n` of both."""
    before = best.get(group)
    if before is None:
        best[group] = list(top)
        return top
    if len(before) >= n:  # older (strictly) than the n-th of those before: out
        top = top[: bisect.bisect_right(top, row_order(before[n - 1]), key=row_order)]
    if top:
        best[group] = sorted(before + top, key=row_order)[:n]
    return top


_DATE, _YEAR = attrgetter("date"), attrgetter("year")


def run_batch(job: _Job, years: list[int], files: list) -> BatchSummary:
    """Catalog and render one batch of years (see the module docstring)."""
    from newsletter.render.newsletters.periods import period_id, period_label

    b = job.reader
    cache = b.caches.parse_cache
    assert cache is not None  # the rule "no state folder" is checked first
    wanted = set(years)
    entries: list[Entry] = []
    for source in files:  # as the scan parsed them (the file may have changed since: the next build sees it)
        cached = cache.load(source.display)
        if cached is not None:
            entries.extend(e for e in with_last_good(source.display, cached).entries if e.date.year in wanted)
    identity = IdentityStore(b.caches.identity_folder, years=wanted)
    catalog = build_catalog(
        entries, authority=b.config.authority, identity=identity.assign(entries, b.config.authority)
    )
    del entries
    summary = BatchSummary(years, problems=[(d.path, d.line, d.severity, d.message) for d in catalog.diagnostics])
    n = top_size(b.config)
    period = b.config.newsletter_period
    # One row per entry: plain tuples for the year files (as marshal keeps them), and a `Row`
    # for those among a group's newest, shared by its groups (an entry is among the newest of
    # `all` and of its countries: pickled once when a worker sends them back).
    flat: dict[int, tuple] = {}
    rows: dict[int, list] = {y: [] for y in wanted}
    pid_of: dict[dt.date, str] = {}  # by date: an entry is in several groups
    for e in catalog.entries:
        flat[id(e)] = row = row_tuple(e)
        rows[e.date.year].append(row)
    made: dict[int, Row] = {}

    def top_rows(es) -> list[Row]:
        top = []
        for e in es[:n]:
            r = made.get(id(e))
            if r is None:
                r = made[id(e)] = as_row(flat[id(e)])
            top.append(r)
        return top

    newsletters = b.config.newsletter_enabled
    if newsletters and job.nl_groups:
        for day in set(map(_DATE, catalog.entries)):
            pid_of[day] = period_id(day, period)
    issues: dict[tuple[str, str], int] = {}
    for g, es in catalog.groups.items():
        if es or g in (ALL, REGIONAL):
            summary.summary.counts[g] = len(es)
            summary.summary.years[g] = sorted(Counter(map(_YEAR, map(_DATE, es))).items(), reverse=True)
            summary.tops[g] = keep_newest(job.best, g, top_rows(es), n)
        if newsletters and g in job.nl_groups:
            for pid, count in Counter(map(pid_of.__getitem__, map(_DATE, es))).items():
                if pid >= job.since:
                    issues[(g, pid)] = count
    periods = {pid for (_, pid) in issues if not _straddles(pid, period)}
    summary.straddling = {(g, pid): count for (g, pid), count in issues.items() if pid not in periods}
    for (g, pid), count in issues.items():
        if pid in periods:
            summary.summary.listings.setdefault(g, []).append(
                (pid, period_label(pid, period, b.config.language), count)
            )

    shards = load_years(job.manifest, wanted) or {y: {"units": {}, "files": {}, "rows": []} for y in wanted}
    # Issues of weeks that straddle two years are the parent's (see `finish_build`).
    scope = Scope(
        job.out_dir,
        job.manifest,
        previous=_previous(shards, wanted),
        partial=True,
        # No `wanted`: the selection below makes units of these years only (`_year_files` checks).
        retire=lambda produced, carried: [
            k for k in carried if k not in produced and not _parents(k, job.since, period)
        ],
        save=lambda state, _, __: save_years(job.manifest, wanted, _year_files(state, wanted), rows),
        fresh=job.fresh,
        track_changes=job.track_changes,
    )
    done = execute(
        scope,
        b.context.units(
            catalog,
            Selection(set(catalog.groups), list(catalog.entries), wanted, periods, site_wide=False),
            stats=job.summary(),
        ),
    )
    identity.save()
    summary.files, summary.folders, summary.stats = done.saved, done.folders(), done.stats  # type: ignore[assignment]
    return summary


def _year_files(state, years: set[int]) -> dict:
    """`split(state)` of a batch, whose units must all be of its `years` (else the year files
    would not record them)."""
    parts = split(state)
    stray = parts.keys() - years
    if stray:
        raise AssertionError(f"a batch of {sorted(years)} made units of {stray}")
    return parts


@dataclass
class StreamResult:
    catalog: Catalog
    stats: WriteStats
    diagnostics: list
    counts: tuple[int, int, int]
    sources: int


def stream_build(request: BuildRequest, state: BuildState, plan: Plan) -> StreamResult:
    """A full build, batch by batch; `FallBack` when it must be done in memory after all."""
    from newsletter.builder.workers import parallel_workers

    (sources, notes), manifest = state.found, request.manifest
    infos = scan(state.reader, sources)
    keys = [k for i in infos for k in i.keys]
    if any(i.fixed for i in infos):
        raise FallBack("batches", "Id: lines")
    if repeats(keys):
        raise FallBack("batches", "duplicates")
    del keys
    newest_ord = max((i.newest for i in infos), default=0)
    newest = dt.date.fromordinal(newest_ord) if newest_ord else None
    groups = set().union(*(i.groups for i in infos)) if infos else set()
    nl_groups = sorted({ALL} | groups) if state.reader.config.newsletter_enabled and newest else []
    since = archive_since(state.reader.config, newest)
    job = _Job(state.reader, manifest, request.out_dir, newest, nl_groups, since, request.track_changes)
    invalidate(manifest)  # the batches rewrite year files: the old head must not be trusted after a crash
    entries = sum(sum(i.years.values()) for i in infos)
    workers = parallel_workers(5 * entries)  # about five files per entry (pages, issues)
    weight = year_weights(infos, since)
    batches = split_years(infos, sources, workers, weight)
    plan.settle(
        f"{entries} entries in {len(batches)} batch{'es' if len(batches) != 1 else ''} of years, "
        f"{workers} process{'es' if workers != 1 else ''}"
    )
    plan.units = (
        "every unit, batch by batch: "
        + "; ".join(f"{years[-1]}–{years[0]}" if len(years) > 1 else str(years[0]) for years, _ in batches if years)
        + "; then what spans years (the home page, each list's feeds and pages, archives)"
    )
    log.debug(
        "%d entries in %d batches of years, %d process%s", entries, len(batches), workers, "" if workers == 1 else "es"
    )
    summaries = _run(job, batches, workers, weight)
    return finish_build(job, infos, summaries, notes, len(sources), state.started_ns)


def _run(job: _Job, batches, workers: int, weight: dict[int, int]) -> list[BatchSummary]:
    from newsletter.builder.workers import map_jobs

    if workers <= 1 or len(batches) <= 1:
        return [run_batch(job, years, files) for years, files in batches]
    job.reader.prepare_rendering()  # done already if the scan ran in several processes
    # Largest first, so that the last one claimed is small and no process waits long for another.
    order = sorted(range(len(batches)), key=lambda n: -sum(weight[y] for y in batches[n][0]))
    done = map_jobs(lambda n: run_batch(job, *batches[n]), order, workers)
    return [done[order.index(n)] for n in range(len(batches))]


def finish_build(job: _Job, infos, summaries: list[BatchSummary], notes, nsources: int, started_ns: int):
    """Merge the batches' summaries; render what spans years; write the head."""
    b = job.reader
    n = top_size(b.config)
    tops: dict[str, list] = {}
    stats = WriteStats(changed_paths=[] if job.track_changes else None)
    period = b.config.newsletter_period
    file_counts: dict[int, int] = {}
    folders: set[str] = set()
    problems = []
    for s in summaries:
        for g, top in s.tops.items():
            tops.setdefault(g, []).extend(top)
        _add_writes(stats, file_counts, folders, s)
        problems.extend(s.problems)
    for rows in tops.values():  # one sort per group (stable: as sorting batch by batch did)
        rows.sort(key=row_order)
        del rows[n:]
    for g in (ALL, REGIONAL):
        tops.setdefault(g, [])
    done_years = {y for s in summaries for y in s.years}
    summary = CatalogSummary.merge([s.summary for s in summaries], job.newest, job.nl_groups)
    counts, total = summary.counts, summary.total

    # Weekly issues whose week straddles two years, from the rows the batches wrote.
    straddling = _straddling_issues(job, done_years, summary.listings, period, summaries)
    if straddling is not None:
        for items in summary.listings.values():
            items.sort(reverse=True)

    def render_straddling() -> None:  # while other processes render the site-wide units
        if straddling is not None:
            periods, candidates = straddling
            _add_writes(stats, file_counts, folders, _render_straddling(job, periods, candidates, done_years, summary))

    # Years that no longer have entries: their outputs go, and so does their identity.
    gone = set(years_on_disk(job.manifest)) - done_years
    if gone:
        scope = Scope(
            job.out_dir,
            job.manifest,
            previous=_previous(load_years(job.manifest, gone) or {}, gone),
            partial=True,
            verify=False,
            retire=lambda _, carried: carried,
            save=lambda *_: remove_years(job.manifest, gone),
            track_changes=job.track_changes,
        )
        stats.add(execute(scope, []).stats)
    for year in IdentityStore(b.caches.identity_folder, years=set()).years_on_disk() - done_years:
        identity = IdentityStore(b.caches.identity_folder, years={year})
        identity.assign([], b.config.authority)
        identity.save()

    # Site-wide units from the merged summaries.
    limit = b.config.feed_limit
    needed = {row_key(r): r.source for g in tops for r in tops[g][:limit]}
    catalog = rows_catalog(tops, bodies(b.caches.parse_cache, needed))
    head = load_head(job.manifest)
    info = None
    if not problems:
        files = {i.display: [i.stat[1], i.stat[0], sorted(i.years), i.problems] for i in infos if i.stat}
        info = head_catalog(b.fingerprints, summary, tops, files, started_ns)

    def with_dirs():
        if info is not None:
            info.dirs = sorted(folders)  # the straddling issues' folders are known by now
        return info

    scope = Scope(
        job.out_dir,
        job.manifest,
        previous=(dict(head.units), dict(head.files)) if head is not None else ({}, {}),
        wanted=lambda key: unit_year(key) is None,
        head=with_dirs,
        save=lambda state, catalog, _: save_head(job.manifest, state, catalog, file_counts),
        fresh=job.fresh,
        track_changes=job.track_changes,
    )
    units = b.context.units(catalog, Selection(set(catalog.groups), [], set(), set()), stats=summary)
    stats.add(
        execute(
            scope,
            units,
            Run(
                workers=None,
                weight=SITE_WIDE_WEIGHT,
                before_fork=lambda _: b.context.pages.compile_templates(),
                meanwhile=render_straddling,
            ),
        ).stats
    )

    diagnostics = list(notes) + [Diagnostic(*d) for i in infos for d in i.problems] + [Diagnostic(*d) for d in problems]
    countries = sum(1 for g, c in counts.items() if g not in (ALL, REGIONAL) and c)
    return StreamResult(catalog, stats, diagnostics, (total, countries, counts.get(REGIONAL, 0)), nsources)


def _add_writes(stats: WriteStats, file_counts: dict, folders: set, s: BatchSummary) -> None:
    """Add what batch (or pass) `s` wrote to the build's totals."""
    stats.add(s.stats)
    file_counts.update(s.files)
    folders |= s.folders


def _straddling_issues(job: _Job, done_years, listings, period, summaries: list[BatchSummary]):
    """(periods, candidates) of the weekly issues in the archive whose week straddles two
    years, counted by the batches; their listing entries are added to `listings`. None when
    there are none."""
    from newsletter.render.newsletters.periods import period_label

    if period != "weekly" or not job.nl_groups:
        return None
    candidates = set()
    for year in done_years:
        for pid in (
            f"{year}-W01",
            f"{year}-W52",
            f"{year}-W53",
            f"{year + 1}-W01",
            f"{year - 1}-W52",
            f"{year - 1}-W53",
        ):
            try:
                if _straddles(pid, period) and pid >= job.since:
                    candidates.add(pid)
            except ValueError:  # no week 53 that year
                pass
    if not candidates:
        return None
    counts: dict[tuple[str, str], int] = {}
    for s in summaries:  # a week's two years may be in two batches
        for (g, pid), count in s.straddling.items():
            if pid in candidates and g in job.nl_groups:
                counts[(g, pid)] = counts.get((g, pid), 0) + count
    for (g, pid), count in counts.items():
        listings[g].append((pid, period_label(pid, period, job.reader.config.language), count))
    periods = {pid for (_, pid) in counts}
    return periods, candidates


def _render_straddling(job: _Job, periods, candidates, done_years, stats: CatalogSummary) -> BatchSummary:
    """Render the straddling weeks' issues (`_straddling_issues`) from the rows the batches wrote."""
    from newsletter.render.newsletters.periods import period_id

    b = job.reader
    period = b.config.newsletter_period
    years = {y for pid in candidates for y in period_years(pid, period)} & done_years
    shards = load_years(job.manifest, years) or {}
    rows = {y: shards[y]["rows"] for y in shards}
    chosen = [
        r
        for y in sorted(rows, reverse=True)
        for r in rows[y]
        if period_id(dt.date.fromordinal(r.date), period) in periods
    ]
    catalog = rows_catalog(members(chosen), bodies(b.caches.parse_cache, {row_key(r): r.source for r in chosen}))
    owners = {int(pid[:4]) for pid in candidates}
    extra = load_years(job.manifest, owners - set(shards)) or {}
    shards = {**shards, **extra}
    own_rows = {y: shards[y]["rows"] for y in owners if y in shards}
    scope = Scope(
        job.out_dir,
        job.manifest,
        previous=_previous(shards, owners),
        partial=True,
        wanted=is_issue,
        retire=lambda produced, carried: [
            k for k in carried if is_issue(k) and k not in produced and k.rpartition("/")[2] in candidates
        ],
        save=lambda state, _, __: save_years(job.manifest, owners, split(state), own_rows),
        fresh=job.fresh,
        track_changes=job.track_changes,
    )
    done = execute(
        scope, b.context.units(catalog, Selection(set(catalog.groups), [], set(), periods, False), stats=stats)
    )
    return BatchSummary([], stats=done.stats, files=done.saved, folders=done.folders())  # type: ignore[arg-type]
