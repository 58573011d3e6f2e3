"""Parse one bulletin file into entries and diagnostics.

The format (see docs/bulletins.md): an entry is a date line alone on its line, then a title (the next
non-blank line), then optional metadata lines (`Countries:`, `Link:`, `Id:`, `Language:`), then body
paragraphs up to the next date line. `.txt` bodies are plain paragraphs, `.md` bodies are
Markdown. Pure: reads nothing but the bytes it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from newsletter.content.dates import DateLine, could_be_date_line, fold, match_possible_date_line, near_date_line
from newsletter.content.decoding import decode_bulletin
from newsletter.content.entry import Entry, content_digest, title_key
from newsletter.content.language import clear_language as clear_language  # tests and tools ask it here
from newsletter.content.language import guess_language
from newsletter.diagnostics import Diagnostic

BULLETIN_SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown"}
_META = re.compile(r"^(countries|country|link|url|id|language|lang)\s*:\s*(.*)$", re.IGNORECASE)
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*")
_LONG_TITLE = 250
_SKIPPED = "; this entry is skipped"  # every error about an entry's date line or title ends so

CountryResolver = Callable[[str], "tuple[tuple[str, ...], list[str]]"]
"""Turns the value of a `Countries:` line into codes and a list of names it did not know."""
CountryTagger = Callable[[str, str, "str | None"], "tuple[str, ...]"]
"""The codes of an entry's title, body and language (`Tagger.tag`), for entries without `Countries:`."""


@dataclass(slots=True)
class ParseResult:
    """Entries found in one file, in file order, and the problems met on the way."""

    entries: list[Entry] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def body_format_for(path: str) -> str | None:
    """ "text" or "markdown" for bulletin files, None for files that are not bulletins."""
    dot = path.rfind(".")
    return BULLETIN_SUFFIXES.get(path[dot:].lower()) if dot >= 0 else None


def parse_bulletin(
    path: str,
    data: bytes,
    resolve_countries: CountryResolver | None = None,
    *,
    tag: CountryTagger | None = None,
    site_language: str | None = None,
) -> ParseResult:
    """Parse the bytes of bulletin `path` (used in messages and to pick .txt/.md). With `tag`,
    an entry without a `Countries:` line gets `tag(title, body, its language or site_language)`
    (made with them: no second Entry per entry); else its countries are None."""
    result = ParseResult()
    diags = result.diagnostics
    decoded = decode_bulletin(data)
    if decoded.lines is None:
        diags.append(Diagnostic(path, decoded.error_line, "error", decoded.error or "cannot read file"))
        return result
    if decoded.warning:
        diags.append(Diagnostic(path, decoded.warning_line, "warning", decoded.warning))  # path:line: …
    lines = decoded.lines
    fmt = body_format_for(path) or "text"

    # One pass over the lines, each stripped once (the entries read these too). Decoded lines
    # hold no whitespace but " " (decoding.py turns every other space into one), so that a
    # stripped line without a double space is already `" ".join(line.split())`.
    stripped = [line.strip() for line in lines]
    starts: list[tuple[int, DateLine]] = []
    last = len(lines) - 1
    previous = -1  # the last non-blank line so far
    # of each short line: (match_date_line,) if it could be a date line (what match_date_line and
    # near_date_line ask first), else (); asked once a text (a file repeats its date lines)
    shapes: dict[str, tuple[DateLine | None, ...]] = {}
    for number, text in enumerate(stripped):
        if not text:
            continue
        if len(text) > 40:
            previous = number
            continue
        shape = shapes.get(text)
        if shape is None:
            shape = shapes[text] = (match_possible_date_line(text),) if could_be_date_line(text) else ()
        if shape:
            date_line = shape[0]
            if date_line is None and (number == 0 or not stripped[number - 1]):
                # a line that starts a paragraph shaped like a date ("2 Agust 2025", "8 June 2O26"),
                # alone or right above its title: it starts an entry that is skipped, rather than
                # joining the entry before (a day and month without a year only when alone; a
                # date with more after it, "8 June 2026x", only where no title stands)
                date_line = near_date_line(
                    text,
                    alone=number == last or not stripped[number + 1],
                    title=bool(starts) and starts[-1][0] == previous,
                )
            if date_line is not None:
                starts.append((number, date_line))
        previous = number
    if not starts:
        if any(stripped):
            diags.append(
                Diagnostic(
                    path,
                    1,
                    "error",
                    'no date line found; an entry starts with a date alone on a line, such as "26 August 2021"',
                )
            )
        return result
    for number in range(starts[0][0]):
        if stripped[number]:
            diags.append(Diagnostic(path, number + 1, "warning", "text before the first date line is ignored"))
            break

    bounds = [s[0] for s in starts[1:]] + [len(lines)]
    source = _Source(path, fmt, lines, stripped, diags, resolve_countries, decoded.spaced)
    rows: list[list] = []  # of each entry, its fields (`_parse_entry`), completed below
    for (start, date_line), end in zip(starts, bounds, strict=True):
        row = _parse_entry(source, start, end, date_line)
        if row is not None:
            rows.append(row)
    # Then each of the steps of every entry that are not about lines, one step for all the
    # entries at a time, so that the tables and code of each (the language's and the tagger's
    # automatons, the gazetteer) stay in the processor's caches (1.3 µs of an entry's 16 of tagging).
    for row in rows:
        if row[_UNDECIDED] is not None:
            row[_LANGUAGE] = _language(row[1], row[2], row[_LANGUAGE], row[_UNDECIDED])
    if tag is not None:
        for row in rows:
            if row[_COUNTRIES] is None:
                row[_COUNTRIES] = tag(row[1], row[2], row[_LANGUAGE] or site_language)
    entries = result.entries
    for row in rows:
        title = row[1]
        row[_TITLE_KEY] = title_key(title)
        row[_DIGEST] = content_digest(title, row[2], row[3], row[6])
        del row[_UNDECIDED]
        entries.append(_new_entry(Entry, row))
    return result


