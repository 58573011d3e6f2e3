"""Unit keys: how a unit of output is named (`kind:group/part`), read in one place.

static, home               site-wide units
feeds:mx, page:mx          a group's feeds and page
archive:mx                 a group's newsletter archive page
year:mx/2021               a group's year page
issue:mx/2021-W34          one newsletter issue
entry:2021-08-26-slug      one entry page
sitemap:2021, sitemap:index, sitemap:lists   a year's sitemap; the index and the lists' sitemap
"""

from __future__ import annotations


def parse_key(key: str) -> tuple[str, str, str]:
    """(kind, group, part): `issue:mx/2021-W34` → ("issue", "mx", "2021-W34"); an entry's slug
    is its group; parts that a kind lacks are ""."""
    kind, _, rest = key.partition(":")
    group, _, part = rest.partition("/")
    return kind, group, part


_YEARS = {str(year): year for year in range(1000, 10000)}


def unit_year(key: str) -> int | None:
    """The year a unit is filed under, or None for the site-wide and per-group units."""
    # as `parse_key` reads keys, without making its tuple: this is asked of every unit
    kind, _, rest = key.partition(":")
    if kind == "entry":
        part = rest[:4]  # a "/" among them fails isdigit, as a shorter group would fail len
    elif kind == "issue" or kind == "year":
        part = rest.partition("/")[2][:4]
    elif kind == "sitemap":
        part = rest.partition("/")[0]
    else:
        return None
    year = _YEARS.get(part)  # most parts; the rest as int() reads them
    if year is None and len(part) == 4 and part.isdigit():
        return int(part)
    return year


def is_issue(key: str) -> bool:
    return key.startswith("issue:")
