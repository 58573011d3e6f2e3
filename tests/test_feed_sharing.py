"""What an entry's feeds share (`FeedSite.kept`: its item, feedgen entry and JSON Feed text,
made once for the feeds of all its lists) changes no byte of any feed, and the JSON Feed's
own writer writes what `json.dumps(..., ensure_ascii=False, indent=2)` writes."""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo

from newsletter.render.feeds.jsonfeed import _item, dumps, json_item, render_json_feed
from newsletter.render.feeds.model import FeedItem

ODD = ["plain", 'quote " and \\ back', "tab\tnew\nline\r\x00\x1f", "ünïcødé — “x” 日本 \u2028\u2029 \U0001f600", ""]


def _odd(rng: random.Random) -> str:
    return "".join(rng.choice(ODD) for _ in range(rng.randrange(0, 3)))


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return _odd(rng)
    if kind == 1:
        return rng.randrange(-(10**6), 10**6)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return []
    if kind == 4:
        return {}
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(1, 4))]
    return {_odd(rng) + str(i): _value(rng, depth + 1) for i in range(rng.randrange(1, 4))}


def test_dumps_writes_what_json_dumps_writes():
    rng = random.Random(20)
    for _ in range(2000):
        value = _value(rng)
        assert dumps(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_an_item_is_written_as_json_dumps_writes_it_in_a_feed():
    rng = random.Random(21)
    when = dt.datetime(2021, 8, 26, tzinfo=zoneinfo.ZoneInfo("America/Lima"))
    for n in range(500):
        item = FeedItem(
            id=_odd(rng) + str(n),
            title=_odd(rng),
            url="https://example.org/" + _odd(rng),
            published=when,
            updated=when + dt.timedelta(hours=n),
            content_html=rng.choice(["", "<p>" + _odd(rng) + "</p>"]),
            summary=_odd(rng),
            categories=tuple((f"c{i}", _odd(rng)) for i in range(rng.randrange(0, 3))),
            language=rng.choice([None, "en", "es"]),
        )
        whole = json.dumps({"items": [json_item(item, "en")]}, ensure_ascii=False, indent=2)
        assert dumps({"items": [_Raw(_item(item, "en"))]}) == whole


def _Raw(text: str):
    from newsletter.render.feeds.jsonfeed import _Raw as Raw

    return Raw(text)


WEEK = """
    26 August 2021

    Peru and Chile Sign a Water Agreement

    The agreement covers three rivers in Peru and Chile. Details at https://example.org/water.

    25 August 2021

    Un acuerdo en Perú

    El acuerdo entre Perú y Chile cubre tres ríos y entra en vigor el lunes próximo.

    24 August 2021

    Peru Opens a Shelter

    The shelter hosts 200 people.
"""


def test_feeds_sharing_their_entries_are_the_feeds_made_alone(site):
    """Every group's Atom, RSS and JSON feed, made in turn with one `FeedSite` (entries shared
    by `pe`, `cl` and `all`), is byte for byte the feed made with nothing kept, and the build's."""
    from conftest import BASE_URL

    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config
    from newsletter.content.catalog import build_catalog
    from newsletter.render.feeds.atom import render_atom
    from newsletter.render.feeds.model import FeedSite, feed_data
    from newsletter.render.feeds.rss import render_rss
    from newsletter.render.feeds.xmlfeed import feed_generator

    site.write("a.txt", WEEK)
    assert site.build().code == 0
    from newsletter.render.links import Links

    built = {
        (g, fmt): (site.out / Links.feed_path(g, fmt)).read_bytes()
        for g in ("pe", "cl", "all")
        for fmt in ("atom", "json")
    }
    for group in ("pe", "cl", "all"):
        assert built[group, "atom"].count(b"<entry") >= 2
    config = load_config(None, {"base_url": BASE_URL})
    builder = Builder(config)
    context = builder.context
    entries = build_catalog(builder.read([str(site.bulletins)])[0], authority=config.authority).groups
    fallback = dt.datetime(2021, 8, 26, tzinfo=context.tz)
    shared = FeedSite(context.config, context.links, context.tz, context.names)
    for _ in range(2):  # the second time round, every item comes from what was kept
        for group in ("pe", "cl", "all"):
            alone = FeedSite(context.config, context.links, context.tz, context.names)
            title = context.group_title(group)
            data = feed_data(group, title, entries[group], alone, fallback)
            fg = feed_generator(data, "atom")
            expected = (render_atom(data, fg), render_rss(data, fg), render_json_feed(data))
            data = feed_data(group, title, entries[group], shared, fallback)
            fg = feed_generator(data, "atom", shared.kept)
            got = (render_atom(data, fg), render_rss(data, fg), render_json_feed(data, shared.kept))
            assert got == expected
            assert expected[0] == built[group, "atom"]
            assert expected[2] == built[group, "json"]


def test_an_rss_feed_whose_titles_have_no_ampersand_or_less_than_is_left_as_feedgen_wrote_it():
    # `render_rss` scans for titles only when the channel's or an item's title has `&` or `<`;
    # otherwise the scan would change nothing (a body's `&` and `<` are in <description>)
    from newsletter.render.feeds.model import FeedData
    from newsletter.render.feeds.rss import hex_references, render_rss
    from newsletter.render.feeds.xmlfeed import feed_generator

    when = dt.datetime(2024, 6, 5, tzinfo=dt.UTC)
    body = FeedItem("id:1", "Plain > title", "https://e.org/a.html", when, when, "<p>a &amp; b</p>", "a & b <c>", ())
    odd = FeedItem("id:2", "Costs < 5% & rising", "https://e.org/b.html", when, when, "", "", ())
    urls = {fmt: f"https://e.org/all/{fmt}" for fmt in ("atom", "rss", "json")}
    for site_title, items, scanned in (
        ("News", (body,), False),
        ("News & Views", (body,), True),
        ("News", (body, odd), True),
    ):
        data = FeedData("all", site_title, "s", "en", "a", "https://e.org/all/", urls, "../feed.xsl", "", when, items)
        raw = feed_generator(data, "rss").rss_str(pretty=True, encoding="UTF-8")
        xml = render_rss(data)
        assert xml.endswith(hex_references(raw)[len(b"<?xml version='1.0' encoding='UTF-8'?>") :])
        assert (b"&#x26;" in xml) is scanned
        assert b"&amp;" in xml  # the body's, escaped in <description>
