"""The rules the W3C feed validator most often reports, checked on every feed we write.

The validator itself is a web service (no network here), so each of its common findings
is checked directly: self links, guid form, date formats, absolute URLs, HTML typing,
unique ids, Atom entry content, and no inline styles in feed content.
"""

from __future__ import annotations

import email.utils
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from test_feeds import THREE

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture
def feeds(site):
    site.write("a.txt", THREE)
    site.write("b.md", "27 August 2021\n\n# Peru <em>and</em> Chile\n\nA [link](https://example.org/a) and **bold**.\n")
    assert site.build().code == 0
    return sorted(site.out.glob("*/atom.xml")) + sorted(site.out.glob("*/rss.xml"))


def absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "tag", "urn") and bool(parts.netloc or parts.path)


def test_atom_feeds_follow_the_validator_rules(feeds):
    for path in (p for p in feeds if p.name == "atom.xml"):
        root = ET.parse(path).getroot()
        assert root.tag == ATOM + "feed"
        assert [l.get("href") for l in root.findall(ATOM + "link") if l.get("rel") == "self"], path
        assert root.find(ATOM + "author/" + ATOM + "name").text
        assert RFC3339.match(root.find(ATOM + "updated").text)
        ids = [e.find(ATOM + "id").text for e in root.findall(ATOM + "entry")]
        assert len(ids) == len(set(ids)), "duplicate entry ids"
        for entry in root.findall(ATOM + "entry"):
            assert absolute(entry.find(ATOM + "id").text)
            for tag in ("updated", "published"):
                assert RFC3339.match(entry.find(ATOM + tag).text)
            links = entry.findall(ATOM + "link")
            content = entry.find(ATOM + "content")
            assert content is not None or any(l.get("rel", "alternate") == "alternate" for l in links)
            assert all(absolute(l.get("href")) for l in links)
            if content is not None:
                assert content.get("type") == "html"
                assert "style=" not in content.text
            for category in entry.findall(ATOM + "category"):
                assert category.get("term")


def test_rss_feeds_follow_the_validator_rules(feeds):
    for path in (p for p in feeds if p.name == "rss.xml"):
        root = ET.parse(path).getroot()
        channel = root.find("channel")
        assert root.get("version") == "2.0"
        for tag in ("title", "link", "description"):
            assert channel.find(tag) is not None and channel.find(tag).text
        assert absolute(channel.find("link").text)
        self_links = [l for l in channel.findall(ATOM + "link") if l.get("rel") == "self"]
        assert len(self_links) == 1 and self_links[0].get("type") == "application/rss+xml"
        assert email.utils.parsedate_to_datetime(channel.find("lastBuildDate").text)
        guids = []
        for item in channel.findall("item"):
            guid = item.find("guid")
            assert guid.get("isPermaLink") == "false"
            guids.append(guid.text)
            assert absolute(item.find("link").text)
            date = item.find("pubDate").text
            assert re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$", date), date
            assert "<" not in (item.find("description").text or ""), "HTML in a plain description"
        assert len(guids) == len(set(guids))


def test_feeds_hold_no_invalid_xml_characters(site):
    site.write("a.txt", "26 August 2021\n\nPeru \x01news\ufffe\n\nBody\x0c with \x1b controls.\n")
    assert site.build().code == 0
    for rel in ("pe/atom.xml", "pe/rss.xml"):
        ET.parse(site.out / rel)
