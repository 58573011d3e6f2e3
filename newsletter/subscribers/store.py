"""The subscriber store: every SQL statement about subscribers is in this module.

SQLite in the state folder (`subscribers.sqlite3`, WAL: `send`, `serve` and the CLI use it at
once), or PostgreSQL (`database = "postgresql://…"`, schema `subscribers`); opened through
`newsletter.state.db`, so a lost or damaged store is refused, never taken as empty. The SQL is
portable — `INSERT … ON CONFLICT`, no SQLite-only functions, `?` placeholders that
`newsletter.state.pg` turns into `%s` — one set of statements for both.

Each subscriber has a normalised address (lower case: compared case-insensitively), a name,
and one row per list with a status; every change is also written to `events` with when and
how it happened:

    status:  pending ──confirm──> active ──unsubscribe──> unsubscribed
                                    ├──hard bounce / N soft bounces──> bounced
                                    └──complaint──> complained
    via:     csv, web, mail, cli, smtp

`left` on the subscriber is set when they left everything (unsubscribed from every list,
bounced, complained): no import puts such an address back on a list (unless `resubscribe`);
only the person can, through the web sign-up's confirmation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from newsletter.state import db as statedb
from newsletter.subscribers.lists import EVERY_COUNTRY, FREQUENCIES, Subscriber, normalise_email

STORE_NAME = "subscribers.sqlite3"
MARKER_NAME = "subscribers.id"

STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
LEFT = ("unsubscribed", "bounced", "complained")
VIA = ("csv", "web", "mail", "cli", "smtp")

MIGRATIONS = {
    1: """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    left_as TEXT NOT NULL DEFAULT '',
    soft_bounces INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE subscriptions (
    subscriber INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced', 'complained')),
    via TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (subscriber, list)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    subscriber INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    list TEXT NOT NULL,
    status TEXT NOT NULL,
    via TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_subscriber ON events (subscriber);
CREATE TABLE processed (
    key TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL
)
""",
    # 2: serve's outbox (newsletter.subscribers.outbox): confirmation and preferences-link
    # messages, queued by a request and sent by serve's background sender. A sender takes a
    # row with `UPDATE … SET claimed = me WHERE id = ? AND claimed IS NULL AND status =
    # 'queued'` (or a claim whose lease ran out), so several serve processes can share it.
    2: """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'dropped', 'expired')),
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    next_try TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed TEXT,
    claimed_until TEXT,
    done TEXT,
    outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (status, next_try);
CREATE INDEX outbox_by_email ON outbox (email, status, done)
""",
    # 3: the digest frequency each subscriber chose (daily, weekly, monthly; '' for the site's).
    3: """
ALTER TABLE subscribers ADD COLUMN frequency TEXT NOT NULL DEFAULT ''
""",
    # 4: serve's per-client rate limit shared by every serve instance on one PostgreSQL
    # database (newsletter.subscribers.ratelimits; `key` is a hash of the client address).
    4: """
