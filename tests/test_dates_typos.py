"""Date lines with typos in their digits, year or weekday: one error each, the entry skipped,
and the entry before keeps only its own text and countries (#19 class 9)."""

from __future__ import annotations

import pytest

from newsletter.content.gazetteer import load_gazetteer
from newsletter.content.parse import parse_bulletin
from newsletter.content.tagger import Tagger

TAGGER = Tagger(load_gazetteer())


def parse(text: str):
    return parse_bulletin("w.txt", text.encode(), TAGGER.resolve)


def around(line: str, gap: str = "\n\n") -> str:
    return (
        "4 May 2027\n\nBakers in Malawi Share Ovens\n\nThe bakers of the market agreed on a rota.\n\n"
        f"{line}{gap}Ferry Service to Zanzibar Resumes\n\nThe boats sail again on Mondays.\n\n"
        "2 May 2027\n\nSchool Gardens in Laos\n\nPupils grow beans.\n"
    )


def assert_one_error_and_the_entry_before_intact(result, message: str) -> None:
    assert [str(d) for d in result.diagnostics] == [f"w.txt:7: {message}; this entry is skipped"]
    assert [e.title for e in result.entries] == ["Bakers in Malawi Share Ovens", "School Gardens in Laos"]
    before = result.entries[0]
    assert before.body == "The bakers of the market agreed on a rota."
    assert TAGGER.tag(before.title, before.body, before.language) == ("mw",)  # not Tanzania's


@pytest.mark.parametrize(
    "line, message",
    [
        ("6 May, 2O27", "'6 May, 2O27' has a letter for a digit (did you mean '6 May, 2027'?)"),
        ("2027-05-O6", "'2027-05-O6' has a letter for a digit (did you mean '2027-05-06'?)"),
        ("6 mai 2O27", "'6 mai 2O27' has a letter for a digit (did you mean '6 mai 2027'?)"),
        ("6 May 227", "'227' in date line '6 May 227' is not a four-digit year (did you mean '6 May 2027'?)"),
        ("May 6, 20277", "'20277' in date line 'May 6, 20277' is not a four-digit year"),
        ("6 May '27", "\"'27\" in date line \"6 May '27\" is not a four-digit year (did you mean '6 May 2027'?)"),
        ("6th of May 2027", "'6th of May 2027' is not a date line newsletter reads (did you mean '6th May 2027'?)"),
        ("06-05-2027", "'06-05-2027' is not a date line newsletter reads; write it as 2025-08-26 or 26 August 2025"),
        ("Friday 6 May 2027", "'Friday' is not the weekday of 6 May 2027 (did you mean 'Thursday'?)"),
        ("vendredi 6 mai 2027", "'vendredi' is not the weekday of 6 mai 2027 (did you mean 'jeudi'?)"),
    ],
)
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["alone", "title-below"])
def test_a_mistyped_date_line_is_one_error_and_does_not_join_the_entry_before(line, message, gap):
    assert_one_error_and_the_entry_before_intact(parse(around(line, gap)), message)


def test_a_misspelt_month_right_above_its_title_is_caught_as_a_valid_date_there_is_accepted():
    good = parse(around("6 June 2027", "\n"))
    assert good.diagnostics == [] and len(good.entries) == 3
    bad = parse(around("6 Jnue 2027", "\n"))
    assert [str(d) for d in bad.diagnostics] == [
        "w.txt:7: 'Jnue' is not a month (did you mean 'June'?); this entry is skipped"
    ]
    assert bad.entries[0].body == "The bakers of the market agreed on a rota."


def test_the_right_weekday_is_accepted_in_every_language():
    for line in (
        "Thursday 6 May 2027",
        "jueves 6 de mayo de 2027",
        "jeudi 6 mai 2027",
        "quinta-feira, 6 de maio de 2027",
    ):
        result = parse(around(line))
        assert result.diagnostics == [] and len(result.entries) == 3, line


