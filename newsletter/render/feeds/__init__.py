"""Feed renderers: Atom 1.0 (`atom`), RSS 2.0 (`rss`), JSON Feed 1.1 (`jsonfeed`), OPML (`opml`).

Each takes a `FeedData` (built once per group by `feeds.model.feed_data`) and returns bytes.
"""
