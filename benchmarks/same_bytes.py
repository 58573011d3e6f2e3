#!/usr/bin/env python3
"""Do two revisions of newsletter build the same bytes? For a refactoring that must not
change any output.

    python benchmarks/same_bytes.py REV [--against REV2] [--entries 10000] [--workdir DIR]

Checks out REV (and REV2, default: the working tree) into temporary worktrees, makes a corpus (benchmarks/corpus.py), and with each
revision: a cold build, then a one-file edit built as a patch, then the same edit built by the
watch daemon's in-memory path (`build_site` with a long-lived Builder, as `watch` does). Each
pair of output trees is compared file by file (`diff -r`: extra or missing files count too).
Exit 0 when every pair is identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE_URL = "https://news.example.org/"

DAEMON = r"""
import sys
from pathlib import Path
try:
    from newsletter.builder.pipeline import Builder, build_site
except ImportError:  # before the build package (0.3)
    from newsletter.builder import Builder, build_site
from newsletter.config import load_config
config = load_config(None, {"base_url": sys.argv[1]})
out, state, bulletins = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
builder = Builder(config, state_dir=state)
if hasattr(builder, "session"):  # a Builder with a DaemonSession
    builder.session.defer_saves = True
else:
    builder.defer_saves = True
build_site(config, [bulletins], out, state, builder=builder)
edited = Path(bulletins) / sys.argv[5]
edited.write_text(edited.read_text().replace(" the ", " a ", 3))
build_site(config, [bulletins], out, state, builder=builder, force=frozenset({str(edited.resolve())}), verify=False)
builder.flush()
"""


def run(cmd: list[str], cwd: Path, code: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{code}: {' '.join(cmd[:4])} … failed ({done.returncode}):\n{done.stderr[-3000:]}")


def builds(code: Path, corpus: Path, work: Path) -> dict[str, Path]:
    """Cold, patched and daemon-built trees made by the newsletter at `code`."""
    bulletins = work / "bulletins"
    shutil.copytree(corpus, bulletins)
    target = sorted(p.name for p in bulletins.iterdir())[len(list(bulletins.iterdir())) // 2]
    build = [sys.executable, "-m", "newsletter", "build", "-q", "bulletins", "--base-url", BASE_URL]
    run([*build, "--out", "cold", "--state", "state"], work, code)
    shutil.copytree(work / "cold", work / "patched", symlinks=True)
    shutil.copytree(work / "state", work / "state-patched")
    path = bulletins / target
    path.write_text(path.read_text().replace(" the ", " a ", 3))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    run([*build, "--out", "patched", "--state", "state-patched"], work, code)
    fresh = work / "bulletins-daemon"
    shutil.copytree(corpus, fresh)
    run([sys.executable, "-c", DAEMON, BASE_URL, "daemon", "state-daemon", str(fresh), target], work, code)
    return {"cold": work / "cold", "patched": work / "patched", "daemon": work / "daemon"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev", help="the revision to compare with (e.g. the commit before a refactoring)")
    ap.add_argument("--against", help="the other revision (default: the working tree)")
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--workdir", help="default: a temporary folder (on /dev/shm when there is one)")
    args = ap.parse_args()
    base = (
        Path(args.workdir)
        if args.workdir
        else Path(tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    )
    old = base / "old-code"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(old), args.rev], cwd=ROOT, check=True)
    new = ROOT
    if args.against:
        new = base / "new-code"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(new), args.against], cwd=ROOT, check=True)
    try:
        corpus = base / "corpus"
        subprocess.run(
            [
                sys.executable,
                str(HERE / "corpus.py"),
                "--entries",
                str(args.entries),
                "--files",
                str(max(1, args.entries // 100)),
                "--out",
                str(corpus),
            ],
            check=True,
        )
        before = builds(old, corpus, base / "before")
        after = builds(new, corpus, base / "after")
        same = True
        for kind in before:
            diff = subprocess.run(
                ["diff", "-r", "-q", str(before[kind]), str(after[kind])], capture_output=True, text=True
            )
            files = sum(len(f) for _, _, f in os.walk(after[kind]))
            print(
                f"{kind:8} {files:7} files: "
                + ("identical" if diff.returncode == 0 else "DIFFERENT\n" + diff.stdout[:2000])
            )
            same &= diff.returncode == 0
        return 0 if same else 1
    finally:
        for tree in {old, new} - {ROOT}:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        if not args.workdir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
