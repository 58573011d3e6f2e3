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
        self._codes = {name: (code.lower() if code and name not in gazetteer.ambiguous else None)
                       for name, code in names.items()}
        # The "not after a letter, ' or ." condition is checked in `_names_in`, not by a
        # lookbehind: a pattern that starts with one cannot use the regex engine's scan for
        # its first characters, and tagging takes 2.4 times as long.
        foreign = gazetteer.foreign
        capital = [n for n in names if not n[:1].islower() and n not in foreign]
        lower = [n for n in names if n[:1].islower() or n in foreign]
        self._pattern = re.compile(r"(?:" + _trie_pattern(capital) + r")(?!\w|\.\w)")
        # Spanish, Portuguese and French demonyms ("migrantes venezolanos", "Les Haïtiens") get
        # a pattern of their own, anchored on a word start and compiled on first use: most of
        # them start in lower case, which defeats the regex engine's scan for first characters,
        # and English text has no use for any of them (see `tag`).
        self._lower_names = lower
        self._lower_compiled: re.Pattern | None = None
        # "Mexico, Missouri": a country's name, a comma and a state or province of another
        # country name a town there (checked only where a country's name is followed by ", ", " (" or
        # a word that ends town names: see `_town_of`).
        self._places = gazetteer.places
        self._place_words = gazetteer.place_words
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

    def _town_of(self, text: str, m) -> str | None:
        """The code of the country of the town whose name starts with the country's name
        matched by `m`, if the text names a state or province of another country right after it
        ("Mexico, Missouri", "Panama City, Florida", "Jordan Valley, Utah", "Armenia
        (Quindío)"): the town's country. Dictionary look-ups of the next one to four words: a
        pattern of every subdivision would cost 0.3 s to compile."""
        if not self._places:
            return None
        end = m.end()
        town = False  # whether a word that ends town names came first ("Panama City, Florida")
        after = text[end:end + 2]
        if after == ", ":
            words = text[end + 2:end + 64].split(" ")[:4]
        elif after == " (":
            words = text[end + 2:end + 64].split(")", 1)[0].split(" ")[:4]
        elif after[:1] == " ":
            # "Jordan Valley, Utah": one word that ends many town names, then a comma
            comma = text.find(", ", end + 1, end + 18)
            if comma < 0 or text[end + 1:comma] not in self._place_words:
                return None
            words = text[comma + 2:comma + 64].split(" ")[:4]
            town = True
        else:
            return None
        country = (self._codes.get(m.group()) or "").upper()
        for n in range(len(words), 0, -1):
            place = " ".join(words[:n]).rstrip(".,;:!?)")
            owner = self._places.get(place)
            if owner is not None:  # a list of countries ("Mexico, Guatemala and Peru") names no town
                if owner == country or self._codes.get(place) is not None or (owner == "-" and not town):
                    return None  # "Kenya, Northern Uganda": a name two countries' provinces bear needs "City"…
                return owner.lower()  # "-": a state or province of that name lies in two countries
        return None

    def countries_in(self, text: str, *, lower_case: bool = True) -> set[str]:
        """Codes of the countries named in `text`; `lower_case=False` leaves out the names
        that start in lower case (Spanish, Portuguese and French adjectives)."""
        folded = fold(text)
        if _is_all_caps(folded):
            found = {self._upper_codes[name] for name in _names_in(folded, self._upper_pattern.search)}
        else:
            towns: list[str] = []
            found = {self._codes[name] for name in _names_in(folded, self._pattern.search, self._town_of, towns)}
            if towns:
                found.update(towns)
                found.discard("-")  # a state or province of that name lies in two countries
            if lower_case and self._lower_names:
                if self._lower_compiled is None:  # compiled the first time a text not in English comes
                    self._lower_compiled = re.compile(r"\b(?:" + _trie_pattern(self._lower_names) + r")(?!\w|\.\w)")
                found.update(self._codes[name] for name in _lower_names_in(folded, self._lower_compiled.search))
        found.discard(None)
        return found  # type: ignore[return-value]

    def explain(self, text: str) -> list[tuple[str, str | None, str]]:
        """(words, code or None, why) for every name found in `text` and every near miss: what
        `newsletter tag` prints, so that an editor can see why an entry landed where it did."""
        folded = fold(text)
        caps = _is_all_caps(folded)
        codes = self._upper_codes if caps else self._codes
        pattern = self._upper_pattern if caps else self._pattern
        said: list[tuple[str, str | None, str]] = []
        taken: list[tuple[int, int]] = []
        pos = 0
        while (m := pattern.search(folded, pos)) is not None:
            start, name = m.start(), m.group()
            if start and (folded[start - 1].isalnum() or folded[start - 1] in "_'.") and not _elided(folded, start):
                said.append((name, None, f"not taken: part of a longer word ({folded[max(0, start - 8):m.end()]!r})"))
                pos = start + 1
                continue
            code = codes[name]
            town = None if caps else self._town_of(folded, m)
            if town is not None:
                said.append((name, None if town == "-" else town,
                             "a town: followed by a state or province of another country, which counts instead"
                             if town != "-" else "a town: followed by a state or province that two countries name"))
            elif name in self.gazetteer.ambiguous:
                said.append((name, None, "names no country in running text: a bigger city elsewhere bears the name "
                                         f"(a Countries: line still takes it for {self.gazetteer.names[name]})"))
            else:
                kind = "all-caps text" if caps else "name, alias, demonym or place (the gazetteer's table)"
                said.append((name, code, kind if code else "a phrase that names no country (an exclusion)"))
            taken.append((start, m.end()))
            pos = m.end()
        lower = {n.casefold(): n for n, c in self._codes.items() if c}
        for word in re.finditer(r"[A-Za-z][A-Za-z'-]+", folded):
            if any(a <= word.start() < b for a, b in taken):
                continue
            exact = lower.get(word.group().casefold())
            if exact is not None and exact != word.group() and not caps:
                said.append((word.group(), None, f"near miss: {exact!r} counts only as written (case matters, "
                                                 "so that ordinary words such as 'turkey' or 'chad' do not tag)"))
        return said

    def tag(self, title: str, body: str, language: str | None = None) -> tuple[str, ...]:
        """Sorted codes for an entry with this title and body. An entry known to be in English
        (`language`) is not searched for the lower-case names of other languages."""
        lower_case = not (language or "").lower().startswith("en")
        found = self.countries_in(title, lower_case=lower_case)
        for paragraph in body.split("\n\n"):
            found |= self.countries_in(paragraph, lower_case=lower_case)
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


def _names_in(text: str, search, town_of=None, towns: list[str] | None = None) -> list[str]:
    r"""Leftmost-longest matches of `search` that do not follow a word character, ' or .
    (as a `(?<![\w'.])` lookbehind would: a rejected match is retried one character on), and
    that `town_of(text, match)` does not find to be a town elsewhere (its country goes to
    `towns` instead)."""
    found = []
    pos = 0
    while (m := search(text, pos)) is not None:
        start = m.start()
        if start:
            before = text[start - 1]
            if (before.isalnum() or before in "_'.") and not _elided(text, start):
                pos = start + 1
                continue
        if town_of is not None and (town := town_of(text, m)) is not None:
            if towns is not None:
                towns.append(town)
            pos = m.end()
            continue
        found.append(m.group())
        pos = m.end()
    return found


def _lower_names_in(text: str, search) -> list[str]:
    """Matches of the lower-case pattern (anchored on a word start by `\\b`) not right after an
    apostrophe that is not an elision ("l'haïtien" is one, "aujourd'hui" is not)."""
    found = []
    pos = 0
    while (m := search(text, pos)) is not None:
        start = m.start()
        if start and text[start - 1] in "'." and not _elided(text, start):
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
