"""An entry's published language comes from its own words when they say it clearly, else from
its date line (README: "An entry may be in another language than the site")."""

from __future__ import annotations

import json

import feedparser
import pytest

from newsletter.cli import main
from newsletter.content.parse import clear_language, parse_bulletin


@pytest.mark.parametrize(
    "date, title, body, language",
    [
        (
            "2027-05-04",
            "Des infirmières tchadiennes en formation",
            "Les infirmières suivent des cours à l'hôpital.",
            "fr",
        ),
        ("4 May 2027", "Las cooperativas de Chad venden miel", "La miel se vende en los mercados del sur.", "es"),
        ("4 May 2027", "Os pescadores do Chade recebem barcos", "Os barcos chegaram ao porto na semana passada.", "pt"),
        ("4 de mayo de 2027", "Chad's Beekeepers Sell Honey", "The honey is sold in the markets of the south.", "en"),
        ("4 de mayo de 2027", "Chad 2027", "", "es"),  # too short to say: the date line's language
        ("mardi 4 mai 2027", "Chad Honey", "Sold la semaine.", "fr"),  # mixed: the date line's
        ("2027-05-04", "Chad Honey Fair", "Honey sold.", None),  # no words to tell: the site's
    ],
)
def test_the_entrys_own_words_give_its_language_before_its_date_line(date, title, body, language):
    [entry] = parse_bulletin("l.txt", f"{date}\n\n{title}\n\n{body}\n".encode(), None).entries
    assert entry.language == language


def test_a_language_line_still_wins_over_clear_words():
    text = "4 May 2027\n\nLes apiculteurs du Tchad\nLanguage: pt\n\nLes ruches sont dans la vallée.\n"
    [entry] = parse_bulletin("l.txt", text.encode(), None).entries
    assert entry.language == "pt"


def test_clear_language_wants_two_words_and_more_than_twice_any_other():
    assert clear_language("les ruches sont dans la vallee") == "fr"
    assert clear_language("les ruches") is None
    assert clear_language("el foro sobre the markets and") is None  # es 2, en 2


def test_a_french_entry_under_an_english_date_line_is_published_as_french(tmp_path):
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8").split())
    assert "or else its own words when they say it clearly (a French entry under `2021-08-24` or" in readme
    bulletin = tmp_path / "b.txt"
    bulletin.write_text(
        "5 May 2027\n\nDes apiculteurs tchadiens vendent leur miel\n\nLes ruches sont dans la vallée du fleuve.\n\n"
        "2027-05-04\n\nChad's Beekeepers Sell Honey\n\nThe honey is sold in the markets of the south.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = [
        "build",
        str(bulletin),
        "--out",
        str(out),
        "--state",
        str(tmp_path / "s"),
        "--base-url",
        "https://n.example.org/",
    ]
    assert main([*args, "-q"]) == 0
    atom = feedparser.parse((out / "td" / "atom.xml").read_text(encoding="utf-8"))
    assert [e.title_detail.language for e in atom.entries] == ["fr", "en"]
    assert [i.get("language") for i in json.loads((out / "td" / "feed.json").read_text())["items"]] == ["fr", None]
    [page] = (out / "entries").glob("*apiculteurs*")
    assert '<article class="entry" lang="fr">' in page.read_text(encoding="utf-8")
    issue = out / "newsletters" / "td" / "2027-W18.html"
    assert 'lang="fr"' in issue.read_text(encoding="utf-8")
