"""The executor: the one render-or-reuse loop of every build, and the writer's whole life.

Every way a build goes (`newsletter.builder.plan`) ends here with a `Scope` and the units it
wants: `execute(scope, units)` makes the site writer over what the last build left, reuses
every unit whose fingerprint and files are as recorded, renders the others — in this
process, or in forked workers when there are many — retires the units the scope no longer
produces, finishes the writer (stale files removed) and saves the manifest as the scope says.
The ways decide *which* units (a whole catalog, the years of one batch, the groups a patch
touches) and what the manifest keeps; this is the only place a writer is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.builder.workers import parallel_workers, park, render_in_processes
from newsletter.content.rows import CatalogHead
from newsletter.errors import BuildInterrupted
from newsletter.output.writer import SiteWriter, WriteOptions, WriteStats
from newsletter.render.units import Unit
from newsletter.state.manifest import ManifestFolder

State = tuple[dict, dict]
"""A manifest's (units, files)."""


@dataclass
class Scope:
    """The part of one output folder a way renders, over what the last build left."""

    out_dir: Path
    manifest: Path
    previous: State | None = None
    """The (units, files) the last build left, when known here (else read from `manifest`)."""
    partial: bool = False
    """Units not rendered or reused stay as they were unless retired (a patch, a batch);
    otherwise every output the scope does not produce is removed."""
    verify: bool = True
    """False: trust `previous` without a stat per file (the daemon)."""
    wanted: Callable[[str], bool] | None = None
    """Only units whose key this accepts (a batch's years, the head's site-wide units)."""
    retire: Callable[[set[str], list[str]], list[str]] | None = None
    """(keys produced, keys the scope started with) → the keys no longer produced."""
    head: Callable[[], CatalogHead | None] | None = None
    """What the manifest's head keeps for patching the catalog (called once rendering is under way)."""
    save: Callable[[State, CatalogHead | None, bool], object] | None = None
    """Save the manifest: called with (the final state, `head()` with the folder mtimes, whether
    anything changed); what it returns is `Outcome.saved`. None: the caller keeps the state."""
    changed: set[str] | None = None
    """The outputs another process found changed (then no file is stat'ed again here)."""
    fresh: bool | None = None
    """The output folder was empty when the build began (None: look now)."""
    track_changes: bool = False


@dataclass
class Run:
    """How to render: in how many processes, and what to do meanwhile."""

    workers: int | None = 1
    """1: each unit as soon as it is made; None: as many as the units to render make worth it."""
    progress: Callable[[str, int, int], None] | None = None
    stop_requested: Callable[[], bool] = lambda: False
    before_fork: Callable[[list[Unit]], None] | None = None
    meanwhile: Callable[[], None] | None = None
    """Run by this process while others render (before its own share of units), or after
    rendering when there are no others."""
    weight: int = 1
    """How many entry pages' work a unit is, about (the site-wide units — a list's feeds — are
    heavy: a few hundred of them are worth two processes)."""


@dataclass
class Outcome:
    stats: WriteStats
    state: State
    produced: set[str] = field(default_factory=set)
    dirty: bool = False
    """The manifest differs from what the last build saved (and `scope.save` was None or did not save it)."""
    saved: object = None

    def folders(self) -> set[str]:
        """The folders holding this scope's outputs."""
        return {rel.rpartition("/")[0] for rel in self.state[1]}


def execute(scope: Scope, units: Iterable[Unit], run: Run | None = None) -> Outcome:
    """Render what `scope` wants of `units` over the last build's outputs and finish (see the
    module docstring). `BuildInterrupted` (from `run.stop_requested`) leaves every file
    written complete (writes are atomic) and the manifest as it was."""
    options = WriteOptions(scope.track_changes, scope.verify, scope.partial, scope.changed, scope.fresh)
    writer = SiteWriter(scope.out_dir, ManifestFolder(scope.manifest), previous=scope.previous, options=options)
    produced = _render(writer, units, scope.wanted, run or Run())
    if scope.retire is not None:
        writer.retire(scope.retire(produced, writer.carried_keys()))
    head = scope.head() if scope.head is not None else None
    stats = writer.finish()
    if head is not None:
        head.dirs = writer.folder_mtimes(head.dirs)
    outcome = Outcome(stats, writer.state, produced, writer.dirty)
    if scope.save is not None:
        outcome.saved = scope.save(writer.state, head, writer.dirty)
        outcome.dirty = False
    return outcome


def _render(writer: SiteWriter, units: Iterable[Unit], wanted: Callable[[str], bool] | None, run: Run) -> set[str]:
    """Reuse every current unit of `units` (only those `wanted`), render the others and
    record them in `writer`; the keys of the units kept."""
    produced: set[str] = set()
    add, is_current, reuse = produced.add, writer.is_current, writer.reuse

    def outdated():
        for unit in units:
            key, fingerprint, _ = unit
            if wanted is not None and not wanted(key):
                continue
            add(key)
            if is_current(key, fingerprint):
                reuse(key)
            else:
                yield unit

    if run.workers == 1:  # render each unit as soon as it is made: the first outputs land sooner
        _serially(writer, outdated(), None, run)
        if run.meanwhile is not None:
            run.meanwhile()
        return produced
    todo = list(outdated())
    count = parallel_workers(len(todo) * run.weight) if run.workers is None else run.workers
    if count > 1:
        if run.before_fork is not None:
            run.before_fork(todo)
        render_in_processes(writer, todo, count, run.progress, run.stop_requested, meanwhile=run.meanwhile)
        park(todo)  # a process about to exit does not free every unit's closure
        if run.progress is not None:
            run.progress("writing", len(todo), len(todo))
    else:
        _serially(writer, todo, len(todo), run)
        if run.meanwhile is not None:
            run.meanwhile()
    return produced


def _serially(writer: SiteWriter, todo: Iterable[Unit], total: int | None, run: Run) -> None:
    """Render and write `todo` in this process (`total`: how many, when known in advance)."""
    n = 0
    write, stop_requested, progress = writer.write_unit, run.stop_requested, run.progress
    for n, (key, fingerprint, render) in enumerate(todo, 1):
        if stop_requested():
            raise BuildInterrupted("stopped while writing outputs")
        write(key, fingerprint, render())
        if progress is not None and n % 200 == 0:
            progress("writing", n, total or n)
    if progress is not None:
        progress("writing", n, total if total is not None else n)
