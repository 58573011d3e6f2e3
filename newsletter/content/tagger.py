"""Find the countries an entry is about.

One compiled pattern (a character trie of every folded name in the gazetteer) scans each
text once, leftmost-longest, so "Papua New Guinea" beats "Guinea" and "New Mexico" (an
exclusion) beats "Mexico". Matching is case-sensitive, so names that are also ordinary
words ("turkey", "chad") count only when capitalised; all-caps text is matched separately.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from newsletter.content.gazetteer import Gazetteer, fold


def _trie_pattern(words: Iterable[str]) -> str:
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?" if len(branches) > 1 or len(body) > 1 else body + "?"
        return body

    return emit(trie)


class Tagger:
    """Tags texts with ISO 3166-1 alpha-2 codes (lower case)."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        names = gazetteer.names
        self._codes = {name: (code.lower() if code else None) for name, code in names.items()}
        # The "not after a letter, ' or ." condition is checked in `_names_in`, not by a
        # lookbehind: a pattern that starts with one cannot use the regex engine's scan for
        # its first characters, and tagging takes 2.4 times as long.
        self._pattern = re.compile(r"(?:" + _trie_pattern(names) + r")(?!\w|\.\w)")
        upper: dict[str, str | None] = {}
        for name, code in self._codes.items():
            # Two-letter names in capitals ("US") are ordinary words in an all-caps headline.
            if len(name) > 3 or code is None:
                upper.setdefault(name.upper(), code)
        self._upper_codes = upper
        self._upper_compiled: re.Pattern | None = None

    @property
    def _upper_pattern(self) -> re.Pattern:
        """The pattern for all-caps text, compiled the first time such text is seen."""
        if self._upper_compiled is None:
            self._upper_compiled = re.compile(r"(?:" + _trie_pattern(self._upper_codes) + r")(?!\w|\.\w)")
        return self._upper_compiled

    def countries_in(self, text: str) -> set[str]:
        """Codes of the countries named in `text`."""
        folded = fold(text)
        if _is_all_caps(folded):
            found = {self._upper_codes[name] for name in _names_in(folded, self._upper_pattern.search)}
        else:
            found = {self._codes[name] for name in _names_in(folded, self._pattern.search)}
        found.discard(None)
        return found  # type: ignore[return-value]

    def tag(self, title: str, body: str) -> tuple[str, ...]:
        """Sorted codes for an entry with this title and body."""
        found = self.countries_in(title)
        for paragraph in body.split("\n\n"):
            found |= self.countries_in(paragraph)
        return tuple(sorted(found))

    def resolve(self, value: str) -> tuple[tuple[str, ...], list[str]]:
        """Codes for a `Countries:` value such as "Mexico, PA"; also the names not understood."""
        codes, unknown = [], []
        for item in re.split(r"[,;]", value):
            item = item.strip()
            if not item or item.lower() in ("none", "-", "regional"):
                continue
            code = self.gazetteer.lookup(item)
            if code is None:
                unknown.append(item)
            else:
                codes.append(code.lower())
        return tuple(codes), unknown


def _names_in(text: str, search) -> list[str]:
    r"""Leftmost-longest matches of `search` that do not follow a word character, ' or .
    (as a `(?<![\w'.])` lookbehind would: a rejected match is retried one character on)."""
    found = []
    pos = 0
    while (m := search(text, pos)) is not None:
        start = m.start()
        if start:
            before = text[start - 1]
            if (before.isalnum() or before in "_'.") and not _elided(text, start):
                pos = start + 1
                continue
        found.append(m.group())
        pos = m.end()
    return found


def _elided(text: str, start: int) -> bool:
    """A name right after French `l'` or `d'` ("l'Algérie", "d'Équateur"): the apostrophe
    (straight or curly, folded to ') belongs to the article, not to the name."""
    if start < 2 or text[start - 1] != "'" or text[start - 2] not in "lLdD":
        return False
    return start == 2 or not text[start - 3].isalnum()


def _is_all_caps(text: str) -> bool:
    return text.isupper() and sum(c.isalpha() for c in text[:64]) >= 4
