"""serve's per-client rate limit, shared by every `serve` instance on one PostgreSQL database.

`newsletter.web.limits.SlidingWindow` counts in one process's memory: behind a load balancer
each instance would count on its own and the limit would multiply by their number. With
`database = "postgresql://…"` the events are rows of the store's `rate_events` (store
migration 4) instead: one count for all instances. A key's check-and-count is one transaction
under an advisory lock of that key, so two instances never both let the last one through.
Keys are stored hashed (a client address is nobody's business in a database dump). With
SQLite (one machine) the in-memory window stays: serve instances there are one process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

from newsletter.state import db as statedb

PURGE_EVERY = 60.0


def shared_client_limit(limit: int, window: float, state_dir: Path) -> SharedWindow | None:
    """The client rate limit for serve shared through PostgreSQL; None with SQLite (serve then
    counts in memory: `newsletter.web.limits.SlidingWindow`)."""
    from newsletter.subscribers.store import MARKER_NAME

    if statedb.pgdb.is_url(statedb.database_url(state_dir / MARKER_NAME, None)):
        return SharedWindow(limit, window, state_dir)
    return None


def _hashed(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


class SharedWindow:
    """At most `limit` events per key in any `window` seconds, counted in the database."""

    def __init__(self, limit: int, window: float, state_dir: Path, clock=time.time) -> None:
        self.limit = limit
        self.window = window
        self.state_dir = state_dir
        self.clock = clock
        self._store: Any = None
        self._lock = threading.Lock()
        self._purged = 0.0

    def _db(self):
        if self._store is None:
            from newsletter.subscribers.store import SubscriberStore

            self._store = SubscriberStore(self.state_dir, check=False)
        return self._store.db

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False (and nothing counted) when over the limit."""
        with self._lock:
            try:
                return self._allow(key)
            except Exception as exc:
                if not statedb.pgdb.unavailable(exc):
                    raise
                self._drop()  # a connection the server closed (it restarted): once more on a new one
            return self._allow(key)

    def _drop(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:  # closing a broken connection
                pass

    def _allow(self, key: str) -> bool:
        hashed = _hashed(key)
        db = self._db()
        now = self.clock()
        db.execute("BEGIN")
        try:
            db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"newsletter.rate.{hashed}",))
            count = db.execute(
                "SELECT COUNT(*) FROM rate_events WHERE key = ? AND at > ?", (hashed, now - self.window)
            ).fetchone()[0]
            allowed = count < self.limit
            if allowed:
                db.execute("INSERT INTO rate_events (key, at) VALUES (?, ?)", (hashed, now))
            db.execute("COMMIT")
        except BaseException:
            if not db.conn.closed:
                db.execute("ROLLBACK")
            raise
        if now - self._purged > PURGE_EVERY:
            db.execute("DELETE FROM rate_events WHERE at <= ?", (now - self.window,))
            self._purged = now
        return allowed

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
