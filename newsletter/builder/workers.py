"""Render and write many units of output on every core (large cold builds).

Work is split after the catalog is built, by forking: the worker processes inherit the
catalog, the compiled templates and the writer's manifest without copying or pickling
them, render their share of units, write the files themselves (atomically, like the
parent would) and send back only what the manifest needs to record.
"""

from __future__ import annotations

import logging
import marshal
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any

from newsletter.output.writer import SiteWriter

log = logging.getLogger(__name__)

PARALLEL_MIN_UNITS = 2000
"""Below this many units to render, forking costs more than it saves."""

_JOB: tuple | None = None  # set in the parent just before forking; read by the children


def parallel_workers(units: int) -> int:
    """How many processes to render `units` with: 1 unless the build is large and fork exists."""
    if units < PARALLEL_MIN_UNITS or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if os.environ.get("NEWSLETTER_WORKERS"):
        return max(1, int(os.environ["NEWSLETTER_WORKERS"]))
    return max(1, min(os.cpu_count() or 1, 8))


BLOCK = 64
"""Units go to workers in blocks, so that neighbours (an entry's issues for each of its
groups, one period's issues) are rendered by the same process and share its caches."""


def _share(count: int, index: int, workers: int):
    block = min(BLOCK, max(1, count // (4 * workers)))  # a few hundred heavy units still go round evenly
    for start in range(index * block, count, workers * block):
        yield from range(start, min(start + block, count))


def _work(index: int) -> bytes:
    writer, units, workers, stop = _JOB  # type: ignore[misc]
    writer.stats.written = writer.stats.unchanged = 0
    records = []
    for n in _share(len(units), index, workers):
        if stop.is_set():
            break
        key, fingerprint, render = units[n]
        writer.write_unit(key, fingerprint, render())
        records.append((key, writer.unit_record(key)))
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


def _call(index: int):
    function, items, workers = _JOB  # type: ignore[misc]
    return function(items[index::workers])


def map_in_processes(
    function: Callable[[list], object], items: list, workers: int, meanwhile: Callable[[], None] | None = None
) -> list:
    """`function` applied to `workers` interleaved shares of `items`: the first share in this
    process (after running `meanwhile`), the others in forked processes. The parent's share
    costs nothing to send back, and one process fewer is forked."""
    global _JOB  # handed to forked children, cleared right after
    _JOB = (function, items, workers)
    try:
        with multiprocessing.get_context("fork").Pool(workers - 1, initializer=_worker_signals) as pool:
            pending = pool.map_async(_call, range(1, workers))
            _JOB = None
            if meanwhile is not None:
                meanwhile()
            mine = function(items[0::workers])
            return [mine, *pending.get()]
    finally:
        _JOB = None


def _job(index: int):
    function, jobs = _JOB  # type: ignore[misc]
    return function(jobs[index])


def map_jobs(function: Callable[[Any], Any], jobs: list, workers: int) -> list:
    """`[function(job) for job in jobs]`, the jobs handed out one at a time to `workers`
    forked processes (longest first is the caller's business); results in `jobs` order."""
    global _JOB  # handed to forked children, cleared right after
    _JOB = (function, jobs)
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_signals) as pool:
            _JOB = None
            return pool.map(_job, range(len(jobs)), chunksize=1)
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
    """Render `units` in `workers` forked processes and record the results in `writer`;
    the parent runs `meanwhile` while they work.

    If `stop_requested()` turns true, the workers are ended and `BuildInterrupted` is raised:
    every output already written is complete (writes are atomic)."""
    from newsletter.errors import BuildInterrupted

    global _JOB  # handed to forked children, cleared right after
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    _JOB = (writer, units, workers, stop)
    interrupted = False
    try:
        with ctx.Pool(workers, initializer=_worker_signals) as pool:
            pending = pool.map_async(_work, range(workers))
            if meanwhile is not None:
                meanwhile()
            while not pending.ready():
                pending.wait(0.1)
                if stop_requested() and not interrupted:
                    interrupted = True
                    stop.set()  # workers finish the unit in hand and return what they wrote
                    pending.wait(1.5)
                    if not pending.ready():
                        break  # leaving the `with` block kills them
            if pending.ready():
                done = 0
                for blob in pending.get():
                    records, stats, changed = marshal.loads(blob)
                    writer.adopt(records, stats, changed)
                    done += len(records)
                    if progress is not None:
                        progress("writing", done, len(units))
    finally:
        _JOB = None
    if interrupted:
        raise BuildInterrupted("stopped while writing outputs")


class OutputCheck:
    """`writer.check_manifest` run by a forked process while this one reads and catalogs: on
    a large site, stat'ing every output listed in the manifest takes as long as the rest
    of a rebuild after a small change."""

    MIN_MANIFEST_BYTES = 1_000_000

    def __init__(self, manifest, out_dir) -> None:
        from newsletter.state.manifest import check_manifest

        self._pool = multiprocessing.get_context("fork").Pool(1, initializer=_worker_signals)
        self._pending = self._pool.apply_async(check_manifest, (manifest, out_dir))

    @classmethod
    def start(cls, manifest, out_dir) -> OutputCheck | None:
        """A check of `manifest`, if it is large enough to be worth a process."""
        from newsletter.state.manifest import manifest_bytes

        if manifest_bytes(manifest) < cls.MIN_MANIFEST_BYTES or "fork" not in multiprocessing.get_all_start_methods():
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
