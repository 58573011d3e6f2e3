"""Digest composition (issue #18 items 1, 4, 6): one message per subscriber per period, with
every entry of their lists once, rendered once per distinct choice."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re

import pytest

from newsletter.builder.pipeline import Builder
from newsletter.config import load_config
from newsletter.errors import ConfigError
from newsletter.render.newsletters.digest import DigestComposer, DigestRenderer
from newsletter.subscribers.lists import Subscriber

WEEK = """
    11 March 2025

    Border Crossing Reopens Between Venezuela And Colombia

    The crossing between Venezuela and Colombia opened again on Tuesday.

    12 March 2025

    Peru Opens A Shelter

    The shelter in Peru hosts 200 people.

    13 March 2025

    Colombia Plants Trees

    Colombia planted a million trees.

    14 March 2025

    Storm Season Begins

    Forecasters expect an active season across the region.

    3 March 2025

    Colombia Holds A Census

    An older story from Colombia, from the week before.
"""
WHEN = dt.datetime(2025, 3, 17, 6, tzinfo=dt.UTC)


def composer_for(site, **options):
    site.write("a.txt", WEEK)
    config = load_config(None, {"base_url": "https://news.example.org/", "state": str(site.state), **options})
    builder = Builder(config, state_dir=site.state)
    entries, _, _ = builder.read([str(site.bulletins)])
    catalog = builder.catalog(entries, save=False)
    composer = DigestComposer(
        catalog,
        builder.context.names,
        default_frequency=config.newsletter_period,
        frequencies=config.newsletter_frequencies,
        language=config.language,
    )
    renderer = DigestRenderer(builder.context.issue_renderer, builder.context.templates)
    return composer, renderer


def sub(address: str, *lists: str) -> Subscriber:
    return Subscriber(address, "", frozenset(lists))


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def test_an_entry_naming_two_chosen_countries_is_in_the_digest_once_under_the_first(site):
    composer, renderer = composer_for(site)
    digest = composer.digest(composer.choice(sub("a@example.org", "ve", "co")), "2025-W11")
    assert [(s.title, [(e.title, also) for e, also in s.entries]) for s in digest.sections] == [
        (
            "Colombia",
            [("Colombia Plants Trees", ()), ("Border Crossing Reopens Between Venezuela And Colombia", ("ve",))],
        )
    ]
    text = renderer.render(digest, composer).text
    assert text.count("Border Crossing Reopens") == 1
    assert "Also about Venezuela" in text
    assert "Colombia Holds A Census" not in text  # the week before
    assert renderer.render(digest, composer).subject == "News \u2014 10\u201316 March 2025"


def test_every_chosen_list_has_its_section_and_all_brings_the_rest_once(site):
    composer, renderer = composer_for(site)
    digest = composer.digest(composer.choice(sub("b@example.org", "pe", "all", "regional")), "2025-W11")
    assert [(s.group, [e.title for e, _ in s.entries]) for s in digest.sections] == [
        ("pe", ["Peru Opens A Shelter"]),
        ("regional", ["Storm Season Begins"]),
        ("all", ["Colombia Plants Trees", "Border Crossing Reopens Between Venezuela And Colombia"]),
    ]
    everything = composer.digest(composer.choice(sub("c@example.org", "*")), "2025-W11")
    assert sorted(e.title for e in everything.entries) == [
        "Border Crossing Reopens Between Venezuela And Colombia",
        "Colombia Plants Trees",
        "Peru Opens A Shelter",
    ]


def test_a_period_without_news_for_the_chosen_lists_has_no_digest(site):
    composer, _ = composer_for(site)
    assert composer.digest(composer.choice(sub("a@example.org", "pe")), "2025-W10") is None
    assert composer.digest(composer.choice(sub("a@example.org", "co")), "2025-W10") is not None


def test_a_digest_is_rendered_once_per_choice_and_only_links_differ_per_message(site, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SECRET", "k")
    composer, renderer = composer_for(site, **{"newsletter.public_url": "https://news.example.org/nl/"})
    first, second = sub("a@example.org", "co", "ve"), sub("z@example.org", "ve", "co")
    one = renderer.render(composer.digest(composer.choice(first), "2025-W11"), composer)
    assert renderer.render(composer.digest(composer.choice(second), "2025-W11"), composer) is one
    a = parse(renderer.message(one, ("", first.email), secret=b"k", date=WHEN).compose())
    z = parse(renderer.message(one, ("", second.email), secret=b"k", date=WHEN).compose())
    html_a, html_z = a.get_body(("html",)).get_content(), z.get_body(("html",)).get_content()
    assert "a%40example.org" in html_a and "z%40example.org" not in html_a
    scrub = re.compile(r'href="https://news\.example\.org/nl/[^"]*"')
    assert scrub.sub("", html_a) == scrub.sub("", html_z)
    assert a["Message-ID"] != z["Message-ID"]
    assert a["List-Id"] == '"News" <digest.news.example.org>'
    assert "list=%2A" in a["List-Unsubscribe"] and a["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert 'href="https://news.example.org/entries/2025-03-13-colombia-plants-trees.html"' in html_a
    assert "https://news.example.org/nl/preferences?email=a%40example.org&amp;token=" in html_a
    assert 'style="' in html_a and "<style>" in html_a  # inlined, with the @media rules kept
    again = renderer.message(one, ("", first.email), secret=b"k", date=WHEN).compose()
    assert parse(again)["Message-ID"] == a["Message-ID"]  # the same on every retry


def test_a_digest_speaks_the_site_language(site):
    composer, renderer = composer_for(site, language="es")
    rendered = renderer.render(composer.digest(composer.choice(sub("a@example.org", "pe", "co")), "2025-W11"), composer)
    assert rendered.subject == "News \u2014 10\u201316 de marzo de 2025"
    assert "Perú" in rendered.text and "12 de marzo de 2025" in rendered.text
    assert "You receive" not in rendered.text and "Recibe este mensaje" in rendered.text


def test_a_digest_carries_the_brand(site):
    brand = {"brand.accent": "#8a1c3b", "brand.accent_dark": "#ffb3c6", "brand.logo": "mark.png"}
    (site.root / "mark.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 40)
    brand |= {"brand.footer_text": "A project of the Harbour Trust", "brand.footer_link": "https://example.org/trust"}
    composer, renderer = composer_for(site, **brand)
    rendered = renderer.render(composer.digest(composer.choice(sub("a@example.org", "pe", "co")), "2025-W11"), composer)
    assert "#0b5cad" not in rendered.html and "#7db7ff" not in rendered.html
    assert "#8a1c3b" in rendered.html and "#ffb3c6" in rendered.html
    assert 'src="https://news.example.org/logo.png"' in rendered.html
    assert "A project of the Harbour Trust</a>" in rendered.html
    assert rendered.text.endswith("A project of the Harbour Trust: https://example.org/trust\n")


def test_a_digest_larger_than_max_bytes_lists_the_rest_as_links(site):
    whole, whole_renderer = composer_for(site)
    everyone = sub("a@example.org", "all")
    size = len(whole_renderer.render(whole.digest(whole.choice(everyone), "2025-W11"), whole).html.encode())
    composer, renderer = composer_for(site, **{"newsletter.max_bytes": size - 500})
    rendered = renderer.render(composer.digest(composer.choice(everyone), "2025-W11"), composer)
    assert len(rendered.html.encode()) <= size - 500
    assert 0 < rendered.full_entries < 4 and "More news this week:" in rendered.text
    assert all(t in rendered.text for t in ("Peru Opens", "Storm Season", "Colombia Plants", "Border Crossing"))


def test_digest_options_and_their_defaults(tmp_path):
    config = load_config(None, {"base_url": "https://news.example.org/"})
    assert (config.newsletter_delivery, config.newsletter_frequencies, config.smtp_connections) == (
        "digest",
        ["weekly"],
        4,
    )
    monthly = load_config(None, {"base_url": "https://news.example.org/", "newsletter.period": "monthly"})
    assert monthly.newsletter_frequencies == ["monthly"]
    (tmp_path / "n.toml").write_text('[newsletter]\nfrequencies = ["weekly", "fortnightly"]\ndelivery = "each"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "n.toml", {"base_url": "https://news.example.org/"})
    assert "newsletter.frequencies" in str(err.value) and "newsletter.delivery" in str(err.value)


def test_the_subscriber_csv_has_an_optional_frequency_column(tmp_path):
    from newsletter.content.gazetteer import load_gazetteer
    from newsletter.subscribers.lists import export_csv, load_subscribers

    path = tmp_path / "subscribers.csv"
    path.write_text(
        "email,countries,name,frequency\nd@example.org,pe,Dee,daily\nm@example.org,co ve,,Monthly\n"
        "w@example.org,pe,,\nx@example.org,pe,,fortnightly\nold@example.org,mx,Old\n"
    )
    subscribers, diags = load_subscribers(path, load_gazetteer())
    assert [(s.email, s.frequency) for s in subscribers] == [
        ("d@example.org", "daily"),
        ("m@example.org", "monthly"),
        ("w@example.org", ""),
        ("old@example.org", ""),
    ]
    assert [(d.line, d.message) for d in diags] == [
        (
            5,
            'frequency "fortnightly" for x@example.org: use daily, weekly or monthly (or leave it empty for the '
            "site's); skipped",
        )
    ]
    assert export_csv(subscribers).splitlines() == [
        "email,countries,name,frequency",
        "d@example.org,pe,Dee,daily",
        "m@example.org,co ve,,monthly",
        "w@example.org,pe,,",
        "old@example.org,mx,Old,",
    ]
    assert export_csv([subscribers[-1]]).splitlines()[0] == "email,countries,name"  # no column when nobody chose


def test_a_frequency_the_site_does_not_offer_becomes_its_default(site):
    composer, _ = composer_for(site, **{"newsletter.frequencies": ["weekly", "monthly"]})
    assert (
        composer.choice(Subscriber("m@example.org", "", frozenset({"pe"}), frequency="monthly")).frequency == "monthly"
    )
    assert composer.choice(Subscriber("d@example.org", "", frozenset({"pe"}), frequency="daily")).frequency == "weekly"
    assert composer.choice(Subscriber("n@example.org", "", frozenset({"pe"}))).frequency == "weekly"
    monthly = composer.digest(
        composer.choice(Subscriber("m@example.org", "", frozenset({"co"}), frequency="monthly")), "2025-03"
    )
    assert monthly.label == "March 2025" and len(monthly.entries) == 3  # the week before is in March too


def test_the_store_keeps_the_frequency_through_import_and_export_and_records_changes(tmp_path):
    from newsletter.subscribers.store import SubscriberStore

    store = SubscriberStore(tmp_path / "state")
    try:
        store.import_subscribers([Subscriber("a@example.org", "A", frozenset({"pe"}), frequency="monthly")])
        assert store.recipients()[0].frequency == "monthly"
        store.import_subscribers([Subscriber("a@example.org", "A", frozenset({"pe"}))])  # a CSV without the column
        assert store.frequency("a@example.org") == "monthly"
        assert store.set_frequency("a@example.org", "daily", via="web") is True
        assert store.set_frequency("a@example.org", "daily", via="web") is False
        assert store.set_frequency("nobody@example.org", "daily") is False
        assert [(h[2], h[3], h[4]) for h in store.history("a@example.org") if h[2] == "frequency"] == [
            ("frequency", "csv", "monthly"),
            ("frequency", "web", "daily"),
        ]
        with pytest.raises(ValueError):
            store.set_frequency("a@example.org", "hourly")
    finally:
        store.close()


SPANISH = """
    10 de marzo de 2025

    Perú abre un refugio en Arequipa

    El refugio de Arequipa acoge a doscientas personas desde el martes, dice la alcaldía.
"""


def test_an_entry_in_another_language_carries_lang_on_its_block_and_its_overflow_item(site):
    """As in list issues: the Spanish entry's block and its `li` among the links say lang="es";
    the date and the "also about" line around it (the site's words) say lang="en" again."""
    site.write("b.txt", SPANISH)
    whole, whole_renderer = composer_for(site)
    reader = sub("a@example.org", "pe", "co")
    html = whole_renderer.render(whole.digest(whole.choice(reader), "2025-W11"), whole).html
    [block] = re.findall(r'<td class="entry" lang="es"[^>]*>(.*?)</td>', html, re.S)
    assert "Perú abre un refugio" in block and re.search(r'<p class="entry-date"\s+lang="en"[^>]*>10 March 2025', block)
    assert len(re.findall(r'<td class="entry" lang="en"', html)) == 3
    composer, renderer = composer_for(site, **{"newsletter.max_bytes": len(html.encode()) - 400})
    rendered = renderer.render(composer.digest(composer.choice(reader), "2025-W11"), composer)
    [item] = re.findall(r'<li lang="es"[^>]*>(.*?)</li>', rendered.html, re.S)
    assert "Perú abre un refugio" in item and re.search(r'lang="en"[^>]*>\(10 March 2025\)', item)
