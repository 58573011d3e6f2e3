"""RSS 2.0 renderer."""

from __future__ import annotations

import re

from newsletter.render.feeds.model import FeedData
from newsletter.render.feeds.xmlfeed import feed_generator, set_channel_links, with_stylesheet


def render_rss(data: FeedData, fg=None) -> bytes:
    """The group's RSS feed, with an XSLT stylesheet so browsers show a page.

    `fg` may be the FeedGenerator already filled for the Atom feed: only its links change.
    """
    if fg is None:
        fg = feed_generator(data, "rss")
    else:
        set_channel_links(fg, data, "rss")
    # each entry's <description> was set when it was filled (`xmlfeed.feed_generator`)
    fg.lastBuildDate(data.updated)
    xml = fg.rss_str(pretty=True, encoding="UTF-8")
    # the titles are the channel's and the items' (nothing else of the feed is a <title>): one
    # without `&` or `<` comes out with neither `&amp;` nor `&lt;`, and most feeds have none
    # (scanning a feed for its titles costs ~65 µs)
    if any("&" in t or "<" in t for t in (data.title, *(item.title for item in data.items))):
        xml = hex_references(xml)
    return with_stylesheet(xml, data.stylesheet_url)


_TITLE = re.compile(rb"<title>([^<]*)</title>")


def _hex(m: re.Match) -> bytes:
    return b"<title>" + m.group(1).replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;") + b"</title>"


def hex_references(xml: bytes) -> bytes:
    """Every `<title>` with `<` and `&` as the hexadecimal references the RSS Board's profile
    asks for (`&#x3C;`, `&#x26;`): readers that take a title as text and those that take it as
    HTML (feedparser, newsboat) then both show "Costs < 5% & rising" as written. lxml writes
    `&lt;` and `&amp;`, which some readers show as such; feedgen has no say in it."""
    if b"&" not in xml:
        return xml
    return _TITLE.sub(_hex, xml)
