"""The send log (SQLite in the state folder, or the `sendlog` schema of a PostgreSQL database:
`database = "postgresql://…"`, see `newsletter.state.pg`): who got which issue.

Who may be mailed is the subscriber store's (see `newsletter.subscribers.suppressions`); the
send log keeps suppressions only for a state folder without a store.

A delivery goes through these states:

    (no row) ──claim──> sending ──250──> sent
                          │  ├──5xx──> failed      (permanent; never retried)
                          │  └──4xx, lost before the "."──> deferred (tried again by the next run)
                          └──no reply after the "."──> stays `sending` = *uncertain*

`sending` is written just before the message's final "." is sent, i.e. the only moment
at which the server may accept a message we have not yet recorded. A row left in
`sending` — a lost reply, a killed process — is *uncertain*: never sent again
automatically; `newsletter resolve` marks it sent or releases it for a resend.

The log must never be silently replaced by an empty one (everyone would get every issue
again, and every unsubscribe would be forgotten): a state folder that has had a send log
keeps a marker file beside it, and a missing, empty or damaged log is refused with
a `StateError` while the marker is there (see `newsletter.state.db`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

from newsletter.errors import StateError
from newsletter.state import db as statedb
from newsletter.state import pg as pgdb
from newsletter.state.lock import send_lock

LOG_NAME = "sendlog.sqlite3"
MARKER_NAME = "sendlog.id"
SCHEMA_VERSION = 3

_V1 = """
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

