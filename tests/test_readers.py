"""What feed readers show of our titles: feedparser (a library) and newsboat (a terminal reader)."""

from __future__ import annotations

import feedparser
import pytest
from helpers.newsboat import screen_of_feed

TITLE = "Costs < 5% & rising in Peru"


@pytest.fixture
def costs(site):
    site.write(
        "a.txt",
        f"""
        26 August 2021

        {TITLE}

        Prices in Peru rose again: 5% & more.
    """,
    )
    assert site.build().code == 0
    return site


def test_rss_titles_use_the_rss_boards_hexadecimal_references(costs):
    rss = costs.read("pe/rss.xml")
    assert "<title>Costs &#x3C; 5% &#x26; rising in Peru</title>" in rss
    assert "&amp;lt;" not in rss


@pytest.mark.parametrize("fmt", ["rss.xml", "atom.xml"])
def test_feedparser_shows_a_title_with_lt_and_amp_as_written(costs, fmt):
    feed = feedparser.parse(costs.read(f"pe/{fmt}"))
    assert feed.bozo == 0
    [entry] = feed.entries
    assert entry.title == TITLE


@pytest.mark.parametrize("fmt", ["rss.xml", "atom.xml"])
def test_newsboat_shows_a_title_with_lt_and_amp_as_written(costs, tmp_path, fmt):
    home = tmp_path / "nb"
    home.mkdir()
    shown = screen_of_feed(costs.out / "pe" / fmt, home)
    assert TITLE in shown
    assert "&lt;" not in shown and "&#x" not in shown and "&amp;" not in shown
