"""Where every output lives: relative file paths and absolute URLs, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.content.entry import Entry

FEED_FILES = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}


@dataclass(frozen=True)
class Links:
    """Output layout under the site folder, and the public URLs made from `base_url`."""

    base_url: str

    # -- paths inside the output folder -------------------------------------------
    @staticmethod
    def group_page_path(group: str) -> str:
        return f"{group}/index.html"

    @staticmethod
    def year_page_path(group: str, year: int) -> str:
        return f"{group}/{year}/index.html"

    @staticmethod
    def feed_path(group: str, fmt: str) -> str:
        return f"{group}/{FEED_FILES[fmt]}"

    @staticmethod
    def entry_page_path(slug: str) -> str:
        return f"entries/{slug}.html"

    @staticmethod
    def archive_path(group: str) -> str:
        return f"newsletters/{group}/index.html"

    @staticmethod
    def issue_path(group: str, period_id: str, ext: str) -> str:
        return f"newsletters/{group}/{period_id}.{ext}"

    # -- absolute URLs ---------------------------------------------------------------
    def url(self, path: str) -> str:
        if path.endswith("/index.html"):
            path = path[: -len("index.html")]
        elif path == "index.html":
            path = ""
        return self.base_url + path

    def entry_url(self, entry: Entry) -> str:
        """Where a feed item points: the bulletin's `Link:` or the entry's own page."""
        return entry.link or self.url(self.entry_page_path(entry.slug))

    def entry_page_url(self, entry: Entry) -> str:
        return self.url(self.entry_page_path(entry.slug))

    def feed_url(self, group: str, fmt: str) -> str:
        return self.url(self.feed_path(group, fmt))

    def group_url(self, group: str) -> str:
        return self.url(self.group_page_path(group))
