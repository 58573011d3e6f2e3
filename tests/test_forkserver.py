"""tests/helpers/forkserver.py: a command forked from the zygote behaves as one started by exec
(`python -m newsletter …` from scratch) — same exit status, output and files — and is a process
of its own (pid, session, signals)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import forkserver

BULLETIN = "3 March 2021\n\nPeru Opens a Port\n\nThe port opened.\n\n4 March 2021\n\nChile Counts Votes\n\nBody.\n"

pytestmark = pytest.mark.skipif(
    os.environ.get("NEWSLETTER_TEST_FORKSERVER") == "0", reason="the fork server is switched off for this run"
)


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def run(cwd: Path, *args: str, exec_: bool, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**(os.environ if env is None else env), **({"NEWSLETTER_TEST_EXEC": "1"} if exec_ else {})}
    before = forkserver.zygote(env).started
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, **kw
    )
    assert forkserver.zygote(env).started == before + (0 if exec_ else 1)  # really forked, or really not
    return done


@pytest.mark.parametrize("env", [None, {"PATH": "/usr/bin:/bin"}], ids=["environment", "bare"])
def test_a_forked_command_prints_exits_and_writes_as_one_started_by_exec(tmp_path, env):
    """Also in a bare environment (no locale, no PYTHON* settings): another zygote, started so."""
    for way in ("exec", "fork"):
        (tmp_path / way / "bulletins").mkdir(parents=True)
        (tmp_path / way / "bulletins" / "news.txt").write_text(BULLETIN + "\n5 March 2021\n\nNo date here\n")
    results = {}
    for way in ("exec", "fork"):
        site = tmp_path / way
        exec_ = way == "exec"
        build = run(
            site, "build", "bulletins", "--out", "out", "--base-url", "https://x.example/", exec_=exec_, env=env
        )
        usage = run(site, "build", "--no-such-option", exec_=exec_, env=env)
        status = run(site, "status", exec_=exec_, input="", env=env)
        results[way] = [
            (r.returncode, r.stdout, re.sub(r" in [0-9.]+ s", "", r.stderr)) for r in (build, usage, status)
        ]
        assert usage.returncode == 2 and "newsletter: error:" in usage.stderr
    assert results["fork"] == results["exec"]
    assert tree(tmp_path / "fork" / "out") == tree(tmp_path / "exec" / "out") != {}


def test_a_forked_command_has_its_own_session_and_dies_of_the_signal_it_gets(tmp_path):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "news.txt").write_text(BULLETIN)
    before = forkserver.zygote().started
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "watch", "bulletins", "--out", "out", "--base-url", "https://x.example/"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert forkserver.zygote().started == before + 1
        assert os.getsid(proc.pid) == proc.pid != os.getsid(0)
        deadline = time.monotonic() + 20
        while not (tmp_path / "out" / "index.html").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