@pytest.mark.parametrize(
    "line",
    [
        "40 volunteers came to the ford.",
        "May 2027 brought late frost.",
        "2027 looks dry for the valley.",
        "9 Mayors Sign a Pact",
        "3 Junipers Planted by the Gate",
        "Oct 7 Vigil",
        "6 Days of Rain",
        "12 Maypole Lane",
        "2 de Julio Avenue",
        "1,300 Households Reconnected",
        "2027-28 Budget Released",
        "Route 66 Reopens",
        "Flight 2O7 Lands Safely",
        "The Class of '27",
    ],
)
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["alone", "above-a-line"])
def test_lines_that_start_with_a_number_or_a_month_are_not_date_typos(line, gap):
    result = parse(around(line, gap))
    assert result.diagnostics == []
    assert [e.title for e in result.entries] == ["Bakers in Malawi Share Ovens", "School Gardens in Laos"]


def test_a_day_and_month_without_a_year_is_an_error_only_alone():
    alone = parse(around("6 May"))
    assert [str(d) for d in alone.diagnostics] == ["w.txt:7: date line '6 May' has no year; this entry is skipped"]
    above = parse(around("6 May", "\n"))  # "6 May\nwas a wet day" can be the start of a paragraph
    assert above.diagnostics == []


@pytest.mark.parametrize(
    "line, message",
    [
        ("6 May 2027x", "'x' after the date is not part of a date line"),
        ("2027-05-06x", "'x' after the date is not part of a date line"),
        ("6 de mayo de 2027x", "'x' after the date is not part of a date line"),
        ("6 mai 2027x", "'x' after the date is not part of a date line"),
        ("May 6, 2027b", "'b' after the date is not part of a date line"),
        ("6 May 2027 2027", "'2027' after the date is not part of a date line"),
        ("6 May 2027 (revised)", "'(revised)' after the date is not part of a date line"),
        ("6 May 2027 - revised", "'- revised' after the date is not part of a date line"),
        ("6 May 2027;", "';' after the date is not part of a date line"),
        ("06-May-2027", "'06-May-2027' is not a date line newsletter reads; write it as 2025-08-26 or 26 August 2025"),
    ],
)
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["alone", "title-below"])
def test_a_date_with_more_after_it_is_one_error_and_does_not_join_the_entry_before(line, message, gap):
    assert_one_error_and_the_entry_before_intact(parse(around(line, gap)), message)


@pytest.mark.parametrize("line", ["6 May 2027,", "6 May 2027.", "2027-05-06.", "2027-5-6", "mai 6, 2027"])
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["alone", "title-below"])
def test_a_trailing_full_stop_or_comma_and_unpadded_or_month_first_forms_are_date_lines(line, gap):
    result = parse(around(line, gap))
    assert result.diagnostics == []
    assert [(e.date.isoformat(), e.title) for e in result.entries][1] == (
        "2027-05-06",
        "Ferry Service to Zanzibar Resumes",
    )


@pytest.mark.parametrize(
    "line",
    [
        "6 May 2027 was the day the ferry ran aground.",
        "2027-05-06 brought the first rain in weeks.",
        "6 May 2027: a date the islanders remember",
        "6 May 2027, a Thursday, the ferry ran again.",
        "6 May 2027's storm closed the harbour.",
    ],
)
@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["alone", "above-a-line"])
def test_a_sentence_that_starts_with_a_date_stays_text(line, gap):
    result = parse(around(line, gap))
    assert result.diagnostics == []
    assert [e.title for e in result.entries] == ["Bakers in Malawi Share Ovens", "School Gardens in Laos"]
    assert line in result.entries[0].body


def test_a_title_that_starts_with_a_date_stays_a_title_after_its_date_line():
    result = parse("6 May 2027\n\n6 May 2027 - Ferry Timetable\n\nThe boats sail again on Mondays.\n")
    assert result.diagnostics == []
    assert [e.title for e in result.entries] == ["6 May 2027 - Ferry Timetable"]
