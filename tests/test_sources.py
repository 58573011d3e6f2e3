"""Which names in a bulletin folder are not bulletins."""

from __future__ import annotations

import fnmatch
import itertools

from newsletter.content.sources import IGNORED_PATTERNS, is_ignored


def test_is_ignored_says_what_fnmatch_says_of_the_ignored_patterns():
    """`is_ignored` tests names without fnmatch's regular expressions, alike."""
    pieces = ["", ".", "~", "#", "a", "4913", ".swp", ".tmp", "___jb_old___", "Thumbs.db", "desktop.ini", "\n"]
    names = {"".join(parts) for size in range(4) for parts in itertools.product(pieces, repeat=size)}
    for name in names:
        assert is_ignored(name) == any(fnmatch.fnmatchcase(name, p) for p in IGNORED_PATTERNS), repr(name)
