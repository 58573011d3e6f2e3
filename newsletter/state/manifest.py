"""The output manifest of one output folder, split by year so that a rebuild reads only the
years a change touches.

The manifest records, for every unit of output (see `units`), the fingerprint it was
rendered from and the files it wrote, with their size and mtime. It lives in
`STATE/outputs-<key>/`: `head` holds the site-wide units (feeds, group pages, archives,
home page, static files) and `<year>` the units that belong to one year (entry pages by
the entry's date, year pages, newsletter issues by their period). A full build writes every
file (`newsletter.builder.batches` one year file per batch, then the head); `newsletter.builder.patch` reads
and rewrites only the head and the years it works on.

Next to the units, a full build keeps what a later one-shot rebuild needs to patch the
catalog instead of rebuilding it: every entry's metadata by year (`rows`, without bodies)
and, in the head, per-group counts, newest entries and newsletter listings (`catalog`).
Writers that do not know the catalog (the watch daemon) leave `catalog` empty, and the next
one-shot build is a full one.

The files are marshal data: a cache of this program's own making, quick to read and write
(about 220,000 units and files at 100,000 entries); one another Python cannot read only
means every output is checked again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import marshal
import os
from pathlib import Path
from typing import NamedTuple

from newsletter.content.rows import CatalogHead, loaded, stored
from newsletter.output.keys import unit_year
from newsletter.output.writer import changed_outputs, write_atomic

log = logging.getLogger(__name__)

VERSION = 6  # 6: rows carry the entry's language
HEAD = "head"


@functools.lru_cache(maxsize=256)
def _say_unreadable(path: str, problem: str) -> None:
    """Each unreadable manifest file is reported once per run, however often it is read."""
    log.warning("%s: unreadable manifest (%s); every output will be checked", path, problem)


def _read(path: Path) -> dict | None:
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        _say_unreadable(str(path), str(exc))
        return None
    try:
        data = marshal.loads(raw)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return None
    except (ValueError, EOFError, TypeError) as exc:
        _say_unreadable(str(path), str(exc))
        return None
    return data


def _write(path: Path, data: dict) -> None:
    data["version"] = VERSION
    write_atomic(path, marshal.dumps(data))


def _years_on_disk(folder: Path) -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir(folder) if name.isdigit())
    except (FileNotFoundError, NotADirectoryError):
        return []


def split(state: tuple[dict, dict]) -> dict[int | None, tuple[dict, dict]]:
    """(units, files) by the year they are filed under (None: the head)."""
    units, files = state
    parts: dict[int | None, tuple[dict, dict]] = {}
    for key, record in units.items():
        part = parts.get(year := unit_year(key))
        if part is None:
            part = parts[year] = ({}, {})
        part[0][key] = record
        part_files = part[1]
        for rel in record[1]:
            found = files.get(rel)
            if found is not None:
                part_files[rel] = found
    return parts


def save_manifest(
    folder: Path,
    state: tuple[dict, dict],
    *,
    catalog: CatalogHead | None = None,
    rows: dict[int, list] | None = None,
    years: set[int] | None = None,
) -> None:
    """Write the manifest `state` = (units, files) of an output folder.

    `catalog` and `rows` (by year) are the patchable catalog (see the module docstring).
    With `years`, `state` holds only the head's units and those years' (a partial rebuild):
    only they are written; otherwise every year is, and years no longer present are removed.
    """
    parts = split(state)
    todo = set(years) if years is not None else {y for y in parts if y is not None} | set(rows or {})
    old_head = _read(folder / HEAD)
    invalidate(folder, old_head)
    counts = dict((old_head or {}).get("file_counts", {})) if years is not None else {}
    counts.update(save_years(folder, todo, parts, rows or {}))
    if years is None:
        for year in _years_on_disk(folder):
            if year not in todo:
                (folder / str(year)).unlink(missing_ok=True)
    save_head(folder, parts.get(None, ({}, {})), catalog, counts)


def invalidate(folder: Path, head: dict | None = None) -> None:
    """Drop the head's patchable catalog before year files are rewritten: should the build
    stop before it writes the new head, the next one must not patch year files that no
    longer match the head's counts and newest entries (it does a full build instead)."""
    head = _read(folder / HEAD) if head is None else head
    if head is not None and head.get("catalog"):
        _write(folder / HEAD, {**head, "catalog": None})


