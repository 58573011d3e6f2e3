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
            # {the_name}: the name with its article
            blanks = {b.removeprefix("the_") for b in re.findall(r"{(\w+)}", text)}
            assert blanks == set(re.findall(r"{(\w+)}", english[key])), (lang, key)


def all_text(site) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8")
        for p in site.out.rglob("*")
        if p.is_file() and p.suffix in (".html", ".txt", ".xml", ".json", ".eml", ".opml")
    )


@pytest.mark.parametrize("title", ["News", "All News", "Regional News Service"])
def test_no_generated_sentence_stutters_whatever_the_title(site, title):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'title = "{title}"\n')
    assert site.build().code == 0
    text = all_text(site)
    for bad in (
        "news news",
        "News news",
        "All All",
        "Latest All news",
        "All News news",
        "Regional news news",
        "about Regional news",
        "about All news",
        f"about {title}",
    ):
        assert bad not in text.replace(title, "TITLE") or bad in title, bad

    def words(rel: str) -> str:  # the message a subscriber gets (the .txt beside it is the web copy's)
        import email
        import email.policy

        message = email.message_from_bytes(
            (site.out / rel.replace(".txt", ".eml")).read_bytes(), policy=email.policy.default
        )
        return " ".join(message.get_body(("plain",)).get_content().split())

    assert f"You receive this because you subscribed to the newsletter about Peru from {title}." in words(
        "newsletters/pe/2021-W34.txt"
    )
    assert f"You receive this because you subscribed to the newsletter from {title}." in words(
        "newsletters/all/2021-W34.txt"
    )
    assert f"the regional newsletter from {title}." in words("newsletters/regional/2021-W34.txt")
    eml = site.read("newsletters/all/2021-W34.eml")
    list_id = re.search(r"^List-Id: (.*)$", eml, re.M).group(1)
    assert list_id.startswith((title, f'"{title}"')) and "\u2014" not in list_id and title * 2 not in list_id
    assert feedparser.parse(site.read("regional/atom.xml")).feed.subtitle == "News that names no single country"
    assert feedparser.parse(site.read("pe/atom.xml")).feed.subtitle == "News about Peru"  # the title names the site


@pytest.mark.parametrize(
    "lang, date, week, country, all_news",
    [
        ("es", "26 de agosto de 2021", "23–29 de agosto de 2021", "Perú", "Todas las noticias"),
        ("fr", "26 août 2021", "23–29 août 2021", "Pérou", "Toutes les actualités"),
        ("pt", "26 de agosto de 2021", "23–29 de agosto de 2021", "Peru", "Todas as notícias"),
        ("en", "26 August 2021", "23–29 August 2021", "Peru", "All news"),
    ],
)
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
    site.write(
        "a.txt",
        """
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
    """,
    )
    assert site.build().code == 0
    atom = feedparser.parse(site.read("pe/atom.xml"))
    assert atom.feed.language == "en"
    assert [e.title_detail.language for e in atom.entries] == ["es", "fr", "pt-BR", "en"]  # the rest inherit the feed's
    assert b'<entry xml:lang="es">' in (site.out / "pe/atom.xml").read_bytes()
    items = json.loads(site.read("pe/feed.json"))["items"]
    assert [i.get("language") for i in items] == ["es", "fr", "pt-BR", None]


def test_an_entry_in_another_language_is_marked_on_its_page_its_list_items_its_newsletter_block_and_web_copy(site):
    import html5lib

    site.write(
        "a.txt",
        """
        26 de agosto del 2021

        Perú abre un albergue

        Tiene 80 camas.

        25 August 2021

        Peru Plants Mangroves

        In English, like the site.
    """,
    )
    assert site.build().code == 0

    def langs(rel: str, tag: str) -> list[str | None]:
        doc = html5lib.parse(site.read(rel), namespaceHTMLElements=False)
        assert doc.get("lang") == "en", rel  # the page itself is in the site's language
        return [el.get("lang") for el in doc.iter(tag) if el.find(".//a") is not None or tag != "li"]

    [page] = [p.relative_to(site.out).as_posix() for p in (site.out / "entries").glob("*albergue*")]
    assert langs(page, "article") == ["es"]
    doc = html5lib.parse(site.read("pe/index.html"), namespaceHTMLElements=False)
    assert [li.get("lang") for li in doc.iter("li") if li.find("h3") is not None] == ["es", None]
    assert [lang for lang in langs("pe/2021/index.html", "li") if lang] == ["es"]
    assert "es" in langs("index.html", "li")
    for rel in ("newsletters/pe/2021-W34.html", "newsletters/pe/2021-W34.eml"):
        text = site.read(rel)
        if rel.endswith(".eml"):
            import email
            import email.policy

            text = email.message_from_string(text, policy=email.policy.default).get_body(("html",)).get_content()
        doc = html5lib.parse(text, namespaceHTMLElements=False)
        blocks = [(td.get("lang"), "".join(td.itertext())) for td in doc.iter("td") if td.get("class") == "entry"]
        assert [lang for lang, words in blocks if "albergue" in words] == ["es"], rel
        assert [lang for lang, words in blocks if "Mangroves" in words] == ["en"], rel


