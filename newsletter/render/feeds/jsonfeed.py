"""JSON Feed 1.1 renderer (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import json
from json.encoder import encode_basestring  # C: the strings of json.dumps(ensure_ascii=False)
from typing import Any

from newsletter.render.feeds.model import FeedData, FeedItem


def render_json_feed(data: FeedData, kept: dict[Any, Any] | None = None) -> bytes:
    """The group's JSON Feed; keys in a fixed order so output is byte-stable. With `kept`
    (`FeedSite.kept`), an item's text is made once for every feed it is in."""
    feed: dict = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": data.title,
        "home_page_url": data.home_url,
        "feed_url": data.self_urls["json"],
        "description": data.subtitle,
        "language": data.language,
        "authors": [{"name": data.author}],
    }
    if data.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": data.hub_url}]
    items = []
    for item in data.items:
        key = ("json", id(item), data.language)
        done = kept.get(key) if kept is not None else None
        if done is None or done[0] is not item:
            done = (item, _Raw(_item(item, data.language)))  # made `_Raw` once, not copied by each feed
            if kept is not None:
                kept[key] = done
        items.append(done[1])
    feed["items"] = items
    return (dumps(feed) + "\n").encode("utf-8")


def _item(item: FeedItem, language: str) -> str:
    """One item as `dumps` writes it in the list of items (depth 2): the keys of
    `json_item`, formatted here directly (a test compares the two)."""
    e = encode_basestring
    tags = [name for _, name in item.categories]
    published = item.published.isoformat()
    updated = published if item.updated is item.published else item.updated.isoformat()
    return "".join(  # one copy of the whole; `a + b + ...` copies what it has so far at each `+`
        (
            '{\n      "id": ',
            e(item.id),
            ',\n      "url": ',
            e(item.url),
            ',\n      "title": ',
            e(item.title),
            ',\n      "content_html": ',
            e(item.content_html or f"<p>{_escape(item.title)}</p>"),
            ',\n      "summary": ',
            e(item.summary),
            ',\n      "date_published": ',
            e(published),
            ',\n      "date_modified": ',
            e(updated),
            ',\n      "tags": ',
            "[\n        " + ",\n        ".join(map(e, tags)) + "\n      ]" if tags else "[]",
            f',\n      "language": {e(item.language)}' if item.language and item.language != language else "",
            "\n    }",
        )
    )


def json_item(item: FeedItem, language: str) -> dict:
    """What the feed says of one item, as a dict (`_item` writes it)."""
    return {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.content_html or f"<p>{_escape(item.title)}</p>",
        "summary": item.summary,
        "date_published": item.published.isoformat(),
        "date_modified": item.updated.isoformat(),
        "tags": [name for _, name in item.categories],
        **({"language": item.language} if item.language and item.language != language else {}),
    }


class _Raw(str):
    """Text `dumps` made already (at the depth where it goes)."""


def dumps(value: Any, depth: int = 0) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2)` for what a feed holds (dicts with string
    keys, lists, strings, numbers, booleans, None), with the C string encoder: json.dumps with
    an indent encodes in Python, four times slower; a test compares the two."""
    if isinstance(value, _Raw):
        return value
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + "  " * (depth + 1)
        body = ("," + inner).join(f"{encode_basestring(k)}: {dumps(v, depth + 1)}" for k, v in value.items())
        return "".join(("{", inner, body, "\n", "  " * depth, "}"))  # one copy of the body, not one a `+`
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = "\n" + "  " * (depth + 1)
        return "".join(("[", inner, ("," + inner).join([dumps(v, depth + 1) for v in value]), "\n", "  " * depth, "]"))
    return json.dumps(value)  # numbers, booleans, None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
