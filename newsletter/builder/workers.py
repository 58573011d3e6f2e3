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

import fcntl
import logging
import marshal
import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

from newsletter.errors import NewsletterError
from newsletter.output.writer import SiteWriter

# multiprocessing is imported by OutputCheck alone: the render and parse workers are forked here.

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

EXITING = False
"""Set by a process that ends with `os._exit` right after its build (`cli.cmd_build`). Then a
worker whose results have all arrived is reaped only at the end (`reap_parked`: its exit —
unmapping its memory — takes ~3 ms at 1k entries, done meanwhile on another core), and what
the build no longer needs is kept (`park`) rather than freed object by object (~2 ms per 1k
entries' units, ~4 ms for the catalog): the memory goes back at the exit, all at once."""

_PARKED: list = []
_UNREAPED: list[int] = []


def park(thing: object) -> None:
    """Keep `thing` until the process exits, if it exits right after the build (`EXITING`);
    otherwise it is freed as soon as the caller drops it."""
    if EXITING:
        _PARKED.append(thing)


def reap_parked() -> None:
    """Wait for the workers whose exit was not waited for (`EXITING`), long over by now."""
    while _UNREAPED:
        os.waitpid(_UNREAPED.pop(), 0)


class _Counter:
    """The next index of a list of work, shared by the parent and the processes it forks: each
    process claims the next block when it is done with the last, so that none waits while
    another still has a long queue (the parent, which has other things to do first, and a
    process slowed by a busy machine simply claim fewer).

    The count lives in shared memory (an anonymous mapping, which forked processes share),
    guarded by a POSIX record lock (`lockf`) on an anonymous file: such a lock belongs to the
    process that took it, so the kernel releases it when that process dies, even by kill -9
    in the middle of a claim, and the others go on. The same memory holds the stop flag (`stop`,
    `stopped`). No multiprocessing: its import, its semaphores and a pool's threads cost a
    small build ~25 ms, and a semaphore held by a killed process is never given back."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 16)  # the next index, then the stop flag
        self._lock = os.memfd_create("newsletter-counter", os.MFD_CLOEXEC)

    def claimed(self, count: int, block: int = 1, spread: int = 0, first: int = 0) -> Iterator[int]:
        """Indices below `count`, a block at a time, until none is left. With `spread`, blocks
        shrink towards the end (to a `spread`-th of what is left, down to one index), so that
        the processes run out of work together rather than one finishing a whole block alone.
        With `first`, the first block is the first `first` indices, whatever `block` is."""
        memory, lock = self._memory, self._lock
        while True:
            fcntl.lockf(lock, fcntl.LOCK_EX)
            try:
                (start,) = struct.unpack_from("q", memory, 0)
                if start == 0 and first:
                    size = first
                else:
                    size = max(1, min(block, (count - start) // spread)) if spread else block
                struct.pack_into("q", memory, 0, start + size)
            finally:
                fcntl.lockf(lock, fcntl.LOCK_UN)
            if start >= count:
                return
            yield from range(start, min(start + size, count))

    @property
    def handed_out(self) -> int:
        return struct.unpack_from("q", self._memory, 0)[0]

    def stop(self) -> None:
        self._memory[8] = 1

    def stopped(self) -> bool:
        return self._memory[8] == 1

    def close(self) -> None:
        os.close(self._lock)
        self._memory.close()


class WorkerDied(NewsletterError):
    """A forked process ended without sending back its share (killed, out of memory)."""


class _Forked:
    """`workers - 1` processes forked now, the n-th (from 1) running `job(n)` and sending its
    result back pickled through a pipe of its own; an exception raised there is raised here."""

    def __init__(self, job: Callable[[int], Any], workers: int) -> None:
        self.children: dict[int, int] = {}  # read end of its pipe -> pid
        sys.stdout.flush()  # not written twice by the children
        sys.stderr.flush()
        parent = os.getpid()
        try:
            for n in range(1, workers):
                take, give = os.pipe()
                _widen(give)
                pid = os.fork()
                if pid == 0:
                    for fd in self.children:
                        os.close(fd)
                    os.close(take)
                    _child(job, n, give, parent)
                os.close(give)
                self.children[take] = pid
        except BaseException:
            self.end()
            raise

    def results(self, stop_requested: Callable[[], bool] | None = None) -> list:
        """Every child's result, in the order they were forked; None if `stop_requested()` turned
        true first (looked at every 0.1 s)."""
        received: dict[int, list[bytes]] = {fd: [] for fd in self.children}
        open_fds = list(self.children)
        while open_fds:
            ready, _, _ = select.select(open_fds, [], [], 0.1 if stop_requested is not None else None)
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                if chunk:
                    received[fd].append(chunk)
                else:
                    open_fds.remove(fd)
            if not ready and stop_requested is not None and stop_requested():
                return None  # type: ignore[return-value]
        results = []
        for fd, pid in list(self.children.items()):
            os.close(fd)
            del self.children[fd]
            data = b"".join(received[fd])
            if data and EXITING:  # all it sends has come: its exit is not waited for (`EXITING`)
                _UNREAPED.append(pid)
            else:
                _, status = os.waitpid(pid, 0)
            if not data:
                raise WorkerDied(f"a worker process ended without its results ({_status(status)})")
            ok, value = pickle.loads(data)
            if not ok:
                raise value
            results.append(value)
        return results

    def wait(self, seconds: float) -> None:
        """Give the children `seconds` to finish, reading (and dropping) what they send."""
        deadline = time.monotonic() + seconds
        open_fds = list(self.children)
        while open_fds and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(open_fds, [], [], left)
            for fd in ready:
                if not os.read(fd, 1 << 20):
                    open_fds.remove(fd)

    def end(self) -> None:
        """Stop the children still running (SIGTERM, as `Pool.terminate`) and reap them."""
        for fd, pid in self.children.items():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(fd)
        self.children.clear()


PIPE_BYTES = 1 << 20
"""A result pipe's buffer (Linux's default is 64 KB): a worker's results (a year batch's summary
is up to ~0.4 MB) are written at once and the worker ends, rather than waiting for the parent,
busy with its own share, to read each 64 KB."""


def _widen(fd: int) -> None:
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError):  # not Linux, or above /proc/sys/fs/pipe-max-size: the default
        pass


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _child(job: Callable[[int], Any], n: int, fd: int, parent: int) -> NoReturn:
    """A forked process's whole life: `job(n)`, its result (or exception) written to `fd`, exit."""
    code = 0
    try:
        _worker_signals(parent)
        try:
            data = pickle.dumps((True, job(n)), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:
            data = pickle.dumps((False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
        with open(fd, "wb") as out:
            out.write(data)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """`exc`, or an exception of the same class, arguments and attributes, that pickle can
    carry to the parent (an exception whose `__init__` takes keyword-only arguments, such as
    `InputError`, cannot be unpickled as it is)."""
    try:
        pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))
        return exc
    except Exception:
        pass
    try:
        copy = _Rebuilt(type(exc), exc.args, dict(vars(exc)))
        pickle.loads(pickle.dumps(copy, pickle.HIGHEST_PROTOCOL))
        return copy  # type: ignore[return-value]
    except Exception:
        return WorkerDied(f"a worker process failed: {exc!r}")


class _Rebuilt:
    """An exception rebuilt without calling its `__init__` when unpickled."""

    def __init__(self, cls: type[BaseException], args: tuple, state: dict) -> None:
        self.cls, self.args, self.state = cls, args, state

    def __reduce__(self):
        return _rebuild, (self.cls, self.args, self.state)


def _rebuild(cls: type[BaseException], args: tuple, state: dict) -> BaseException:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


def _block(count: int, workers: int) -> int:
    return min(BLOCK, max(1, count // (32 * workers)))  # a few hundred heavy units still go round evenly


def shares_work(key: str) -> bool:
    """Whether unit `key` is a list's feeds (`OutputUnits._list_units`): the feeds of `all` and
    of the countries hold many of the same entries, whose feedgen entries and JSON items a
    process fills once for all its feeds (`FeedSite.kept`): rendered by one process, each is
    filled once (1k: 990 fills, not 1,291 as when they were split between two)."""
    return key.startswith("feeds:")


TOGETHER_WEIGHT = 25
"""A unit that shares work with others (a list's feeds: ~3 ms, most of it filling entries that
other lists' feeds hold too) costs about this many of a full build's average units."""


def _claim_order(units: list, together: Callable[[str], bool], workers: int) -> tuple[list[int] | range, int]:
    """The order in which the units are claimed, and the size of the first block: the units
    `together` accepts first, as one block (one process renders them all and does their
    shared work once), then the others in their order. Only when those units are at most one
    process's share of the work (`TOGETHER_WEIGHT`: a full build's few dozen feeds among
    thousands of pages, not the finish of a build by batches, where the feeds are most of the
    work and one process would render them while the others wait)."""
    first = [n for n, unit in enumerate(units) if together(unit[0])]
    if len(first) < 2 or len(first) * TOGETHER_WEIGHT * workers > len(units):
        return range(len(units)), 0
    chosen = set(first)
    return first + [n for n in range(len(units)) if n not in chosen], len(first)


def _work(_: int) -> bytes:
    writer, units, block, spread, counter, sequence, first = _JOB  # type: ignore[misc]
    writer.stats.written = writer.stats.unchanged = 0
    records = []
    for i in counter.claimed(len(units), block, spread, first):
        if counter.stopped():
            break
        n = sequence[i]
        key, fingerprint, render = units[n]
        writer.write_unit(key, fingerprint, render())
        records.append((n, key, writer.unit_record(key)))
    stats = {"written": writer.stats.written, "unchanged": writer.stats.unchanged}
    # marshal, not pickle: 110,000 unit records load three times as fast.
    return marshal.dumps((records, stats, writer.stats.changed_paths or []))


def _worker_signals(parent: int | None = None) -> None:
    """Workers leave SIGINT to the parent and die at once on SIGTERM, as `_Forked.end`
    expects (a Python-level handler inherited from the daemon would keep them running).
    To stop them cleanly the parent sets the stop flag instead; they finish the unit in hand."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Not for the output check's pool (no `parent`): it only reads, and a pool waits for ever
    # for the task of a worker killed under it.
    if parent is not None:
        _die_with(parent)


def _die_with(parent: int) -> None:
    """Be killed when `parent` dies (Linux's PR_SET_PDEATHSIG): a build killed with `kill -9`
    must not leave its workers writing outputs for seconds, holding the state lock."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the worker ends with its job, as before
        return
    if os.getppid() != parent:  # the parent died before the call: nobody would be told
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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
    global _JOB  # handed to forked children, cleared right after
    counter = _Counter()
    _JOB = (function, items, counter)
    forked = None
    try:
        forked = _Forked(_call, workers)
        _JOB = None
        if meanwhile is not None:
            meanwhile()
        mine = function(items[n] for n in counter.claimed(len(items)))
        return [mine, *forked.results()]
    finally:
        _JOB = None
        if forked is not None:
            forked.end()
        counter.close()


def _jobs(_: int) -> list:
    function, jobs, counter = _JOB  # type: ignore[misc]
    # Each result pickled as soon as it is made, while the parent is still busy, rather than
    # all at the end while it waits (a year batch's summary is ~0.5 MB: ~4 ms).
    return [(n, pickle.dumps(function(jobs[n]), pickle.HIGHEST_PROTOCOL)) for n in counter.claimed(len(jobs))]


def map_jobs(function: Callable[[Any], Any], jobs: list, workers: int) -> list:
    """`[function(job) for job in jobs]`, the jobs claimed one at a time by this process and
    `workers - 1` forked ones (longest first is the caller's business); results in `jobs` order."""
    global _JOB  # handed to forked children, cleared right after
    counter = _Counter()
    _JOB = (function, jobs, counter)
    forked = None
    try:
        forked = _Forked(_jobs, workers)
        _JOB = None
        done = {n: function(jobs[n]) for n in counter.claimed(len(jobs))}
        for part in forked.results():
            done.update((n, pickle.loads(data)) for n, data in part)
        return [done[n] for n in range(len(jobs))]
    finally:
        _JOB = None
        if forked is not None:
            forked.end()
        counter.close()


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
    then claims blocks of units like the others. Units that share work (`shares_work`) are
    claimed first, all in one block, when they are a small part of the work (`_claim_order`).

    If `stop_requested()` turns true, the workers are ended and `BuildInterrupted` is raised:
    every output already written is complete (writes are atomic)."""
    from newsletter.errors import BuildInterrupted

    global _JOB  # handed to forked children, cleared right after
    # blocks shrink to a `workers`-th of what is left (`_Counter.claimed`): one process's share, so
    # only the last few blocks shrink (neighbours stay together: `BLOCK`)
    counter, block, spread = _Counter(), _block(len(units), workers), workers
    sequence, first = _claim_order(units, shares_work, workers)
    _JOB = (writer, units, block, spread, counter, sequence, first)
    interrupted = False
    forked = None
    try:
        forked = _Forked(_work, workers)
        _JOB = None
        if meanwhile is not None:
            meanwhile()
        mine = []
        for i in counter.claimed(len(units), block, spread, first):
            if stop_requested():
                interrupted = True
                break
            n = sequence[i]
            key, fingerprint, render = units[n]
            writer.write_unit(key, fingerprint, render())
            mine.append(n)
            if progress is not None and len(mine) % 200 == 0:
                progress("writing", min(counter.handed_out, len(units)), len(units))
        blobs = None if interrupted else forked.results(stop_requested)
        if blobs is None:
            counter.stop()  # workers finish the unit in hand
            forked.wait(1.5)  # then `end` kills them
            raise BuildInterrupted("stopped while writing outputs")
        order = [(n, units[n][0]) for n in mine]
        for blob in blobs:
            records, stats, changed = marshal.loads(blob)
            writer.adopt([(key, record) for _, key, record in records], stats, changed)
            order.extend((n, key) for n, key, _ in records)
        order.sort()
        writer.order([key for _, key in order])  # the manifest's order does not depend on who was quicker
        if progress is not None:
            progress("writing", len(units), len(units))
    finally:
        _JOB = None
        if forked is not None:
            forked.end()
        counter.close()


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
