"""The bulletin parser: date lines, layout variations, metadata, encodings and bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from newsletter.content.dates import match_date_line
from newsletter.content.gazetteer import load_gazetteer
from newsletter.content.parse import parse_bulletin
from newsletter.content.tagger import Tagger

D = dt.date(2021, 8, 26)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("26 August, 2021", D),
        ("26 August 2021", D),
        ("August 26, 2021", D),
        ("August 26 2021", D),
        ("26 Aug 2021", D),
        ("26 Aug. 2021", D),
        ("Aug. 26, 2021", D),
        ("2021-08-26", D),
        ("26 de agosto de 2021", D),
        ("26 de agosto, 2021", D),
        ("26 août 2021", D),
        ("26 aout 2021", D),
        ("1er août 2021", dt.date(2021, 8, 1)),
        ("26 de agosto de 2021", D),  # Portuguese uses the same form
        ("5 de março de 2021", dt.date(2021, 3, 5)),
        ("3 de dezembro de 2021", dt.date(2021, 12, 3)),
        ("Thursday, 26 August 2021", D),
        ("jueves 26 de agosto de 2021", D),
        ("  26 August 2021  ", D),
        ("26 AUGUST 2021", D),
        ("26\u00a0August\u00a02021", None),  # no-break spaces are cleaned by the decoder, not here
    ],
)
def test_date_line_forms(line, expected):
    found = match_date_line(line)
    if expected is None and "\u00a0" in line:
        found = match_date_line(line.replace("\u00a0", " "))
        expected = D
    assert found is not None and found.date == expected


@pytest.mark.parametrize(
    "line",
    [
        "In August 2021 we met in Panama.",
        "August 2021",
        "2021",
        "The 2030 Agenda",
        "More than 100 people met on August 4 in the seminar.",
        "26 August 2021 was a good day",
        "Report 2021-08-26 published",
        "",
    ],
)
def test_running_text_is_never_a_date_line(line):
    assert match_date_line(line) is None


@pytest.mark.parametrize(
    "line", ["31 February 2021", "30 de febrero de 2021", "2021-13-01", "32 August 2021", "0 August 2021"]
)
def test_impossible_dates_are_recognised_as_impossible(line):
    found = match_date_line(line)
    assert found is not None and found.date is None


def parse(text: str | bytes, name: str = "b.txt"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_bulletin(name, data, Tagger(load_gazetteer()).resolve)


SIMPLE = "26 August, 2021\n\nA Title\n\nBody one.\n\n24 August, 2021\n\nSecond Title\n\nBody two.\n"


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(SIMPLE, id="lf"),
        pytest.param(SIMPLE.replace("\n", "\r\n"), id="crlf"),
        pytest.param(SIMPLE.replace("\n", "\r"), id="cr"),
        pytest.param("\ufeff" + SIMPLE, id="bom"),
        pytest.param(SIMPLE.replace("\n\n", "\n\n\n\n"), id="many-blank-lines"),
        pytest.param(SIMPLE.replace("\n\n", "\n"), id="no-blank-lines"),
        pytest.param("\n\n" + SIMPLE + "\n\n\n", id="leading-trailing-blanks"),
        pytest.param(SIMPLE.replace("\n\n", "\n   \t \n"), id="whitespace-only-lines"),
        pytest.param(
            SIMPLE.replace("A Title", "A\u00a0Title\u200b").replace("26 August", "26\u00a0August"), id="unicode-spaces"
        ),
    ],
)
def test_layout_variants_give_the_same_entries(variant):
    result = parse(variant)
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    assert [(e.date, e.title, e.body) for e in result.entries] == [
        (D, "A Title", "Body one."),
        (dt.date(2021, 8, 24), "Second Title", "Body two."),
    ]


def test_windows_1252_file_is_decoded_with_a_warning():
    text = "26 August 2021\n\nCaf\u00e9 \u201cquoted\u201d \u2013 news\n\nBody.\n"
    result = parse(text.encode("cp1252"))
    assert result.entries[0].title == "Caf\u00e9 \u201cquoted\u201d \u2013 news"
    [warning] = result.diagnostics
    assert warning.severity == "warning" and "Windows-1252" in warning.message


def test_typographic_quotes_are_kept():
    result = parse("26 August 2021\n\nMexico\u2019s \u201cBeta\u201d Group\n\nBody.\n")
    assert result.entries[0].title == "Mexico\u2019s \u201cBeta\u201d Group"


def test_paragraphs_and_wrapped_lines():
    result = parse("26 August 2021\nTitle\n\nFirst line\nwrapped here.\n\nSecond paragraph.\n")
    assert result.entries[0].body == "First line wrapped here.\n\nSecond paragraph."


def test_line_numbers_point_at_date_lines():
    result = parse(SIMPLE)
    assert [e.line for e in result.entries] == [1, 7]


def test_metadata_lines_after_the_title():
    result = parse("26 August 2021\nTitle\nCountries: Mexico, PA\nLink: https://example.org/x\nId: fixed-1\n\nBody.\n")
    [entry] = result.entries
    assert entry.countries == ("mx", "pa")
    assert entry.link == "https://example.org/x"
    assert entry.fixed_id == "fixed-1"
    assert entry.body == "Body."


def test_countries_none_makes_an_entry_regional():
    [entry] = parse("26 August 2021\nMexico Title\nCountries: none\n\nBody about Mexico.\n").entries
    assert entry.countries == ()


def test_unknown_country_in_metadata_is_an_error_with_its_line_and_skips_the_entry():
    result = parse("26 August 2021\nTitle\nCountries: Mexico, Atlantis\n\nBody.\n\n27 August 2021\nOther\n\nBody.\n")
    assert [e.title for e in result.entries] == ["Other"]  # as docs/bulletins.md says: the entry is skipped
    [error] = result.diagnostics
    assert (error.line, error.severity) == (3, "error") and "Atlantis" in error.message
    assert error.message.endswith("this entry is skipped")


def test_bad_link_is_reported_and_skips_the_entry():
    result = parse("26 August 2021\nTitle\nLink: javascript:alert(1)\n\nBody.\n")
    assert result.entries == []
    assert result.diagnostics[0].line == 3 and result.diagnostics[0].message.endswith("this entry is skipped")


def test_markdown_bulletin_keeps_markdown_body_and_strips_heading_marks():
    result = parse("26 August 2021\n\n# A *Title*\n\nSome **bold**\ntext.\n\n- one\n- two\n", name="b.md")
    [entry] = result.entries
    assert entry.title == "A *Title*"
    assert entry.body_format == "markdown"
    assert entry.body == "Some **bold**\ntext.\n\n- one\n- two"


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("26 August 2021\n\n24 August 2021\nTitle\n\nBody.\n", 1, "no title"),
        ("Title\n\n26 August 2021\n", 3, "no title"),
        ("31 February 2021\nTitle\n\nBody.\n\n24 August 2021\nGood\n\nBody.\n", 1, "impossible date"),
        ("Just some text without any date.\n", 1, "no date line"),
    ],
)
def test_bad_entries_are_reported_and_others_kept(text, line, words):
    result = parse(text)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1
    assert errors[0].line == line and words in errors[0].message
    assert all(e.title != "" for e in result.entries)
    if words != "no date line":  # every error about an entry's date line says what becomes of the entry
        assert errors[0].message.endswith("; this entry is skipped")


@pytest.mark.parametrize(
    "line",
    [
        "Language: es",
        "lang: pt-BR",
        "Countries: Peru, Chile",
        "Country: none",
        "Link: https://example.org/a",
        "Id: x-1",
    ],
)
def test_a_metadata_line_where_the_title_belongs_is_an_error_and_skips_the_entry(line):
    text = (
        f"26 August 2021\n{line}\nLlamas in Peru\n\nBody about Peru.\n\n25 August 2021\nOther Item in Chile\n\nBody.\n"
    )
    result = parse(text)
    assert [str(d) for d in result.diagnostics] == [
        f"b.txt:2: {line!r} is a metadata line where the title belongs; put the title right after the date "
        "line and metadata after the title; this entry is skipped"
    ]
    assert [e.title for e in result.entries] == ["Other Item in Chile"]  # never titled "Language: es"


@pytest.mark.parametrize(
    "title", ["Link: the new rail line to Lima", "Country: Peru's harvest rises", "Id: a digital card for all"]
)
def test_a_title_that_starts_like_a_metadata_key_is_still_a_title(title):
    [entry] = parse(f"26 August 2021\n{title}\n\nBody.\n").entries
    assert entry.title == title


def test_impossible_date_keeps_following_entries():
    result = parse("31 February 2021\nBad\n\nBody.\n\n24 August 2021\nGood\n\nBody.\n")
    assert [e.title for e in result.entries] == ["Good"]


def test_binary_file_is_an_error_not_a_crash():
    result = parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert result.entries == []
    [error] = result.diagnostics
    assert error.severity == "error" and "binary" in error.message


def test_text_before_the_first_date_is_a_warning():
    result = parse("Bulletin header\n\n26 August 2021\nTitle\n\nBody.\n")
    assert len(result.entries) == 1
    assert result.diagnostics[0].severity == "warning" and result.diagnostics[0].line == 1


def test_control_characters_are_removed():
    [entry] = parse("26 August 2021\nTi\x1btle\x1b\n\nBo\x07dy.\n").entries
    assert (entry.title, entry.body) == ("Title", "Body.")


def test_month_and_year_in_body_do_not_start_entries():
    [entry] = parse("26 August 2021\nTitle\n\nIn August 2021 more than 100 people met.\n2021\n").entries
    assert entry.body == "In August 2021 more than 100 people met. 2021"


def test_a_control_character_between_words_becomes_a_space():
    from newsletter.content.decoding import clean_text

    assert (
        clean_text("the countries.\x0bIt works\x07 here,\x0c\x0cnow a\x1fb en\x01d\x02")
        == "the countries. It works here, now a b end"
    )


@pytest.mark.parametrize(
    "line, message",
    [
        ("2 Agust 2025", "'Agust' is not a month (did you mean 'August'?)"),
        ("14 Mrach 2025", "'Mrach' is not a month (did you mean 'March'?)"),
        ("28 Febuary, 2025", "'Febuary' is not a month (did you mean 'February'?)"),
        ("Setpember 3, 2025", "'Setpember' is not a month (did you mean 'September'?)"),
        ("14 de agsoto de 2025", "'agsoto' is not a month (did you mean 'agosto'?)"),
        ("3 févirer 2025", "'févirer' is not a month (did you mean 'février'?)"),
        ("14 March", "date line '14 March' has no year"),
        ("June 5", "date line 'June 5' has no year"),
        ("Mnday, 3 March 2025", "'Mnday' is not a weekday (did you mean 'Monday'?)"),
        ("jueevs 4 de marzo de 2025", "'jueevs' is not a weekday (did you mean 'jueves'?)"),
        ("2025/03/04", "'2025/03/04' is not a date line newsletter reads; write it as 2025-08-26 or 26 August 2025"),
        ("04.03.2025", "'04.03.2025' is not a date line newsletter reads; write it as 2025-08-26 or 26 August 2025"),
    ],
)
def test_a_mistyped_date_line_is_an_error_and_its_entry_is_skipped(line, message):
    text = (
        f"3 September 2025\n\nFirst Item in Panama\n\nPanama's text.\n\n{line}\n\nSecond Item in Haiti\n\n"
        "Haitian text.\n\n1 September 2025\n\nThird Item in Peru\n\nPeru's text.\n"
    )
    result = parse(text)
    assert [str(d) for d in result.diagnostics] == [f"b.txt:7: {message}; this entry is skipped"]
    assert [e.title for e in result.entries] == ["First Item in Panama", "Third Item in Peru"]
    assert result.entries[0].body == "Panama's text."  # the skipped entry's text does not join the one before


@pytest.mark.parametrize(
    "line",
    [
        "10 Mayors 2025",
        "3 Marchés 2025",
        "Group of 20",
        "Agenda 2030",
        "5 Ministers Meet",
        "Top 10 Marchers",
        "Vision 2030 (3)",
        "Covid 19",
        "Report 3 March 2025",
        "Today, 3 March 2025",
        "Version 2.0.1",
    ],
)
def test_titles_with_numbers_are_not_mistyped_date_lines(line):
    result = parse(f"3 September 2025\n\n{line}\n\nBody.\n\n1 September 2025\n\nSecond\n\nBody two.\n")
    assert result.diagnostics == [] and [e.title for e in result.entries] == [line, "Second"]


def test_a_mistyped_date_inside_a_paragraph_is_text():
    result = parse("3 September 2025\n\nTitle\n\nWe met on\n2 Agust 2025\nin Quito.\n")
    assert result.diagnostics == [] and result.entries[0].body == "We met on 2 Agust 2025 in Quito."


def test_no_line_of_the_benchmark_corpus_is_taken_for_a_mistyped_date(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [
            sys.executable,
            str(root / "benchmarks" / "corpus.py"),
            "--entries",
            "5000",
            "--files",
            "5",
            "--out",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    entries = 0
    for path in sorted(tmp_path.glob("*.txt")):
        result = parse_bulletin(path.name, path.read_bytes(), None)
        assert result.diagnostics == [], result.diagnostics[:3]
        entries += len(result.entries)
    assert entries == 5000


@pytest.mark.parametrize(
    "date,title,body,language",
    [
        (
            "15 de abril de 2025",
            "Bolivia abre una escuela de música",
            "La escuela tiene veinte aulas y una sala para los conciertos del sábado.",
            "es",
        ),
        (
            "15 de abril de 2025",
            "Angola abre uma escola de música",
            "A escola tem vinte salas e uma sala para os concertos do sábado.",
            "pt",
        ),
        ("15 de abril de 2025", "Bolivia 2025", "", None),  # no words to tell: the site's language
        ("26 de agosto del 2021", "Angola abre uma escola", "A escola tem vinte salas.", "pt"),  # its words win
        ("26 de agosto del 2021", "Angola 2021", "", "es"),  # no words to tell: "del" says es
    ],
)
def test_a_date_line_shared_by_spanish_and_portuguese_takes_the_texts_language(date, title, body, language):
    result = parse(f"{date}\n\n{title}\n\n{body}\n")
    [entry] = result.entries
    assert entry.language == language


def test_a_language_line_still_wins_over_the_texts_words():
    result = parse("15 de abril de 2025\n\nAngola abre uma escola\n\nLanguage: es\n\nA escola tem vinte salas.\n")
    assert [e.language for e in result.entries] == ["es"]


def test_a_bulletin_that_is_not_utf8_is_warned_of_at_its_line():
    """`path:line:` as every bulletin problem, so that an editor can jump to the byte."""
    data = "1 March 2026\n\nA title\n\nCaf\u00e9 owners in Quito met.\n".encode("cp1252")
    result = parse_bulletin("bulletins/old.txt", data)
    assert [str(d) for d in result.diagnostics] == [
        "bulletins/old.txt:5: warning: not UTF-8 (byte 0xe9); decoded as Windows-1252, please save as UTF-8"
    ]
    assert "Café" in result.entries[0].body
