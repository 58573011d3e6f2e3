"""WebSub publishing: tell the hub which feeds changed (`hub.mode=publish`).

Pings run on a background thread so they never block a rebuild. A failed ping is logged
and retried with back-off; pings still pending when the process ends are saved in the
state folder and sent by the next build or daemon.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from newsletter import __version__
from newsletter.output.writer import write_atomic

log = logging.getLogger(__name__)

FEED_SUFFIXES = ("atom.xml", "rss.xml", "feed.json")
MAX_DELAY = 300.0


def changed_feed_urls(changed_paths: list[str], links) -> list[str]:
    """Public URLs of the feeds among the output paths that changed."""
    return sorted({links.url(p) for p in changed_paths if p.endswith(FEED_SUFFIXES)})


def ping(hub: str, urls: list[str], timeout: float = 10.0) -> None:
    """One publish request for `urls`; raises on any failure."""
    data = urllib.parse.urlencode([("hub.mode", "publish")] + [("hub.url", u) for u in urls]).encode()
    request = urllib.request.Request(
        hub,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": f"newsletter/{__version__}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # the configured hub
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(hub, response.status, response.reason, response.headers, None)


class Publisher:
    """Background pinger with retries; `close()` saves what is still pending."""

    def __init__(self, hub: str, state_dir: Path | None, *, first_delay: float = 2.0) -> None:
        self.hub = hub
        self.pending_file = state_dir / "websub-pending.json" if state_dir is not None else None
        self.first_delay = first_delay
        self._due: list[tuple[float, int, list[str]]] = []  # (when, attempt, urls)
        self._pending: set[str] = set()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="websub", daemon=True)
        self._thread.start()
        self.publish(self._load())

    def publish(self, urls: list[str]) -> None:
        """Announce `urls` soon; returns at once."""
        if urls:
            with self._cond:
                self._pending.update(urls)
                self._due.append((time.monotonic(), 0, sorted(urls)))
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._due or min(self._due)[0] > time.monotonic()):
                    self._cond.wait(timeout=min(self._due)[0] - time.monotonic() if self._due else None)
                if self._stopped:
                    return
                item = min(self._due)
                self._due.remove(item)
            _, attempt, urls = item
            try:
                ping(self.hub, urls)
            except Exception as exc:  # any failure is retried, never raised
                delay = min(self.first_delay * 2**attempt, MAX_DELAY)
                log.warning("WebSub ping to %s failed (%s); retrying in %.0f s", self.hub, exc, delay)
                with self._cond:
                    self._due.append((time.monotonic() + delay, attempt + 1, urls))
            else:
                log.info(
                    "WebSub: announced %d changed feed%s to %s", len(urls), "s" if len(urls) != 1 else "", self.hub
                )
                with self._cond:
                    self._pending.difference_update(urls)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is pending (for one-shot builds); True if everything was sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if not self._pending:
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=1.0)
        self._save()

    def _load(self) -> list[str]:
        if self.pending_file is None:
            return []
        try:
            urls = json.loads(self.pending_file.read_text())
            self.pending_file.unlink()
            return [u for u in urls if isinstance(u, str)]
        except (FileNotFoundError, ValueError):
            return []

    def _save(self) -> None:
        with self._cond:
            pending = sorted(self._pending)
        if self.pending_file is not None and pending:
            self.pending_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.pending_file, json.dumps(pending).encode())