# The word for "news" in each language, as a site would be titled: every sentence must name it once.
@pytest.mark.parametrize("lang, title", [("en", "News"), ("es", "Noticias"), ("fr", "Actualités"), ("pt", "Notícias")])
def test_no_sentence_names_the_site_twice_in_any_language(site, lang, title):
    import html as htmlmod

    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'title = "{title}"\nlanguage = "{lang}"\n')
    assert site.build().code == 0
    for feed in site.out.glob("*/atom.xml"):
        parsed = feedparser.parse(feed.read_bytes()).feed
        assert parsed.subtitle.count(title) <= 1 and not parsed.subtitle.endswith(title), parsed.subtitle
    texts = [
        htmlmod.unescape(re.sub(r"<[^>]+>", " ", p.read_text(encoding="utf-8")))
        for p in site.out.rglob("*")
        if p.suffix in (".html", ".txt", ".xml", ".json")
    ]
    for text in texts:
        for sentence in re.split(r"(?<=[.!?:])\s|\n", text):
            if " \u2014 " in sentence:
                continue  # a name, "Site — List", not a sentence
            assert len(re.findall(rf"\b{title}\b", sentence)) <= 1, sentence
    issue = site.read("newsletters/all/2021-W34.html")
    [heading] = re.findall(r'<h1 class="issue-title"[^>]*>([^<]*)</h1>', issue)
    assert title not in heading and "2021" in heading  # under the site's title: the period only


@pytest.mark.parametrize(
    "lang, said",
    [
        ("es", "solo las últimas 104 semanas."),
        ("pt", "apenas as últimas 104 semanas."),
        ("fr", "les 104 semaines les plus récentes seulement."),
        ("en", "the newest 104 weeks only."),
    ],
)
def test_the_archive_page_agrees_with_the_period_noun(site, lang, said):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'language = "{lang}"\n')
    assert site.build().code == 0
    assert said in site.read("newsletters/pe/index.html")


@pytest.mark.parametrize(
    "period, lang, said",
    [
        ("daily", "es", "los últimos {n} días"),
        ("monthly", "es", "los últimos {n} meses"),
        ("daily", "pt", "os últimos {n} dias"),
        ("monthly", "pt", "os últimos {n} meses"),
        ("daily", "fr", "les {n} jours les plus récents"),
        ("monthly", "fr", "les {n} mois les plus récents"),
    ],
)
def test_every_period_noun_has_its_agreement(period, lang, said):
    assert PHRASES[lang][f"periods.{period}"] == said


@pytest.mark.parametrize(
    "name, said",
    [
        ("Pérou", "le Pérou"),
        ("France", "la France"),
        ("Argentine", "l\u2019Argentine"),
        ("Équateur", "l\u2019Équateur"),
        ("Philippines", "les Philippines"),
        ("États-Unis", "les États-Unis"),
        ("Îles Marshall", "les Îles Marshall"),
        ("Cuba", "Cuba"),
        ("Israël", "Israël"),
        ("Madagascar", "Madagascar"),
        ("Mexique", "le Mexique"),
        ("Royaume-Uni", "le Royaume-Uni"),
        ("Guinée-Bissau", "la Guinée-Bissau"),
        ("Côte d\u2019Ivoire", "la Côte d\u2019Ivoire"),
        ("Honduras", "le Honduras"),
        ("La Réunion", "La Réunion"),
        ("Toutes les actualités", "Toutes les actualités"),  # a list's title, not a country's name
    ],
)
def test_french_country_names_take_their_article(name, said):
    from newsletter.render.words import french_with_article

    assert french_with_article(name) == said


def test_a_french_site_names_countries_with_their_article_and_a_space_before_colons(site):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text('language = "fr"\n')
    assert site.build().code == 0
    assert feedparser.parse(site.read("pe/atom.xml")).feed.subtitle == "Actualités sur le Pérou"
    page = site.read("pe/index.html")
    assert 'content="Actualités sur le Pérou : 1 actualité."' in page
    subscribe = site.read("pe/subscribe.html")
    assert "<h1>Suivre le Pérou dans un lecteur de flux</h1>" in subscribe
    assert 'content="Lettre d\u2019information : Pérou : 1 numéro."' in site.read("newsletters/pe/index.html")
    text = site.read("newsletters/pe/2021-W34.txt")
    assert "La suivre dans un lecteur de flux : " in text and "Plus sur le Pérou : " in text
    assert "Ceci est la version web de la lettre sur le Pérou." in site.read("newsletters/pe/2021-W34.html")
    assert not re.search(r"\w: ", re.sub(r"https?:|<[^>]+>", "", page + subscribe + text))


@pytest.mark.parametrize("title", ["Newsletter", "All news"])
def test_a_site_titled_like_one_of_its_pages_does_not_stutter(site, title):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'title = "{title}"\n')
    assert site.build().code == 0
    doubled = f"{title} \u2014 {title}"
    for rel in ("newsletters/all/index.html", "all/index.html", "all/atom.xml", "all/rss.xml", "index.html"):
        assert doubled not in site.read(rel), rel
    if title == "Newsletter":
        assert "<title>Newsletter</title>" in site.read("newsletters/all/index.html")
    else:
        assert "<title>All news</title>" in site.read("all/index.html")
        assert feedparser.parse(site.read("all/atom.xml")).feed.title == "All news"


@pytest.mark.parametrize("lang, said", [("fr", "(flux)"), ("es", "(fuente web)"), ("en", "(feed)")])
def test_a_feed_opened_in_a_browser_has_its_tab_title_in_the_sites_language(site, lang, said):
    from lxml import etree

    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'title = "Nouvelles"\nlanguage = "{lang}"\n')
    assert site.build().code == 0
    transform = etree.XSLT(etree.parse(str(site.out / "feed.xsl")))
    for fmt in ("atom.xml", "rss.xml"):
        page = str(transform(etree.parse(str(site.out / "pe" / fmt))))
        [title] = re.findall(r"<title>([^<]*)</title>", page)
        assert title.endswith(f" {said}"), (fmt, title)
        assert lang == "en" or "(feed)" not in page
