"""The send log's and the subscriber store's databases: SQLite in the state folder, or
PostgreSQL (`database = "postgresql://…"`, see `newsletter.state.pg`; `open_state_db` picks).

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
from newsletter.state import pg as pgdb


def restore_hint(path: Path, marker: Path) -> str:
    remove = marker if marker.exists() else path
    return (
        f"restore it from a backup (see 'Backing up the state folder' in docs/sending.md); only to start "
        f"an empty one on purpose (every issue may then be sent again, and unsubscribes are "
        f"forgotten) delete {remove}"
    )


def pg_marker(marker: Path) -> Path:
    """Where a state folder records that its database is in PostgreSQL (`subscribers.pg-id`)."""
    return marker.with_name(marker.stem + ".pg-id")


def recorded_database(marker: Path) -> tuple[str, str] | None:
    """(db_id, URL) of the PostgreSQL database this state folder had, if any."""
    try:
        lines = pg_marker(marker).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 2 or not lines[0] or not pgdb.is_url(lines[1]):
        raise StateError(
            f"{pg_marker(marker)}: damaged (a db_id line, then the database's URL); restore it from a backup"
        )
    return lines[0], lines[1]


_CONFIGURED: dict[Path, str] = {}


def configure(state_dir: Path, database: str) -> None:
    """The configured `database` of a state folder (the CLI calls this once it read the
    config); a store or send log opened without saying which database uses it."""
    if database:
        _CONFIGURED[state_dir.resolve()] = database


def state_url(state_dir: Path) -> str:
    """The PostgreSQL database this state folder records (its `*.pg-id` files), or ''."""
    urls = set()
    for path in sorted(state_dir.glob("*.pg-id")):
        found = recorded_database(path.with_suffix(".id"))
        if found:
            urls.add(found[1])
    if len(urls) > 1:
        raise StateError(
            f"{state_dir}: its *.pg-id files name different databases ({', '.join(map(pgdb.shown, sorted(urls)))}); "
            "keep the right one"
        )
    return urls.pop() if urls else ""


def database_url(marker: Path, database: str | None) -> str:
    """The database to use: `database`, else the configured one (`configure`), else the
    PostgreSQL database the state folder records, else '' (SQLite in the state folder). A
    state folder whose databases went to PostgreSQL never falls back to empty SQLite files:
    only deleting its `*.pg-id` files does that."""
    return database or _CONFIGURED.get(marker.parent.resolve()) or state_url(marker.parent)


def pg_exists(url: str, schema: str, marker: Path, *, what: str) -> bool:
    """Whether this state folder had (in PostgreSQL, or in SQLite not yet copied there: opening
    it refuses), or the database holds, the `schema` (a store or send log)."""
    if pg_marker(marker).exists() or marker.exists():
        return True
    db = pgdb.PgConnection(url, schema, what=what)
    try:
        return db.exists()
    finally:
        db.close()


def open_state_db(
    path: Path,
    marker: Path,
    migrations: Mapping[int, str],
    *,
    what: str,
    schema: str,
    database: str | None = None,
    check: bool = True,
):
    """The database of the store or the send log: SQLite at `path`, or the `schema` of the
    PostgreSQL database `database` (None: the one the state folder records)."""
    url = database_url(marker, database)
    if not pgdb.is_url(url):
        return open_database(path, marker, migrations, what=what, check=check)
    return open_pg(url, marker, migrations, what=what, schema=schema)


def open_pg(
    url: str, marker: Path, migrations: Mapping[int, str], *, what: str, schema: str, migrated: bool = False
) -> pgdb.PgConnection:
    """Open (or create) one schema of a PostgreSQL database; refuse one that this state folder
    knew by another db_id, or that is gone or emptied (the state folder's `.pg-id` says it had one)."""
    import psycopg

    recorded = recorded_database(marker)
    if (
        recorded is None and marker.exists() and not migrated
    ):  # its rows are in the SQLite file: a new database would forget them
        raise StateError(
            f"{marker.parent}: this state folder's {what} is in SQLite ({marker.parent / (marker.stem + '.sqlite3')}), "
            f"not yet in {pgdb.shown(url)}; copy it there first: newsletter db migrate --to {pgdb.shown(url)}"
        )
    db = pgdb.PgConnection(url, schema, what=what)
    where = f"{pgdb.shown(url)} (schema {schema})"
    hint = (
        f"restore it from a backup (pg_restore; see 'Backing up the state folder' in docs/sending.md); only to "
        f"start an empty one on purpose delete {pg_marker(marker)}"
    )
    elsewhere = (
        f"; this state folder recorded it in {pgdb.shown(recorded[1])}, `database` names {pgdb.shown(url)}"
        if recorded and pgdb.shown(recorded[1]) != pgdb.shown(url)
        else ""
    )
    try:
        if recorded and not db.exists():
            raise StateError(
                f"{where}: the {what} is missing or empty, but this state folder had one "
                f"(db_id {recorded[0]}{elsewhere}); {hint}"
            )
        db.migrate(migrations)
        if recorded is None:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('db_id', ?) ON CONFLICT (key) DO NOTHING",
                (secrets.token_hex(8),),
            )
        db_id = meta(db, "db_id")
        if db_id is None:
            raise StateError(f"{where}: the {what} is damaged (no db_id in its meta table); {hint}")
        if recorded and recorded[0] != db_id:
            raise StateError(
                f"{where}: another {what} than this state folder had (db_id {db_id}, not {recorded[0]}{elsewhere}); {hint}"
            )
    except psycopg.Error as exc:
        db.close()
        raise StateError(f"{where}: cannot open the {what} ({str(exc).strip().splitlines()[0]})") from None
    except BaseException:
        db.close()
        raise
    if recorded != (db_id, url):
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_name(f"{marker.name}.{os.getpid()}.pgtmp")
        tmp.write_text(
            f"{db_id}\n{url}\nThis state folder's {what} is in this PostgreSQL database; do not delete this file.\n",
            encoding="utf-8",
        )
        os.replace(tmp, pg_marker(marker))
    return db


def insert(db, sql: str, params=()) -> int:
    """Run an INSERT into a table with an integer `id` key; the new row's id (either backend)."""
    if isinstance(db, pgdb.PgConnection):
        return db.insert(sql, params)
    return int(db.execute(sql, params).lastrowid or 0)


def is_pg(db) -> bool:
    return isinstance(db, pgdb.PgConnection)


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
        return StateError(
            f"cannot write {path}: disk full or failing ({exc.strerror}); free some space and run it again"
        )
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StateError(f"cannot write {path}: read-only ({exc.strerror}); make the folder writable")
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    if "full" in text or "disk I/O" in text:
        return StateError(f"cannot write {path}: disk full or failing ({text}); free some space and run it again")
    if "readonly" in text or "read-only" in text:
        return StateError(f"cannot write {path}: read-only ({text}); make the folder writable")
    return None


def open_database(
    path: Path, marker: Path, migrations: Mapping[int, str], *, what: str, check: bool = True
) -> sqlite3.Connection:
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
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('db_id', ?) ON CONFLICT (key) DO NOTHING",
                (secrets.token_hex(8),),
            )
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
            raise StateError(
                f"{path}: the {what} has a damaged row (text that is not UTF-8: {shown!r}); "
                f"{restore_hint(path, marker)}"
            ) from None

    return decode


def meta(db, key: str) -> str | None:
    """A value of the database's `meta` table (None if absent, or no such table yet)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def set_meta(db, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


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
