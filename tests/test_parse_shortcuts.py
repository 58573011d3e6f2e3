"""The parser's and tagger's shortcuts answer as the long way does: each cheap test that skips
work (a file that needs no cleaning, a title that cannot be a date line, a name after which no
town can follow, a text with no function word) is checked against the work it skips, on every
code point or on many generated inputs. benchmarks/same_parse.py compares whole corpora with
an older revision."""

from __future__ import annotations

import random
import re
import sys

import pytest

from newsletter.content import dates, language, tagger
from newsletter.content.decoding import clean_text, decode_bulletin
from newsletter.content.gazetteer import fold, load_gazetteer
from newsletter.content.parse import parse_bulletin

EVERY_CHARACTER = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]


def test_what_cleaning_changes_is_never_printable():
    """decode_bulletin skips clean_text for a file whose lines are all printable: cleaning
    leaves every printable character as it is, and changes the others it knows."""
    printable = "".join(c for c in EVERY_CHARACTER if c.isprintable())
    assert clean_text(printable) == printable
    for c in "\t\r\x00\x0b\x85\u00a0\u200b\u2028\u3000\ufeff":
        assert not c.isprintable() and clean_text(f"a{c}b") != f"a{c}b"


def test_decoded_lines_hold_no_whitespace_but_spaces():
    """What the parser's `_words` relies on: a stripped line without "  " is its own
    `" ".join(line.split())`."""
    spaces = [c for c in EVERY_CHARACTER if c.isspace()]
    text = "x".join(f"a{c}b" for c in spaces)
    lines = decode_bulletin(text.encode("utf-8")).lines
    assert lines is not None
    assert {c for line in lines for c in line if c.isspace()} == {" "}


def test_a_file_is_spaced_where_a_line_may_hold_two_spaces():
    """The parser asks each line for "  " only in a file `decode_bulletin` says is `spaced`: a
    printable UTF-8 file with two spaces anywhere, or any file it cleaned or did not read as
    UTF-8; words are joined by one space either way."""
    plain = "12 March 2024\nSchools reopen in Chile\n\nClasses start again.\n"
    assert decode_bulletin(plain.encode("utf-8")).spaced is False
    for text in (plain.replace("reopen in", "reopen  in"), plain.replace("again.", "again.\tSoon."), "é  " + plain):
        for data in (text.encode("utf-8"), text.encode("utf-16")):
            assert decode_bulletin(data).spaced is True
    doubled = plain.replace("reopen in", "reopen  in").replace("start again", "start   again")
    entry = parse_bulletin("b.txt", doubled.encode("utf-8"), None).entries[0]
    assert (entry.title, entry.body) == ("Schools reopen in Chile", "Classes start again.")


def test_binary_files_are_found_as_before():
    assert decode_bulletin(b"26 August 2021\n\nTitle\x00\n").error is not None
    assert decode_bulletin(b"a\x01b\x02c\x03d\x04e\x05f" * 3).error is not None
    few = decode_bulletin(b"26 August 2021\n\nA title\x07\n\n" + b"body " * 200)
    assert few.error is None and few.lines is not None and "A title" in few.lines


def _runs(folded: str) -> list[str]:
    return re.findall("[a-z]+", folded.lower())


@pytest.mark.parametrize("seed", range(3))
def test_function_words_are_the_words_of_the_text(seed):
    """The automaton finds each function word that stands alone, as splitting into runs of
    a-z would, in ASCII and in any other text."""
    rng = random.Random(seed)
    pieces = [*language._TELLING, b"x", b"theme", b"lathe"]
    alphabet = " .,'-\n\u00e9\u00c9\u0130\u212aKAZaz\u00df\u2019"
    for _ in range(3000):
        words = [rng.choice(pieces).decode() for _ in range(rng.randrange(12))]
        text = "".join(w + rng.choice(alphabet) for w in words)
        if rng.random() < 0.3:
            text = text.upper()
        expected = [
            tuple(lang for lang in language._WORDS if lang in language._LANGUAGES_OF[w.encode()])
            for w in _runs(text)
            if w.encode() in language._LANGUAGES_OF and len(language._LANGUAGES_OF[w.encode()]) < 4
        ]
        assert language._function_words(text) == expected, text


def test_guess_language_is_text_language_and_clear_language():
    rng = random.Random(5)
    words = [w.decode() for w in language._TELLING] + ["rio", "market", "vallee"]
    for _ in range(1500):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(7)))
        for site in (None, "en", "es", "fr", "pt"):
            guess = language.text_language(text)
            clear = language.clear_language(text) if guess is not None and guess != site else None
            assert language.guess_language(text, site) == (guess, clear), text


