"""`newsletter serve` in its own process for tests: started, waited for, stopped — and checked
on the way out: SIGTERM ends it within a few seconds, and it printed no traceback."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

STOP_SECONDS = 5.0  # a generous bound for every test; tests/test_web_serve.py holds it to 2 s


class Serve:
    """The running process and what it printed on stderr so far (read all along, so that a
    chatty access log can never fill the pipe and block serve)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self):
        return self.proc.poll()

    def stderr(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = STOP_SECONDS) -> float:
        """SIGTERM; seconds until it exited (AssertionError, and kill, if not within `timeout`)."""
        began = time.monotonic()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"newsletter serve had not exited {timeout} s after SIGTERM") from None
        took = time.monotonic() - began  # serve's exit, not this process reading what it printed
        self._reader.join(2)
        return took


@contextmanager
def running_serve(cwd: Path, port: int, env: dict | None = None):
    """Start `newsletter serve --port PORT` in `cwd`; yield a `Serve` once /health answers; stop it."""
    app = Serve(
        subprocess.Popen(
            [sys.executable, "-m", "newsletter", "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                if app.poll() is not None:
                    time.sleep(0.2)
                    raise AssertionError(app.stderr() or "newsletter serve exited") from None
                assert time.monotonic() < deadline, "newsletter serve did not start"
                time.sleep(0.05)
        yield app
    finally:
        if app.poll() is None:
            app.stop()
    assert "Traceback" not in app.stderr() and "Logging error" not in app.stderr(), app.stderr()
