"""`watch -v` keeps the README's `-v` promise for the daemon's builds: each build's plan, each
line once, and the time of each phase; watchdog's own debug lines never reach stderr (T21 #9)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_URL = "https://news.example.org/"
PERU = "26 August 2021\n\nPeru Opens a Shelter\n\nIt has 80 beds.\n"
CHILE = "27 August 2021\n\nChile Trains Rangers\n\nTwenty of them.\n"


def builds(stderr: str) -> list[list[str]]:
    """The lines of each build, up to and including its `rebuilt in` line."""
    lines = stderr.splitlines()
    assert lines and all(line.startswith("newsletter: ") for line in lines), stderr
    out, current = [], []
    for line in lines:
        current.append(line)
        if " rebuilt in " in line:
            out.append(current)
            current = []
    return out


def assert_plan_once_and_timed(lines: list[str]) -> None:
    plan = [line for line in lines if line.startswith("newsletter: plan: ")]
    assert plan and len(plan) == len(set(plan)), lines
    for line in plan:  # said once, not a second time in another shape ("not unchanged: …")
        said = line.removeprefix("newsletter: plan: ").lstrip("✗→ ")
        assert sum(said in other for other in lines) == 1, (line, lines)
    times = [line for line in lines if line.startswith("newsletter: time: ")]
    assert any("choosing the way: " in t for t in times), lines
    assert any(re.fullmatch(r"newsletter: time: [\w ]+ \(reading, rendering.*\): \d+\.\d{3} s", t) for t in times)
    assert re.fullmatch(r"newsletter: time: total: \d+\.\d{3} s", times[-1]), lines
    rebuilt = [line for line in lines if " rebuilt in " in line]
    if rebuilt:  # one rebuild, one time: the log line says `-v`'s total (T8)
        total = times[-1].removeprefix("newsletter: time: total: ").removesuffix(" s")
        assert f" rebuilt in {total} s " in rebuilt[-1], lines


def test_watch_once_verbose_says_the_plan_once_and_times_each_phase(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # `--once` builds by batches, small as the site is
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.txt").write_text(PERU)
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "-v", "watch", "b", "--out", "out", "--once", "--base-url", BASE_URL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [build] = builds(done.stderr)
    assert_plan_once_and_timed(build)
    assert "1 batches" not in done.stderr and "1 entries in 1 batch of years, 1 process" in done.stderr


def test_the_watch_daemon_verbose_times_every_rebuild_and_keeps_watchdog_quiet(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.txt").write_text(PERU)
    log = open(tmp_path / "stderr.txt", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "-v", "watch", "b", "--out", "out", "--base-url", BASE_URL],
        cwd=tmp_path,
        stderr=log,
        text=True,
    )
    err = Path(tmp_path / "stderr.txt")
    try:
        deadline = time.monotonic() + 30
        while "watching b for changes" not in err.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        (tmp_path / "b" / "c.txt").write_text(CHILE)  # real files fire real events
        while err.read_text().count(" rebuilt in ") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    stderr = err.read_text()
    first, second = builds(stderr)[:2]
    for build in (first, second):
        assert_plan_once_and_timed(build)
    assert "c.txt" in "\n".join(second)
    assert "in-event" not in stderr and "InotifyEvent" not in stderr, stderr  # watchdog's loggers stay at WARNING