def _language(title: str, body: str, language: str | None, date_line: DateLine) -> str | None:
    """The language of an entry without a `Language:` line: `language` (its date line's), unless
    its own words say another clearly, or they decide between the languages of a date line that
    does not say (`15 de abril de 2025`: Spanish or Portuguese)."""
    # (the title and the body have the letters of the title and the entry's lines, and as
    # words: nothing but spaces and line breaks, none of them letters, was left out or added)
    # (ASCII needs no folding, nor lower-casing: the guess reads A-Z as a-z; and folding reads a
    # character at a time, so that the title and the body are folded apart, each only if it must be)
    folded = (title if title.isascii() else fold(title)) + " " + (body if body.isascii() else fold(body))
    guess, clear = guess_language(folded, language)  # one look at the words for both
    if clear is not None:  # the entry's own words, when they say it clearly
        return clear
    if language is None and guess in date_line.languages:
        return guess  # the text's own words decide
    return language


@dataclass(frozen=True, slots=True)
class _Source:
    """What every entry of one file is parsed against: its name, format, lines (and each of them
    stripped), the list its problems go to, and how its `Countries:` lines are read."""

    path: str
    fmt: str
    lines: list[str]
    stripped: list[str]
    diags: list[Diagnostic]
    resolve_countries: CountryResolver | None
    spaced: bool
    """Whether a line may hold two spaces in a row (`Decoded.spaced`): else every stripped line
    is already its words joined by one space."""


def _is_metadata(meta: re.Match[str], resolve_countries: CountryResolver | None) -> bool:
    """Whether a line `_META` matched where a title belongs is a metadata line (`Language: es`,
    `Countries: Peru, Chile`) rather than a title that starts with such a word (`Link: the new
    rail line to Lima`): its value has the shape that key takes."""
    key, value = meta.group(1).lower(), meta.group(2).strip()
    if key in ("language", "lang"):
        return _LANGUAGE_TAG.fullmatch(value) is not None
    if key in ("countries", "country"):
        return resolve_countries is None or not resolve_countries(value)[1]
    return bool(value) and not any(c.isspace() for c in value)  # Link:, Id:


def _words(stripped: str) -> str:
    """`" ".join(line.split())` of a decoded line, given stripped."""
    return stripped if "  " not in stripped else " ".join(stripped.split())


