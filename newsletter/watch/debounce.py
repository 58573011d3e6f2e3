"""Turn a stream of changes into batches: one batch per burst of events.

A batch is closed when no change has arrived for `quiet` seconds, or at the latest
`longest` seconds after its first change, so that a file written continuously still
gets rebuilt from time to time.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

from newsletter.watch.events import Change


def next_batch(
    changes: queue.Queue,
    *,
    quiet: float,
    longest: float,
    wait: float,
    keep: Callable[[Change], bool] = lambda c: True,
    clock: Callable[[], float] = time.monotonic,
) -> set[Change]:
    """Changes of the next burst (empty if nothing relevant arrived within `wait` seconds)."""
    batch: set[Change] = set()
    deadline = clock() + wait
    first: float | None = None
    last = 0.0
    while True:
        now = clock()
        if first is None:
            timeout = deadline - now
        else:
            timeout = min(last + quiet, first + longest) - now
        if timeout <= 0:
            return batch
        try:
            change = changes.get(timeout=timeout)
        except queue.Empty:
            return batch
        if not keep(change):
            continue
        batch.add(change)
        last = clock()
        if first is None:
            first = last