_V2 = """
CREATE TABLE deliveries_v2 (
    issue TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'deferred')),
    message_id TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (issue, email)
);
INSERT INTO deliveries_v2 (issue, email, status, message_id, detail, updated)
    SELECT issue, email, status, message_id, detail, updated FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
ALTER TABLE suppressions ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE issues (
    issue TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    first_sent TEXT NOT NULL,
    reported TEXT NOT NULL DEFAULT ''
);
CREATE TABLE members (
    email TEXT NOT NULL,
    list TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (email, list)
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_V3 = """
CREATE INDEX deliveries_by_message_id ON deliveries (message_id);
"""
"""3: bounces are tied to a delivery by the Message-ID they return (`sent_to`). The
`suppressions` table stays for state folders without a subscriber store; once a store exists it
takes them over (`SubscriberStore.take_over`) and the table stays empty."""

MIGRATIONS = {1: _V1, 2: _V2, 3: _V3}
"""Schema version → the script that brings the previous version to it (`PRAGMA user_version`)."""

STATUSES = ("sent", "sending", "failed", "deferred")

ROWS_KEY = "deliveries_recorded"
"""The meta row holding how many deliveries the log held when a run last closed it, less the ones
the program itself deleted since (`resolve --resend`): a log holding fewer lost rows (a TRUNCATE,
a DELETE, a restore of an older dump beside a newer meta) and is refused, never sent from again."""

MESSAGE_KEY = "message_id_key"
"""The meta row holding the random key that Message-IDs are made with (see `message_key`)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _lock_key(issue: str, email: str) -> int:
    """One 64-bit advisory lock key per delivery (collisions: about 1 in 10^19 per pair)."""
    digest = hashlib.blake2b(f"{issue}\n{email.lower()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class SendLog:
    """Open with `SendLog(state_dir)`; use as a context manager to hold the send lock."""

    def __init__(self, state_dir: Path, *, database: str | None = None) -> None:
        """`database`: '' for SQLite in the state folder, a postgresql:// URL, or None for the one
        the state folder records (see `newsletter.state.db.open_state_db`)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(state_dir, 0o700)
        self.path = state_dir / LOG_NAME
        self.marker = state_dir / MARKER_NAME
        self.db = statedb.open_state_db(
            self.path, self.marker, MIGRATIONS, what="send log", schema="sendlog", database=database
        )
        self._lock = send_lock(state_dir)
        self._message_key: bytes | None = None
        self._check_rows()

    def _where(self) -> str:
        return f"{pgdb.shown(self.db.url)} (schema sendlog)" if statedb.is_pg(self.db) else str(self.path)

    def _check_rows(self) -> None:
        recorded = statedb.meta(self.db, ROWS_KEY)
        if not recorded:
            return
        held = int(self.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])
        if held < int(recorded):
            self.db.close()
            raise StateError(
                f"{self._where()}: the send log lost deliveries (it holds {held}, it had {recorded}): sending "
                f"from it would mail people again; {statedb.restore_hint(self.path, self.marker)}"
            )

    def _record_rows(self) -> None:
        """Raise the meta high-water mark to the rows held now (under the send log's write lock)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                held = int(self.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])
                recorded = int(statedb.meta(self.db, ROWS_KEY) or 0)
                if held > recorded:
                    statedb.set_meta(self.db, ROWS_KEY, str(held))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except Exception:  # best effort (a read-only folder, a broken connection): the next run records it
            pass

    @staticmethod
    def exists(state_dir: Path, database: str | None = None) -> bool:
        """Whether this state folder has a send log (in PostgreSQL: whether its schema was created)."""
        marker = state_dir / MARKER_NAME
        url = statedb.database_url(marker, database)
        if statedb.pgdb.is_url(url):
            return statedb.pg_exists(url, "sendlog", marker, what="send log")
        return (state_dir / LOG_NAME).exists() or marker.exists()

    def __enter__(self) -> SendLog:
        self._lock.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._record_rows()
        self._lock.__exit__(*exc)
        self.db.close()

    def close(self) -> None:
        self._record_rows()
        self.db.close()

    # -- deliveries --------------------------------------------------------------------
    def statuses(self, issue: str) -> dict[str, tuple[str, str]]:
        """email (lower case) → (status, content hash), for one issue."""
        return {
            email: (status, content)
            for email, status, content in self.db.execute(
                "SELECT email, status, content FROM deliveries WHERE issue = ?", (issue,)
            )
        }

    def live_statuses(self, issue: str) -> dict[str, tuple[str, str]]:
        """`statuses`, with each `sending` row that another live sender holds right now (its
        advisory lock is held: `take`) as `elsewhere` — in flight, not uncertain."""
        found = self.statuses(issue)
        if not self.shared or not any(status == "sending" for status, _ in found.values()):
            return found
        held = self.held_elsewhere()
        return {
            email: ("elsewhere", content)
            if status == "sending" and _lock_key(issue, email) in held
            else (status, content)
            for email, (status, content) in found.items()
        }

    def held_elsewhere(self) -> set[int]:
        """The delivery locks (`_lock_key`) other sessions on this database hold now (PostgreSQL)."""
        if not self.shared:
            return set()
        rows = self.db.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_catalog.pg_locks WHERE locktype = 'advisory' "
            "AND granted AND objsubid = 1 AND pid <> pg_backend_pid() "
            "AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())"
        ).fetchall()
        return {int.from_bytes(((hi << 32) | lo).to_bytes(8, "big"), "big", signed=True) for hi, lo in rows}

    def claim(self, issue: str, email: str, message_id: str, content: str) -> None:
        self.db.execute(
            "INSERT INTO deliveries (issue, email, status, message_id, content, updated) "
            "VALUES (?, ?, 'sending', ?, ?, ?) ON CONFLICT (issue, email) DO UPDATE SET "
            "status = excluded.status, message_id = excluded.message_id, content = excluded.content, "
            "detail = '', updated = excluded.updated",
            (issue, email.lower(), message_id, content, _now()),
        )

    # -- several senders on one database (PostgreSQL) -----------------------------------------
    @property
    def shared(self) -> bool:
        """Whether other senders may use this send log at once (PostgreSQL: senders on other
        machines, each with a state folder of its own). SQLite has one sender at a time: the
        send lock of the state folder."""
        return statedb.is_pg(self.db)

    def take(self, issue: str, email: str) -> str:
        """Before a message is sent: '' when this sender may send it now; else what it is —
        `elsewhere` (another sender holds it right now) or its status (another sender finished
        it since this run read the log: sent, failed, sending). On PostgreSQL a session advisory
        lock per delivery, taken without waiting: a sender that dies lets go with its
        connection, so no lease has to run out. `let_go` after the outcome is recorded."""
        if not self.shared:
            return ""
        row = self.db.execute("SELECT pg_try_advisory_lock(?)", (_lock_key(issue, email),)).fetchone()
        if not row[0]:
            return "elsewhere"
        found = self.db.execute(
            "SELECT status FROM deliveries WHERE issue = ? AND email = ?", (issue, email.lower())
        ).fetchone()
        if found is not None and found[0] != "deferred":
            self.let_go(issue, email)
            return str(found[0])
        return ""

    def let_go(self, issue: str, email: str) -> None:
        if self.shared:
            self.db.execute("SELECT pg_advisory_unlock(?)", (_lock_key(issue, email),))

    def mark_sent(self, issue: str, email: str, detail: str = "") -> None:
        self.db.execute(
            "UPDATE deliveries SET status = 'sent', detail = ?, updated = ? WHERE issue = ? AND email = ?",
            (detail, _now(), issue, email.lower()),
        )

    def mark(self, issue: str, email: str, status: str, message_id: str, content: str, detail: str) -> None:
        """Record a final outcome without a claim: `failed` or `deferred`."""
        self.db.execute(
            "INSERT INTO deliveries (issue, email, status, message_id, content, detail, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue, email) DO UPDATE SET "
            "status = excluded.status, message_id = excluded.message_id, content = excluded.content, "
            "detail = excluded.detail, updated = excluded.updated",
            (issue, email.lower(), status, message_id, content, detail, _now()),
        )

    def release(self, issue: str, email: str, detail: str = "") -> None:
        """The server did not take the message: it is deferred to the next run."""
        self.db.execute(
            "UPDATE deliveries SET status = 'deferred', detail = ?, updated = ? "
            "WHERE issue = ? AND email = ? AND status = 'sending'",
            (detail, _now(), issue, email.lower()),
        )

    def note(self, issue: str, email: str, detail: str) -> None:
        self.db.execute(
            "UPDATE deliveries SET detail = ? WHERE issue = ? AND email = ?", (detail, issue, email.lower())
        )

    def resolve(self, issue: str, email: str, sent: bool) -> bool:
        """An operator's verdict on an uncertain (or failed) delivery: sent, or free to send again."""
        if sent:
            cur = self.db.execute(
                "UPDATE deliveries SET status = 'sent', detail = 'marked sent by the operator', "
                "updated = ? WHERE issue = ? AND email = ? AND status IN ('sending', 'failed')",
                (_now(), issue, email.lower()),
            )
        else:
            if _lock_key(issue, email) in self.held_elsewhere():  # in flight in a live sender: not ours to resend
                return False
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cur = self.db.execute(
                    "DELETE FROM deliveries WHERE issue = ? AND email = ? AND status IN ('sending', 'failed')",
                    (issue, email.lower()),
                )
                recorded = statedb.meta(self.db, ROWS_KEY)
                if cur.rowcount and recorded:  # the program's own deletion never trips `_check_rows`
                    statedb.set_meta(self.db, ROWS_KEY, str(max(0, int(recorded) - cur.rowcount)))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return cur.rowcount == 1

    def sent_to(self, message_id: str) -> str | None:
        """The address a message with this Message-ID was delivered (or tried) to, if any."""
        bare = message_id.strip().strip("<>")
        if not bare:
            return None
        row = self.db.execute(
            "SELECT email FROM deliveries WHERE message_id IN (?, ?) LIMIT 1", (f"<{bare}>", bare)
        ).fetchone()
        return row[0] if row else None

    def rows(self, issue: str | None = None) -> list[tuple[str, str, str, str, str, str]]:
        """(issue, email, status, detail, updated, content) for one issue or all, in order."""
        query = "SELECT issue, email, status, detail, updated, content FROM deliveries"
        if issue is None:
            return list(self.db.execute(query + " ORDER BY issue, email"))
        return list(self.db.execute(query + " WHERE issue = ? ORDER BY email", (issue,)))

    def issue_keys(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT issue FROM deliveries ORDER BY issue")]

    # -- what each issue was, when it was first sent ------------------------------------------
    def issue_content(self, issue: str) -> tuple[str, str] | None:
        """(content hash first sent, content hash already reported as changed)."""
        row = self.db.execute("SELECT content, reported FROM issues WHERE issue = ?", (issue,)).fetchone()
        return (row[0], row[1]) if row else None

    def record_issue(self, issue: str, content: str) -> None:
        self.db.execute(
            "INSERT INTO issues (issue, content, first_sent) VALUES (?, ?, ?) ON CONFLICT (issue) DO NOTHING",
            (issue, content, _now()),
        )

    def report_change(self, issue: str, content: str) -> None:
        self.db.execute("UPDATE issues SET reported = ? WHERE issue = ?", (content, issue))

    # -- scheduled sending: when the schedule started, when each subscriber joined --------------
    def get_meta(self, key: str) -> str | None:
        return statedb.meta(self.db, key)

    def set_meta(self, key: str, value: str) -> None:
        statedb.set_meta(self.db, key, value)

    def message_key(self) -> bytes:
        """The state's own random key for Message-IDs, made on first use and kept: a subscriber
        cannot compute the Message-ID of another person's copy from their own (and forge a bounce
        citing it), and the same (issue, address, content) keeps its Message-ID in this state."""
        if self._message_key is not None:
            return self._message_key
        value = self.get_meta(MESSAGE_KEY)
        if value is None:
            self.db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (MESSAGE_KEY, secrets.token_hex(32)),
            )
            value = self.get_meta(MESSAGE_KEY)
        assert value is not None
        self._message_key = bytes.fromhex(value)
        return self._message_key

    def members(self, group: str) -> dict[str, str]:
        """email → first seen (ISO time; '' for those on the list when the schedule started)."""
        return dict(self.db.execute("SELECT email, first_seen FROM members WHERE list = ?", (group,)))

    def add_members(self, group: str, emails: list[str], first_seen: str) -> None:
        self.db.executemany(
            "INSERT INTO members (email, list, first_seen) VALUES (?, ?, ?) ON CONFLICT (email, list) DO NOTHING",
            [(e.lower(), group, first_seen) for e in emails],
        )

    # -- suppressions --------------------------------------------------------------------
    def suppress(self, email: str, group: str = "*", reason: str = "") -> bool:
        """Record an unsubscribe; returns False if it was already recorded."""
        cur = self.db.execute(
            "INSERT INTO suppressions (email, list, created, reason) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (email, list) DO NOTHING",
            (email.lower(), group, _now(), reason),
        )
        return cur.rowcount == 1

    def is_suppressed(self, email: str, group: str) -> bool:
        """Checked right before each message, so an unsubscribe during a send is honoured."""
        row = self.db.execute(
            "SELECT 1 FROM suppressions WHERE email = ? AND list IN ('*', ?) LIMIT 1", (email.lower(), group)
        ).fetchone()
        return row is not None

    def suppressed(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for email, group in self.db.execute("SELECT email, list FROM suppressions"):
            result.setdefault(email, set()).add(group)
        return result

    def backup(self, dest: Path) -> None:
        """A consistent copy of the live database, even during a send."""
        statedb.backup(self.db, dest)
