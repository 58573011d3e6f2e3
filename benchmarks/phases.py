#!/usr/bin/env python3
"""Where a cold build's time goes, per process: `python benchmarks/phases.py BULLETINS [--workers N]`.

Runs one cold build (fresh output and state folders) with the build's phase functions wrapped,
each process (the parent and every forked worker) recording when it entered and left them,
and prints a timeline: for each phase its start, end and busy seconds per process, how long
each core sat idle (wall × cores − busy), and the start-up before `main()`. For finding what
can overlap; time it with `ab.py`, not with this (the wrappers cost a little)."""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Functions timed: (module, qualified name, phase). Nested phases are fine (a batch's execute).
WRAPPED = [
    ("newsletter.builder.batches", "scan", "scan"),
    ("newsletter.builder.batches", "_info", "parse"),
    ("newsletter.builder.batches", "run_batch", "batch"),
    ("newsletter.builder.batches", "finish_build", "finish"),
    ("newsletter.builder.batches", "_render_straddling", "straddling"),
    ("newsletter.builder.execute", "execute", "execute"),
    ("newsletter.builder.workers", "_work", "render share"),
    ("newsletter.builder.reader", "Reader.prepare_newsletters", "prepare newsletters"),
    ("newsletter.builder.reader", "Reader.read", "read"),
    ("newsletter.builder.reader", "Reader.parse_source", "parse a file"),
    ("newsletter.builder.pipeline", "Builder.catalog", "catalog"),
    ("newsletter.builder.workers", "render_in_processes", "render"),
    ("newsletter.builder.pipeline", "Builder.write", "write"),
    ("newsletter.render.site", "SiteRenderer.compile_templates", "compile templates"),
    ("newsletter.output.writer", "SiteWriter.finish", "finish writing"),
    ("newsletter.output.writer", "SiteWriter.adopt", "adopt records"),
    ("newsletter.builder.session", "save_manifest", "save manifest"),
    ("newsletter.builder.pipeline", "_save_record", "save stamp"),
    ("newsletter.builder.pipeline", "Builder.save_identity", "save identity"),
    ("newsletter.builder.pipeline", "run", "build"),
]

CHILD = r"""
import importlib, os, sys, time
T0 = float(sys.argv[1]); LOG = sys.argv[2]; WRAPPED = eval(sys.argv[3]); sys.argv = ['newsletter', *sys.argv[4:]]
began = time.perf_counter()
fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
def note(name, start, end, cpu=0.0, cpu0=0.0):
    os.write(fd, f"{os.getpid()}\t{name}\t{start - T0:.4f}\t{end - T0:.4f}\t{cpu:.4f}\t{cpu0:.4f}\n".encode())
note('interpreter start', T0, began, time.process_time())
cpu = time.process_time()
from newsletter.cli import main
note('import newsletter.cli', began, time.perf_counter(), time.process_time() - cpu)
def wrap(module, qual, name):
    owner = importlib.import_module(module)
    *path, attr = qual.split('.')
    for p in path:
        owner = getattr(owner, p)
    inner = getattr(owner, attr)
    def timed(*a, **k):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return inner(*a, **k)
        finally:
            note(name, start, time.perf_counter(), time.process_time() - cpu, cpu)
    timed.__module__, timed.__qualname__ = inner.__module__, inner.__qualname__  # pickled by name
    setattr(owner, attr, timed)
t, cpu = time.perf_counter(), time.process_time()
import multiprocessing.pool
WRAPPED.append(('multiprocessing.pool', 'Pool.__init__', 'fork'))
for w in WRAPPED:
    wrap(*w)
note('import pipeline', t, time.perf_counter(), time.process_time() - cpu)
import newsletter.cli; newsletter.cli._EXIT_FAST = True  # as `run` (the console entry) does
start, cpu = time.perf_counter(), time.process_time()
code = main()
note('main', start, time.perf_counter(), time.process_time() - cpu)
os._exit(code)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bulletins")
    ap.add_argument("--workers", help="NEWSLETTER_WORKERS for the build")
    ap.add_argument("--keep", action="store_true", help="print the raw records too")
    ap.add_argument("--code", default=str(ROOT), help="the source tree to run (default: this one)")
    ap.add_argument("--rounds", type=int, default=1, help="show the run with the shortest critical path of these")
    args = ap.parse_args()
    runs = [_timeline(args) for _ in range(args.rounds)]
    wall, cpu, rows, phases, critical = min(runs, key=lambda run: run[-1])
    pids = list(dict.fromkeys(r[0] for r in rows))
    label = {p: "parent" if p == rows[0][0] else f"worker {i}" for i, p in enumerate(pids)}
    cores = os.cpu_count() or 1
    print(
        f"wall {wall:.3f} s, CPU {cpu:.3f} s (every process), idle {cores * wall - cpu:.3f} core-seconds "
        f"of {cores * wall:.3f} ({cores} cores)"
    )
    print("| phase | process | first start | last end | inside s | CPU s | calls |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, by_pid in sorted(phases.items(), key=lambda kv: min(s[0] for v in kv[1].values() for s in v)):
        for pid, spans in by_pid.items():
            inside = _union([(s, e) for s, e, _, _ in spans])
            print(
                f"| {name} | {label[pid]} | {min(s for s, _, _, _ in spans):.3f} | {max(e for _, e, _, _ in spans):.3f} "
                f"| {inside:.3f} | {sum(c for _, _, c, _ in spans):.3f} | {len(spans)} |"
            )
    print(f"critical path (CPU seconds: start-up, the parent's own, each stage's busiest process): {critical:.3f} s")
    print(f"critical paths of the {args.rounds} runs: " + ", ".join(f"{run[-1]:.3f}" for run in runs))
    if args.keep:
        for r in rows:
            print(*r, sep="\t")
    return 0


def _timeline(args):
    """One cold build: (wall, CPU of every process, records, {phase: {pid: spans}}, critical path)."""
    work = Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    log = work / "phases.tsv"
    env = {**os.environ, "PYTHONPATH": args.code}
    if args.workers:
        env["NEWSLETTER_WORKERS"] = args.workers
    try:
        build = ["build", "-q", args.bulletins, "--base-url", "https://example.org/"]
        build += ["--out", str(work / "out"), "--state", str(work / "state")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", CHILD, repr(t0), str(log), repr(WRAPPED), *build], env=env, cwd=work, check=True
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        rows = [line.split("\t") for line in log.read_text().splitlines()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    phases: dict[str, dict[str, list[tuple[float, float, float, float]]]] = {}
    for pid, name, start, end, used, at in rows:
        phases.setdefault(name, {}).setdefault(pid, []).append((float(start), float(end), float(used), float(at)))
    return wall, cpu, rows, phases, _critical(phases)


STAGES = {"scan": ("scan", "parse"), "batches": ("batch", "batch"), "finish": ("finish", "render share")}
"""stage → (the parent's phase, the forked processes' phase)."""


def _critical(phases: dict) -> float:
    """CPU seconds on the longest chain: start-up, what the parent does outside the stages,
    and for each stage what the parent does before it forks plus the busiest process after."""
    parent = next(iter(phases["main"]))
    forks = [at for _, _, _, at in phases.get("fork", {}).get(parent, [])]

    def cpu(name: str, pid: str) -> float:
        return sum(c for _, _, c, _ in phases.get(name, {}).get(pid, []))

    total = sum(cpu(n, parent) for n in ("interpreter start", "import newsletter.cli", "import pipeline", "main"))
    for mine, theirs in STAGES.values():
        own = cpu(mine, parent)
        others = [cpu(theirs, pid) for pid in phases.get(theirs, {}) if pid != parent]
        if not others:
            continue
        serial = 0.0
        for _, _, used, at in phases.get(mine, {}).get(parent, []):
            inside = [f for f in forks if at <= f <= at + used]
            serial += (min(inside) - at) if inside else 0.0  # else forked before it began
        total += serial + max([own - serial, *others]) - own
    return total


def _union(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by `spans` (nested calls counted once)."""
    total, end = 0.0, float("-inf")
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


if __name__ == "__main__":
    raise SystemExit(main())
