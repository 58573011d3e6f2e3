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
- tools/gazetteer-extra.tsv, by hand: aliases, exclusions (common-noun compounds such as
  "Brazil Nut"), display names, and the Spanish and Portuguese demonyms no data set has
  (masculine singular: feminine and plural forms are derived).

usage: python tools/build_gazetteer.py --world-countries PATH/countries.json
       (needs `pip install pycountry babel` and `npm pack world-countries`)
"""
from __future__ import annotations

import argparse
import gettext
import json
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "tools" / "gazetteer-extra.tsv"
OUT = ROOT / "newsletter" / "data" / "countries.tsv"
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


LANGUAGE_NAMES = {"français", "espagnol", "portugais", "allemand", "anglais", "italien", "chinois", "japonais",
                  "russe", "arabe", "néerlandais", "grec", "turc", "polonais", "suédois", "coréen", "vietnamien",
                  "danois", "norvégien", "finnois", "hongrois", "tchèque", "roumain", "bulgare", "persan", "hébreu",
                  "indonésien", "thaï", "malais", "ukrainien", "serbe", "croate", "albanais", "arménien", "géorgien"}
"""French adjectives that are also the name of a language: "en français" names no country."""


def french_forms(masculine: str, feminine: str) -> list[str]:
    """French demonyms as nouns (Haïtien, Haïtiens) and adjectives (haïtien, haïtiennes)."""
    forms = set()
    for word in {masculine, feminine}:
        plural = word if word.endswith(("s", "x")) else word + "s"
        for form in (word, plural):
            forms.add(form)
            lower = form[0].lower() + form[1:]
            if lower not in LANGUAGE_NAMES:
                forms.add(lower)
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


def generated_rows() -> list[tuple[str, str, str]]:
    translations = {
        lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in LANGUAGES
    }
    rows = []
    for country in pycountry.countries:
        code = country.alpha_2
        names = {country.name, getattr(country, "common_name", None),
                 getattr(country, "official_name", None)}
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
    args = ap.parse_args()
    extra = read_extra()
    for code, kind, name in list(extra):
        if kind in ("es-demonym", "pt-demonym"):
            lang = kind[:2]
            for form in inflect(name, lang):
                extra.append((code, f"{lang}-form", form))
                extra.append((code, f"{lang}-form", form[0].upper() + form[1:]))
    extra = [row for row in extra if row[1] not in ("es-demonym", "pt-demonym")]
    extra = [(code, kind.replace("-form", "-demonym"), name) for code, kind, name in extra]
    hand = {fold(name): code for code, kind, name in extra if kind in ("alias", "demonym", "es-demonym", "pt-demonym")}
    excluded = {fold(name) for code, kind, name in extra if kind == "exclude"}
    owners: dict[str, set[str]] = defaultdict(set)
    generated = generated_rows() + cldr_rows() + world_countries_rows(args.world_countries)
    for code, _kind, name in generated:
        owners[fold(name)].add(code)
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for code, kind, name in generated:
        key = fold(name)
        if key in hand or key in excluded or len(key) < 3:
            continue
        if len(owners[key]) > 1:  # e.g. "Corea" names both Koreas: never guess
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
    order = {"display": 0, "name": 1, "alias": 2, "demonym": 3, "es": 4, "fr": 5, "pt": 6, "es-demonym": 7,
             "fr-demonym": 8, "pt-demonym": 9, "subdivision": 10}
    places: dict[str, set[str]] = defaultdict(set)
    for code, _kind, name in subdivision_rows():
        places[fold(name)].add(code)
    for code, kind, name in subdivision_rows():
        if len(places[fold(name)]) == 1:  # a name two countries use says nothing
            out.setdefault((f"subdivision:{fold(name)}", code), (code, kind, name))
    rows = sorted(out.values(), key=lambda r: (r[0] == "-", r[0], order.get(r[1], 9), r[2]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("# Generated by tools/build_gazetteer.py from pycountry, CLDR (Babel), world-countries (ODbL)\n")
        fh.write("# and tools/gazetteer-extra.tsv.\n")
        fh.write("# code\tkind\tname   (kind: display|name|alias|demonym|es|fr|pt|es-demonym|fr-demonym|pt-demonym|"
                 "exclude|subdivision)\n")
        for code, kind, name in rows:
            fh.write(f"{code}\t{kind}\t{name}\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