CREATE TABLE rate_events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_events_by_key ON rate_events (key, at)
""",
}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)
    """Addresses (or address/list) kept off because they left; `resubscribe` overrides."""
    overridden: int = 0


class SubscriberStore:
    """Open with `SubscriberStore(state_dir)`; `check=False` for a quick open per web request."""

    def __init__(self, state_dir: Path, *, check: bool = True, database: str | None = None) -> None:
        """`database`: '' for SQLite in the state folder, a postgresql:// URL, or None for the one
        the state folder records (see `newsletter.state.db.open_state_db`)."""
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STORE_NAME
        self.db = statedb.open_state_db(
            self.path,
            state_dir / MARKER_NAME,
            MIGRATIONS,
            what="subscriber store",
            schema="subscribers",
            database=database,
            check=check,
        )
        if check:
            self.take_over(state_dir)

    @staticmethod
    def exists(state_dir: Path, database: str | None = None) -> bool:
        """Whether there is a store to open (in PostgreSQL: whether its schema was created)."""
        marker = state_dir / MARKER_NAME
        url = statedb.database_url(marker, database)
        if statedb.pgdb.is_url(url):
            return statedb.pg_exists(url, "subscribers", marker, what="subscriber store")
        return (state_dir / STORE_NAME).exists() or marker.exists()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SubscriberStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------
    def _begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def _find(self, email: str) -> int | None:
        row = self.db.execute("SELECT id FROM subscribers WHERE email = ?", (email,)).fetchone()
        return row[0] if row is not None else None

    def _id(self, email: str, name: str = "") -> int:
        """The subscriber's id, added now if the address is new."""
        found = self._find(email)
        if found is not None:
            return found
        return statedb.insert(
            self.db, "INSERT INTO subscribers (email, name, created) VALUES (?, ?, ?)", (email, name, _now())
        )

    def _set(self, sid: int, group: str, status: str, via: str, detail: str = "") -> bool:
        """Set one list's status; records an event when it changes. True if it changed."""
        row = self.db.execute(
            "SELECT status FROM subscriptions WHERE subscriber = ? AND list = ?", (sid, group)
        ).fetchone()
        if row is not None and row[0] == status:
            return False
        now = _now()
        self.db.execute(
            "INSERT INTO subscriptions (subscriber, list, status, via, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (subscriber, list) DO UPDATE SET status = excluded.status, via = excluded.via, "
            "updated = excluded.updated",
            (sid, group, status, via, now),
        )
        self.db.execute(
            "INSERT INTO events (subscriber, list, status, via, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (sid, group, status, via, now, detail),
        )
        return True

    def _lists(self, sid: int) -> dict[str, str]:
        return dict(self.db.execute("SELECT list, status FROM subscriptions WHERE subscriber = ?", (sid,)))

    # -- reading ---------------------------------------------------------------------------
    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0]

    def recipients(self) -> list[Subscriber]:
        """Everyone with an active list, as `send` wants them (in the order they joined)."""
        by_id: dict[int, tuple[str, str, set[str], set[str], str]] = {}
        for sid, email, name, frequency, group, status in self.db.execute(
            "SELECT s.id, s.email, s.name, s.frequency, l.list, l.status FROM subscribers s "
            "JOIN subscriptions l ON l.subscriber = s.id WHERE s.left_as = '' ORDER BY s.id, l.list"
        ):
            entry = by_id.setdefault(sid, (email, name, set(), set(), frequency))
            if status == "active":
                entry[2].add(group)
            elif status in LEFT:
                entry[3].add(group)
        return [
            Subscriber(email, name, frozenset(active), frozenset(left), frequency)
            for email, name, active, left, frequency in by_id.values()
            if active
        ]

    def subscriber(self, email: str) -> tuple[str, str, dict[str, str]] | None:
        """(name, left_as, list → status) of one address, or None."""
        row = self.db.execute(
            "SELECT id, name, left_as FROM subscribers WHERE email = ?", (normalise_email(email),)
        ).fetchone()
        if row is None:
            return None
        return row[1], row[2], self._lists(row[0])

    def rows(self, group: str | None = None) -> list[tuple[str, str, str, dict[str, str]]]:
        """(email, name, left_as, list → status) of everyone (on `group`, when given), by address."""
        result = []
        for sid, email, name, left in self.db.execute(
            "SELECT id, email, name, left_as FROM subscribers ORDER BY email"
        ):
            lists = self._lists(sid)
            if group is None or group in lists or (EVERY_COUNTRY in lists and group not in ("all", "regional")):
                result.append((email, name, left, lists))
        return result

    def may_mail(self, email: str, group: str) -> bool:
        """May `email` be sent `group` now? No once it left everything (unsubscribed, bounced,
        complained), left `group`, or left `*` without a subscription of its own to `group`.
        Every send asks this right before each message (through `subscribers.suppressions`)."""
        row = self.db.execute(
            "SELECT id, left_as FROM subscribers WHERE email = ?", (normalise_email(email),)
        ).fetchone()
        if row is None:
            return True
        if row[1]:
            return False
        lists = self._lists(row[0])
        status = lists.get(group)
        if status in LEFT:
            return False
        return not (status is None and group not in ("all", "regional") and lists.get(EVERY_COUNTRY) in LEFT)

    def blocked(self, email: str, group: str) -> bool:
        """`not may_mail(email, group)` (the name before #17; kept for callers)."""
        return not self.may_mail(email, group)

    def holds_subscribers(self) -> bool:
        """Whether anyone is (or asked to be) on a list: only suppressions does not count."""
        return (
            self.db.execute("SELECT 1 FROM subscriptions WHERE status IN ('active', 'pending') LIMIT 1").fetchone()
            is not None
        )

    def known(self, email: str) -> bool:
        return self._find(normalise_email(email)) is not None

    def history(self, email: str) -> list[tuple[str, str, str, str, str]]:
        """(at, list, status, via, detail) of every change, oldest first."""
        return list(
            self.db.execute(
                "SELECT e.at, e.list, e.status, e.via, e.detail FROM events e JOIN subscribers s ON s.id = e.subscriber "
                "WHERE s.email = ? ORDER BY e.id",
                (normalise_email(email),),
            )
        )

    # -- changing --------------------------------------------------------------------------
    def add(self, sub: Subscriber, *, via: str, resubscribe: bool = False) -> str:
        """An operator's add or an import: active at once on every list of `sub`.
        Returns added, updated, unchanged or refused (the address or a list was left)."""
        email = normalise_email(sub.email)
        self._begin()
        try:
            existing = self.db.execute("SELECT id, left_as, name FROM subscribers WHERE email = ?", (email,)).fetchone()
            if existing is None:
                sid = self._id(email, sub.name)
                for group in sorted(sub.groups):
                    self._set(sid, group, "active", via)
                if sub.frequency:
                    self._set_frequency(sid, sub.frequency, via)
                self._commit()
                return "added"
            sid, left, name = existing
            lists = self._lists(sid)
            wanted = sorted(sub.groups)
            if not resubscribe and (left or any(lists.get(g) in LEFT for g in wanted)):
                # the lists this address never left may still be added, unless it left everything
                if left:
                    self._rollback()
                    return "refused"
                wanted = [g for g in wanted if lists.get(g) not in LEFT]
                changed = sum(self._set(sid, g, "active", via) for g in wanted)
                self._commit()
                return "refused"
            if resubscribe and left:
                self.db.execute("UPDATE subscribers SET left_as = '', soft_bounces = 0 WHERE id = ?", (sid,))
            changed = sum(
                self._set(sid, g, "active", via, "resubscribed" if lists.get(g) in LEFT else "") for g in wanted
            )
            if sub.name and sub.name != name:
                self.db.execute("UPDATE subscribers SET name = ? WHERE id = ?", (sub.name, sid))
                changed += 1
            if sub.frequency:  # an import without the column keeps the frequency chosen
                changed += self._set_frequency(sid, sub.frequency, via)
            self._commit()
            return "updated" if changed or (resubscribe and left) else "unchanged"
        except BaseException:
            self._rollback()
            raise

    def import_subscribers(
        self, subscribers: list[Subscriber], *, via: str = "csv", resubscribe: bool = False
    ) -> ImportResult:
        """Idempotent: importing the same list twice changes nothing the second time."""
        result = ImportResult()
        for sub in subscribers:
            before = self.subscriber(sub.email) if resubscribe else None
            outcome = self.add(sub, via=via, resubscribe=resubscribe)
            if outcome == "refused":
                result.refused.append(normalise_email(sub.email))
            else:
                setattr(result, outcome, getattr(result, outcome) + 1)
            if before is not None and (before[1] or any(before[2].get(g) in LEFT for g in sub.groups)):
                result.overridden += 1
        return result

    def request(self, email: str, groups: set[str], *, name: str = "") -> None:
        """A web sign-up: the lists become pending (lists already active stay active)."""
        email = normalise_email(email)
        self._begin()
        try:
            sid = self._id(email, name)
            lists = self._lists(sid)
            for group in sorted(groups):
                if lists.get(group) != "active":
                    self._set(sid, group, "pending", "web")
            self._commit()
        except BaseException:
            self._rollback()
            raise

    def confirm(self, email: str, groups: set[str]) -> bool:
        """The confirmation link was opened: pending lists of `groups` become active.
        Also brings back an address that had left: the person asked for it and proved the mailbox."""
        email = normalise_email(email)
        self._begin()
        try:
            sid = self._find(email)
            if sid is None:
                self._rollback()
                return False
            lists = self._lists(sid)
            changed = False
            for group in sorted(groups):
                if lists.get(group) == "pending":
                    changed |= self._set(sid, group, "active", "web", "confirmed")
            if changed:
                self.db.execute("UPDATE subscribers SET left_as = '', soft_bounces = 0 WHERE id = ?", (sid,))
            self._commit()
            return changed or all(lists.get(g) == "active" for g in groups)
        except BaseException:
            self._rollback()
            raise

    def choose(self, email: str, groups: set[str], *, via: str = "web") -> bool:
        """The preferences page: exactly `groups` active (of the lists the address is on or asks for)."""
        email = normalise_email(email)
        self._begin()
        try:
            sid = self._find(email)
            if sid is None:
                self._rollback()
                return False
            lists = self._lists(sid)
            for group in sorted(set(lists) | groups):
                if group in groups:
                    self._set(sid, group, "active", via, "preferences")
                elif lists.get(group) in ("active", "pending"):
                    self._set(sid, group, "unsubscribed", via, "preferences")
            if groups:
                self.db.execute("UPDATE subscribers SET left_as = '' WHERE id = ?", (sid,))
            else:
                self.db.execute("UPDATE subscribers SET left_as = 'unsubscribed' WHERE id = ?", (sid,))
            self._commit()
            return True
        except BaseException:
            self._rollback()
            raise

    def set_frequency(self, email: str, frequency: str, *, via: str = "web") -> bool:
        """How often the address gets its digest (daily, weekly, monthly; '' for the site's
        default); recorded in its history. False for an unknown address or no change."""
        if frequency and frequency not in FREQUENCIES:
            raise ValueError(f"frequency {frequency!r}: must be one of {', '.join(FREQUENCIES)}")
        self._begin()
        try:
            sid = self._find(normalise_email(email))
            changed = sid is not None and self._set_frequency(sid, frequency, via)
            self._commit()
            return changed
        except BaseException:
            self._rollback()
            raise

    def frequency(self, email: str) -> str:
        """The frequency the address chose ('' for the site's default, or unknown)."""
        row = self.db.execute("SELECT frequency FROM subscribers WHERE email = ?", (normalise_email(email),)).fetchone()
        return row[0] if row else ""

    def _set_frequency(self, sid: int, frequency: str, via: str) -> bool:
        old = self.db.execute("SELECT frequency FROM subscribers WHERE id = ?", (sid,)).fetchone()[0]
        if old == frequency:
            return False
        self.db.execute("UPDATE subscribers SET frequency = ? WHERE id = ?", (frequency, sid))
        self.db.execute(
            "INSERT INTO events (subscriber, list, status, via, at, detail) VALUES (?, '', 'frequency', ?, ?, ?)",
            (sid, via, _now(), frequency or "the site's default"),
        )
        return True

    def unsubscribe(self, email: str, group: str | None, *, via: str, detail: str = "") -> bool:
        """Leave one list (`group`) or everything (None or `*`). True if anything changed;
        an unknown address is recorded too, so that a later import cannot add it."""
        return self._leave(email, group, "unsubscribed", via, detail)

    def complain(self, email: str, *, via: str = "mail", detail: str = "") -> bool:
        """A spam complaint: off every list, for good."""
        return self._leave(email, None, "complained", via, detail)

    def bounce(self, email: str, *, hard: bool, soft_limit: int, via: str = "mail", detail: str = "") -> str:
        """A bounce: hard → bounced; soft → counted, `soft_limit` in a row → bounced.
        Returns the address's state afterwards: bounced, or `soft N`."""
        email = normalise_email(email)
        if hard:
            self._leave(email, None, "bounced", via, detail)
            return "bounced"
        self._begin()
        try:
            sid = self._find(email)
            if sid is None:  # a soft bounce of an address the store does not hold: nothing to count
                self._rollback()
                return "soft 0"
            self.db.execute("UPDATE subscribers SET soft_bounces = soft_bounces + 1 WHERE id = ?", (sid,))
            count = self.db.execute("SELECT soft_bounces FROM subscribers WHERE id = ?", (sid,)).fetchone()[0]
            self._commit()
        except BaseException:
            self._rollback()
            raise
        if count >= soft_limit:
            self._leave(email, None, "bounced", via, f"{count} soft bounces in a row; last: {detail}")
            return "bounced"
        return f"soft {count}"

    def delivered(self, email: str) -> None:
        """A message was accepted: soft bounces no longer count as 'in a row'."""
        self.db.execute(
            "UPDATE subscribers SET soft_bounces = 0 WHERE email = ? AND soft_bounces > 0", (normalise_email(email),)
        )

    def _leave(self, email: str, group: str | None, status: str, via: str, detail: str) -> bool:
        email = normalise_email(email)
        everything = group in (None, EVERY_COUNTRY)
        self._begin()
        try:
            sid = self._id(email)
            lists = self._lists(sid)
            changed = False
            for g in sorted(lists) if everything or group is None else [group]:
                if lists.get(g) != status:
                    changed |= self._set(sid, g, status, via, detail)
            if everything:
                left = self.db.execute("SELECT left_as FROM subscribers WHERE id = ?", (sid,)).fetchone()[0]
                if left != status:
                    self.db.execute("UPDATE subscribers SET left_as = ? WHERE id = ?", (status, sid))
                    self.db.execute(
                        "INSERT INTO events (subscriber, list, status, via, at, detail) VALUES (?, ?, ?, ?, ?, ?)",
                        (sid, EVERY_COUNTRY, status, via, _now(), detail),
                    )
                    changed = True
            self._commit()
            return changed
        except BaseException:
            self._rollback()
            raise

    def remove(self, email: str) -> bool:
        """Forget an address entirely (its history too)."""
        cur = self.db.execute("DELETE FROM subscribers WHERE email = ?", (normalise_email(email),))
        return cur.rowcount == 1

    # -- the send log's suppressions -------------------------------------------------------------
    def take_over(self, state_dir: Path) -> int:
        """Move the suppressions the send log holds (recorded before this store existed, or by a
        version that kept them there) into the store; returns how many. Copied first, then
        deleted from the send log, so a kill between the two only copies them again."""
        from newsletter.errors import StateError
        from newsletter.send.sendlog import SendLog

        try:
            if not SendLog.exists(state_dir):
                return 0
            other = SendLog(state_dir)
        except StateError:
            return 0  # a damaged send log, which `send` refuses itself
        try:
            rows = other.db.execute("SELECT email, list, reason FROM suppressions").fetchall()
            for email, group, reason in rows:
                detail = f"carried over from the send log ({reason})" if reason else "carried over from the send log"
                if reason.startswith(("hard bounce", "bounced")):
                    self.bounce(
                        email,
                        hard=True,
                        soft_limit=1,
                        via="smtp" if reason.startswith("hard") else "mail",
                        detail=detail,
                    )
                elif reason.startswith("complaint"):
                    self.complain(email, via="mail", detail=detail)
                else:
                    self.unsubscribe(email, group, via="mail" if reason.startswith("mailto") else "cli", detail=detail)
            other.db.executemany("DELETE FROM suppressions WHERE email = ? AND list = ?", [(e, g) for e, g, _ in rows])
            return len(rows)
        finally:
            other.close()

    # -- mailbox processing ----------------------------------------------------------------------
    def processed(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM processed WHERE key = ?", (key,)).fetchone() is not None

    def mark_processed(self, key: str, outcome: str) -> None:
        self.db.execute(
            "INSERT INTO processed (key, at, outcome) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, _now(), outcome),
        )

    def backup(self, dest: Path) -> None:
        statedb.backup(self.db, dest)
