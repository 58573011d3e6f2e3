"""Recognise date lines in English, Spanish, French and Portuguese.

A date line is a whole line that is a date and nothing else: `26 August, 2021`,
`August 26, 2021`, `26 Aug 2021`, `2021-08-26`, `26 de agosto de 2021`, `26 août 2021`,
optionally preceded by a weekday. A month or year inside running text never matches.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

_MONTH_NAMES = {
    1: "january jan enero ene janvier janv janeiro",
    2: "february feb febrero fevrier fevr fev fevereiro",
    3: "march mar marzo mars marco",
    4: "april apr abril abr avril avr",
    5: "may mayo mai maio",
    6: "june jun junio juin junho",
    7: "july jul julio juillet juil julho",
    8: "august aug agosto ago aout",
    9: "september sep sept septiembre setiembre septembre setembro set",
    10: "october oct octubre octobre outubro out",
    11: "november nov noviembre novembre novembro",
    12: "december dec diciembre dic decembre dezembro dez",
}
MONTHS: dict[str, int] = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
    "lunes martes miercoles jueves viernes sabado domingo "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "segunda-feira terca-feira quarta-feira quinta-feira sexta-feira segunda terca quarta quinta sexta"
).split()

_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th|er|o|º|ª)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = [
    re.compile(rf"{_WEEKDAY}{_DAY}\.?\s*(?:de\s+)?{_MONTH},?\s*(?:de\s+|del\s+)?{_YEAR}\.?"),
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}\.?"),
    re.compile(r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})"),
]


_DIGIT = re.compile(r"\d").search


_LANGUAGES_OF_MONTH = {
    "en": "january february march april may june july august september october november december "
          "jan feb mar apr jun jul aug sep sept oct nov dec",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre "
          "ene feb mar abr may jun jul ago sep sept oct nov dic",
    "fr": "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre "
          "janv fevr fev avr juil sept oct nov dec",
    "pt": "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro "
          "jan fev mar abr mai jun jul ago set out nov dez",
}
_LANGUAGES_OF_WEEKDAY = {
    "en": "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun",
    "es": "lunes martes miercoles jueves viernes sabado domingo",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "pt": "segunda-feira terca-feira quarta-feira quinta-feira sexta-feira segunda terca quarta quinta sexta sabado domingo",
}


def _by_word(table: dict[str, str]) -> dict[str, frozenset[str]]:
    words: dict[str, set[str]] = {}
    for lang, names in table.items():
        for name in names.split():
            words.setdefault(name, set()).add(lang)
    return {w: frozenset(langs) for w, langs in words.items()}


_MONTH_LANGUAGES = _by_word(_LANGUAGES_OF_MONTH)
_WEEKDAY_LANGUAGES = _by_word(_LANGUAGES_OF_WEEKDAY)


@functools.lru_cache(maxsize=4096)  # a bulletin repeats its date lines: each is read once
def date_language(folded: str, month: str | None) -> str | None:
    """The language a date line is written in, when its words say so unambiguously
    (`26 August 2021` en, `mardi 26 août 2021` fr, `26 de agosto del 2021` es); else None."""
    if month is None:
        return None
    langs = set(_MONTH_LANGUAGES.get(month, ()))
    for word in re.findall(r"[a-z-]+", folded):
        if word in _WEEKDAY_LANGUAGES:
            langs &= _WEEKDAY_LANGUAGES[word]
        elif word == "del":
            langs &= {"es"}
        elif word == "de":
            langs &= {"es", "pt"}
    return next(iter(langs)) if len(langs) == 1 else None


@dataclass(frozen=True, slots=True)
class DateLine:
    """A line that has the shape of a date; `date` is None when the date is impossible."""

    date: dt.date | None
    text: str
    language: str | None = None
    """The language its words are in, when they say (see `date_language`)."""


def _fold(line: str) -> str:
    decomposed = unicodedata.normalize("NFKD", line.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def match_date_line(line: str) -> DateLine | None:
    """Return a DateLine if the whole line is a date (possibly impossible), else None."""
    stripped = line.strip()
    if not stripped or len(stripped) > 40 or _DIGIT(stripped) is None:
        return None
    folded = stripped.lower() if stripped.isascii() else _fold(stripped)
    for pattern in _PATTERNS:
        m = pattern.fullmatch(folded)
        if m is None:
            continue
        groups = m.groupdict()
        month = int(groups["mnum"]) if groups.get("mnum") else MONTHS[groups["month"]]
        language = date_language(folded, groups.get("month"))
        try:
            return DateLine(dt.date(int(groups["year"]), month, int(groups["day"])), stripped, language)
        except ValueError:
            return DateLine(None, stripped, language)
    return None
