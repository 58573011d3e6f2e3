"""What every feed format says about one group, computed once and rendered three times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
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
    kept: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What one entry's feeds share, made once for the feeds of all its lists: its `FeedItem`
    (`item`), its feedgen entry (`xmlfeed.feed_generator`), its JSON Feed item
    (`jsonfeed.render_json_feed`); by the entry or item object, which is kept with it. And
    what entries share (`feed_item`): a date's time (by the date), a set of countries' pairs."""

    def item(self, entry: Entry) -> FeedItem:
        """`feed_item(entry, self)`, made once per entry object."""
        key = ("item", id(entry))
        kept = self.kept.get(key)
        if kept is None or kept[0] is not entry:
            if len(self.kept) > 60_000:  # a long-lived daemon: entries come and go
                self.kept.clear()
            kept = self.kept[key] = (entry, feed_item(entry, self))
        return kept[1]


def feed_item(entry: Entry, site: FeedSite) -> FeedItem:
    kept = site.kept
    # what entries share, made once: the time of a date, the (code, name) pairs of a set of countries
    pub = kept.get(entry.date)
    if pub is None:
        pub = kept[entry.date] = published(entry, site.tz)
    countries = entry.countries
    categories = kept.get(("categories", countries))
    if categories is None:
        names = site.names
        categories = kept[("categories", countries)] = tuple((c, names.get(c, c.upper())) for c in countries or ())
    return FeedItem(
        id=entry.id,
        title=entry.title,
        url=site.links.entry_url(entry),
        published=pub,
        updated=entry.updated or pub,
        content_html=body_html(entry.body, entry.body_format),
        summary=summarize(body_text(entry.body, entry.body_format)),
        categories=categories,
        language=entry.language,
    )


def feed_data(
    group: str, group_title: str, entries: tuple[Entry, ...], site: FeedSite, fallback_updated: dt.datetime
) -> FeedData:
    """The model of one group's feed: the newest `config.feed_limit` entries."""
    config, links = site.config, site.links
    items = tuple(site.item(e) for e in entries[: config.feed_limit])
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