def _date_like_lines(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    months = [*dates.MONTHS, "Agust", "Mrach", "Febuary", "Jnue", "Octber"]
    weekdays = [*dates._WEEKDAYS, "Mnday", "Tursday"]
    words = ["Xday", "the", "News", "Kenya", "of", "de", "del", "Floods", "Hit"]
    days = ["1", "3", "12", "31", "3rd", "1st", "1er", "1o", "l0", "1O", "O3", "32", "(1)"]
    years = ["2026", "226", "20266", "'26", "2O26", "2025", "26"]
    tails = ["", "", ".", ",", ";", "x", " 2026", " (updated)", " - updated", " now"]

    def case(word: str) -> str:
        roll = rng.random()
        return word.capitalize() if roll < 0.5 else word.upper() if roll < 0.6 else word

    lines = []
    for _ in range(count):
        parts = [case(rng.choice(words)) + rng.choice([" ", ", ", ". "]) for _ in range(rng.randrange(3))]
        if rng.random() < 0.4:
            parts.append(case(rng.choice(weekdays)) + rng.choice([" ", ", ", ". "]))
        day, month, year = rng.choice(days), case(rng.choice(months)), rng.choice(years)
        parts.append(
            rng.choice(
                [
                    f"{day} {month}" + rng.choice(["", " ", ", ", " de ", " of "]) + year,
                    f"{month} {day}" + rng.choice(["", " ", ", "]) + year,
                    f"{day} de {month} de {year}",
                    f"{year}-06-{day}",
                    f"{day}/06/{year}",
                    f"{day}-{month}-{year}",
                    f"{month} {day}",
                ]
            )
        )
        parts.append(rng.choice(tails))
        lines.append("".join(parts))
    return lines


def test_the_quick_refusal_of_near_date_line_refuses_only_what_the_shapes_refuse(monkeypatch):
    lines = _date_like_lines(11, 2000) + ["IOM Maps Border Officials in Kenya (1)", "Floods Hit 3 Provinces"]
    quick = [near_date_line_all(line) for line in lines]
    monkeypatch.setattr(dates, "_starts_with_digit", lambda stripped: [True])  # the long way, always
    assert [near_date_line_all(line) for line in lines] == quick
    assert sum(result is not None for results in quick for result in results) > 400


def near_date_line_all(line: str) -> list[dates.DateLine | None]:
    return [dates.near_date_line(line, alone=alone, title=title) for alone in (True, False) for title in (True, False)]


def test_date_lines_cached_and_their_languages_per_form():
    for line in _date_like_lines(12, 2000) + ["26 de agosto del 2021", "jueves 26 de agosto de 2021", "1er août 2021"]:
        assert dates.match_date_line(line) == dates._date_line.__wrapped__(line.strip())
        stripped = line.strip()
        folded = stripped.lower() if stripped.isascii() else dates.fold(stripped)
        for pattern in dates._PATTERNS:
            m = pattern.fullmatch(folded)
            if m is not None:
                month = m.groupdict().get("month")
                assert dates._date_languages(folded, m, month) == dates.date_languages.__wrapped__(folded, month)
                break


TAGGER = tagger.Tagger(load_gazetteer())


def test_no_town_where_may_name_a_town_says_none():
    rng = random.Random(3)
    names = [n for n in TAGGER._codes if TAGGER._codes[n]][:400] + ["Mexico", "Panama", "Jordan", "Armenia"]
    afters = [", Missouri", " City, Florida", " Valley, Utah", " (Quindio)", " to", ".", "'s", ",", " and Peru", ""]
    for _ in range(4000):
        name = rng.choice(names)
        text = "In " + name + rng.choice(afters) + rng.choice(afters)
        end = 3 + len(name)
        if not tagger._may_name_a_town(text, end):
            assert TAGGER._town_of(text, end, name) is None, text


def test_compounds_read_as_before_the_first_word_test():
    def long_way(text: str, end: int, rests: frozenset[str]) -> int:
        found, words, pos = 0, "", end
        for _ in range(tagger._COMPOUND_WORDS):
            m = tagger._NEXT_WORD.match(text, pos)
            if m is None:
                break
            words = f"{words} {m.group(1).casefold()}" if words else m.group(1).casefold()
            pos = m.end()
            if words in rests:
                found = pos
        return found

    rng = random.Random(4)
    for name, rests in list(TAGGER._compounds.items())[:60]:
        followers = [*rests, "sprouts", "fries", "plan", "x y z w", ""]
        for _ in range(40):
            text = name + " " + " ".join(rng.choice(followers) for _ in range(rng.randrange(3))).title()
            end = len(name)
            assert TAGGER._compound_after(text, end, rests) == long_way(text, end, rests), text


def test_a_bulletin_parses_and_tags_through_every_shortcut():
    text = (
        "26 August 2021\n\nFloods Hit 3 Provinces in Peru\n\nLes familles sont dans la vallee et "
        "les routes sont fermées.\n\n2 Agust 2025\n\nSkipped\n\nIOM Maps Border Officials in Kenya (1)\n"
    )
    result = parse_bulletin("b.txt", text.encode())
    assert [e.title for e in result.entries] == ["Floods Hit 3 Provinces in Peru"]
    assert result.entries[0].language == "fr"  # the words say so clearly, not the English date line
    assert [d.line for d in result.diagnostics] == [7]
    entry = result.entries[0]
    assert TAGGER.tag(entry.title, entry.body, entry.language) == ("pe",)
    assert fold(entry.body) == "Les familles sont dans la vallee et les routes sont fermees."
