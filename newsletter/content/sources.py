"""Find bulletin files in the folders and files given on the command line."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.parse import body_format_for
from newsletter.diagnostics import Diagnostic

# Editor and system temp files: never bulletins, never worth a note.
IGNORED_PATTERNS = (".*", "*~", "*.swp", "*.swx", "*.swo", "#*#", "4913", "*___jb_tmp___", "*___jb_old___",
                    "*.tmp", "*.bak", "*.orig", "*.part", "*.crdownload", "Thumbs.db", "desktop.ini")


def is_ignored(name: str) -> bool:
    """True for editor temp files, backups and hidden files."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in IGNORED_PATTERNS)


@dataclass(frozen=True, slots=True)
class Source:
    """A bulletin file: its path on disk and the name used for it in messages."""

    path: Path
    display: str


def find_sources(inputs: list[str], *, skip: list[Path] | tuple[Path, ...] = ()) -> tuple[list[Source], list[Diagnostic]]:
    """Bulletin files under `inputs`, sorted, and notes about files that were not read."""
    sources: dict[Path, Source] = {}
    diags: list[Diagnostic] = []
    skip_resolved = [p.resolve() for p in skip]
    for given in inputs:
        root = Path(given)
        if root.is_file():
            if body_format_for(root.name) is None:
                diags.append(Diagnostic(given, 0, "note", "not a .txt or .md bulletin; ignored"))
            else:
                sources.setdefault(root.resolve(), Source(root, given))
            continue
        if not root.is_dir():
            diags.append(Diagnostic(given, 0, "error", "no such file or folder"))
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and (here / d).resolve() not in skip_resolved)
            for name in sorted(filenames):
                path = here / name
                if is_ignored(name):
                    continue
                display = str(path)
                if body_format_for(name) is None:
                    diags.append(Diagnostic(display, 0, "note", "not a .txt or .md bulletin; ignored"))
                    continue
                sources.setdefault(path.resolve(), Source(path, display))
    return sorted(sources.values(), key=lambda s: s.display), diags
