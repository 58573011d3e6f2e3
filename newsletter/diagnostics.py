"""Problems found in bulletin files, as plain values that carry `path:line`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TextIO

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one input file; `line` is 1-based (0 when it concerns the whole file)."""

    path: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {prefix}{self.message}"


PER_FILE = 25
"""At most this many problems are printed per file (all of them with `limit=None`)."""


def report(
    diagnostics: Iterable[Diagnostic],
    stream: TextIO | None = None,
    *,
    limit: int | None = PER_FILE,
    paths: set[str] | None = None,
) -> None:
    """Print diagnostics, one per line, in path and line order (only for `paths`, if given)."""
    out = stream or sys.stderr
    shown: dict[str, int] = {}
    for d in sorted(diagnostics, key=lambda d: (d.path, d.line)):
        if paths is not None and d.path not in paths:
            continue
        n = shown[d.path] = shown.get(d.path, 0) + 1
        if limit is None or n <= limit:
            print(d, file=out)
    for path, n in sorted(shown.items()):
        if limit is not None and n > limit:
            print(f"{path}: {n - limit} more problems not shown (run with -v to see them all)", file=out)


def report_list(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Print a subscriber list's problems: a line's as `path:line: …` (for editors to jump to), a
    problem of the whole file as `newsletter: path: …` like every other line newsletter writes.
    Returns the whole-file ones (an error among them means the list cannot be used)."""
    diagnostics = list(diagnostics)
    whole_file = [d for d in diagnostics if d.line == 0]
    report([d for d in diagnostics if d.line != 0])
    for d in whole_file:
        print(f"newsletter: {d}", file=sys.stderr)
    return whole_file
