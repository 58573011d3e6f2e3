"""JSON Feed 1.1 renderer (https://jsonfeed.org/version/1.1)."""

from __future__ import annotations

import json

from newsletter.render.feeds.model import FeedData


def render_json_feed(data: FeedData) -> bytes:
    """The group's JSON Feed; keys in a fixed order so output is byte-stable."""
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
    feed["items"] = [
        {
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "content_html": item.content_html or f"<p>{_escape(item.title)}</p>",
            "summary": item.summary,
            "date_published": item.published.isoformat(),
            "date_modified": item.updated.isoformat(),
            "tags": [name for _, name in item.categories],
            **({"language": item.language} if item.language and item.language != data.language else {}),
        }
        for item in data.items
    ]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