def save_years(folder: Path, years, parts: dict, rows: dict[int, list]) -> dict[int, int]:
    """Write the shards of `years` from `parts` (see `split`) and `rows`; {year: files}."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for year in sorted(years):
        units, files = parts.get(year, ({}, {}))
        path = folder / str(year)
        counts[year] = len(files)
        if not units and not rows.get(year):
            path.unlink(missing_ok=True)
            continue
        _write(path, {"units": units, "files": files, "rows": stored(rows.get(year, []))})
    return counts


def save_head(folder: Path, part: tuple[dict, dict], catalog: CatalogHead | None, counts: dict) -> None:
    """Write the head: site-wide units, the patchable catalog and every year's file count."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {year: n for year, n in counts.items() if n}
    counts[-1] = len(part[1])
    _write(
        folder / HEAD,
        {"units": part[0], "files": part[1], "catalog": catalog.stored() if catalog else None, "file_counts": counts},
    )


def remove_years(folder: Path, years) -> None:
    for year in years:
        (folder / str(year)).unlink(missing_ok=True)


def years_on_disk(folder: Path) -> list[int]:
    return _years_on_disk(folder)


def migrate(folder: Path) -> None:
    """Version 0.1 kept one JSON manifest per output folder (`outputs-<key>.json`): turn it
    into this layout once, so that the first build after an upgrade still knows which files
    it wrote, and removes those it no longer makes."""
    legacy = folder.with_suffix(".json")
    if folder.exists() or not legacy.is_file():
        return
    try:
        data = json.loads(legacy.read_bytes())
    except (OSError, ValueError) as exc:
        log.warning("%s: unreadable manifest of an earlier version (%s); every output will be checked", legacy, exc)
        return
    if data.get("version") == 3 and isinstance(data.get("units"), dict) and isinstance(data.get("files"), dict):
        save_manifest(folder, (data["units"], data["files"]))
    legacy.unlink(missing_ok=True)


def file_count(folder: Path) -> int:
    """How many output files the manifest lists (without reading every year)."""
    head = _read(folder / HEAD)
    return sum(head.get("file_counts", {}).values()) if head else 0


def load_manifest(folder: Path) -> tuple[dict, dict] | None:
    """The (units, files) of every year and the head, or None if there is no usable manifest."""
    head = _read(folder / HEAD)
    if head is None:
        return None
    units, files = dict(head["units"]), dict(head["files"])
    for year in _years_on_disk(folder):
        part = _read(folder / str(year))
        if part is None:
            return None
        units.update(part["units"])
        files.update(part["files"])
    return units, files


class ManifestHead(NamedTuple):
    """The manifest's head as `load_head` reads it."""

    units: dict
    """The site-wide units (key → [fingerprint, files])."""
    files: dict
    """Their files (path → [size, mtime])."""
    catalog: CatalogHead | None
    """What a later one-shot build needs to patch the catalog, if the build that wrote it kept it."""


def load_head(folder: Path) -> ManifestHead | None:
    """The head alone: site-wide units and files, and the patchable catalog if any."""
    head = _read(folder / HEAD)
    if head is None:
        return None
    catalog = CatalogHead.loaded(head["catalog"]) if head.get("catalog") else None
    return ManifestHead(head["units"], head["files"], catalog)


def load_years(folder: Path, years: set[int]) -> dict[int, dict] | None:
    """The given years' units, files and rows (empty for a year with none); None if one is damaged."""
    found = {}
    for year in years:
        path = folder / str(year)
        part = _read(path)
        if part is None:
            if path.exists():
                return None
            part = {"units": {}, "files": {}, "rows": []}
        part["rows"] = loaded(part["rows"])
        found[year] = part
    return found


def manifest_bytes(folder: Path) -> int:
    """The manifest's size on disk (to judge whether checking it is worth a process)."""
    try:
        with os.scandir(folder) as it:
            return sum(e.stat().st_size for e in it if e.is_file())
    except (FileNotFoundError, NotADirectoryError):
        return 0


def check_manifest(folder: Path, out_dir: Path) -> set[str] | None:
    """`writer.changed_outputs` for every file of the manifest; None when there is none."""
    state = load_manifest(folder)
    return None if state is None else changed_outputs(state[1], out_dir)


def manifest_path(state_dir: Path, out_dir: Path) -> Path:
    """The manifest folder of one output folder (several output folders can share a state folder)."""
    key = hashlib.blake2b(str(out_dir.resolve()).encode(), digest_size=6).hexdigest()
    return state_dir / f"outputs-{key}"


class ManifestFolder:
    """One output folder's manifest, as `newsletter.output.writer.SiteWriter` uses it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> tuple[dict, dict] | None:
        return load_manifest(self.path)

    def save(self, state: tuple[dict, dict], **parts) -> None:
        save_manifest(self.path, state, **parts)

    def exists(self) -> bool:
        return self.path.exists()
