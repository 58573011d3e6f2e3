"""What the site says: every sentence reads well for any title and list, in en, es, fr and pt."""

from __future__ import annotations

import json
import re

import feedparser
import pytest

from newsletter.render.words import PHRASES

BULLETIN = """
    26 August 2021

    Peru Opens a Shelter

    It has 80 beds.

    25 August 2021

    Regional Ministers Agree on Transit Rules

    Delegations from the whole region signed.
"""


def test_every_language_has_every_phrase_with_the_same_blanks():
    english = PHRASES["en"]
    for lang, table in PHRASES.items():
        assert table.keys() == english.keys(), lang
        for key, text in table.items():
            assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", english[key])), (lang, key)


def all_text(site) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in site.out.rglob("*")
                     if p.is_file() and p.suffix in (".html", ".txt", ".xml", ".json", ".eml", ".opml"))


@pytest.mark.parametrize("title", ["News", "All News", "Regional News Service"])
def test_no_generated_sentence_stutters_whatever_the_title(site, title):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'title = "{title}"\n')
    assert site.build().code == 0
    text = all_text(site)
    for bad in ("news news", "News news", "All All", "Latest All news", "All News news", "Regional news news",
                "about Regional news", "about All news", f"about {title}"):
        assert bad not in text.replace(title, "TITLE") or bad in title, bad
    def words(rel: str) -> str:
        return " ".join(site.read(rel).split())
    assert f"You receive this because you subscribed to the newsletter about Peru from {title}." in words(
        "newsletters/pe/2021-W34.txt")
    assert f"You receive this because you subscribed to the newsletter from {title}." in words(
        "newsletters/all/2021-W34.txt")
    assert f"the regional newsletter from {title}." in words("newsletters/regional/2021-W34.txt")
    eml = site.read("newsletters/all/2021-W34.eml")
    list_id = re.search(r"^List-Id: (.*)$", eml, re.M).group(1)
    assert list_id.startswith((title, f'"{title}"')) and "\u2014" not in list_id and title * 2 not in list_id
    assert feedparser.parse(site.read("regional/atom.xml")).feed.subtitle == \
        f"News from {title} that names no single country"
    assert feedparser.parse(site.read("pe/atom.xml")).feed.subtitle == f"News about Peru from {title}"


@pytest.mark.parametrize("lang, date, week, country, all_news", [
    ("es", "26 de agosto de 2021", "23–29 de agosto de 2021", "Perú", "Todas las noticias"),
    ("fr", "26 août 2021", "23–29 août 2021", "Pérou", "Toutes les actualités"),
    ("pt", "26 de agosto de 2021", "23–29 de agosto de 2021", "Peru", "Todas as notícias"),
    ("en", "26 August 2021", "23–29 August 2021", "Peru", "All news"),
])
def test_the_site_feeds_and_newsletters_speak_the_configured_language(site, lang, date, week, country, all_news):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'language = "{lang}"\n')
    assert site.build().code == 0
    assert f'<html lang="{lang}">' in site.read("index.html")
    assert all_news in site.read("index.html")
    assert date in site.read("entries/2021-08-26-peru-opens-a-shelter.html")
    assert f"<h1>{country}</h1>" in site.read("pe/index.html")
    assert f"{country} \u2014 {week}" in site.read("newsletters/pe/2021-W34.txt")
    assert feedparser.parse(site.read("pe/atom.xml")).feed.language == lang
    assert json.loads(site.read("pe/feed.json"))["language"] == lang
    if lang != "en":
        assert "news item" not in all_text(site) and "You receive this" not in all_text(site)


def test_an_entry_carries_its_own_language_from_its_date_line_or_a_language_line(site):
    site.write("a.txt", """
        26 de agosto del 2021

        Perú abre un albergue

        Tiene 80 camas.

        mardi 24 août 2021

        Le Pérou forme des agents

        Quarante agents.

        23 August 2021

        Peru Trains Rangers
        Language: pt-BR

        Written in Portuguese after all.

        22 August 2021

        Peru Plants Mangroves

        In English, like the site.
    """)
    assert site.build().code == 0
    atom = feedparser.parse(site.read("pe/atom.xml"))
    assert atom.feed.language == "en"
    assert [e.title_detail.language for e in atom.entries] == ["es", "fr", "pt-BR", "en"]  # the rest inherit the feed's
    assert b'<entry xml:lang="es">' in (site.out / "pe/atom.xml").read_bytes()
    items = json.loads(site.read("pe/feed.json"))["items"]
    assert [i.get("language") for i in items] == ["es", "fr", "pt-BR", None]
