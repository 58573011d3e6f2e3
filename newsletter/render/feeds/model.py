"""What every feed format says about one group, computed once and rendered three times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from newsletter.content.catalog import published
from newsletter.content.entry import Entry
from newsletter.content.markup import body_html, body_text, summarize
from newsletter.render.links import Links
from newsletter.render.words import Words, joined_title

if TYPE_CHECKING:
    from newsletter.config import Config


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: str
    title: str
    url: str
    published: dt.datetime
    updated: dt.datetime
    content_html: str
    summary: str
    categories: tuple[tuple[str, str], ...]
    """(code, country name) pairs."""
    language: str | None = None
    """The entry's own language, when it has one."""


@dataclass(frozen=True, slots=True)
class FeedData:
    group: str
    title: str
    subtitle: str
    language: str
    author: str
    home_url: str
    self_urls: dict[str, str]
    stylesheet_url: str
    hub_url: str
    updated: dt.datetime
    items: tuple[FeedItem, ...]


@dataclass(frozen=True, slots=True)
class FeedSite:
    """What every group's feed of one site shares: the configuration (title, language, author,
    `feed_limit`, the WebSub hub), its links, its time zone and the country names."""

    config: Config
    links: Links
    tz: ZoneInfo
    names: dict[str, str]


def feed_item(entry: Entry, site: FeedSite) -> FeedItem:
    pub = published(entry, site.tz)
    return FeedItem(
        id=entry.id,
        title=entry.title,
        url=site.links.entry_url(entry),
        published=pub,
        updated=entry.updated or pub,
        content_html=body_html(entry.body, entry.body_format),
        summary=summarize(body_text(entry.body, entry.body_format)),
        categories=tuple((c, site.names.get(c, c.upper())) for c in entry.countries or ()),
        language=entry.language,
    )


def feed_data(
    group: str, group_title: str, entries: tuple[Entry, ...], site: FeedSite, fallback_updated: dt.datetime
) -> FeedData:
    """The model of one group's feed: the newest `config.feed_limit` entries."""
    config, links = site.config, site.links
    items = tuple(feed_item(e, site) for e in entries[: config.feed_limit])
    updated = max((i.updated for i in items), default=fallback_updated)
    return FeedData(
        group=group,
        title=joined_title(config.title, group_title),
        subtitle=config.description
        or Words(config.language).of("feed.subtitle", group, name=group_title, site=config.title),
        language=config.language,
        author=config.author or config.title,
        home_url=links.group_url(group),
        self_urls={fmt: links.feed_url(group, fmt) for fmt in ("atom", "rss", "json")},
        # relative to the feed's own address (every feed is one folder deep), so that a copy
        # previewed at another address still finds it
        stylesheet_url="../" * links.feed_path(group, "atom").count("/") + "feed.xsl",
        hub_url=config.watch_websub_hub,
        updated=updated,
        items=items,
    )
