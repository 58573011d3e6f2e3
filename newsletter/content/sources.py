"""Find bulletin files in the folders and files given on the command line.

Only regular files (or links to them) are bulletins. Anything else that a folder may hold —
a FIFO, a socket or device, a link to nothing, a link loop — is skipped with one line, and never
opened (reading a FIFO waits for a writer forever, holding the build lock). A sub-folder that
cannot be read is said, not silently left out; every other bulletin is still published.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from newsletter.content.parse import body_format_for
from newsletter.diagnostics import Diagnostic

# Editor and system temp files: never bulletins, never worth a note.
IGNORED_PATTERNS = (
    ".*",
    "*~",
    "*.swp",
    "*.swx",
    "*.swo",
    "#*#",
    "4913",
    "*___jb_tmp___",
    "*___jb_old___",
    "*.tmp",
    "*.bak",
    "*.orig",
    "*.part",
    "*.crdownload",
    "Thumbs.db",
    "desktop.ini",
)


def _split_patterns(
    patterns: tuple[str, ...],
) -> tuple[frozenset[str], tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """`patterns` as (whole names, suffixes of "*SUFFIX", (prefix, suffix) of "PREFIX*SUFFIX",
    the others for fnmatch): fnmatch compiles a regular expression for each pattern, 16 of them
    ~2 ms at every start; these match the same names."""
    names, suffixes, both, others = set(), [], [], []
    for pattern in patterns:
        if any(c in pattern for c in "?[]"):
            others.append(pattern)
            continue
        parts = pattern.split("*")
        if len(parts) == 1:
            names.add(pattern)
        elif len(parts) == 2 and not parts[0]:
            suffixes.append(parts[1])
        elif len(parts) == 2:
            both.append((parts[0], parts[1]))
        else:
            others.append(pattern)
    return frozenset(names), tuple(suffixes), tuple(both), tuple(others)


_NAMES, _SUFFIXES, _BOTH, _OTHERS = _split_patterns(IGNORED_PATTERNS)


def is_ignored(name: str) -> bool:
    """True for editor temp files, backups and hidden files (what fnmatch.fnmatchcase says of
    `IGNORED_PATTERNS`)."""
    return (
        name in _NAMES
        or name.endswith(_SUFFIXES)
        or any(len(name) >= len(a) + len(b) and name.startswith(a) and name.endswith(b) for a, b in _BOTH)
        or any(fnmatch.fnmatchcase(name, pattern) for pattern in _OTHERS)
    )


@dataclass(frozen=True, slots=True)
class Source:
    """A bulletin file: its path on disk and the name used for it in messages."""

    path: Path
    display: str


def _not_a_file(path: Path) -> str | None:
    """Why `path` is not a bulletin file to read (None: it is a regular file)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop; skipped"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f"a symbolic link to nothing ({os.readlink(path)}); skipped"
        return f"cannot read: {exc.strerror or exc}; skipped"
    if stat.S_ISREG(mode):
        return None
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode))
        else "not a regular file"
    )
    return f"{kind}, not a bulletin file; skipped (never opened)"


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop somewhere above it: the path as given
        return path.absolute()


def find_sources(
    inputs: list[str], *, skip: list[Path] | tuple[Path, ...] = ()
) -> tuple[list[Source], list[Diagnostic]]:
    """Bulletin files under `inputs`, sorted, and notes about files that were not read."""
    sources: dict[Path, Source] = {}
    diags: list[Diagnostic] = []
    skip_resolved = [_key(p) for p in skip]
    for given in inputs:
        root = Path(given)
        if root.is_dir():
            _walk(root, skip_resolved, sources, diags)
            continue
        if not os.path.lexists(root):
            diags.append(Diagnostic(given, 0, "error", "no such file or folder"))
            continue
        if body_format_for(root.name) is None:
            diags.append(Diagnostic(given, 0, "note", "not a .txt or .md bulletin; ignored"))
            continue
        why = _not_a_file(root)
        if why is not None:
            diags.append(Diagnostic(given, 0, "warning" if "never opened" in why else "error", why))
            continue
        sources.setdefault(_key(root), Source(root, given))
    return sorted(sources.values(), key=lambda s: s.display), diags


def _walk(root: Path, skip_resolved: list[Path], sources: dict[Path, Source], diags: list[Diagnostic]) -> None:
    def unreadable(exc: OSError) -> None:
        where = exc.filename or str(root)
        diags.append(
            Diagnostic(
                str(where),
                0,
                "error",
                f"cannot read this folder ({exc.strerror or exc}); the bulletins in it are not published",
            )
        )

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and _key(here / d) not in skip_resolved)
        for name in sorted(filenames):
            path = here / name
            if is_ignored(name):
                continue
            display = str(path)
            if body_format_for(name) is None:
                diags.append(Diagnostic(display, 0, "note", "not a .txt or .md bulletin; ignored"))
                continue
            why = _not_a_file(path)
            if why is not None:
                diags.append(Diagnostic(display, 0, "warning" if "never opened" in why else "error", why))
                continue
            sources.setdefault(_key(path), Source(path, display))
