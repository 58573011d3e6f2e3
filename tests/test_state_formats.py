"""Round trips of what the state folder keeps: catalog rows and the output manifest."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter.content.entry import Entry
from newsletter.content.rows import CatalogHead, from_row, loaded, row_groups, stored, to_row
from newsletter.state.manifest import load_head, load_manifest, load_years, save_manifest

ENTRIES = [
    Entry(
        dt.date(2021, 8, 26),
        "Peru Opens a Shelter",
        "Body.",
        "text",
        "b/a.txt",
        3,
        link="https://x.org/1",
        countries=("pe",),
        id="tag:news.example.org,2021-08-26:peru",
        slug="2021-08-26-peru-opens-a-shelter",
        updated=dt.datetime(2021, 9, 1, 8, 30, tzinfo=dt.UTC),
        title_key="peru opens a shelter",
        digest="d1",
    ),
    Entry(
        dt.date(1999, 1, 1),
        "Región sin país",
        "Cuerpo **md**.",
        "markdown",
        "b/ñ.md",
        40,
        fixed_id="own-id",
        countries=(),
        id="own-id",
        slug="1999-01-01-region",
        updated=None,
        title_key="region sin pais",
        digest="d2",
    ),
]


@pytest.mark.parametrize("entry", ENTRIES, ids=["full", "regional-fixed-id"])
def test_a_row_gives_back_its_entry(entry):
    row = to_row(entry)
    assert from_row(row, entry.body) == entry
    assert row_groups(row) == ("all", *(entry.countries or ("regional",)))
    import marshal

    assert loaded(marshal.loads(marshal.dumps(stored([row])))) == [row]  # rows are stored with marshal


def test_the_manifest_gives_back_what_was_saved(tmp_path):
    units = {
        "home": ["fp0", ["index.html"]],
        "entry:2021-08-26-peru": ["fp1", ["entries/2021-08-26-peru.html"]],
        "issue:pe/2021-W34": ["fp2", ["newsletters/pe/2021-W34.html", "newsletters/pe/2021-W34.txt"]],
        "year:pe/1999": ["fp3", ["pe/1999/index.html"]],
    }
    files = {
        rel: [len(rel), 1_600_000_000_000_000_000 + n]
        for n, rel in enumerate(f for _, fs in units.values() for f in fs)
    }
    rows = {2021: [to_row(ENTRIES[0])], 1999: [to_row(ENTRIES[1])]}
    catalog = CatalogHead(
        fingerprints=["a", "b"],
        written_ns=1,
        sources={"b.txt": [10, 1, [2021], []]},
        total=2,
        newest=ENTRIES[0].date.toordinal(),
        counts={"all": 2, "pe": 1, "regional": 1},
        years={"pe": [[2021, 1]]},
        listings={},
        nl_groups=[],
        top={"all": [to_row(ENTRIES[0])]},
        dirs={"": 5},
    )
    folder = tmp_path / "outputs-x"
    save_manifest(folder, (units, files), catalog=catalog, rows=rows)
    assert load_manifest(folder) == (units, files)
    head = load_head(folder)
    assert head is not None and head.catalog == catalog and head.units == {"home": units["home"]}
    years = load_years(folder, {2021, 1999})
    assert {y: [tuple(r) for r in years[y]["rows"]] for y in years} == rows
    assert years[2021]["units"] == {k: units[k] for k in ("entry:2021-08-26-peru", "issue:pe/2021-W34")}
    # a partial save (one year) keeps the other years as they were
    units2 = dict(units, **{"entry:2021-08-26-peru": ["fp9", ["entries/2021-08-26-peru.html"]]})
    save_manifest(
        folder,
        ({k: v for k, v in units2.items() if k != "year:pe/1999"}, files),
        catalog=catalog,
        rows={2021: rows[2021]},
        years={2021},
    )
    assert load_manifest(folder) == (units2, files)


@pytest.mark.parametrize("left", ["empty file", "header, no tables"])
def test_a_database_whose_creation_was_killed_is_made_afresh(tmp_path, left):
    """A process killed while it created the send log leaves a file but no marker (the marker
    is written only once the schema is committed): the next run starts it afresh, while the
    same file beside a marker is refused."""
    import sqlite3

    from newsletter.errors import StateError
    from newsletter.state.db import open_database

    path, marker = tmp_path / "log.sqlite3", tmp_path / "log.id"
    migrations = {1: "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); CREATE TABLE sent (k TEXT)"}

    def leave() -> None:
        path.unlink(missing_ok=True)
        if left == "empty file":
            path.write_bytes(b"")
        else:
            raw = sqlite3.connect(path)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.close()

    leave()
    db = open_database(path, marker, migrations, what="send log")
    assert {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} == {"meta", "sent"}
    db.close()
    assert marker.exists()
    leave()
    with pytest.raises(StateError, match="restore it from a backup"):
        open_database(path, marker, migrations, what="send log")
