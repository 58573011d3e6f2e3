"""robots.txt and the sitemaps (https://www.sitemaps.org/protocol.html), split so that a small
change rewrites few files: `sitemap.xml` is an index of `sitemaps/lists.xml` (the home page,
each list's page, subscribe page and newsletter archive) and one `sitemaps/YEAR.xml` per year
(that year's entry pages and year pages). An edited entry rewrites its year's file only; the
index changes only when a year comes or goes. No `lastmod` in the index: its bytes stay put."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape as _escape

# html.escape without quotes writes what xml.sax.saxutils.escape writes (&amp; &lt; &gt;), and
# the build imports `html` already; xml.sax.saxutils brings urllib.request, http.client and ssl
# (~12 ms, a tenth of a one-file rebuild at 10,000 entries).

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def robots_txt(base_url: str) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {base_url}sitemap.xml\n".encode()


def year_sitemap_path(year: int) -> str:
    return f"sitemaps/{year}.xml"


LISTS_SITEMAP = "sitemaps/lists.xml"


def sitemap_index(base_url: str, years: Iterable[int]) -> bytes:
    """The index: the lists' sitemap, then each year's, newest first."""
    paths = [LISTS_SITEMAP] + [year_sitemap_path(y) for y in sorted(set(years), reverse=True)]
    body = "".join(f"  <sitemap><loc>{_escape(base_url + p, quote=False)}</loc></sitemap>\n" for p in paths)
    return f"{HEAD}<sitemapindex {NS}>\n{body}</sitemapindex>\n".encode()


def urlset(urls: Iterable[tuple[str, str]]) -> bytes:
    """A sitemap of (URL, lastmod) pairs; an empty lastmod is left out."""
    rows = []
    for loc, lastmod in urls:  # `_escape(loc, quote=False)`, without its call (a year's every entry)
        loc = loc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if lastmod:
            rows.append(f"  <url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>\n")
        else:
            rows.append(f"  <url><loc>{loc}</loc></url>\n")
    return f"{HEAD}<urlset {NS}>\n{''.join(rows)}</urlset>\n".encode()
