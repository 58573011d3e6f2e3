"""A failing environment gets one line, never a traceback: a full disk (a real tmpfs), a
read-only output or state folder (the build run as another user), an output "folder" that is
a file. And what a build that failed half way leaves: every file old or new, never torn;
the next build that succeeds makes the whole site new."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: mount a tmpfs, run as another user (CI is root)")


def bulletins(folder: Path, entries: int, words: int, name: str = "a") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    body = " ".join(["shelter"] * words)
    (folder / f"{name}.txt").write_text(
        "".join(f"{1 + n % 28} March 20{10 + n % 12}\n\nPeru item {name}{n}\n\n{body} {n}.\n\n" for n in range(entries))
    )


def build(cwd: Path, *args: str, user: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "newsletter", "build", "bulletins", "--base-url", "https://news.example.org/", *args]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def one_line(run: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    return lines[0]


@ROOT_ONLY
def test_a_full_disk_is_one_line_and_the_next_build_completes_the_site(tmp_path):
    bulletins(tmp_path / "bulletins", 150, 20)
    assert build(tmp_path, "--out", "reference-v1", "--state", "state-ref1").returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(out)], check=True)
    try:
        assert build(tmp_path, "--out", "out", "--state", "state").returncode == 0
        v1 = tree(out)
        assert v1 == tree(tmp_path / "reference-v1")
        bulletins(tmp_path / "bulletins", 500, 400, "b")  # new entries: a site that no longer fits
        assert build(tmp_path, "--out", "reference-v2", "--state", "state-ref2").returncode == 0
        v2 = tree(tmp_path / "reference-v2")
        failed = build(tmp_path, "--out", "out", "--state", "state")
        assert failed.returncode == 1
        line = one_line(failed)
        assert line.startswith("newsletter: out/") and "No space left on device; the disk is full" in line
        # every file is the old one or the new one, never a torn one; no temporary file is left
        for rel, data in tree(out).items():
            assert data in (v1.get(rel), v2.get(rel)), rel
        subprocess.run(["mount", "-o", "remount,size=200m", str(out)], check=True)
        again = build(tmp_path, "--out", "out", "--state", "state")
        assert again.returncode == 0, again.stderr
        assert tree(out) == v2
    finally:
        subprocess.run(["umount", str(out)], check=False)


@pytest.fixture
def shared(tmp_path):
    """A folder another user can read (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="newsletter-test-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@ROOT_ONLY
@pytest.mark.parametrize("readonly", ["out", "state"])
def test_a_read_only_folder_is_one_line(shared, readonly):
    bulletins(shared / "bulletins", 3, 5)
    for name in ("out", "state"):
        (shared / name).mkdir()
        if name != readonly:
            os.chmod(shared / name, 0o777)
    run = build(shared, "--out", "out", "--state", "state", user=True)
    assert run.returncode in (1, 2)
    line = one_line(run)
    assert str(readonly) in line and ("Permission denied" in line or "no permission" in line.lower()), line


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path):
    bulletins(tmp_path / "bulletins", 2, 3)
    (tmp_path / "afile").write_text("not a folder")
    run = build(tmp_path, "--out", "afile")
    assert run.returncode == 2 and "--out afile is a file, not a folder" in one_line(run)
    run = build(tmp_path, "--state", "afile")
    assert run.returncode == 2 and "--state afile is a file, not a folder" in one_line(run)


def test_watch_once_whose_build_fails_exits_non_zero_with_one_line(tmp_path):
    bulletins(tmp_path / "bulletins", 2, 3)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "all").write_text("a file where the build needs a folder")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsletter",
            "watch",
            "bulletins",
            "--once",
            "--out",
            "out",
            "--base-url",
            "https://news.example.org/",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr and "rebuild failed: out/all" in run.stderr
