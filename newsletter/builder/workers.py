"""Render and write many units of output on every core (large cold builds).

Work is split by forking: the worker processes inherit the catalog, the compiled templates
and the writer's manifest without copying or pickling them, render the units they claim,
write the files themselves (atomically, like the parent would) and send back only what the
manifest needs to record. The parent works too: on `n` cores, `n - 1` processes are forked,
and every process claims the next piece of work when it is done with the last (`_Counter`).

Two environment variables tune this: NEWSLETTER_WORKERS (how many processes, `parallel_workers`)
and NEWSLETTER_SMALL_SITE_BYTES (below which size a full build goes in memory, `small_site_bytes`).
"""

from __future__ import annotations

import logging
import marshal
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

from newsletter.output.writer import SiteWriter

# multiprocessing is imported where a process is forked: a build that forks none never loads it.

log = logging.getLogger(__name__)

PARALLEL_MIN_UNITS = 2000
"""Below this many units to render, forking costs more than it saves."""


def parallel_workers(units: int) -> int:
    """How many processes to render `units` with: 1 unless the build is large and fork exists."""
    if units < PARALLEL_MIN_UNITS or not hasattr(os, "fork"):
        return 1
    if os.environ.get("NEWSLETTER_WORKERS"):
        return max(1, int(os.environ["NEWSLETTER_WORKERS"]))
    return max(1, min(os.cpu_count() or 1, 8))


SMALL_SITE_BYTES = 5_000_000
"""Below this many bytes of bulletins in all (about 7,500 entries), a full one-shot build
goes in memory, the whole catalog at once, rather than by batches of years (`builder.batches`:
a scan, then batches and a finish, each with its forks): fixed costs dominate a small site,
and its catalog is small. The environment variable NEWSLETTER_SMALL_SITE_BYTES, beside
NEWSLETTER_WORKERS, overrides it (0: every full one-shot build goes by batches, as the tests of
that way on small sites ask)."""


def small_site_bytes() -> int:
    """The size under which a full one-shot build goes in memory (`SMALL_SITE_BYTES`)."""
    if os.environ.get("NEWSLETTER_SMALL_SITE_BYTES"):
        return max(0, int(os.environ["NEWSLETTER_SMALL_SITE_BYTES"]))
    return SMALL_SITE_BYTES


PARALLEL_MIN_BYTES = 256_000
"""Below this many bytes of bulletins to parse (about 400 entries), one process parses them:
a fork costs less than parsing them, and meanwhile the parent makes the renderers."""


def parsing_workers(files: int, size: int) -> int:
    """How many processes to parse `files` bulletins of `size` bytes in all with."""
    return parallel_workers(PARALLEL_MIN_UNITS) if size >= PARALLEL_MIN_BYTES and files >= 2 else 1


BLOCK = 64
"""Units are claimed in blocks, so that neighbours (an entry's issues for each of its groups,
one period's issues) are rendered by the same process and share its caches."""

_JOB: tuple | None = None  # set in the parent just before forking; read by the children


class _Counter:
    """The next index of a list of work, shared by the parent and the processes it forks: each
    process claims the next block when it is done with the last, so that none waits while
    another still has a long queue (the parent, which has other things to do first, and a
    process slowed by a busy machine simply claim fewer)."""

    def __init__(self, ctx) -> None:
        self._next = ctx.Value("q", 0)  # shared memory, with its own lock

    def claimed(self, count: int, block: int = 1) -> Iterator[int]:
        """Indices below `count`, a block at a time, until none is left."""
        while True:
            with self._next.get_lock():
                start = self._next.value
                self._next.value = start + block
            if start >= count:
                return
            yield from range(start, min(start + block, count))

    @property
    def handed_out(self) -> int:
        return self._next.value


