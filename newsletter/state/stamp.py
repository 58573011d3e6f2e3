"""The "nothing changed" shortcut for one-shot builds (a cron job running `build` often).

After a build, a stamp of everything it was made from is kept in the state folder: every
bulletin's path, size and mtime, and the site's, newsletters' and parser's fingerprints.
When the next build finds the same stamp and every output file still has the size and
mtime it was written with, there is nothing to do: the build reports what the last one
found and stops, without loading the parse cache or rendering anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import NamedTuple

from newsletter.diagnostics import Diagnostic
from newsletter.output.writer import changed_outputs, write_atomic
from newsletter.state.manifest import load_manifest

log = logging.getLogger(__name__)


RACY_NS = 2_000_000_000
"""A file changed this close to the last build may have changed again within one mtime
tick without its size changing (as git says, "racily clean"): then the shortcut is not taken."""


def racily_clean(mtime_ns: int, written_ns: int) -> bool:
    """Whether a file with this mtime may have changed again after a build that wrote its
    record at `written_ns`, within one mtime tick: it must then be read again."""
    return mtime_ns >= written_ns - RACY_NS


class Stamp(NamedTuple):
    """What a build was made from: a hash of every input's identity, the newest mtime, and
    the bulletins' total size (the planner's "small site" rule reads it: no second stat)."""

    digest: str
    newest_ns: int
    size: int


def stamp_of(fingerprints: list[str], sources) -> Stamp | None:
    """The stamp of `sources` for a build with these fingerprints (of the site, its
    newsletters and the parser), or None when a file cannot be stat'ed."""
    newest = size = 0
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(tuple(fingerprints)).encode())
    for source in sources:
        try:
            st = os.stat(source.path)
        except OSError:
            return None
        h.update(f"{source.display}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
        newest = max(newest, st.st_mtime_ns)
        size += st.st_size
    return Stamp(h.hexdigest(), newest, size)


def last_files(path: Path) -> list[tuple[str, str]]:
    """The bulletin files the last one-shot build read, whatever changed since: (as it named
    them, absolute path); none when its record is missing, unreadable or older than this."""
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files", [])
        return [(str(name), str(where)) for name, where in files]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def last_settings(path: Path) -> dict[str, str]:
    """What the last one-shot build's site fingerprint was made of (`builder.plan.site_settings`);
    empty when its record is missing, unreadable or older than this."""
    try:
        settings = json.loads(path.read_text(encoding="utf-8")).get("settings", {})
        return {str(k): str(v) for k, v in settings.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def stamp_path(manifest: Path) -> Path:
    return manifest.with_name(manifest.stem.replace("outputs-", "stamp-") + ".json")


def load(path: Path, stamp: Stamp) -> tuple[dict | None, str]:
    """(what the last build recorded, "") if it was made from exactly these inputs; else
    (None, why not: "missing", "unreadable", "changed" or "racy" — `builder.plan`'s rules say
    each in words)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError):
        return None, "unreadable"
    if data.get("stamp") != stamp.digest:
        return None, "changed"
    if racily_clean(stamp.newest_ns, data.get("written_ns", 0)):
        return None, "racy"
    return data, ""


def save(
    path: Path,
    stamp: Stamp,
    *,
    entries: int,
    countries: int,
    regional: int,
    diagnostics: list[Diagnostic],
    files: list[str] | None = None,
    settings: dict[str, str] | None = None,
) -> None:
    """`files`: the bulletin files the build read, as it named them (`last_files`); `settings`:
    what its site fingerprint was made of (`last_settings`)."""
    data = {
        "stamp": stamp.digest,
        "written_ns": time.time_ns(),
        "entries": entries,
        "countries": countries,
        "regional": regional,
        "diagnostics": [[d.path, d.line, d.severity, d.message] for d in diagnostics],
        "files": [[name, os.path.abspath(name)] for name in files or ()],
        "settings": settings or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def outputs_intact(manifest: Path, out_dir: Path) -> int | None:
    """How many outputs the manifest lists, if all are on disk as written; else None."""
    state = load_manifest(manifest)
    if state is None:
        return None
    files = state[1]
    return None if changed_outputs(files, out_dir, first=True) else len(files)
