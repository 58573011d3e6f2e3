"""`newsletter db migrate --to postgresql://…` and the PostgreSQL side of `newsletter backup`.

`migrate` copies a state folder's SQLite send log and subscriber store into a PostgreSQL
database (nothing may run with the folder meanwhile: the same `Quiet` lock as `backup
--restore`), row for row with their ids, checks every table's count, and only then records the
database in the state folder (`*.pg-id`): from then on every command on that folder uses
PostgreSQL. The SQLite files stay as they were — a copy, no longer written. A target that
already holds a store or send log with rows is refused (nothing is merged).

A backup of a PostgreSQL site is `pg_dump --format=custom` of its two schemas (`database.dump`)
with the state folder's `*.pg-id` files; `--restore` puts it back with `pg_restore --clean`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from newsletter.errors import StateError, UsageError
from newsletter.state import db as statedb
from newsletter.state import pg as pgdb

DUMP_NAME = "database.dump"
FIRST = ("subscribers",)  # referenced by the store's other tables: copied first


def say(line: str) -> None:
    print(f"newsletter: {line}", file=sys.stderr)


def _parts():
    from newsletter.send import sendlog
    from newsletter.subscribers import store

    return [
        ("send log", "sendlog", sendlog.LOG_NAME, sendlog.MARKER_NAME, sendlog.MIGRATIONS),
        ("subscriber store", "subscribers", store.STORE_NAME, store.MARKER_NAME, store.MIGRATIONS),
    ]


def migrate(state_dir: Path, url: str) -> int:
    from newsletter.state.lock import Quiet

    if not pgdb.is_url(url):
        raise UsageError(f"--to {url}: must be a postgresql:// URL")
    if statedb.state_url(state_dir):
        raise UsageError(
            f"{state_dir}: its databases are in PostgreSQL already ({pgdb.shown(statedb.state_url(state_dir))})"
        )
    parts = [p for p in _parts() if (state_dir / p[2]).exists()]
    if not parts:
        raise UsageError(f"{state_dir}: no {' or '.join(p[2] for p in _parts())} to copy")
    for what, schema, *_ in _parts():  # even one the folder does not have: it would be taken for its own
        target = pgdb.PgConnection(url, schema, what=what)
        try:
            if target.exists() and _has_rows(target, schema):
                raise UsageError(
                    f"{pgdb.shown(url)} (schema {schema}): its {what} already has rows; "
                    "copy only into an empty database"
                )
        finally:
            target.close()
    copied: list[str] = []
    with Quiet(state_dir):
        for what, schema, name, marker, migrations in parts:
            source = statedb.open_database(state_dir / name, state_dir / marker, migrations, what=what)
            target = pgdb.PgConnection(url, schema, what=what)
            try:
                copied += _copy(source, target, migrations, what=what, where=f"{pgdb.shown(url)} (schema {schema})")
            finally:
                source.close()
                target.close()
        for what, schema, _name, marker, migrations in parts:  # the counts matched: the folder moves
            statedb.open_pg(url, state_dir / marker, migrations, what=what, schema=schema, migrated=True).close()
    say(
        f"copied into {pgdb.shown(url)}: {', '.join(copied)} (every count checked); {state_dir} now uses it "
        f'(set database = "{pgdb.shown(url)}" in the config for other state folders); the SQLite files stay '
        "as they were, no longer written"
    )
    return 0


def _copy(source, target: pgdb.PgConnection, migrations, *, what: str, where: str) -> list[str]:
    import psycopg

    try:
        target.migrate(migrations)
        tables = [
            r[0]
            for r in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        tables.sort(key=lambda t: (t not in FIRST,))
        for table in tables:
            if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:
                raise UsageError(f"{where}: its {what} already has rows ({table}); copy only into an empty database")
        counts = []
        target.conn.execute("BEGIN")
        try:
            for table in tables:
                columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
                cols = ", ".join(columns)
                rows = source.execute(f"SELECT {cols} FROM {table}")
                if table == "meta":
                    rows = (r for r in rows if r[0] != "db_id")  # the new database gets an id of its own
                with target.conn.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if "id" in columns:  # identity columns go on after the highest id copied
                    target.conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    )
            target.conn.execute("COMMIT")
        except BaseException:
            target.conn.execute("ROLLBACK")
            raise
        for table in tables:
            want = source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if table == "meta":
                want -= source.execute("SELECT COUNT(*) FROM meta WHERE key = 'db_id'").fetchone()[0]
            got = target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if want != got:
                raise StateError(
                    f"{where}: {table} has {got} rows after the copy, the SQLite file {want}; "
                    "the state folder still uses its SQLite files"
                )
            if table != "meta":
                counts.append(f"{got} {table}")
        return counts
    except psycopg.Error as exc:
        raise StateError(
            f"{where}: the copy of the {what} failed ({str(exc).strip().splitlines()[0]}); "
            "the state folder still uses its SQLite files"
        ) from None


def _has_rows(target: pgdb.PgConnection, schema: str) -> bool:
    tables = [
        r[0]
        for r in target.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name <> 'schema_version'",
            (schema,),
        )
    ]
    return any(target.execute(f'SELECT 1 FROM "{schema}"."{t}" LIMIT 1').fetchone() for t in tables)


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else Debian's newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise UsageError(f"{name} is not installed (apt-get install postgresql-client); nothing was copied")
    return str(candidates[-1])


def backup(state_dir: Path, url: str, dest: Path) -> list[str]:
    """pg_dump of both schemas into DEST/database.dump, and the state folder's *.pg-id files."""
    dest.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            "--schema=sendlog",
            "--schema=subscribers",
            "--file",
            str(dest / DUMP_NAME),
            "--dbname",
            url,
        ],
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise StateError(
            f"{pgdb.shown(url)}: pg_dump failed ({run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode})"
        )
    copied = [DUMP_NAME]
    for marker in sorted(state_dir.glob("*.pg-id")):
        shutil.copy2(marker, dest / marker.name)
        copied.append(marker.name)
    return copied


