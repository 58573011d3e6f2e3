"""RSS 2.0 renderer."""

from __future__ import annotations

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
    fg.lastBuildDate(data.updated)
    xml = fg.rss_str(pretty=True, encoding="UTF-8")
    return with_stylesheet(xml, data.stylesheet_url)
