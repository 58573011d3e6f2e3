"""The send log (SQLite in the state folder): who got which issue, and who unsubscribed.

A delivery goes through these states:

    (no row) ──claim──> sending ──250──> sent
                          │  └──5xx──> failed    (permanent; never retried)
                          └──4xx / connection lost──> (row removed; retried later)

`sending` is written just before the message's final "." is sent, i.e. the only moment
at which the server may accept a message we have not yet recorded. A row left in
`sending` by a killed process is *uncertain*: never sent again automatically.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from newsletter.statelock import FileLock

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    issue TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    message_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (issue, email)
);
CREATE TABLE IF NOT EXISTS suppressions (
    email TEXT NOT NULL,
    list TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (email, list)
);
"""


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class SendLog:
    """Open with `SendLog(state_dir)`; use as a context manager to hold the send lock."""

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)
        self.path = state_dir / "sendlog.sqlite3"
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._lock = FileLock(self.path.with_suffix(".lock"), wait=0,
                              busy=f"another `newsletter send` is running with the state folder {state_dir}")

    def __enter__(self) -> "SendLog":
        self._lock.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._lock.__exit__(*exc)
        self.db.close()

    # -- deliveries --------------------------------------------------------------------
    def statuses(self, issue: str) -> dict[str, str]:
        """email (lower case) → status, for one issue."""
        return {email: status for email, status in
                self.db.execute("SELECT email, status FROM deliveries WHERE issue = ?", (issue,))}

    def claim(self, issue: str, email: str, message_id: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO deliveries (issue, email, status, message_id, updated) VALUES (?, ?, 'sending', ?, ?)",
                        (issue, email.lower(), message_id, _now()))

    def mark_sent(self, issue: str, email: str, detail: str = "") -> None:
        self.db.execute("UPDATE deliveries SET status = 'sent', detail = ?, updated = ? WHERE issue = ? AND email = ?",
                        (detail, _now(), issue, email.lower()))

    def mark_failed(self, issue: str, email: str, message_id: str, detail: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO deliveries (issue, email, status, message_id, detail, updated) "
                        "VALUES (?, ?, 'failed', ?, ?, ?)", (issue, email.lower(), message_id, detail, _now()))

    def release(self, issue: str, email: str) -> None:
        """Forget a claim: the server did not take the message."""
        self.db.execute("DELETE FROM deliveries WHERE issue = ? AND email = ? AND status = 'sending'", (issue, email.lower()))

    def rows(self, issue: str) -> list[tuple[str, str, str, str]]:
        return list(self.db.execute("SELECT email, status, message_id, detail FROM deliveries WHERE issue = ? ORDER BY email", (issue,)))

    # -- suppressions --------------------------------------------------------------------
    def suppress(self, email: str, group: str = "*") -> bool:
        """Record an unsubscribe; returns False if it was already recorded."""
        cur = self.db.execute("INSERT OR IGNORE INTO suppressions (email, list, created) VALUES (?, ?, ?)",
                              (email.lower(), group, _now()))
        return cur.rowcount == 1

    def is_suppressed(self, email: str, group: str) -> bool:
        """Checked right before each message, so an unsubscribe during a send is honoured."""
        row = self.db.execute("SELECT 1 FROM suppressions WHERE email = ? AND list IN ('*', ?) LIMIT 1",
                              (email.lower(), group)).fetchone()
        return row is not None

    def suppressed(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for email, group in self.db.execute("SELECT email, list FROM suppressions"):
            result.setdefault(email, set()).add(group)
        return result