def restore(state_dir: Path, source: Path) -> int:
    """Put a `database.dump` back into the database its *.pg-id files name (pg_restore --clean)."""
    from newsletter.state.lock import Quiet

    markers = sorted(source.glob("*.pg-id"))
    if not markers:
        raise UsageError(f"{source}: {DUMP_NAME} without the *.pg-id files beside it; nothing was restored")
    url = statedb.state_url(source)
    with Quiet(state_dir):
        busy = pgdb.others(url)  # the local lock sees this host only; the database sees every host
        if busy:
            raise StateError(
                f"{pgdb.shown(url)}: in use by {len(busy)} other newsletter process(es) "
                f"({', '.join(n.removeprefix(pgdb.APPLICATION + ' ') for n in busy[:5])}): stop every `send` and "
                "`serve` on every host first; nothing was restored"
            )
        run = subprocess.run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--dbname",
                url,
                str(source / DUMP_NAME),
            ],
            capture_output=True,
            text=True,
        )
        if run.returncode:
            raise StateError(
                f"{pgdb.shown(url)}: pg_restore failed ({run.stderr.strip().splitlines()[-1]}); nothing was restored"
            )
        for marker in markers:
            shutil.copyfile(marker, state_dir / marker.name)
    say(
        f"restored {DUMP_NAME} from {source} into {pgdb.shown(url)}; whatever happened after that backup is "
        "forgotten: deliveries since may be sent again, and unsubscribes, bounces and complaints since are lost "
        "(record them again with `newsletter unsubscribe` before the next send)"
    )
    return 0


def cmd_db(args) -> int:
    from newsletter.cli.args import site_config

    config = site_config(args)
    return migrate(Path(config.state), args.to)
