"""Recognise date lines in English, Spanish, French and Portuguese.

A date line is a whole line that is a date and nothing else (one full stop or comma may follow): `26 August, 2021`,
`August 26, 2021`, `26 Aug 2021`, `2021-08-26`, `26 de agosto de 2021`, `26 août 2021`,
optionally preceded by a weekday. A month or year inside running text never matches.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import NamedTuple

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
_WEEKDAY = r"(?:(?P<weekday>" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\.?,?\s+)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th|er|o|º|ª)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = [
    re.compile(rf"{_WEEKDAY}{_DAY}\.?\s*(?:de\s+)?{_MONTH},?\s*(?:de\s+|del\s+)?{_YEAR}[.,]?"),
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+{_YEAR}[.,]?"),
    re.compile(r"(?P<year>\d{4})-(?P<mnum>\d{1,2})-(?P<day>\d{1,2})[.,]?"),
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
def date_languages(folded: str, month: str | None) -> frozenset[str]:
    """The languages a date line's words can be in (`15 de abril de 2025`: es and pt; `26 de
    agosto del 2021`: es); empty without a month name."""
    if month is None:
        return frozenset()
    langs = set(_MONTH_LANGUAGES.get(month, ()))
    for word in re.findall(r"[a-z-]+", folded):
        if word in _WEEKDAY_LANGUAGES:
            langs &= _WEEKDAY_LANGUAGES[word]
        elif word == "del":
            langs &= {"es"}
        elif word == "de":
            langs &= {"es", "pt"}
    return frozenset(langs)


def _date_languages(folded: str, m: re.Match[str], month: str | None) -> frozenset[str]:
    """`date_languages(folded, month)` of a line that `m`, a match of one of `_PATTERNS`, matched
    whole: asked with its day and year (its only digits) written 0, which changes none of its
    words, so that every date of a month in one form shares one entry of the cache."""
    if month is None:
        return frozenset()
    (day, day_end), (year, year_end) = m.span("day"), m.span("year")  # the day comes first
    return date_languages(folded[:day] + "0" + folded[day_end:year] + "0" + folded[year_end:], month)


class DateLine(NamedTuple):
    """A line that has the shape of a date; `date` is None when the date is impossible.
    Immutable (a NamedTuple: made three times as fast as a frozen dataclass, once a date line)."""

    date: dt.date | None
    text: str
    language: str | None = None
    """The language its words are in, when they say (see `date_languages`)."""
    problem: str | None = None
    """Why a line shaped like a date is not one ("'Agust' is not a month…"); `date` is None."""
    languages: frozenset[str] = frozenset()
    """The languages its words can be in, when they do not say which (`15 de abril`: es, pt)."""


@functools.lru_cache(maxsize=4096)
def _is_mark(c: str) -> bool:
    return unicodedata.combining(c) != 0


def fold(line: str) -> str:
    """Lower case without accents (`Perú` → `peru`)."""
    decomposed = unicodedata.normalize("NFKD", line.strip().lower())
    if decomposed.isascii():
        return decomposed
    # Each distinct combining mark (an accent once decomposed: a handful in a text) removed at
    # once, rather than a generator asking `unicodedata` about every character: three times as
    # fast on an accented paragraph; the same string.
    # Its non-ASCII characters are those of its UTF-8 without the ASCII bytes (no byte of a
    # multi-byte character is one): a set of a few characters rather than of every one.
    others = decomposed.encode("utf-8", "surrogatepass").translate(None, _ASCII).decode("utf-8", "surrogatepass")
    for mark in {c for c in set(others) if _is_mark(c)}:
        decomposed = decomposed.replace(mark, "")
    return decomposed


_ASCII = bytes(range(0x80))


def could_be_date_line(stripped: str) -> bool:
    """Whether a stripped line passes the first test of `match_date_line` and `near_date_line`
    (both return None for any other): at most 40 characters, a digit among them."""
    return 0 < len(stripped) <= 40 and _DIGIT(stripped) is not None


def match_date_line(line: str) -> DateLine | None:
    """Return a DateLine if the whole line is a date (possibly impossible), else None."""
    stripped = line.strip()
    if not stripped or len(stripped) > 40 or _DIGIT(stripped) is None:
        return None
    return match_possible_date_line(stripped)


def match_possible_date_line(stripped: str) -> DateLine | None:
    """`match_date_line` of a stripped line that `could_be_date_line` says could be one (what
    the parser asks of each short line: its tests are not made twice)."""
    # Every one of `_PATTERNS` ends with a digit, or a digit and "." or ",": a line that ends
    # otherwise in ASCII (which folding keeps last) is none, as a title with a number is not
    # ("Floods Hit 3 Towns (2)"), known without folding it or trying each pattern.
    last = stripped[-1]
    if last in ".," and len(stripped) > 1:
        last = stripped[-2]
    if last < "\x80" and not "0" <= last <= "9":
        return None
    return _date_line(stripped)


_ZEROS = str.maketrans("123456789", "000000000")
_ZERO_BYTES = bytes.maketrans(b"123456789", b"000000000")
"""`_ZEROS` for the bytes of an ASCII line: str.translate asks a dict for each character (760
ns for a date line), bytes.translate reads a table (110 ns with the encoding and decoding)."""


class _Shape(NamedTuple):
    """What `_date_line` learns of a folded line from its shape (its digits written 0): which
    of `_PATTERNS` matches it, where its numbers stand, and its words' month and languages."""

    pattern: int
    day: tuple[int, int]
    year: tuple[int, int]
    mnum: tuple[int, int] | None
    month: int
    language: str | None
    languages: frozenset[str]
    weekday: int | None


@functools.lru_cache(maxsize=4096)
def _shape(zeroed: str) -> _Shape | None:
    """The `_Shape` of every folded line that is `zeroed` with its ASCII digits written 0 (no
    part of `_PATTERNS` but `\\d` reads a digit, so that all of them match it alike), or None."""
    for index, pattern in enumerate(_PATTERNS):
        m = pattern.fullmatch(zeroed)
        if m is None:
            continue
        name, mnum, weekday = m.groupdict().get("month"), None, m.groupdict().get("weekday")
        if name is None:
            mnum = m.span("mnum")
        langs = _date_languages(zeroed, m, name)
        return _Shape(
            index,
            m.span("day"),
            m.span("year"),
            mnum,
            MONTHS[name] if name is not None else 0,
            next(iter(langs)) if len(langs) == 1 else None,
            langs if len(langs) > 1 else frozenset(),
            _WEEKDAY_NUMBERS[weekday] if weekday is not None else None,
        )
    return None


@functools.lru_cache(maxsize=8192)  # a bulletin repeats its date lines (DateLine is immutable)
def _date_line(stripped: str) -> DateLine | None:
    if stripped.isascii():
        folded = stripped.lower()
        zeroed = folded.encode("ascii").translate(_ZERO_BYTES).decode("ascii")
    else:
        folded = fold(stripped)
        zeroed = folded.translate(_ZEROS)
    shape = _shape(zeroed)  # (the patterns were tried on another line of its shape)
    if shape is None:
        return None
    language, open_langs = shape.language, shape.languages
    month = int(folded[shape.mnum[0] : shape.mnum[1]]) if shape.mnum is not None else shape.month
    try:
        day = dt.date(int(folded[shape.year[0] : shape.year[1]]), month, int(folded[shape.day[0] : shape.day[1]]))
    except ValueError:
        return DateLine(None, stripped, language, languages=open_langs)
    if shape.weekday is None or shape.weekday == day.weekday():
        return _new_date_line(DateLine, (day, stripped, language, None, open_langs))  # (the common case)
    m = _PATTERNS[shape.pattern].fullmatch(folded)
    assert m is not None
    return DateLine(None, stripped, language, _wrong_weekday(stripped, m, day), open_langs)


_new_date_line = tuple.__new__  # DateLine(...) binds its five arguments in Python: twice the time
assert tuple(DateLine.__annotations__) == ("date", "text", "language", "problem", "languages")


_WEEKDAY_NUMBERS = {
    name: number % 7
    for names in (
        "monday tuesday wednesday thursday friday saturday sunday",
        "mon tue wed thu fri sat sun",
        "lunes martes miercoles jueves viernes sabado domingo",
        "lundi mardi mercredi jeudi vendredi samedi dimanche",
        "segunda-feira terca-feira quarta-feira quinta-feira sexta-feira sabado domingo",
        "segunda terca quarta quinta sexta sabado domingo",
    )
    for number, name in enumerate(names.split())
}
_WEEKDAY_NUMBERS.update(tues=1, thur=3, thurs=3)


def _wrong_weekday(stripped: str, m: re.Match[str], day: dt.date) -> str:
    """`'Thursday' is not the weekday of 3 June 2026 (did you mean 'Wednesday'?)`: like a
    mistyped weekday, an error, since either the weekday or the day is wrong."""
    same = len(stripped) == len(m.string)
    typed = stripped[m.start("weekday") : m.end("weekday")] if same else m.group("weekday")
    rest = (stripped[m.end("weekday") :] if same else m.string[m.end("weekday") :]).lstrip(". ,")
    lang = min(_WEEKDAY_LANGUAGES.get(m.group("weekday"), frozenset({"en"})))
    right = _FULL_WEEKDAYS[lang].split()[day.weekday()]
    if typed[:1].isupper():
        right = right[0].upper() + right[1:]
    elif typed[:1].islower():
        right = right.lower()
    return f"{typed!r} is not the weekday of {rest} (did you mean {right!r}?)"


_FULL_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
_SPELLINGS = {fold(name): name for names in _FULL_MONTHS.values() for name in names.split()}
_WORD = r"(?P<word>[^\W\d_]{3,12})\.?"
_LOOSE = [  # the shapes of `_PATTERNS` with any word for the month and the year optional
    re.compile(rf"{_WEEKDAY}{_DAY}\.?\s*(?:de\s+)?{_WORD},?\s*(?:(?:de\s+|del\s+)?{_YEAR})?\.?"),
    re.compile(rf"{_WEEKDAY}{_WORD}\s+{_DAY}(?:,?\s+{_YEAR})?\.?"),
]
_FIRST_WORD = re.compile(r"(?P<word>[^\W\d_]{3,14})\.?,?\s+(?P<rest>.*\d.*)")
_NUMERIC = re.compile(r"\d{4}[/.]\d{1,2}[/.]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}")
_DASHED = re.compile(rf"\d{{1,2}}[/-]{_MONTH}[/-]\d{{4}}")  # "20-June-2026", "20/jun/2026"
_TAIL_WORDS = re.compile(r"\s*[-\u2013\u2014|]\s+(?:[^\W\d_]+\s*){1,3}")  # "2026 - updated"
_TAIL_BRACKETS = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")  # "2026 (updated)"
_LOOKALIKES = str.maketrans("OoIl", "0011")  # letters typed for digits: "2O26", "2026-06-1O"
_MIXED = re.compile(r"\b(?=[0-9OoIl]*\d)(?=[0-9OoIl]*[OoIl])[0-9OoIl]{2,}\b")
_BAD_YEAR = [  # the shapes of `_PATTERNS` with a year of other than four digits, or "of"
    re.compile(rf"{_WEEKDAY}{_DAY}\.?\s*(?:de\s+|of\s+)?{_MONTH},?\s*(?:de\s+|del\s+)?(?P<year>'?\d{{1,6}})\.?"),
    re.compile(rf"{_WEEKDAY}{_MONTH}\s+{_DAY},?\s+(?P<year>'?\d{{1,6}})\.?"),
    re.compile(r"(?P<year>\d{2,3}|\d{5,6})-(?P<mnum>0?[1-9]|1[0-2])-(?P<day>\d{1,2})"),
]
_FULL_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo",
}
_WEEKDAY_SPELLINGS = {fold(name): name for names in _FULL_WEEKDAYS.values() for name in names.split()}


def _closest(word: str, spellings: dict[str, str], typed: str) -> str | None:
    """The spelling in `spellings` one or two letters away from `word` (none of another length),
    in the case `typed` is written in."""
    import difflib  # here: only a misspelt month or weekday needs it (~1 ms of every start)

    close = [c for c in difflib.get_close_matches(word, spellings, n=3, cutoff=0.75) if abs(len(c) - len(word)) <= 1]
    if not close:
        return None
    order = list(spellings)  # English first, then Spanish, French, Portuguese
    best = max(close, key=lambda c: (difflib.SequenceMatcher(None, word, c).ratio(), -order.index(c)))
    suggestion = spellings[best]
    if typed[:1].isupper():
        return suggestion[0].upper() + suggestion[1:]
    return suggestion.lower() if typed[:1].islower() else suggestion


def _year_guess(year: str) -> str | None:
    """The one year from 1900 to 2099 that a digit more or less makes of `year` ("226", "20266":
    2026), or None."""
    digits = year.lstrip("'")
    if len(digits) == 2:
        return "20" + digits
    guesses = {digits[:i] + digits[i + 1 :] for i in range(len(digits))}
    guesses |= {digits[:i] + d + digits[i:] for i in range(len(digits) + 1) for d in "0123456789"}
    years = sorted(g for g in guesses if len(g) == 4 and 1900 <= int(g) <= 2099)
    return years[0] if len(years) == 1 else None


def _shape_problem(stripped: str, folded: str) -> str | None:
    """What is wrong with a line shaped like a date whose digits or year are mistyped: a letter
    for a digit ("8 June, 2O26"), a year of other than four digits ("10 June 226", "3 June '26"),
    "3rd of June 2026"; None for any other line."""
    digits = _MIXED.sub(lambda m: m.group().translate(_LOOKALIKES), stripped)
    if digits != stripped and match_date_line(digits) is not None:
        return f"{stripped!r} has a letter for a digit (did you mean {digits!r}?)"
    if digits != stripped and (both := near_date_line(digits)) is not None and both.problem:
        return f"{stripped!r} has a letter for a digit, and {both.problem}"  # "8 Mya, 2O27"
    for pattern in _BAD_YEAR:
        m = pattern.fullmatch(folded)
        if m is None:
            continue
        year = m.group("year")
        guess = _year_guess(year)
        fixed: str | None = stripped[: m.start("year")] + guess + stripped[m.end("year") :] if guess else None
        if " of " in folded and (fixed or len(year) == 4):
            fixed = re.sub(r"\s+of\s+", " ", fixed or stripped, count=1, flags=re.IGNORECASE)
        if fixed is not None and match_date_line(fixed) is None:
            fixed = None
        if len(year) == 4 and fixed is None:
            return None
        hint = f" (did you mean {fixed!r}?)" if fixed else ""
        if len(year) == 4:
            return f"{stripped!r} is not a date line newsletter reads{hint}"
        return f"{year!r} in date line {stripped!r} is not a four-digit year{hint}"
    return None


def _tail_problem(stripped: str, folded: str) -> str | None:
    """`'x' after the date is not part of a date line` for a line that starts with a whole date
    and goes on with what no date line has: characters run on to it ("2026-06-05x"),
    punctuation ("8 June 2026;"), a number ("11 June 2026 2026"), a bracket ("(updated)") or a
    dash and at most three words ("- updated"); None for any other line, such as a sentence
    ("8 June 2026 was the day the river rose.")."""
    for pattern in _PATTERNS:
        m = pattern.match(folded)
        if m is None or match_date_line(m.group()) is None:
            continue
        tail = folded[m.end() :]
        rest = tail.strip()
        if not rest:
            continue
        glued = tail[:1].isalnum()
        if not (
            glued
            or not any(c.isalnum() for c in rest)
            or rest.isdigit()
            or _TAIL_BRACKETS.fullmatch(tail)
            or _TAIL_WORDS.fullmatch(tail)
        ):
            return None
        typed = stripped[len(stripped) - len(tail) :].strip() if len(stripped) == len(folded) else rest
        return f"{typed!r} after the date is not part of a date line"
    return None


def _starts_with_digit(stripped: str) -> list[bool]:
    """Whether each of the first four words of an ASCII line starts with a digit. Every shape
    `near_date_line` reads has a word that does among them: a day or a year first, after a
    weekday, after a month or another word ("2 Agust 2025", "Mnday, 3 March 2025"), or a word,
    a weekday and a month before it ("Xday, Monday March 3, 2025"); or a letter typed for a
    digit (`_MIXED`), which that test leaves to the shapes themselves."""
    return [word[:1].isdigit() for word in stripped.split(None, 4)[:4]]


def near_date_line(line: str, alone: bool = True, title: bool = False) -> DateLine | None:
    """A line that has the shape of a date line but is not one: a day, a word and a year where
    the word is a misspelt month ("2 Agust 2025", "14 Mrach 2025", "28 Febuary, 2025"), or a
    day and a month without a year ("14 March"), or a whole date with more after it ("8 June
    2026x", "12 June 2026 (updated)") unless the line stands where a title does (`title`). The
    DateLine's `problem` says what is wrong; None for anything else (call it only for lines that
    `match_date_line` did not take)."""
    stripped = line.strip()
    if not stripped or len(stripped) > 40 or _DIGIT(stripped) is None:
        return None
    if stripped.isascii() and _MIXED.search(stripped) is None and not any(_starts_with_digit(stripped)):
        return None  # a title such as "Floods Hit the Coast in 2026" (the shapes below, in short)
    folded = stripped.lower() if stripped.isascii() else fold(stripped)
    if _NUMERIC.fullmatch(stripped) or _DASHED.fullmatch(folded):
        return DateLine(
            None,
            stripped,
            None,
            f"{stripped!r} is not a date line newsletter reads; write it as 2025-08-26 or 26 August 2025",
        )
    problem = _shape_problem(stripped, folded) or (None if title else _tail_problem(stripped, folded))
    if problem is not None:
        return DateLine(None, stripped, None, problem)
    first = _FIRST_WORD.fullmatch(folded)
    if first is not None and first.group("word") not in _WEEKDAYS and match_date_line(first.group("rest")):
        typed = stripped[: first.end("word")] if len(stripped) == len(folded) else first.group("word")
        suggestion = _closest(first.group("word"), _WEEKDAY_SPELLINGS, typed)
        if suggestion is not None:  # "Mnday, 3 March 2025"
            return DateLine(None, stripped, None, f"{typed!r} is not a weekday (did you mean {suggestion!r}?)")
    for pattern in _LOOSE:
        m = pattern.fullmatch(folded)
        if m is None:
            continue
        word = m.group("word")
        typed = stripped[m.start("word") : m.end("word")] if len(stripped) == len(folded) else word
        if word in MONTHS:
            if m.group("year") is None and alone:
                return DateLine(None, stripped, None, f"date line {stripped!r} has no year")
            return None
        if word in _WEEKDAYS:
            return None
        # one or two letters wrong, missing, extra or swapped; never a word of another length
        suggestion = _closest(word, _SPELLINGS, typed)
        if suggestion is None:
            return None
        return DateLine(None, stripped, None, f"{typed!r} is not a month (did you mean {suggestion!r}?)")
    return None
