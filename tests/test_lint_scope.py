"""`make lint` (run first by `make test`) checks the helper scripts of tools/ and benchmarks/ as it checks the
package and the tests: ruff's rules and ruff's format."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_make_lint_runs_ruff_and_ruff_format_over_tools():
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no lint target"
    lines = recipe.group(1).splitlines()
    check = next(line.split() for line in lines if "ruff check" in line)
    fmt = next(line.split() for line in lines if "ruff format --check" in line)
    assert {"newsletter", "tests", "tools", "benchmarks"} <= set(check)
    assert {"newsletter", "tests", "tools", "benchmarks"} <= set(fmt)
    assert any(REPO.glob("tools/*.py"))
