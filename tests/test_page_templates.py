"""The page templates stay in charge of the pages' markup where the renderer makes a piece once
and reuses it (an entry's line on the year pages of every list it is on): a user's
`--templates` folder still changes every page, and an older copy of a page template still
renders."""

from __future__ import annotations

import re

from conftest import REPO

BULLETIN = """
    3 March 2025

    Chile and Argentina Reopen a Mountain Pass

    Customs officers on both sides now share one checkpoint.

    2 March 2025

    Ecuador Trains Rural Teachers

    The course covers reading and first aid.

    9 February 2025

    Regional Ministers Meet on Storm Warnings

    They agreed to share warnings by text message.

    5 June 2024

    Peru Counts Its Glaciers Again

    The survey found forty fewer than in 2014.
"""

YEAR_LISTS = [
    "all/2025/index.html",
    "cl/2025/index.html",
    "ar/2025/index.html",
    "ec/2025/index.html",
    "regional/2025/index.html",
    "all/2024/index.html",
    "pe/2024/index.html",
]


def _lines(html: str) -> list[str]:
    return re.findall(r"<li[ >].*?</li>", html)


def test_an_entry_has_the_same_line_on_the_year_page_of_every_list_it_is_on(site):
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    [line] = [x for x in _lines(site.read("all/2025/index.html")) if "Mountain Pass" in x]
    assert re.fullmatch(
        r'<li><time datetime="2025-03-03">3 March 2025</time> <a href="\.\./\.\./entries/[^"]+\.html">'
        r"Chile and Argentina Reopen a Mountain Pass</a></li>",
        line,
    )
    for page in ("cl/2025/index.html", "ar/2025/index.html"):
        assert [x for x in _lines(site.read(page)) if "Mountain Pass" in x] == [line]
    months = re.findall(r"<h2>(.*?)</h2>\n<ul>\n(.*?)\n</ul>", site.read("all/2025/index.html"), re.DOTALL)
    assert [(m, len(_lines(body))) for m, body in months] == [("March 2025", 2), ("February 2025", 1)]


def _my_macros(site):
    """A bulletin, and a templates folder of the site's own with the bundled macros' text."""
    site.write("a.txt", BULLETIN)
    custom = site.root / "mytemplates"
    custom.mkdir()
    return custom, (REPO / "templates" / "_macros.html.j2").read_text()


def test_a_users_entry_line_macro_makes_the_lines_of_every_year_page(site):
    custom, macros = _my_macros(site)
    assert macros.count("<li{% if lang %}") == 1
    (custom / "_macros.html.j2").write_text(macros.replace("<li{% if lang %}", '<li class="mine"{% if lang %}'))
    assert site.build("--templates", str(custom)).code == 0
    for page in YEAR_LISTS:
        lines = _lines(site.read(page))
        assert lines and all(x.startswith('<li class="mine">') for x in lines), page
    # the lines are made for this build's templates: back to the bundled ones, every list follows
    assert site.build().code == 0
    assert not any('class="mine"' in site.read(page) for page in YEAR_LISTS)


def test_a_users_entry_line_macro_with_other_parameters_is_called_as_jinja_calls_it(site):
    # the bundled macro's (entry, root) is called as its compiled function; any other shape
    # (here a third parameter with a default, and `varargs`) goes through Jinja's call
    custom, macros = _my_macros(site)
    assert macros.count("{% macro entry_line(entry, root) -%}") == 1
    macros = macros.replace("{% macro entry_line(entry, root) -%}", '{% macro entry_line(entry, root, mark="*") -%}')
    (custom / "_macros.html.j2").write_text(
        macros.replace("<li{% if lang %}", '<li class="{{ varargs | length }}{{ mark }}"{% if lang %}')
    )
    assert site.build("--templates", str(custom)).code == 0
    for page in YEAR_LISTS:
        lines = _lines(site.read(page))
        assert lines and all(x.startswith('<li class="0*">') for x in lines), page


def test_a_year_template_that_lists_the_entries_itself_still_renders(site):
    site.write("a.txt", BULLETIN)
    custom = site.root / "mytemplates"
    custom.mkdir()
    (custom / "year.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block main %}\n'
        "{% for month, items in entries | groupby_month %}<h2>{{ month }}</h2>"
        "{% for entry in items %}<p>{{ entry.date | longdate }}: {{ entry.title }}</p>{% endfor %}"
        "{% endfor %}\n{% endblock %}\n"
    )
    assert site.build("--templates", str(custom)).code == 0
    page = site.read("all/2025/index.html")
    assert "<h2>March 2025</h2><p>3 March 2025: Chile and Argentina Reopen a Mountain Pass</p>" in page
    assert "<h2>February 2025</h2><p>9 February 2025: Regional Ministers Meet on Storm Warnings</p>" in page


