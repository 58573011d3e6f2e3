#!/usr/bin/env python3
"""Two revisions timed in turns on the same corpora, so that a slow or noisy machine slows
both alike: `python benchmarks/ab.py REV [--rounds 3]`. Prints the median of each scenario
and the ratio new/old, in wall-clock seconds and in CPU seconds (user + system, the build's
worker processes included), which a busy machine disturbs less. Corpora come from `make bench` (default workdir /dev/shm/newsletter-bench,
or --workdir)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://news.example.org/"


def timed(code: Path, cwd: Path, *args: str) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one run."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def scenarios(code: Path, corpus: Path, work: Path, cold_only: bool = False) -> dict[str, tuple[float, float]]:
    build = ["build", "-q", str(corpus / "bulletins"), "--base-url", BASE_URL, "--out", "out", "--state", "state"]
    shutil.rmtree(work / "out", ignore_errors=True)
    shutil.rmtree(work / "state", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    results = {"cold": timed(code, work, *build)}
    if cold_only:
        return results
    time.sleep(2.1)  # past the racily-clean window
    results["nothing changed"] = timed(code, work, *build)
    target = sorted((corpus / "bulletins").rglob("*.txt"))[0]
    original = target.read_bytes()
    try:
        target.write_bytes(original.replace(b" the ", b" a ", 2))
        os.utime(target, ns=(time.time_ns() - 5 * 10**9,) * 2)
        results["one file changed"] = timed(code, work, *build)
    finally:
        target.write_bytes(original)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--workdir", default="/dev/shm/newsletter-bench")
    ap.add_argument("--cold", action="store_true", help="time cold builds only")
    ap.add_argument("--stat", choices=("median", "min"), default="median", help="of the rounds (default: median)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    old = base / "old"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.rev], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(old / "newsletter")], check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "newsletter")], check=True)
    for tree in (old, ROOT):  # the bundled templates, as `make` compiles them (a no-op before they could be)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run([sys.executable, "-m", "newsletter.render.precompile"], cwd=tree, env=env, check=False)
    try:
        print(
            f"| scenario | {args.rev} | now | now / {args.rev} | CPU: {args.rev} | now | now / {args.rev} |\n"
            "| --- | --- | --- | --- | --- | --- | --- |"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            corpus = Path(args.workdir) / f"corpus-{size}"
            runs: dict[str, dict[str, list[tuple[float, float]]]] = {"old": {}, "new": {}}
            for _ in range(args.rounds):
                for name, code in (("old", old), ("new", ROOT)):
                    for scenario, seconds in scenarios(code, corpus, base / name, args.cold).items():
                        runs[name].setdefault(scenario, []).append(seconds)
            stat = min if args.stat == "min" else statistics.median
            for scenario in runs["old"]:
                a, b = (stat(w for w, _ in runs[n][scenario]) for n in ("old", "new"))
                ca, cb = (stat(c for _, c in runs[n][scenario]) for n in ("old", "new"))
                print(
                    f"| {scenario}, {size:,} entries | {a:.2f} s | {b:.2f} s | {b / a:.2f} | {ca:.2f} s | {cb:.2f} s "
                    f"| {cb / ca:.2f} |",
                    flush=True,
                )
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
