"""serve's outbox: the confirmation and preferences-link messages a request asked for, queued
in the subscriber store (table `outbox`, store migration 2) and sent by serve's background
sender (`newsletter.web.sender`), so that no request waits for an SMTP server.

A row is what a request saw, not yet what it means: `kind` (`signup`, `manage`), the address
as typed (normalised), and `data` (JSON: the lists asked for and the signed confirmation
token). Whether the address is known, already active or unknown is decided by the sender, so
that every request does the same work whatever the address — and answers in the same time.

    status:  queued ──right before the final "."──> sent (outcome "uncertain: …") ──250──> sent
               ├──nothing to send (unknown address, over serve.address_rate)──> dropped
               └──every try failed until the link would expire──> expired

The attempt is recorded before the final "." (as the send log does), so a sender that dies
while the server holds the message — SIGTERM, kill -9 — leaves the row `sent` and uncertain,
never sent again; a refusal or a temporary failure after the "." puts it back. A row still
`queued` was never handed over, so the claim of a sender that died is let go at once by the
next sender on the same host (`release_dead`), not after its lease.

A sender takes a row by `UPDATE … SET claimed = ? WHERE id = ? AND status = 'queued' AND
(claimed IS NULL OR claimed_until < now)`: one statement, so two senders (two serve processes,
later on PostgreSQL) never both take it; a sender that died leaves a claim that runs out.
All times are UTC ISO 8601 strings of one width, so they compare as text.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from newsletter.state import db as statedb

KINDS = ("signup", "manage")


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Queued:
    id: int
    kind: str
    email: str
    data: dict
    attempts: int
    created: dt.datetime
    expires: dt.datetime


class Outbox:
    """The outbox of one subscriber store's connection (`SubscriberStore.db`)."""

    def __init__(self, db: Any) -> None:  # an sqlite3.Connection or a `newsletter.state.pg.PgConnection`
        self.db = db

    def queue(self, kind: str, email: str, data: dict, *, expires: dt.datetime, now: dt.datetime | None = None) -> int:
        """One message to send as soon as possible; returns its id."""
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        when = stamp(now or utcnow())
        return statedb.insert(
            self.db,
            "INSERT INTO outbox (kind, email, data, created, expires, next_try) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, email, json.dumps(data, sort_keys=True), when, stamp(expires), when),
        )

    def claim(self, owner: str, *, lease: float, now: dt.datetime | None = None) -> Queued | None:
        """Take the oldest due row for `lease` seconds, or None when nothing is due."""
        now = now or utcnow()
        current = stamp(now)
        candidates = self.db.execute(
            "SELECT id FROM outbox WHERE status = 'queued' AND next_try <= ? AND (claimed IS NULL OR claimed_until < ?) "
            "ORDER BY next_try, id LIMIT 8",
            (current, current),
        ).fetchall()
        for (row_id,) in candidates:
            cur = self.db.execute(
                "UPDATE outbox SET claimed = ?, claimed_until = ? WHERE id = ? AND status = 'queued' "
                "AND (claimed IS NULL OR claimed_until < ?)",
                (owner, stamp(now + dt.timedelta(seconds=lease)), row_id, current),
            )
            if cur.rowcount == 1:
                row = self.db.execute(
                    "SELECT id, kind, email, data, attempts, created, expires FROM outbox WHERE id = ?", (row_id,)
                ).fetchone()
                return Queued(
                    row[0],
                    row[1],
                    row[2],
                    json.loads(row[3]),
                    row[4],
                    dt.datetime.fromisoformat(row[5]),
                    dt.datetime.fromisoformat(row[6]),
                )
        return None

    def _finish(self, row_id: int, owner: str, status: str, outcome: str, now: dt.datetime | None) -> bool:
        cur = self.db.execute(
            "UPDATE outbox SET status = ?, outcome = ?, done = ?, attempts = attempts + ?, claimed = NULL, "
            "claimed_until = NULL WHERE id = ? AND claimed = ?",
            (status, outcome, stamp(now or utcnow()), 1 if status != "dropped" else 0, row_id, owner),
        )
        return cur.rowcount == 1

    def sent(self, row_id: int, owner: str, *, outcome: str = "", now: dt.datetime | None = None) -> bool:
        """Sent (`outcome` says so when the server took the message but its reply was lost)."""
        return self._finish(row_id, owner, "sent", outcome, now)

    def drop(self, row_id: int, owner: str, why: str, *, now: dt.datetime | None = None) -> bool:
        """Nothing to send (the address is unknown, or was sent enough this hour)."""
        return self._finish(row_id, owner, "dropped", why, now)

    def failed(self, row_id: int, owner: str, error: str, *, retry_at: dt.datetime, expires: dt.datetime) -> str:
        """A try failed: queued again for `retry_at`, or expired when the link would not work by then."""
        if retry_at >= expires:
            self._finish(row_id, owner, "expired", error, None)
            return "expired"
        self.db.execute(
            "UPDATE outbox SET status = 'queued', attempts = attempts + 1, next_try = ?, outcome = ?, "
            "done = NULL, claimed = NULL, "
            "claimed_until = NULL WHERE id = ? AND claimed = ?",
            (stamp(retry_at), error, row_id, owner),
        )
        return "queued"

    def attempting(self, row_id: int, owner: str, *, now: dt.datetime | None = None) -> None:
        """Right before the final ".": from here on the server may have the message."""
        self.db.execute(
            "UPDATE outbox SET status = 'sent', outcome = ?, done = ? WHERE id = ? AND claimed = ?",
            ("uncertain: the sender stopped before the server replied", stamp(now or utcnow()), row_id, owner),
        )

    def release_dead(self, host: str, alive) -> int:
        """Let go the claims of senders on `host` (owner `host:pid:…`) for which `alive(owner)` is
        False; their rows were never handed to a server (see the module's docstring)."""
        released = 0
        owners = [
            o
            for (o,) in self.db.execute(
                "SELECT DISTINCT claimed FROM outbox WHERE status = 'queued' AND claimed IS NOT NULL"
            ).fetchall()
        ]
        for owner in owners:
            if owner.split(":", 1)[0] == host and not alive(owner):
                released += self.db.execute(
                    "UPDATE outbox SET claimed = NULL, claimed_until = NULL WHERE claimed = ? AND status = 'queued'",
                    (owner,),
                ).rowcount
        return released

    def sent_since(self, email: str, since: dt.datetime) -> int:
        """Messages sent to `email` since `since` (what serve.address_rate counts: failures do not)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE email = ? AND status = 'sent' AND done >= ?", (email, stamp(since))
        ).fetchone()[0]

    def next_due(self) -> dt.datetime | None:
        row = self.db.execute("SELECT MIN(next_try) FROM outbox WHERE status = 'queued'").fetchone()
        return dt.datetime.fromisoformat(row[0]) if row and row[0] else None

    def purge(self, before: dt.datetime) -> int:
        """Forget finished rows done before `before` (they hold addresses and tokens)."""
        return self.db.execute("DELETE FROM outbox WHERE status <> 'queued' AND done < ?", (stamp(before),)).rowcount

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())

    def rows(self) -> list[tuple[str, str, str, int, str]]:
        """(kind, email, status, attempts, outcome) of every row, oldest first (for tests and operators)."""
        return list(self.db.execute("SELECT kind, email, status, attempts, outcome FROM outbox ORDER BY id"))
