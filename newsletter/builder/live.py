"""The watch daemon's fast path: patch the last catalog instead of building it again.

When a few bulletin files changed and nothing else did (configuration, templates), the
entries of those files are swapped into the previous catalog, identities are assigned for
them alone, and only the units of the entries that went, came or changed are rendered
(`change.changed_rows`; not every entry of a changed file): their entry pages, the feeds,
pages, years and newsletter issues of every group they belong to (before or after the
change), and the home page; when the newest date moves the newsletter archive's window,
every archive page too. Anything unusual — duplicates across files, clashing slugs, many
changed files — falls back to the full build, which gives the same bytes (a test checks
exactly that).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from typing import TYPE_CHECKING

from newsletter.builder.change import ArchiveWindow, Change, changed_rows, of_rows, render_affected
from newsletter.builder.execute import Scope
from newsletter.builder.plan import BuildRequest, BuildState, FallBack, Plan
from newsletter.content.catalog import ALL, REGIONAL, Catalog, groups_of, item_key, repeats, sort_key
from newsletter.content.entry import Entry, with_identity
from newsletter.content.rows import row_groups, to_row
from newsletter.output.writer import WriteStats
from newsletter.render.newsletters.periods import period_id

if TYPE_CHECKING:
    from newsletter.config import Config

log = logging.getLogger(__name__)


def _groups_of(entry: Entry) -> tuple[str, ...]:
    return groups_of(entry.countries)


def incremental_write(request: BuildRequest, state: BuildState, plan: Plan) -> tuple[Catalog, WriteStats]:
    """(catalog, stats) after patching the last build (`state.session.snapshot`) with the
    (changed, removed) files the plan found (`state.live_changes`); `FallBack` when a rule only
    the patch can check is broken."""
    snap = state.session.snapshot
    assert snap is not None
    config = state.context.config
    current = state.caches.results
    changed, removed = state.live_changes
    touched = set(changed) | set(removed)
    if not touched:
        return _write(request, state, snap.catalog, Change(set(), [], [], set(), set()))

    old_finals = [e for d in touched for e in snap.finals.get(d, ())]
    new_entries = [e for d in changed for e in current[d].entries]
    keys = [item_key(e) for e in new_entries]
    if repeats(keys) or _clash(snap.keys, keys, touched):
        raise FallBack("live", "duplicates")
    identity = state.caches.identity.assign_subset(new_entries, old_finals, config.authority)
    new_finals = []
    slugs, ids = set(), set()
    for entry in new_entries:
        eid, slug, updated = identity[item_key(entry)]
        if slug in slugs or eid in ids or _clash(snap.slugs, [slug], touched) or _clash(snap.ids, [eid], touched):
            raise FallBack("live", "slug taken")
        slugs.add(slug)
        ids.add(eid)
        new_finals.append(with_identity(entry, eid, slug, updated))

    old_ids = {id(e) for e in old_finals}
    all_entries = _patched(snap.catalog.entries, old_ids, new_finals)
    affected = {ALL} | {g for e in old_finals + new_finals for g in _groups_of(e)}
    groups = dict(snap.catalog.groups)
    for group in affected:
        if group == ALL:
            groups[ALL] = all_entries
            continue
        members = [e for e in new_finals if group in _groups_of(e)]
        patched = _patched(groups.get(group, ()), old_ids, members)
        if patched or group == REGIONAL:
            groups[group] = patched
        else:
            groups.pop(group, None)
    catalog = Catalog(all_entries, dict(sorted(groups.items())), ())

    # Commit the new state only now that the patch is known to be possible.
    for d in touched:
        for e in snap.finals.pop(d, ()):
            snap.keys.pop(item_key(e), None)
            snap.slugs.pop(e.slug, None)
            snap.ids.pop(e.id, None)
    for e in new_finals:
        snap.finals.setdefault(e.source, []).append(e)
        snap.keys[item_key(e)] = e.source
        snap.slugs[e.slug] = e.source
        snap.ids[e.id] = e.source
    for d in removed:
        snap.results.pop(d, None)
    for d in changed:
        snap.results[d] = current[d]
    gone = [e.slug for e in old_finals if e.slug not in slugs]
    # Only the entries that went, came or changed are rendered again, not every entry of the files.
    went, came = changed_rows([to_row(e) for e in old_finals], [to_row(e) for e in new_finals])
    entries = of_rows(new_finals, came)
    dates = [dt.date.fromordinal(r.date) for r in went + came]
    render = {g for r in went + came for g in row_groups(r)} | {ALL}
    years = {d.year for d in dates}
    periods = {period_id(d, config.newsletter_period) for d in dates}
    since = _archive_moves(config, snap.catalog, catalog, render, periods)
    plan.renders(groups=render, years=years, periods=periods, entries=len(entries), retired=len(gone))
    result = _write(request, state, catalog, Change(render, entries, gone, years, periods, since))
    snap.catalog = catalog
    return result


def _archive_moves(config: Config, before: Catalog, after: Catalog, affected: set[str], periods: set[str]) -> str:
    """When the newest date moves the newsletter archive's window, every archive page changes:
    their groups join `affected`, the issues of periods that enter the window join `periods`,
    and the start of the window is returned (issues before it are retired); else ""."""
    from newsletter.render.newsletters.issue import newsletter_groups

    window = ArchiveWindow.of(
        config, before.entries[0].date if before.entries else None, after.entries[0].date if after.entries else None
    )
    if not window.moved:
        return ""
    affected.update(newsletter_groups(before), newsletter_groups(after))
    periods.update(pid for e in after.entries if window.returning(pid := period_id(e.date, config.newsletter_period)))
    return window.after


def _clash(owners: dict, keys, touched: set[str]) -> bool:
    """True if one of `keys` belongs to an entry of a file that did not change."""
    for key in keys:
        owner = owners.get(key)
        if owner is not None and owner not in touched:
            return True
    return False


def _patched(entries: tuple[Entry, ...], drop: set[int], add: list[Entry]) -> tuple[Entry, ...]:
    kept = [e for e in entries if id(e) not in drop] if drop else list(entries)
    for entry in add:
        bisect.insort(kept, entry, key=sort_key)
    return tuple(kept)


def _write(request: BuildRequest, state: BuildState, catalog: Catalog, change: Change) -> tuple[Catalog, WriteStats]:
    out_dir, manifest = request.out_dir, request.manifest
    scope = Scope(
        out_dir,
        manifest,
        previous=state.caches.written_before(out_dir),
        verify=False,
        save=state.session.saver(manifest),
        track_changes=request.track_changes,
    )
    outcome = render_affected(state.context, catalog, change, scope)
    state.caches.keep(manifest, out_dir, outcome.state, outcome.dirty)
    return catalog, outcome.stats
