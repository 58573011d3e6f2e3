"""`newsletter serve` in its own process for tests: started, waited for, stopped."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running_serve(cwd: Path, port: int, env: dict | None = None):
    """Start `newsletter serve --port PORT` in `cwd`; yield once /health answers; stop it."""
    app = subprocess.Popen([sys.executable, "-m", "newsletter", "serve", "--port", str(port)], cwd=cwd, env=env,
                           stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
                break
            except OSError:
                assert app.poll() is None, app.stderr.read() if app.stderr else "newsletter serve exited"
                assert time.monotonic() < deadline, "newsletter serve did not start"
                time.sleep(0.05)
        yield app
    finally:
        app.terminate()
        app.wait(timeout=10)
