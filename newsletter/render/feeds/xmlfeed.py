"""Shared feedgen set-up for the Atom and RSS renderers (see PITFALLS.md for each rule)."""

from __future__ import annotations

import functools
import logging
from html import escape
from typing import Any

from newsletter import __version__
from newsletter.render.feeds.model import FeedData, FeedItem

logging.getLogger("feedgen").setLevel(logging.WARNING)


def feed_generator(data: FeedData, self_fmt: str, kept: dict[Any, Any] | None = None):
    """A FeedGenerator filled from `data`, entries already in order (newest first); with
    `kept` (`FeedSite.kept`), an item's feedgen entry is filled once for every feed it is in
    (what feedgen writes of an entry depends on the entry alone)."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(data.self_urls["atom"])
    fg.title(data.title)
    fg.subtitle(data.subtitle)
    fg.language(data.language)
    fg.author({"name": data.author})
    fg.generator("newsletter", version=__version__)
    fg.updated(data.updated)  # never "now": the newest entry's time
    set_channel_links(fg, data, self_fmt)
    for item in data.items:
        if kept is not None:
            shared = kept.get(("feedgen", id(item)))
            if shared is not None and shared[0] is item:
                fg.add_entry(shared[1], order="append")
                continue
        if kept is not None:
            fe = fg.add_entry(_kept_entry_class()(), order="append")
            kept[("feedgen", id(item))] = (item, fe)
        else:
            fe = fg.add_entry(order="append")
        _fill(fe, item)
    return fg


def _fill(fe, item: FeedItem) -> None:
    """Fill feedgen entry `fe` from `item` through feedgen's setters."""
    fe.id(item.id)
    fe.guid(item.id, permalink=False)
    fe.title(item.title)
    fe.link(href=item.url, rel="alternate")  # one link only: feedgen 1.0 drops link attributes
    fe.published(item.published)
    fe.updated(item.updated)
    fe.summary(item.summary or item.title)
    # An RSS <description> is HTML: the plain-text summary goes in escaped, so that "<b>" in
    # a bulletin reads as "<b>", as it does in Atom, JSON Feed and the pages. feedgen keeps
    # one value for Atom's summary and RSS's description and has no other way to set them
    # apart. Set here, once for every feed the entry is in (not by each RSS feed again).
    fe._FeedEntry__rss_description = escape(item.summary or item.title, quote=False)
    if item.content_html:
        fe.content(item.content_html, type="html")
    for code, name in item.categories:
        fe.category(term=code, label=name)


@functools.cache
def _kept_entry_class():
    """A feedgen entry whose Atom and RSS elements are built once: what feedgen builds of an
    entry depends on the entry alone, and a feed's tree is written out before the next one
    takes the element in (lxml moves an element appended elsewhere)."""
    from feedgen.entry import FeedEntry

    class KeptEntry(FeedEntry):
        _atom = _rss = None

        def atom_entry(self, extensions=True):
            if self._atom is None:
                self._atom = super().atom_entry(extensions)
            return self._atom

        def rss_entry(self, extensions=True):
            if self._rss is None:
                self._rss = super().rss_entry(extensions)
            return self._rss

    return KeptEntry


def set_channel_links(fg, data: FeedData, self_fmt: str) -> None:
    """(Re)set the feed-level links: self first, hub, then the HTML page last (RSS uses the last)."""
    fg.link(
        href=data.self_urls[self_fmt],
        rel="self",
        replace=True,
        type="application/atom+xml" if self_fmt == "atom" else "application/rss+xml",
    )
    if data.hub_url:
        fg.link(href=data.hub_url, rel="hub")
    fg.link(href=data.home_url, rel="alternate", type="text/html")


def with_stylesheet(xml: bytes, href: str) -> bytes:
    """Insert an <?xml-stylesheet?> processing instruction (feedgen has no API for it)."""
    decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    pi = f'\n<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    view = memoryview(xml)
    return b"".join((view[:decl_end], pi, view[decl_end:]))  # one copy of the feed, not two
