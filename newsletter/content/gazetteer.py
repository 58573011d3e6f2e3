"""The country gazetteer: every ISO 3166-1 country with its names, aliases and demonyms.

All data lives in one table, `newsletter/data/countries.tsv` (regenerate it with
`tools/build_gazetteer.py`). This module loads it and answers look-ups by name or code.
"""

from __future__ import annotations

import json
import marshal
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

_QUOTES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u00ad": None,
    }
)


# The package's data folder, read through a Path (as fingerprint.py does): importlib.resources
# would import tempfile, shutil, bz2, lzma, random and zipfile (~5 ms before the first fork).
DATA = Path(__file__).resolve().parent.parent / "data"

_REPLACE = tuple((chr(old), new or "") for old, new in _QUOTES.items())


def fold(text: str) -> str:
    """Accent-free ASCII form used for matching (case is kept)."""
    if text.isascii() and "`" not in text:
        return text
    for old, new in _REPLACE:  # str.replace: a dozen times quicker than translate() on a body
        if old in text:
            text = text.replace(old, new)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii")


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """Country names by code, and codes by name; `None` marks a phrase that names no country."""

    display: Mapping[str, str]
    """ISO alpha-2 code (upper case) → English display name."""
    names: Mapping[str, str | None]
    """Folded name → code; None for exclusions such as "New Mexico" or "Latin American"."""
    demonyms: frozenset[str] = frozenset()
    places: Mapping[str, str] = field(default_factory=dict)
    """Folded first-level subdivision name (state, province…) → the code of its country."""
    foreign: frozenset[str] = frozenset()
    """Folded Spanish, French and Portuguese demonyms ("venezolanos", "Haitiens")."""
    place_words: frozenset[str] = frozenset()
    """Words that end many town names ("Valley", "Springs"): "Jordan Valley, Utah" is a town."""
    ambiguous: frozenset[str] = frozenset()
    """Names that in running text name no country, a bigger city elsewhere bearing them
    ("Granada", "Salvador"), though a `Countries:` line may still list them."""
    languages: frozenset[str] = frozenset()
    """Names that are also a language's ("German", "Dutch"): not taken where the words around say a language."""
    first_names: frozenset[str] = frozenset()
    """Names that are also common first names ("Jordan", "Kenya"): followed by a surname, a person."""
    english_words: frozenset[str] = frozenset()
    """Lower-case forms of `foreign` names that are common English words ("american"): those count
    only in text that is not English."""
    compounds: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Compound common nouns built on a name (WordNet's "French fries", "Brussels sprouts"): the
    name → the words that follow it in them, case-folded ("fries", "sprout", "sprouts")."""
    cities: frozenset[str] = frozenset()
    """Folded names of cities ("Tripoli", "Nairobi"): followed by ", " and another country's name
    ("Tripoli, Lebanon"), a town of that name there."""
    finder: list | None = field(default=None, repr=False)
    """The tagger's table of the first bytes of `names` (`tagger.finder_table`), as
    data/gazetteer.marshal holds it for the bundled names; None: the tagger makes it."""

    @cached_property
    def _by_casefold(self) -> dict[str, str]:
        """Codes by case-folded name, made the first time a `Countries:` line is read."""
        table: dict[str, str] = {}
        for name, code in self.names.items():
            if code is not None:
                table.setdefault(name.casefold(), code)
        for code, name in self.display.items():
            table.setdefault(fold(name).casefold(), code)
        return table

    def is_code(self, code: str) -> bool:
        return code.upper() in self.display

    def lookup(self, name: str) -> str | None:
        """Code for a country name or ISO alpha-2 code, case- and accent-insensitive."""
        stripped = " ".join(name.split())
        if len(stripped) == 2 and stripped.upper() in self.display:
            return stripped.upper()
        folded = fold(stripped).casefold()
        # "EE.UU.", "É.-U.": the table writes initials without the last point, as text reads them
        return self._by_casefold.get(folded) or self._by_casefold.get(folded.rstrip("."))

    def with_overrides(self, aliases: Mapping[str, str], exclusions: list[str]) -> Gazetteer:
        """A copy with configured aliases (name → code) and excluded phrases added."""
        names = dict(self.names)
        for name, code in aliases.items():
            names[fold(name)] = code.upper()
        for phrase in exclusions:
            names[fold(phrase)] = None
        return Gazetteer(
            self.display,
            names,
            self.demonyms,
            self.places,
            self.foreign,
            self.place_words,
            self.ambiguous,
            self.languages,
            self.first_names,
            self.english_words,
            self.compounds,
            self.cities,
        )


_SETS = ("demonyms", "foreign", "place_words", "ambiguous", "languages", "first_names", "english_words", "cities")


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Load the bundled country table: `data/gazetteer.marshal`, which tools/build_gazetteer.py
    writes beside `data/countries.tsv` and `data/gazetteer.json` as `read_table` reads that table
    (the JSON in a third of the time, the marshal form, the same values, in two thirds of that:
    3.2 ms against 4.6 a start; tests check the three agree)."""
    data = marshal.loads((DATA / "gazetteer.marshal").read_bytes())
    return Gazetteer(
        data["display"],
        data["names"],
        places=data["places"],
        compounds={head: frozenset(rests) for head, rests in data["compounds"].items()},
        finder=data["finder"],
        **{key: frozenset(data[key]) for key in _SETS},
    )


def _table_data(gazetteer: Gazetteer) -> dict:
    """The gazetteer as plain dicts and sorted lists (what `table_json` and `table_marshal` write)."""
    return {
        "display": dict(gazetteer.display),
        "names": dict(gazetteer.names),
        "places": dict(gazetteer.places),
        "compounds": {head: sorted(rests) for head, rests in gazetteer.compounds.items()},
        **{key: sorted(getattr(gazetteer, key)) for key in _SETS},
    }


def table_json(gazetteer: Gazetteer) -> str:
    """The JSON form of a gazetteer (sorted: the same table, the same bytes)."""
    return json.dumps(_table_data(gazetteer), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def table_marshal(gazetteer: Gazetteer, finder_table: Callable[[list[str]], list]) -> bytes:
    """The marshal form of a gazetteer that `load_gazetteer` reads: the values of its JSON form,
    keys in the same order, and the tagger's table of its names' first bytes, as
    `finder_table` (`tagger.finder_table`) makes it of the names in that order."""
    data = json.loads(table_json(gazetteer))
    data["finder"] = finder_table(list(data["names"]))
    return marshal.dumps(data, 4)


def read_table(text: str) -> Gazetteer:
    """A gazetteer from the text of a table in the format of `data/countries.tsv`."""
    display: dict[str, str] = {}
    names: dict[str, str | None] = {}
    demonyms: set[str] = set()
    places: dict[str, str] = {}
    foreign: set[str] = set()
    ambiguous: set[str] = set()
    place_words: set[str] = set()
    languages: set[str] = set()
    first_names: set[str] = set()
    english_words: set[str] = set()
    other: set[str] = set()
    cities: list[tuple[str, str]] = []
    city_names: set[str] = set()
    phrases: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, kind, name = line.split("\t")
        if kind == "display":
            display[code] = name
            names.setdefault(fold(name), code)
            other.add(fold(name))
        elif kind == "exclude":
            names[fold(name)] = None
        elif kind == "compound":  # "French fries": split after the longest name it starts with, below
            phrases.append(fold(name))
        elif kind == "subdivision":
            places[fold(name)] = code
        elif kind == "place-word":
            place_words.add(name)
        elif kind == "language":
            languages.add(fold(name))
        elif kind == "first-name":
            first_names.add(name)
        elif kind == "english-word":
            english_words.add(name)
        elif kind in ("city", "abbreviation"):  # "Nairobi", "EE.UU.": after every name of the table
            cities.append((fold(name), code))
            if kind == "city":
                city_names.add(fold(name))
        elif kind == "place" and code == "-":  # "Granada" in running text is the city in Spain
            if fold(name) in names:
                ambiguous.add(fold(name))
            else:  # places of that name lie in several countries
                names[fold(name)] = None
        elif kind == "place":  # "Port of Spain" is tt, not es
            names[fold(name)] = code
        elif kind.endswith(("-demonym", "-form")):
            names.setdefault(fold(name), code)
            foreign.add(fold(name))
        else:
            key = fold(name)
            names.setdefault(key, code)
            other.add(key)
            if kind == "demonym":
                demonyms.add(key)
    for key, code in cities:
        names.setdefault(key, code)
    # Plural demonyms ("Mexicans", "Belizeans") name the same country.
    for key in list(demonyms):
        if not key.endswith(("s", "sh", "ch", "ese", "i", "x", "z")):
            names.setdefault(key + "s", names[key])
            other.add(key + "s")
    foreign -= other  # a spelling that is also an English name or demonym stays in the main pattern
    compounds: dict[str, set[str]] = {}
    for phrase in phrases:
        words = phrase.split(" ")
        n = next((n for n in range(len(words) - 1, 0, -1) if names.get(" ".join(words[:n]))), 0)
        if n:  # (a table without its cities has no "Brussels" to guard)
            compounds.setdefault(" ".join(words[:n]), set()).add(" ".join(words[n:]).casefold())
    return Gazetteer(
        display,
        names,
        frozenset(demonyms),
        places,
        frozenset(foreign),
        frozenset(place_words),
        frozenset(ambiguous),
        frozenset(languages),
        frozenset(first_names),
        frozenset(english_words),
        {head: frozenset(rests) for head, rests in compounds.items()},
        frozenset(city_names),
    )
