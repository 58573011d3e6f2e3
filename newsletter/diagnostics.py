"""Problems found in bulletin files, as plain values that carry `path:line`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Iterable, Literal, TextIO

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


def report(diagnostics: Iterable[Diagnostic], stream: TextIO | None = None) -> None:
    """Print diagnostics, one per line, in path and line order."""
    out = stream or sys.stderr
    for d in sorted(diagnostics, key=lambda d: (d.path, d.line)):
        print(d, file=out)
