"""The sitemaps follow the site on every build, not only on `build --full` (T21 finding 7):
a year whose last bulletin is deleted loses its sitemaps/YEAR.xml in the build that drops it."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

from conftest import BASE_URL

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
OLD = """
    5 June 2024

    Peru Counts Its Glaciers Again

    The survey found fewer glaciers than in 2014.
"""
NEW = """
    4 March 2025

    Chile Reopens a Mountain Pass

    The pass had been closed for three weeks after heavy snow.
"""


def locs(site, rel: str) -> list[str]:
    return [loc.text or "" for loc in ET.fromstring((site.out / rel).read_bytes()).iter(f"{SM}loc")]


def every_sitemap_url(site) -> list[str]:
    urls = []
    for part in locs(site, "sitemap.xml"):
        urls += locs(site, part.removeprefix(BASE_URL))
    return urls


def test_deleting_a_years_only_bulletin_removes_its_sitemap_in_the_same_build(site):
    site.write("old.txt", OLD)
    site.write("new.txt", NEW)
    assert site.build().code == 0
    assert (site.out / "sitemaps" / "2024.xml").is_file()
    (site.bulletins / "old.txt").unlink()
    later = (site.out / "sitemap.xml").stat().st_mtime_ns + 10**9
    os.utime(site.bulletins / "new.txt", ns=(later, later))
    run = site.build()
    assert run.code == 0, run.err
    assert f"{BASE_URL}sitemaps/2024.xml" not in locs(site, "sitemap.xml")
    assert not (site.out / "sitemaps" / "2024.xml").exists()  # no file left listing dead pages
    assert sorted(p.name for p in (site.out / "sitemaps").iterdir()) == ["2025.xml", "lists.xml"]
    for url in every_sitemap_url(site):
        rel = url.removeprefix(BASE_URL)
        assert (site.out / (rel + "index.html" if rel.endswith("/") or not rel else rel)).is_file(), url
    full = site.build("--full")
    assert full.code == 0 and " 0 removed" in full.err, full.err  # nothing left for --full to clean up
