"""Atom 1.0 renderer."""

from __future__ import annotations

from newsletter.render.feeds.model import FeedData
from newsletter.render.feeds.xmlfeed import feed_generator, with_stylesheet


def render_atom(data: FeedData, fg=None) -> bytes:
    """The group's Atom feed, with an XSLT stylesheet so browsers show a page.

    Pass `fg` (from `feed_generator(data, "atom")`) to reuse it for the RSS feed afterwards.
    """
    xml = (fg or feed_generator(data, "atom")).atom_str(pretty=True, encoding="UTF-8")
    return with_stylesheet(with_entry_languages(xml, data), data.stylesheet_url)


def with_entry_languages(xml: bytes, data: FeedData) -> bytes:
    """`xml:lang` on each entry whose language is not the feed's (feedgen has no API for it).
    feedgen writes the entries in order, each as a bare `<entry>`."""
    langs = [item.language if item.language and item.language != data.language else None for item in data.items]
    if not any(langs):
        return xml
    parts = xml.split(b"<entry>")
    assert len(parts) == len(langs) + 1, "one <entry> per item"
    out = [parts[0]]
    for lang, rest in zip(langs, parts[1:], strict=True):
        out.append(f'<entry xml:lang="{lang}">'.encode() if lang else b"<entry>")
        out.append(rest)
    return b"".join(out)
