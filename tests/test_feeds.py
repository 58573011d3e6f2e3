"""Feeds read back with a real client (feedparser): validity, content, order, limits."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import feedparser
import pytest
from conftest import BASE_URL

THREE = """
    26 August, 2021

    Mexico's Beta Group Works with Panama's Border Unit

    Both teams work on border crossings. See https://example.org/report.

    24 August, 2021

    Costa Rica Hosts a Course for Mexican Journalists
    Link: https://partner.example.org/course

    More than 50 journalists took part.

    20 August, 2021

    Local Governments Meet in a Regional Seminar

    People from 24 countries met.
"""


@pytest.fixture
def built(site):
    site.write("a.txt", THREE)
    run = site.build()
    assert run.code == 0, run.err
    return site


@pytest.mark.parametrize("fmt", ["atom.xml", "rss.xml"])
def test_feeds_are_well_formed_and_complete(built, fmt):
    feed = feedparser.parse(built.read(f"mx/{fmt}"))
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title == "News \u2014 Mexico"
    assert [e.title for e in feed.entries] == [
        "Mexico's Beta Group Works with Panama's Border Unit",
        "Costa Rica Hosts a Course for Mexican Journalists",
    ]
    first, second = feed.entries
    assert first.published_parsed[:3] == (2021, 8, 26)
    assert first.link == BASE_URL + "entries/2021-08-26-mexicos-beta-group-works-with-panamas-border-unit.html"
    assert second.link == "https://partner.example.org/course"
    assert first.id == "tag:news.example.org,2021-08-26:mexicos-beta-group-works-with-panamas-border-unit"
    assert "Both teams work on border crossings." in first.content[0].value
    assert '<a href="https://example.org/report">' in first.content[0].value
    self_links = [l.href for l in feed.feed.links if l.rel == "self"]
    assert self_links == [BASE_URL + f"mx/{fmt}"]
    assert feed.feed.link == BASE_URL + "mx/"


@pytest.mark.parametrize("fmt", ["atom.xml", "rss.xml"])
def test_feed_updated_is_the_newest_entry_not_the_build_time(built, fmt):
    feed = feedparser.parse(built.read(f"cr/{fmt}"))
    assert feed.feed.updated_parsed[:6] == (2021, 8, 24, 0, 0, 0)


def test_feeds_carry_a_stylesheet_for_browsers(built):
    for fmt in ("atom.xml", "rss.xml"):
        assert '<?xml-stylesheet type="text/xsl" href="../feed.xsl"?>' in built.read(f"all/{fmt}")
    ET.fromstring((built.out / "feed.xsl").read_bytes())  # the stylesheet itself is well-formed XML


def test_regional_and_all_groups(built):
    regional = feedparser.parse(built.read("regional/atom.xml"))
    assert [e.title for e in regional.entries] == ["Local Governments Meet in a Regional Seminar"]
    everything = feedparser.parse(built.read("all/atom.xml"))
    assert len(everything.entries) == 3
    assert [e.published_parsed[:3] for e in everything.entries] == [(2021, 8, 26), (2021, 8, 24), (2021, 8, 20)]


def test_json_feed(built):
    feed = json.loads(built.read("pa/feed.json"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == BASE_URL + "pa/feed.json"
    [item] = feed["items"]
    assert item["title"] == "Mexico's Beta Group Works with Panama's Border Unit"
    assert item["date_published"] == "2021-08-26T00:00:00+00:00"
    assert item["content_html"].startswith("<p>Both teams")
    assert item["tags"] == ["Mexico", "Panama"]


def test_feed_limit_and_newest_first(site):
    text = "".join(f"{day} March 2022\n\nPeru item {day}\n\nBody {day}.\n\n" for day in range(1, 29))
    site.write("many.txt", text)
    (site.root / "newsletter.toml").write_text("feed_limit = 5\n")
    assert site.build().code == 0
    for fmt in ("atom.xml", "rss.xml"):
        feed = feedparser.parse(site.read(f"pe/{fmt}"))
        assert [e.title for e in feed.entries] == [f"Peru item {d}" for d in (28, 27, 26, 25, 24)]
    assert len(json.loads(site.read("pe/feed.json"))["items"]) == 5
    assert 'href="2022/index.html"' in site.read("pe/index.html")
    assert "Peru item 1</a>" in site.read("pe/2022/index.html")  # the year page keeps the whole archive


def test_timezone_sets_midnight(site):
    site.write("a.txt", "26 August 2021\n\nPeru news\n\nBody.\n")
    (site.root / "newsletter.toml").write_text('timezone = "America/Lima"\n')
    assert site.build().code == 0
    assert "<published>2021-08-26T00:00:00-05:00</published>" in site.read("pe/atom.xml")


def test_opml_lists_every_feed(built):
    root = ET.fromstring((built.out / "feeds.opml").read_bytes())
    urls = [o.get("xmlUrl") for o in root.iter("outline")]
    assert urls == [BASE_URL + f"{g}/atom.xml" for g in ("all", "regional", "cr", "mx", "pa")]


def test_entry_ids_are_stable_across_base_urls(site):
    site.write("a.txt", THREE)
    site.build()
    first = [e.id for e in feedparser.parse(site.read("all/atom.xml")).entries]
    (site.root / "newsletter.toml").write_text('authority = "news.example.org"\n')
    from newsletter.cli import main

    main(
        [
            "build",
            str(site.bulletins),
            "--out",
            str(site.root / "other"),
            "--state",
            str(site.state),
            "--base-url",
            "https://mirror.example.net/site/",
        ]
    )
    other = feedparser.parse((site.root / "other/all/atom.xml").read_text())
    assert [e.id for e in other.entries] == first
    assert other.entries[0].link.startswith("https://mirror.example.net/site/entries/")


def test_fixed_id_overrides(site):
    site.write("a.txt", "26 August 2021\nPeru news\nId: urn:uuid:8c7f6c1e-4c4b-4b8e-9a53-0b6f1f3b8d11\n\nBody.\n")
    site.build()
    [entry] = feedparser.parse(site.read("pe/atom.xml")).entries
    assert entry.id == "urn:uuid:8c7f6c1e-4c4b-4b8e-9a53-0b6f1f3b8d11"


def test_markdown_bulletin_renders_markdown(site):
    site.write(
        "a.md",
        "26 August 2021\n\n# Peru *reef* news\n\nSome **bold** text and a [link](https://example.org/x).\n\n- one\n- two\n",
    )
    assert site.build().code == 0
    [entry] = feedparser.parse(site.read("pe/atom.xml")).entries
    html = entry.content[0].value
    assert "<strong>bold</strong>" in html and "<li>one</li>" in html and 'href="https://example.org/x"' in html


def test_home_page_lists_every_group(built):
    home = built.read("index.html")
    for group, name, count in (
        ("mx", "Mexico", 2),
        ("pa", "Panama", 1),
        ("cr", "Costa Rica", 1),
        ("regional", "Regional news", 1),
    ):
        assert f'<a href="{group}/index.html">{name}</a> <span class="count">{count}</span>' in home
    assert 'href="all/subscribe.html"' in home and 'href="regional/subscribe.html"' in home
    assert 'href="../mx/subscribe.html"' in built.read("mx/index.html")  # each list's own on its page


def _text(detail) -> str:
    """What a reader shows of a feedparser text construct: HTML rendered to text, text as is."""
    import html
    import re

    value = detail["value"] if isinstance(detail, dict) else detail.value
    if detail["type"] in ("text/html", "application/xhtml+xml"):
        value = html.unescape(re.sub(r"<[^>]+>", "", value))
    return " ".join(value.split())


def test_markup_in_a_bulletin_reads_as_text_in_every_feed_and_reader(site):
    import html
    import re

    site.write(
        "a.txt",
        """
        26 August 2021

        Peru Writes <b>Bold</b> Plans

        Use <b>bold</b> & "quotes" <script>x</script> here.
    """,
    )
    assert site.build().code == 0
    page = site.read("entries/2021-08-26-peru-writes-b-bold-b-plans.html")
    body = html.unescape(re.sub(r"<[^>]+>", "", re.search(r"<article.*?</article>", page, re.S).group(0)))
    shown = 'Use <b>bold</b> & "quotes" <script>x</script> here.'
    assert shown in " ".join(body.split())
    for feed in ("pe/rss.xml", "pe/atom.xml"):
        [entry] = feedparser.parse(site.read(feed)).entries
        assert _text(entry.summary_detail) == shown, feed
        # the RSS title is written with hex references (`&#x3C;b>`): feedparser hands it over
        # as written (a reader that takes it as HTML cannot tell it from markup: RSS has no type)
        shown_title = entry.title if feed.endswith("rss.xml") else _text(entry.title_detail)
        assert shown_title == "Peru Writes <b>Bold</b> Plans", feed
        assert _text(entry.content[0]).startswith('Use <b>bold</b> & "quotes"'), feed
    item = json.loads(site.read("pe/feed.json"))["items"][0]
    assert item["summary"] == shown and item["title"] == "Peru Writes <b>Bold</b> Plans"


def test_no_empty_feed_is_written_and_the_opml_lists_exactly_the_feeds_that_exist(site):
    site.write(
        "a.txt",
        """
        26 August 2021

        Peru Opens a Shelter

        It has 80 beds.
    """,
    )
    assert site.build().code == 0
    assert not (site.out / "regional").exists()  # no entry names no country
    root = ET.fromstring((site.out / "feeds.opml").read_bytes())
    listed = [o.get("xmlUrl").removeprefix(BASE_URL) for o in root.iter("outline")]
    assert listed == ["all/atom.xml", "pe/atom.xml"]
    assert all((site.out / rel).is_file() for rel in listed)
    written = sorted(p.relative_to(site.out).as_posix() for p in site.out.glob("*/atom.xml"))
    assert written == sorted(listed)
    for rel in written:
        assert feedparser.parse(site.read(rel)).entries


def test_subscribe_links_lead_people_to_a_page_with_the_feed_addresses(built):
    import html as htmlmod

    home = built.read("index.html")
    assert "atom.xml" not in home.split("<main>")[1]  # pages link people to the subscribe page, not to raw XML
    page = built.read("mx/subscribe.html")
    values = [htmlmod.unescape(v) for v in re.findall(r'value="([^"]+)"', page)]
    assert values == [BASE_URL + "mx/atom.xml", BASE_URL + "mx/rss.xml", BASE_URL + "mx/feed.json"]
    for url in values:  # each address is a real feed
        rel = url.removeprefix(BASE_URL)
        assert (built.out / rel).is_file()
    assert 'rel="alternate" type="application/atom+xml"' in page  # readers still discover the feed


def test_rss_and_atom_pages_show_dates_alike_in_a_browser_with_xslt(built):
    from lxml import etree

    transform = etree.XSLT(etree.parse(str(built.out / "feed.xsl")))
    shown = {}
    for fmt in ("atom.xml", "rss.xml"):
        page = str(transform(etree.parse(str(built.out / "mx" / fmt))))
        shown[fmt] = re.findall(r'<p class="date">([^<]*)</p>', page)
    assert shown["rss.xml"] == shown["atom.xml"] == ["26 August 2021", "24 August 2021"]  # as the pages write them
    page = built.read("mx/index.html")
    assert all(f">{date}</time>" in page for date in shown["atom.xml"])


def test_the_home_page_names_the_site_once_and_entry_pages_draw_one_rule(built):
    home = built.read("index.html")
    assert home.split("<body>")[1].count(">News<") == 1 and '<h1 class="home">News</h1>' in home
    [path] = [p for p in (built.out / "entries").iterdir() if p.name.startswith("2021-08-26-")]
    entry = path.read_text()
    assert '<a class="home" href="../index.html">News</a>' in entry
    assert "main > article.entry:first-child { border-top: 0;" in built.read("site.css")


def test_the_feed_stylesheet_speaks_the_sites_language_and_writes_its_dates(site):
    from lxml import etree

    site.write(
        "a.txt",
        """
        26 August 2021

        Peru Opens a Shelter

        It has 80 beds.
    """,
    )
    (site.root / "newsletter.toml").write_text('language = "es"\n')
    assert site.build().code == 0
    transform = etree.XSLT(etree.parse(str(site.out / "feed.xsl")))
    for fmt in ("atom.xml", "rss.xml"):
        page = str(transform(etree.parse(str(site.out / "pe" / fmt))))
        assert re.findall(r'<p class="date">([^<]*)</p>', page) == ["26 de agosto de 2021"], fmt
        assert "Esta es una fuente web" in page and 'lang="es"' in page
    assert ">26 de agosto de 2021</time>" in site.read("pe/index.html")


def test_an_edited_entrys_update_time_is_when_the_edit_was_first_seen_kept_in_the_state(site):
    """docs/building.md: feed dates come from the entries, except an edited entry's update
    time, which is when the change was first seen: recorded in the state, so a rebuild with
    the same input and state gives the same bytes."""
    import datetime as dt
    import email.utils
    import os

    text = "26 August 2021\n\nPeru Opens a Shelter\n\nIt has 80 beds.\n"
    path = site.write("a.txt", text)
    assert site.build().code == 0
    assert "<updated>2021-08-26T00:00:00+00:00</updated>" in site.read("pe/atom.xml")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    path.write_text(path.read_text().replace("80 beds", "90 beds"))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert site.build().code == 0
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    atom = ET.fromstring(site.read("pe/atom.xml"))
    ns = "{http://www.w3.org/2005/Atom}"
    updated = dt.datetime.fromisoformat(atom.find(f"{ns}entry/{ns}updated").text.replace("Z", "+00:00"))
    assert before <= updated <= after  # when the edit was first seen, not the entry's date
    modified = json.loads(site.read("pe/feed.json"))["items"][0]["date_modified"]
    assert dt.datetime.fromisoformat(modified.replace("Z", "+00:00")) == updated
    rss = ET.fromstring(site.read("pe/rss.xml"))
    assert email.utils.parsedate_to_datetime(rss.find("channel/lastBuildDate").text) == updated
    feeds = {f: site.read(f"pe/{f}") for f in ("atom.xml", "rss.xml", "feed.json")}
    assert site.build("--full", out=site.root / "again").code == 0  # later, from the same input and state
    assert {f: (site.root / "again" / "pe" / f).read_text() for f in feeds} == feeds