def _parse_entry(source: _Source, start: int, end: int, date_line: DateLine) -> list | None:
    """The fields of the Entry that starts at line `start` (its date line) and ends before line
    `end`, and last the date line if the entry's words may say its language (else None); None
    for an entry that is skipped (its problems are in `source.diags`). Its countries are None
    when it has no `Countries:` line, its title key and digest empty."""
    path, fmt, lines, stripped, diags, resolve_countries, spaced = (
        source.path,
        source.fmt,
        source.lines,
        source.stripped,
        source.diags,
        source.resolve_countries,
        source.spaced,
    )
    lineno = start + 1
    if date_line.problem is not None:
        diags.append(Diagnostic(path, lineno, "error", f"{date_line.problem}{_SKIPPED}"))
        return None
    if date_line.date is None:
        diags.append(Diagnostic(path, lineno, "error", f'impossible date "{date_line.text}"{_SKIPPED}'))
        return None
    i = start + 1
    while i < end and not stripped[i]:
        i += 1
    if i >= end:
        diags.append(
            Diagnostic(
                path, lineno, "error", f'date line "{date_line.text}" has no title; add a title line after it{_SKIPPED}'
            )
        )
        return None
    head = stripped[i]
    misplaced = _META.match(head) if ":" in head else None
    if misplaced is not None and _is_metadata(misplaced, resolve_countries):
        diags.append(
            Diagnostic(
                path,
                i + 1,
                "error",
                f"{head!r} is a metadata line where the title belongs; "
                f"put the title right after the date line and metadata after the title{_SKIPPED}",
            )
        )
        return None
    title = _words(head) if spaced else head
    if fmt == "markdown":
        title = title.lstrip("#").strip() or title
    if len(title) > _LONG_TITLE:
        diags.append(
            Diagnostic(
                path, i + 1, "warning", f"title is {len(title)} characters long; is the blank line after it missing?"
            )
        )
    i += 1

    link = fixed_id = None
    language = date_line.language
    language_line = False
    countries: tuple[str, ...] | None = None
    broken = False  # an unusable metadata line: the entry is skipped (its last good version stays)
    while i < end:
        line = stripped[i]
        if not line:
            i += 1
            continue
        meta = _META.match(line) if ":" in line else None
        if meta is None:
            break
        key, value = meta.group(1).lower(), meta.group(2).strip()
        if key in ("countries", "country"):
            if resolve_countries is None:
                countries = ()
            else:
                codes, unknown = resolve_countries(value)
                for name in unknown:
                    diags.append(
                        Diagnostic(
                            path,
                            i + 1,
                            "error",
                            f'unknown country "{name}" in Countries: line; '
                            "use a country name or ISO code; this entry is skipped",
                        )
                    )
                    broken = True
                countries = tuple(sorted(set(codes) | set(countries or ())))
        elif key in ("language", "lang"):
            if _LANGUAGE_TAG.fullmatch(value):
                language, language_line = value, True
            else:
                diags.append(
                    Diagnostic(
                        path,
                        i + 1,
                        "warning",
                        f'Language: "{value}" is not a language tag such as '
                        '"es" or "pt-BR"; the entry\'s words or date line decide',
                    )
                )
        elif key in ("link", "url"):
            parts = urlsplit(value)
            if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in value):
                link = value
            else:
                diags.append(
                    Diagnostic(
                        path, i + 1, "error", f'Link: "{value}" is not an absolute http(s) URL; this entry is skipped'
                    )
                )
                broken = True
        elif value:
            fixed_id = value
        i += 1

    if broken:
        return None
    until = end
    while until > i and not stripped[until - 1]:
        until -= 1
    if fmt == "markdown":
        body = "\n".join(line.rstrip() for line in lines[i:until])
    else:
        paragraphs, current = [], []
        for line in stripped[i:until]:
            if line:
                # _words(line): asked of each line only where one may hold two spaces in a row
                current.append(line if not spaced or "  " not in line else " ".join(line.split()))
            elif current:
                paragraphs.append(" ".join(current))
                current = []
        if current:
            paragraphs.append(" ".join(current))
        body = "\n\n".join(paragraphs)
    return [
        date_line.date,
        title,
        body,
        fmt,
        path,
        lineno,
        link,
        fixed_id,
        countries,
        "",  # id, slug and updated: the catalog's
        "",
        None,
        "",  # title key and digest: `parse_bulletin`'s
        "",
        language,
        None if language_line else date_line,
    ]


_new_entry = tuple.__new__  # Entry(...) by keyword binds 15 arguments in Python: twice the time
_COUNTRIES, _TITLE_KEY, _DIGEST, _LANGUAGE = 8, 12, 13, 14
_UNDECIDED = 15  # (after the Entry's fields: the date line of an entry whose words may say its language)
assert Entry._fields == (
    "date",
    "title",
    "body",
    "body_format",
    "source",
    "line",
    "link",
    "fixed_id",
    "countries",
    "id",
    "slug",
    "updated",
    "title_key",
    "digest",
    "language",
)
