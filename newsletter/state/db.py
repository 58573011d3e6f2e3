"""SQLite databases in the state folder (the send log, the subscriber store).

Each is opened the same way: WAL (readers never wait for the writer: `send` and `serve` run
at once), versioned schema migrations (`PRAGMA user_version`), an integrity check, and a
*marker* file beside it. A database that a state folder once had must never be silently
replaced by an empty one — everyone would be mailed every issue again and every unsubscribe
forgotten — so while its marker exists, a missing, empty or damaged database is refused
with `StateError` and one line that says what to do.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from newsletter.errors import StateError


def restore_hint(path: Path, marker: Path) -> str:
    remove = marker if marker.exists() else path
    return (f"restore it from a backup (see 'Backing up the state folder' in the README); only to start "
            f"an empty one on purpose (every issue may then be sent again, and unsubscribes are "
            f"forgotten) delete {remove}")


def write_failure(path: Path, exc: BaseException) -> StateError | None:
    """A full disk, an I/O error or a read-only folder as one line (exit 2), never called damage:
    the database is fine, it could not be written. None for any other error."""
    import errno

    cause = exc.__context__  # "cannot rollback": the write that failed first says why
    if cause is not None and cause is not exc and "cannot rollback" in str(exc):
        return write_failure(path, cause)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "unable to open" in text and not os.access(path if path.is_dir() else path.parent, os.W_OK):
        text = f"{text}: the folder is read-only"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        return StateError(f"cannot write {path}: disk full or failing ({exc.strerror}); free some space and run it again")
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StateError(f"cannot write {path}: read-only ({exc.strerror}); make the folder writable")
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    if "full" in text or "disk I/O" in text:
        return StateError(f"cannot write {path}: disk full or failing ({text}); free some space and run it again")
    if "readonly" in text or "read-only" in text:
        return StateError(f"cannot write {path}: read-only ({text}); make the folder writable")
    return None


def open_database(path: Path, marker: Path, migrations: Mapping[int, str], *, what: str,
                  check: bool = True) -> sqlite3.Connection:
    """Open (or create, in a new state folder) one database; refuse a lost or damaged one.

    `migrations` maps each schema version to the script that brings the previous version to
    it; a database without a version number but with `first_table` counts as version 1.
    `check=False` skips the integrity check (a web request; the process checked at start).
    """
    had = marker.exists()
    size = path.stat().st_size if path.exists() else None
    if had and size is None:
        raise StateError(f"{path}: the {what} is missing, but this state folder had one; {restore_hint(path, marker)}")
    if size == 0 and had:
        raise StateError(f"{path}: the {what} is empty (0 bytes); {restore_hint(path, marker)}")
    # Without a marker, an empty file or one without tables is a creation that a killed
    # process never finished (the marker is written only once the schema is committed):
    # nothing was ever recorded in it, so it is made afresh.
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        if size and check:
            result = db.execute("PRAGMA quick_check").fetchone()
            if not result or result[0] != "ok":
                raise sqlite3.DatabaseError(result[0] if result else "quick_check gave nothing")
        if size and had:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                raise sqlite3.DatabaseError("it has no tables")
        db.text_factory = _strict_text(path, marker, what)
        _retry_while_locked(lambda: db.execute("PRAGMA journal_mode=WAL"))
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        _retry_while_locked(lambda: migrate(db, migrations))
    except sqlite3.OperationalError as exc:
        failure = write_failure(path, exc)
        if failure is not None:
            raise failure from None
        if "locked" in str(exc) or "unable to open" in str(exc):
            raise StateError(f"{path}: cannot open the {what} ({exc})") from None
        raise StateError(f"{path}: the {what} is damaged ({_first_line(exc)}); {restore_hint(path, marker)}") from None
    except sqlite3.DatabaseError as exc:
        raise StateError(f"{path}: the {what} is damaged ({_first_line(exc)}); {restore_hint(path, marker)}") from None
    if not had:
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.tmp")  # two processes creating it at once
        try:
            db.execute("INSERT INTO meta (key, value) VALUES ('db_id', ?) ON CONFLICT (key) DO NOTHING",
                       (secrets.token_hex(8),))
            db_id = meta(db, "db_id")  # another process creating it at once may have written its own first
            tmp.write_text(f"{db_id}\nThis state folder has a {what} ({path.name}); do not delete this file.\n")
            os.replace(tmp, marker)
        except (OSError, sqlite3.OperationalError) as exc:
            tmp.unlink(missing_ok=True)
            failure = write_failure(marker, exc)
            if failure is None:
                raise
            raise failure from None
    return db


def _first_line(exc: BaseException) -> str:
    """SQLite's integrity report can span lines ("*** in database main ***", "Page 3: …"): the first."""
    lines = [line for line in str(exc).splitlines() if line.strip() and not line.startswith("***")]
    return lines[0] if lines else str(exc).strip()


def _retry_while_locked(step, wait: float = 10.0) -> None:
    """Run `step`, again while SQLite says the database is locked without waiting itself: when
    two processes create one database at once, the switch to WAL and the first read of a
    just-switched file can answer SQLITE_BUSY at once instead of calling the busy handler."""
    deadline = time.monotonic() + wait
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _strict_text(path: Path, marker: Path, what: str):
    """Text columns are decoded as UTF-8; a row that is not (damage the integrity check does not
    see) is refused with one line naming the database, rather than sqlite3's traceback."""

    def decode(data: bytes) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            shown = data[:40].decode("utf-8", "replace")
            raise StateError(f"{path}: the {what} has a damaged row (text that is not UTF-8: {shown!r}); "
                             f"{restore_hint(path, marker)}") from None

    return decode


def meta(db: sqlite3.Connection, key: str) -> str | None:
    """A value of the database's `meta` table (None if absent, or no such table yet)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               (key, value))


def migrate(db: sqlite3.Connection, migrations: Mapping[int, str]) -> None:
    """Bring the schema to the newest version, one transaction per version."""
    newest = max(migrations)
    if _version(db) >= newest:  # the usual case: nothing to do, no write lock taken
        return
    while True:
        # The version is read again inside the write transaction: another process opening the
        # same new database at once may have migrated it between our first look and our lock
        # (reading it outside made both run the same script: "duplicate column name").
        db.execute("BEGIN IMMEDIATE")
        try:
            version = _version(db)
            if version >= newest:
                db.execute("COMMIT")
                return
            version += 1
            for statement in migrations[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _version(db: sqlite3.Connection) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 and db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone():
        version = 1  # created before versions were numbered (the send log of 0.1/0.2)
    return int(version)


def backup(db: sqlite3.Connection, dest: Path) -> None:
    """A consistent copy of a live database (SQLite's online backup), even while it is written."""
    target = sqlite3.connect(dest)
    try:
        db.backup(target)
    finally:
        target.close()