def _entry(site, word: str) -> str:
    [path] = [p for p in (site.out / "entries").iterdir() if word in p.name]
    return path.read_text(encoding="utf-8")


def test_an_entry_page_links_its_countries_through_the_country_links_macro(site):
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    page = _entry(site, "mountain-pass")
    assert (
        '<time datetime="2025-03-03">3 March 2025</time>\n· <a class="country" href="../ar/index.html">Argentina</a> '
        '· <a class="country" href="../cl/index.html">Chile</a>   </p>'
    ) in page
    assert "</time>\n  </p>" in _entry(site, "storm-warnings")  # no country: no link
    custom = site.root / "mytemplates"
    custom.mkdir()
    macro = (REPO / "templates" / "_countries.html.j2").read_text()
    (custom / "_countries.html.j2").write_text(macro.replace('class="country"', 'class="place"'))
    assert site.build("--templates", str(custom)).code == 0
    for word in ("mountain-pass", "rural-teachers", "glaciers"):
        page = _entry(site, word)
        assert 'class="place"' in page and 'class="country"' not in page, word


def test_an_entry_template_that_lists_the_countries_itself_still_renders(site):
    site.write("a.txt", BULLETIN)
    custom = site.root / "mytemplates"
    custom.mkdir()
    (custom / "entry.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% block main %}'
        "{% for code, name in countries %}[{{ code }}:{{ name }}]{% endfor %}{% endblock %}\n"
    )
    assert site.build("--templates", str(custom)).code == 0
    assert "[ar:Argentina][cl:Chile]" in _entry(site, "mountain-pass")
    assert "[pe:Peru]" in _entry(site, "glaciers")


GROUP_PAGES = ["all/index.html", "cl/index.html", "ar/index.html", "ec/index.html", "regional/index.html"]


def _items(html: str) -> list[str]:
    [news] = re.findall(r'<ol class="news">\n(.*?)\n</ol>', html, re.DOTALL)
    return re.findall(r"<li[ >].*?</li>", news, re.DOTALL)


def test_an_entry_has_the_same_item_on_every_group_page_it_is_on(site):
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    [item] = [x for x in _items(site.read("all/index.html")) if "Mountain Pass" in x]
    assert item.startswith('<li>\n  <h3><a href="../entries/') and item.endswith(
        '<p class="teaser">Customs officers on both sides now share one checkpoint.</p>\n</li>'
    )
    for page in ("cl/index.html", "ar/index.html"):
        assert [x for x in _items(site.read(page)) if "Mountain Pass" in x] == [item], page
    assert [len(_items(site.read(page))) for page in GROUP_PAGES] == [4, 1, 1, 1, 1]


def test_a_users_latest_item_macro_makes_the_items_of_every_group_page(site):
    site.write("a.txt", BULLETIN)
    custom = site.root / "mytemplates"
    custom.mkdir()
    macro = (REPO / "templates" / "_latest.html.j2").read_text()
    assert macro.count('<p class="teaser">') == 1
    (custom / "_latest.html.j2").write_text(macro.replace('<p class="teaser">', '<p class="mine">'))
    assert site.build("--templates", str(custom)).code == 0
    for page in GROUP_PAGES:
        items = _items(site.read(page))
        assert items and all('<p class="mine">' in x and "teaser" not in x for x in items), page
    # the items are made for this build's templates: back to the bundled ones, every page follows
    assert site.build().code == 0
    assert not any('class="mine"' in site.read(page) for page in GROUP_PAGES)


def test_a_group_template_that_lists_the_latest_entries_itself_still_renders(site):
    # an older copy of group.html.j2 (a loop over `latest`, the shared macros imported with
    # context, top-level sets) renders as it did
    site.write("a.txt", BULLETIN)
    custom = site.root / "mytemplates"
    custom.mkdir()
    (custom / "group.html.j2").write_text(
        '{% extends "base.html.j2" %}\n{% from "_macros.html.j2" import subscribe with context %}\n'
        "{% set share_title = name %}\n{% block main %}{{ subscribe(group, root) }}\n"
        "{% for entry in latest %}<p>{{ entry.date | longdate }}: {{ entry.title }} / {{ entry | teaser }}</p>"
        "{% else %}<p>none</p>{% endfor %}\n{% endblock %}\n"
    )
    assert site.build("--templates", str(custom)).code == 0
    page = site.read("cl/index.html")
    assert (
        "<p>3 March 2025: Chile and Argentina Reopen a Mountain Pass / "
        "Customs officers on both sides now share one checkpoint.</p></main>"
    ) in page
    assert '<ul class="subscribe">' in page and '<ol class="news">' not in page
