"""The executor: the one render-or-reuse loop of every build.

Every way a build goes (`newsletter.build.plan`) ends here with a writer and the units it
wants: units whose fingerprint and files are as the writer's manifest records are reused,
the others are rendered — in this process, or in forked workers when there are many — and
written. The planner decides *which* units (a whole catalog, the years of one batch, the
groups a patch touches); this step never does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from newsletter.build.workers import parallel_workers, render_in_processes
from newsletter.errors import BuildInterrupted
from newsletter.output.writer import SiteWriter

Unit = tuple[str, str, Callable[[], list[tuple[str, bytes]]]]


def execute(writer: SiteWriter, units: Iterable[Unit], *, wanted: Callable[[str], bool] | None = None,
            workers: int | None = 1, progress: Callable[[str, int, int], None] | None = None,
            stop_requested: Callable[[], bool] = lambda: False,
            before_fork: Callable[[list[Unit]], None] | None = None,
            meanwhile: Callable[[], None] | None = None) -> set[str]:
    """Reuse every current unit of `units` (only those whose key is `wanted`, when given),
    render the others and record them in `writer`; return the keys of the units kept.

    With `workers=1` each unit is rendered as soon as it is made (the daemon's feeds land
    before the rest of the units are even looked at); `workers=None` lets the number of units
    to render decide (`workers.parallel_workers`); with more than one, `before_fork(todo)`
    runs first (to build what every worker shares) and `meanwhile()` while the workers render. `stop_requested()` is checked between units:
    `BuildInterrupted` leaves every file written complete (writes are atomic)."""
    produced: set[str] = set()

    def outdated():
        for unit in units:
            key, fingerprint, _ = unit
            if wanted is not None and not wanted(key):
                continue
            produced.add(key)
            if writer.is_current(key, fingerprint):
                writer.reuse(key)
            else:
                yield unit

    if workers == 1:  # render each unit as soon as it is made: the first outputs land sooner
        _serially(writer, outdated(), None, progress, stop_requested)
        return produced
    todo = list(outdated())
    count = parallel_workers(len(todo)) if workers is None else workers
    if count > 1:
        if before_fork is not None:
            before_fork(todo)
        render_in_processes(writer, todo, count, progress, stop_requested, meanwhile=meanwhile)
        if progress is not None:
            progress("writing", len(todo), len(todo))
    else:
        _serially(writer, todo, len(todo), progress, stop_requested)
    return produced


def _serially(writer: SiteWriter, todo: Iterable[Unit], total: int | None, progress, stop_requested) -> None:
    """Render and write `todo` in this process (`total`: how many, when known in advance)."""
    n = 0
    for n, (key, fingerprint, render) in enumerate(todo, 1):
        if stop_requested():
            raise BuildInterrupted("stopped while writing outputs")
        writer.write_unit(key, fingerprint, render())
        if progress is not None and n % 200 == 0:
            progress("writing", n, total or n)
    if progress is not None:
        progress("writing", n, total if total is not None else n)
