"""One-shot rebuilds after a small change, without rebuilding the catalog.

Entries interact only through their dates: duplicates share date and title, slugs and ids
start with the date, identity matching looks at the same date. So a change to a few
bulletin files can be applied year by year. A full build keeps, by year, every entry's
metadata (no bodies), that year's units in the manifest and that year's identity records
(see `manifest`, `identity`); in the manifest's head it keeps, per group, the counts by
year, the newest entries and the newsletter listing (`units.CatalogSummary`), and per
bulletin file its size, mtime, years and problems.

`warm_build` reads the head, finds the files whose size or mtime changed, parses them,
loads the years their entries were and are in (and those the newsletter periods concerned
span), redoes the catalog of those years, updates counts, newest entries and listings, and
renders the units of the entries that went, came or changed (their rows compared with those
kept: not every entry of a changed file) with the same code as a full build — so with the
same bytes (tests compare the two). A file with errors brings its last good entries; a country
that appears or loses its last entry, and a newest date that moves the newsletter archive
either way, are patched in. Whatever it does not handle — many changed files, `Id:` lines,
duplicates, newest entries it cannot refill — makes it return None: then the caller builds
in full.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from newsletter.builder.change import ArchiveWindow, Change, changed_rows, of_rows, render_affected
from newsletter.builder.execute import Scope
from newsletter.builder.plan import BuildRequest, BuildState, FallBack, Plan
from newsletter.builder.reader import Reader
from newsletter.content.catalog import ALL, REGIONAL, Catalog, build_catalog, gives_ids
from newsletter.content.rows import (
    CatalogHead,
    bodies,
    from_row,
    head_catalog,
    period_years,
    problems_of,
    row_groups,
    row_key,
    rows_catalog,
    to_row,
    top_size,
)
from newsletter.diagnostics import Diagnostic
from newsletter.render.units import CatalogSummary, Unrefillable
from newsletter.state.identity import IdentityStore
from newsletter.state.manifest import ManifestHead, file_count, load_years, save_manifest

log = logging.getLogger(__name__)


# -- what a full build keeps --------------------------------------------------------------------
def describe(
    catalog: Catalog,
    summary: CatalogSummary,
    fingerprints: list[str],
    n: int,
    sources: dict[str, tuple[int, int, list]],
    written_ns: int,
) -> tuple[CatalogHead | None, dict[int, list] | None]:
    """(head catalog, rows by year) for the manifest of a full build of `catalog`, given its
    summary, the build's fingerprints, how many newest rows a group keeps, each bulletin's
    (mtime, size, problems) when it was read and when the build began; (None, None) when
    the catalog cannot be patched later (duplicates or clashing ids were resolved in order)."""
    if catalog.diagnostics:
        return None, None
    rows: dict[int, list] = {}
    years_of: dict[str, set[int]] = {}
    for e in catalog.entries:
        rows.setdefault(e.date.year, []).append(to_row(e))
        years_of.setdefault(e.source, set()).add(e.date.year)
    files = {d: [size, mtime, sorted(years_of.get(d, ())), problems] for d, (mtime, size, problems) in sources.items()}
    info = head_catalog(
        fingerprints,
        summary,
        {g: [to_row(e) for e in es[:n]] for g, es in catalog.groups.items()},
        files,
        written_ns,
    )
    return info, rows


# -- the rebuild ----------------------------------------------------------------------------------
class WarmResult:
    def __init__(self, catalog, stats, diagnostics, counts, touched, sources) -> None:
        self.catalog, self.stats, self.diagnostics = catalog, stats, diagnostics
        self.counts, self.touched, self.sources = counts, touched, sources


def warm_build(request: BuildRequest, state: BuildState, plan: Plan) -> WarmResult:
    """Apply the bulletin files changed since the last build to its outputs (the plan's
    rules checked before are known to hold); `FallBack` when one it checks itself is broken
    (see the module docstring)."""
    assert state.head is not None and state.catalog is not None
    patch = _Patch(state.reader, request.manifest, state.head, state.catalog, request.out_dir, request.state_dir)
    return patch.run(state, request.track_changes, plan)


def _unsupported(name: str, says: str | None = None) -> FallBack:
    """This change needs a full build: rule `name` of the patch is broken."""
    return FallBack("patch", name, says)


class _Patch:
    def __init__(
        self, reader: Reader, manifest: Path, head: ManifestHead, info: CatalogHead, out_dir: Path, state_dir: Path
    ) -> None:
        """`reader` parses the changed files through the caches (and knows the build context)."""
        self.reader = reader
        self.config = reader.config
        self.manifest = manifest
        self.head = head
        self.info = info
        self.out_dir = out_dir
        self.state_dir = state_dir
        self.period = self.config.newsletter_period
        self.shards: dict[int, dict] = {}
        self.started_ns = time.time_ns()

    def load(self, years) -> None:
        found = load_years(self.manifest, set(years) - set(self.shards))
        if found is None:
            raise _unsupported("year unreadable")
        self.shards.update(found)

    def run(self, state: BuildState, track_changes: bool, plan: Plan) -> WarmResult:
        from newsletter.render.newsletters.periods import period_id

        reader, info = self.reader, self.info
        sources, changed, removed, source_stats, _ = state.changes
        notes = state.found[1]
        results = {}
        for source in changed:
            results[source.display] = reader.parse_source(source)  # with errors: its last good entries too
        new_entries = [e for r in results.values() for e in r.entries]
        if gives_ids(new_entries):
            raise _unsupported("Id: lines")
        touched = set(results) | set(removed)
        recorded = info.sources
        years = {y for d in touched if d in recorded for y in recorded[d][2]} | {e.date.year for e in new_entries}
        self.load(years)
        old_rows = [r for y in years for r in self.shards[y]["rows"] if r.source in touched]
        if gives_ids(old_rows):
            raise _unsupported("Id: lines")

        identity = IdentityStore(reader.caches.identity_folder, years=years)
        new_rows, finals = self.redo_years(years, touched, old_rows, new_entries, identity)
        # Only the entries that went, came or changed are rendered again, not every entry of the files.
        went, came = changed_rows(old_rows, [to_row(e) for e in finals])
        periods = {period_id(dt.date.fromordinal(r.date), self.period) for r in went + came}
        self.load({y for p in periods for y in period_years(p, self.period)})
        if not (went or came or removed) and self.only_racy(results, source_stats) and state.intact is None:
            raise _unsupported("outputs touched")  # nothing changed: check the outputs as `unchanged` would
        rows = {y: new_rows.get(y, self.shards[y]["rows"]) for y in self.shards}
        stats, tops, affected, since = self.update_stats(rows, years, periods, old_rows, finals, went + came)
        if since:  # issues that fell out of the archive are retired: load their years' units
            self.load({int(item[0][:4]) for g in info.listings for item in info.listings[g] if item[0] < since})
            rows.update({y: self.shards[y]["rows"] for y in self.shards if y not in rows})
        catalog = self.partial_catalog(rows, tops, results, affected, periods)

        gone = sorted({r.slug for r in old_rows} - {e.slug for e in finals})
        entries = of_rows(finals, came)
        changed_years = {dt.date.fromordinal(r.date).year for r in went + came}
        plan.renders(groups=affected, years=changed_years, periods=periods, entries=len(entries), retired=len(gone))
        head = self.next_head(stats, tops, source_stats, results, removed)
        loaded = set(self.shards)
        scope = Scope(
            self.out_dir,
            self.manifest,
            previous=self.loaded_manifest(),
            verify=True,
            head=lambda: head,
            save=lambda state, head, _: save_manifest(self.manifest, state, catalog=head, rows=rows, years=loaded),
            track_changes=track_changes,
        )
        done = render_affected(
            reader.context, catalog, Change(affected, entries, gone, changed_years, periods, since, stats), scope
        )
        done.stats.unchanged = file_count(self.manifest) - done.stats.written  # every file, not just those read
        identity.save()
        if reader.caches.parse_cache is not None:
            reader.caches.parse_cache.prune(set(source_stats))
        diagnostics = list(notes)
        for display in sorted(head.sources):
            diagnostics.extend(Diagnostic(*d) for d in head.sources[display][3])
        countries = sum(1 for g, n in stats.counts.items() if g not in (ALL, REGIONAL) and n)
        return WarmResult(
            catalog,
            done.stats,
            diagnostics,
            (stats.total, countries, stats.counts.get(REGIONAL, 0)),
            sorted(touched),
            len(sources),
        )

    def only_racy(self, results, source_stats) -> bool:
        """Whether every file re-read has the size and mtime recorded (it was read again only
        because it was saved within a clock tick of the last build)."""
        recorded = self.info.sources
        return all(
            d in recorded and (recorded[d][0], recorded[d][1]) == (source_stats[d][1], source_stats[d][0])
            for d in results
        )

    def redo_years(self, years, touched, old_rows, new_entries, identity):
        """The catalog of `years` with the changed files' entries: rows by year, and the final
        entries of the changed files."""
        kept = [r for y in years for r in self.shards[y]["rows"] if r.source not in touched]
        assigned = identity.assign_subset(new_entries, [from_row(r) for r in old_rows], self.config.authority)
        for r in kept:
            assigned[(dt.date.fromordinal(r.date), r.key)] = (
                r.id,
                r.slug,
                dt.datetime.fromisoformat(r.updated) if r.updated else None,
            )
        stubs = {row_key(r): r for r in kept}
        redone = build_catalog(
            [from_row(r) for r in kept] + new_entries, authority=self.config.authority, identity=assigned
        )
        if redone.diagnostics:
            raise _unsupported("duplicates")
        new_rows: dict[int, list] = {y: [] for y in years}
        finals = []
        for e in redone.entries:
            row = to_row(e)
            new_rows[e.date.year].append(row)
            if e.source in touched:
                finals.append(e)
            elif stubs[row_key(row)] != row:
                raise _unsupported("slug moved")
        return new_rows, finals

    def update_stats(self, rows, years, periods, old_rows, finals, changed):
        """(stats, newest rows per group, the groups whose units change — those of the `changed`
        rows —, archive start if it moved)."""
        try:
            stats, tops, touched_groups = CatalogSummary.patched(
                self.info,
                old_rows,
                [to_row(e) for e in finals],
                {y: rows[y] for y in years},
                top_size(self.config),
                self.config.newsletter_enabled,
            )
        except Unrefillable as exc:
            raise _unsupported("refill", str(exc)) from None
        affected = touched_groups & {g for r in changed for g in row_groups(r)} | {ALL}
        since = ""
        if self.config.newsletter_enabled:
            stats.listings, since = self.update_listings(rows, stats, affected, periods)
            if since:
                affected |= set(stats.nl_groups)  # every archive page lists the issues kept
        return stats, tops, affected, since

    def update_listings(self, rows, stats, affected, periods):
        from newsletter.render.newsletters.periods import period_id, period_label

        info = self.info
        window = ArchiveWindow.of(self.config, dt.date.fromordinal(info.newest) if info.newest else None, stats.newest)
        old_since, since = window
        if not since and old_since:
            raise _unsupported("last entry")
        if since < old_since:  # the newest entry went: issues of older periods come back
            back = set(range(min(period_years(since, self.period)), max(period_years(old_since, self.period)) + 1))
            self.load(back)
            rows.update({y: self.shards[y]["rows"] for y in back if y not in rows})
            returning = {
                pid
                for y in back
                for r in rows[y]
                if window.returning(pid := period_id(dt.date.fromordinal(r.date), self.period))
            }
            periods.update(returning)
        else:
            returning = set()
        counts: dict[tuple[str, str], int] = {}
        for y in rows:
            for r in rows[y]:
                pid = period_id(dt.date.fromordinal(r.date), self.period)
                if pid in periods:
                    for g in row_groups(r):
                        counts[(g, pid)] = counts.get((g, pid), 0) + 1
        listings = {}
        for g in stats.nl_groups:
            listing = [tuple(item) for item in info.listings.get(g, [])]
            redo = periods if g in affected else returning
            if redo:
                listing = [item for item in listing if item[0] not in redo]
                listing += [
                    (p, period_label(p, self.period, self.config.language), counts[(g, p)])
                    for p in redo
                    if (g, p) in counts
                ]
            listings[g] = sorted((item for item in listing if item[0] >= since), reverse=True)
        return listings, (since if since != old_since else "")

    def partial_catalog(self, rows, tops, results, affected, periods) -> Catalog:
        """A catalog holding every group's newest entries and every entry of the loaded years;
        the entries whose bodies a render needs (newest entries of the groups re-rendered,
        entries of the periods concerned, the changed files') carry them."""
        from newsletter.render.newsletters.periods import period_id

        limit = self.config.feed_limit
        needed = {row_key(r): r.source for g in affected for r in tops.get(g, ())[:limit]}
        needed.update(
            (row_key(r), r.source)
            for y in rows
            for r in rows[y]
            if period_id(dt.date.fromordinal(r.date), self.period) in periods
        )
        texts = self.bodies(needed, results)
        everything = [r for y in sorted(rows, reverse=True) for r in rows[y]]
        groups: dict[str, list] = {g: [] for g in tops}
        seen: dict[str, set] = {g: set() for g in tops}
        for g, top in tops.items():
            for r in top:
                groups[g].append(r)
                seen[g].add(row_key(r))
        for r in everything:
            for g in row_groups(r):
                if g in groups and row_key(r) not in seen[g]:
                    groups[g].append(r)
        return rows_catalog(groups, texts)

    def bodies(self, needed: dict[tuple[int, str], str], results) -> dict[tuple[int, str], str]:
        """Bodies of the entries `needed` (natural key: file), all of them or `FallBack`."""
        found = bodies(self.reader.caches.parse_cache, needed, results)
        if len(found) < len(needed):
            raise _unsupported("bodies")
        return found

    def loaded_manifest(self) -> tuple[dict, dict]:
        units, files = dict(self.head.units), dict(self.head.files)
        for part in self.shards.values():
            units.update(part["units"])
            files.update(part["files"])
        return units, files

    def next_head(self, stats, tops, source_stats, results, removed) -> CatalogHead:
        sources = {}
        for display, (mtime, size) in source_stats.items():
            if display in results:
                years = sorted({e.date.year for e in results[display].entries})
                sources[display] = [size, mtime, years, problems_of(results[display])]
            else:
                rec = self.info.sources[display]
                sources[display] = [size, mtime, rec[2], rec[3]]
        head = head_catalog(self.reader.fingerprints, stats, tops, sources, self.started_ns)
        head.dirs = self.info.dirs
        return head
