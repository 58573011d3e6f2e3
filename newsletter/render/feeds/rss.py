"""RSS 2.0 renderer."""

from __future__ import annotations

import html

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
    # An RSS <description> is HTML: the plain-text summary goes in escaped, so that "<b>" in a
    # bulletin reads as "<b>", as it does in Atom, JSON Feed and the pages. feedgen keeps one
    # value for Atom's summary and RSS's description and has no other way to set them apart.
    for fe, item in zip(fg.entry(), data.items, strict=True):
        fe._FeedEntry__rss_description = html.escape(item.summary or item.title, quote=False)
    fg.lastBuildDate(data.updated)
    xml = fg.rss_str(pretty=True, encoding="UTF-8")
    return with_stylesheet(hex_references(xml), data.stylesheet_url)


def hex_references(xml: bytes) -> bytes:
    """Every `<title>` with `<` and `&` as the hexadecimal references the RSS Board's profile
    asks for (`&#x3C;`, `&#x26;`): readers that take a title as text and those that take it as
    HTML (feedparser, newsboat) then both show "Costs < 5% & rising" as written. lxml writes
    `&lt;` and `&amp;`, which some readers show as such; feedgen has no say in it.

    What `re.sub(rb"<title>([^<]*)</title>", ...)` would do, by `find`: a regex walks the
    whole feed (its bodies too) position by position, eight times slower on our feeds."""
    if b"&" not in xml:
        return xml
    out: list[bytes] = []
    last, at = 0, xml.find(b"<title>")
    while at >= 0:
        start = at + len(b"<title>")
        end = xml.find(b"<", start)
        if end < 0:
            break
        if not xml.startswith(b"</title>", end):
            at = xml.find(b"<title>", at + 1)
            continue
        if b"&" in xml[start:end]:
            out += (xml[last:start], xml[start:end].replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;"))
            last = end
        at = xml.find(b"<title>", end + len(b"</title>"))
    if not out:
        return xml
    out.append(xml[last:])
    return b"".join(out)