def _block(count: int, workers: int) -> int:
    return min(BLOCK, max(1, count // (32 * workers)))  # a few hundred heavy units still go round evenly


def _work(_: int) -> bytes:
    writer, units, block, counter, stop = _JOB  # type: ignore[misc]
    writer.stats.written = writer.stats.unchanged = 0
    records = []
    for n in counter.claimed(len(units), block):
        if stop.is_set():
            break
        key, fingerprint, render = units[n]
        writer.write_unit(key, fingerprint, render())
        records.append((n, key, writer.unit_record(key)))
    stats = {"written": writer.stats.written, "unchanged": writer.stats.unchanged}
    # marshal, not the pool's pickle: 110,000 unit records load three times as fast.
    return marshal.dumps((records, stats, writer.stats.changed_paths or []))


def _worker_signals() -> None:
    """Workers leave SIGINT to the parent and die at once on SIGTERM, as `Pool.terminate`
    expects (a Python-level handler inherited from the daemon could not run while a worker
    waits inside the pool's locks, and `terminate` would wait for ever). To stop them
    cleanly the parent sets the stop event instead; they finish the unit in hand."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _call(_: int):
    function, items, counter = _JOB  # type: ignore[misc]
    return function(items[n] for n in counter.claimed(len(items)))


def map_in_processes(
    function: Callable[[Any], object], items: list, workers: int, meanwhile: Callable[[], None] | None = None
) -> list:
    """`function` applied, in this process and in `workers - 1` forked ones, to an iterator
    over the `items` each claims one at a time; the results, this process's first. This
    process runs `meanwhile` before it starts claiming: its part costs nothing to send back,
    and one process fewer is forked."""
    import multiprocessing

    global _JOB  # handed to forked children, cleared right after
    ctx = multiprocessing.get_context("fork")
    counter = _Counter(ctx)
    _JOB = (function, items, counter)
    try:
        with ctx.Pool(workers - 1, initializer=_worker_signals) as pool:
            pending = pool.map_async(_call, range(1, workers))
            _JOB = None
            if meanwhile is not None:
                meanwhile()
            mine = function(items[n] for n in counter.claimed(len(items)))
            return [mine, *pending.get()]
    finally:
        _JOB = None


def _jobs(_: int) -> list:
    function, jobs, counter = _JOB  # type: ignore[misc]
    return [(n, function(jobs[n])) for n in counter.claimed(len(jobs))]


def map_jobs(function: Callable[[Any], Any], jobs: list, workers: int) -> list:
    """`[function(job) for job in jobs]`, the jobs claimed one at a time by this process and
    `workers - 1` forked ones (longest first is the caller's business); results in `jobs` order."""
    import multiprocessing

    global _JOB  # handed to forked children, cleared right after
    ctx = multiprocessing.get_context("fork")
    counter = _Counter(ctx)
    _JOB = (function, jobs, counter)
    try:
        with ctx.Pool(workers - 1, initializer=_worker_signals) as pool:
            pending = pool.map_async(_jobs, range(1, workers))
            _JOB = None
            done = {n: function(jobs[n]) for n in counter.claimed(len(jobs))}
            for part in pending.get():
                done.update(part)
            return [done[n] for n in range(len(jobs))]
    finally:
        _JOB = None


def render_in_processes(
    writer: SiteWriter,
    units: list,
    workers: int,
    progress: Callable[[str, int, int], None] | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Render `units` in this process and `workers - 1` forked ones, and record the results in
    `writer` (in `units` order, whoever rendered them); this process runs `meanwhile` first,
    then claims blocks of units like the others.

    If `stop_requested()` turns true, the workers are ended and `BuildInterrupted` is raised:
    every output already written is complete (writes are atomic)."""
    import multiprocessing

    from newsletter.errors import BuildInterrupted

    global _JOB  # handed to forked children, cleared right after
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    counter, block = _Counter(ctx), _block(len(units), workers)
    _JOB = (writer, units, block, counter, stop)
    interrupted = False
    try:
        with ctx.Pool(workers - 1, initializer=_worker_signals) as pool:
            pending = pool.map_async(_work, range(1, workers))
            _JOB = None
            if meanwhile is not None:
                meanwhile()
            mine = []
            for n in counter.claimed(len(units), block):
                if stop_requested():
                    interrupted = True
                    break
                key, fingerprint, render = units[n]
                writer.write_unit(key, fingerprint, render())
                mine.append(n)
                if progress is not None and len(mine) % 200 == 0:
                    progress("writing", min(counter.handed_out, len(units)), len(units))
            while not interrupted and not pending.ready():
                pending.wait(0.1)
                interrupted = stop_requested()
            if interrupted:
                stop.set()  # workers finish the unit in hand
                pending.wait(1.5)  # then leaving the `with` block kills them
                raise BuildInterrupted("stopped while writing outputs")
            order = [(n, units[n][0]) for n in mine]
            for blob in pending.get():
                records, stats, changed = marshal.loads(blob)
                writer.adopt([(key, record) for _, key, record in records], stats, changed)
                order.extend((n, key) for n, key, _ in records)
            order.sort()
            writer.order([key for _, key in order])  # the manifest's order does not depend on who was quicker
            if progress is not None:
                progress("writing", len(units), len(units))
    finally:
        _JOB = None


class OutputCheck:
    """`writer.check_manifest` run by a forked process while this one reads and catalogs: on
    a large site, stat'ing every output listed in the manifest takes as long as the rest
    of a rebuild after a small change."""

    MIN_MANIFEST_BYTES = 1_000_000

    def __init__(self, manifest, out_dir) -> None:
        import multiprocessing

        from newsletter.state.manifest import check_manifest

        self._pool = multiprocessing.get_context("fork").Pool(1, initializer=_worker_signals)
        self._pending = self._pool.apply_async(check_manifest, (manifest, out_dir))

    @classmethod
    def start(cls, manifest, out_dir) -> OutputCheck | None:
        """A check of `manifest`, if it is large enough to be worth a process."""
        from newsletter.state.manifest import manifest_bytes

        if manifest_bytes(manifest) < cls.MIN_MANIFEST_BYTES or not hasattr(os, "fork"):
            return None
        return cls(manifest, out_dir)

    def result(self) -> set[str] | None:
        """The outputs found changed (None: no manifest, or the check failed: stat them here)."""
        try:
            return self._pending.get()
        except Exception as exc:  # the check is an optimisation only
            log.debug("background output check failed: %s", exc)
            return None
        finally:
            self.close()

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
