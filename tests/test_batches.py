"""The year batches' bookkeeping (`newsletter.builder.batches`); whole batch builds are compared
with in-memory ones in test_incremental.py."""

from __future__ import annotations

from typing import NamedTuple

from newsletter.builder.batches import keep_newest
from newsletter.content.rows import row_order


class _Row(NamedTuple):  # what `row_order` reads of a row
    date: int
    source: str
    line: int


def _rows(*dates: int) -> list[_Row]:
    return [_Row(d, "a.txt", n) for n, d in enumerate(dates)]


def test_a_batch_keeps_only_the_rows_that_may_be_among_a_groups_newest():
    best: dict[str, list] = {}
    first = _rows(30, 20, 10)
    assert keep_newest(best, "mx", first, 3) == first  # nothing before it
    assert keep_newest(best, "mx", _rows(9, 8), 3) == []  # older than the 3 newest so far
    assert keep_newest(best, "mx", _rows(25, 5), 3) == [_Row(25, "a.txt", 0)]
    assert best["mx"] == [_Row(30, "a.txt", 0), _Row(25, "a.txt", 0), _Row(20, "a.txt", 1)]
    # fewer than n so far: every row may still be needed
    assert keep_newest(best, "gt", _rows(3), 3) == _rows(3)
    assert keep_newest(best, "gt", _rows(2, 1), 3) == _rows(2, 1)
    # and the n newest of all the batches are among what they kept
    batches = [_rows(7, 3, 1), _rows(9, 2), _rows(8, 6, 5, 4)]
    best = {}
    kept = [r for b in batches for r in keep_newest(best, "all", b, 3)]
    every = [r for b in batches for r in b]
    assert sorted(kept, key=row_order)[:3] == sorted(every, key=row_order)[:3]
