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
    # Readers (feedparser among them) take an RSS <title> as HTML too: a "<" in it is escaped
    # (an "&" is not, so that a reader taking titles as text still shows "Trinidad & Tobago").
    for fe, item in zip(fg.entry(), data.items, strict=True):
        fe._FeedEntry__rss_description = html.escape(item.summary or item.title, quote=False)
        fe._FeedEntry__rss_title = item.title.replace("<", "&lt;")
    fg.lastBuildDate(data.updated)
    xml = fg.rss_str(pretty=True, encoding="UTF-8")
    return with_stylesheet(xml, data.stylesheet_url)
