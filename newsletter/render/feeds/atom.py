"""Atom 1.0 renderer."""

from __future__ import annotations

from newsletter.render.feeds.model import FeedData
from newsletter.render.feeds.xmlfeed import feed_generator, with_stylesheet


def render_atom(data: FeedData, fg=None) -> bytes:
    """The group's Atom feed, with an XSLT stylesheet so browsers show a page.

    Pass `fg` (from `feed_generator(data, "atom")`) to reuse it for the RSS feed afterwards.
    """
    xml = (fg or feed_generator(data, "atom")).atom_str(pretty=True, encoding="UTF-8")
    return with_stylesheet(xml, data.stylesheet_url)
