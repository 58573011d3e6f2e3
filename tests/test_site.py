"""The static site a communications team would publish: brand, home page, country pages,
search and link-preview tags, favicon, robots.txt and sitemaps (incremental)."""

from __future__ import annotations

import email
import email.policy
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest
from conftest import BASE_URL

BULLETIN = """
    3 March 2025

    Chile and Argentina Reopen a Mountain Pass

    Customs officers on both sides now share one checkpoint. It halves the wait.

    2 March 2025

    Ecuador Trains Rural Teachers

    The course covers reading and first aid.

    5 June 2024

    Peru Counts Its Glaciers Again

    The survey found forty fewer than in 2014.

    1 June 2024

    Regional Ministers Meet on Storm Warnings

    They agreed to share warnings by text message.
"""
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def built(site):
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    return site


def doc(site, rel):
    return html5lib.parse(site.read(rel), namespaceHTMLElements=False)


def meta(tree, attr, name):
    found = [m.get("content") for m in tree.iter("meta") if m.get(attr) == name]
    return found[0] if found else None


def entry_page(site, word):
    [path] = [p for p in (site.out / "entries").iterdir() if word in p.name]
    return path.relative_to(site.out).as_posix()


@pytest.mark.parametrize("which", ["index.html", "cl/index.html", "entry"])
def test_pages_carry_a_description_a_canonical_url_open_graph_and_twitter_tags_and_a_favicon(built, which):
    rel = entry_page(built, "mountain-pass") if which == "entry" else which
    tree = doc(built, rel)
    description = meta(tree, "name", "description")
    assert description and len(description) > 20
    [canonical] = [link.get("href") for link in tree.iter("link") if link.get("rel") == "canonical"]
    assert canonical.startswith(BASE_URL)
    assert meta(tree, "property", "og:url") == canonical and meta(tree, "property", "og:description") == description
    share = meta(tree, "property", "og:title")  # the page's own title: og:site_name names the site
    assert share == meta(tree, "name", "twitter:title") and tree.find(".//title").text.startswith(share)
    assert meta(tree, "property", "og:site_name") == "News"
    assert meta(tree, "property", "og:type") == ("article" if which == "entry" else "website")
    assert meta(tree, "name", "twitter:card") == "summary" and meta(tree, "name", "twitter:title")
    [icon] = [link.get("href") for link in tree.iter("link") if link.get("rel") == "icon"]
    assert (built.out / rel).parent.joinpath(icon).resolve() == (built.out / "favicon.svg").resolve()
    if which == "entry":
        assert description.startswith("Customs officers on both sides")
        assert share == "Chile and Argentina Reopen a Mountain Pass"


def test_the_home_page_has_the_site_title_as_heading_the_latest_news_first_and_a_compact_country_index(built):
    tree = doc(built, "index.html")
    [h1] = list(tree.iter("h1"))
    assert "".join(h1.itertext()).strip() == "News"
    main = tree.find(".//main")
    headings = ["".join(h.itertext()) for h in main.iter("h2")]
    assert headings[0] == "Latest news" and "Countries" in headings
    titles = ["".join(h.itertext()).strip() for h in main.iter("h3")]
    assert titles == [
        "Chile and Argentina Reopen a Mountain Pass",
        "Ecuador Trains Rural Teachers",
        "Peru Counts Its Glaciers Again",
        "Regional Ministers Meet on Storm Warnings",
    ]
    text = built.read("index.html")
    assert text.count("Chile and Argentina Reopen a Mountain Pass") == 1  # once, though it names two countries
    index = [a.get("href") for a in main.iter("a") if a.get("href", "").endswith("/index.html")]
    for code in ("ar", "cl", "ec", "pe", "regional"):
        assert index.count(f"{code}/index.html") == 1 + sum(
            1
            for t in titles
            if code in ("ar", "cl")
            and "Chile" in t
            or code == "ec"
            and "Ecuador" in t
            or code == "pe"
            and "Peru" in t
            or code == "regional"
            and "Regional" in t
        ), code


def test_country_pages_list_summaries_that_link_to_the_entries(built):
    tree = doc(built, "cl/index.html")
    items = [li for li in tree.iter("li") if li.find("h3") is not None]
    [item] = items
    link = item.find("h3/a").get("href")
    assert link == "../" + entry_page(built, "mountain-pass")
    teaser = "".join(item.find(".//p[@class='teaser']").itertext())
    assert teaser.startswith("Customs officers on both sides")


def test_robots_txt_and_a_sitemap_index_whose_every_url_is_a_page(built):
    assert built.read("robots.txt").splitlines() == ["User-agent: *", "Allow: /", "", f"Sitemap: {BASE_URL}sitemap.xml"]
    index = ET.fromstring((built.out / "sitemap.xml").read_bytes())
    parts = [loc.text for loc in index.iter(f"{SM}loc")]
    assert parts == [f"{BASE_URL}sitemaps/lists.xml", f"{BASE_URL}sitemaps/2025.xml", f"{BASE_URL}sitemaps/2024.xml"]
    urls = []
    for part in parts:
        urls += [
            loc.text for loc in ET.fromstring((built.out / part.removeprefix(BASE_URL)).read_bytes()).iter(f"{SM}loc")
        ]
    assert len(urls) == len(set(urls))
    for url in urls:
        rel = url.removeprefix(BASE_URL)
        assert (built.out / (rel + "index.html" if rel.endswith("/") or not rel else rel)).is_file(), url
    pages = {p.relative_to(built.out).as_posix() for p in (built.out / "entries").iterdir()}
    assert {f"{BASE_URL}{p}" for p in pages} <= set(urls)
    assert f"{BASE_URL}cl/" in urls and f"{BASE_URL}cl/2025/" in urls and BASE_URL in urls


def test_an_edit_rewrites_only_its_years_sitemap(built):
    before = {p.name: p.stat().st_mtime_ns for p in (built.out / "sitemaps").iterdir()}
    index = (built.out / "sitemap.xml").stat().st_mtime_ns
    text = (built.bulletins / "a.txt").read_text().replace("Peru Counts Its Glaciers Again", "Peru Counts Its Glaciers")
    (built.bulletins / "a.txt").write_text(text)
    os.utime(built.bulletins / "a.txt", ns=(index + 10**9, index + 10**9))
    assert built.build().code == 0
    after = {p.name: p.stat().st_mtime_ns for p in (built.out / "sitemaps").iterdir()}
    assert after["2025.xml"] == before["2025.xml"] and after["lists.xml"] == before["lists.xml"]
    assert after["2024.xml"] != before["2024.xml"] and (built.out / "sitemap.xml").stat().st_mtime_ns == index
    [lastmod] = [
        u.split("<lastmod>")[1][:10] for u in built.read("sitemaps/2024.xml").split("<url>") if "glaciers" in u
    ]
    assert lastmod != "2024-06-05"  # the edited entry's update time (its Atom <updated>)


def test_brand_settings_logo_favicon_accent_and_footer(site):
    site.write("a.txt", BULLETIN)
    (site.root / "brand").mkdir()
    (site.root / "brand" / "mark.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 40)
    (site.root / "brand" / "tab.ico").write_bytes(b"\x00\x00\x01\x00" + b"1" * 40)
    (site.root / "newsletter.toml").write_text(
        'title = "Field Notes"\n[brand]\nlogo = "brand/mark.png"\nfavicon = "brand/tab.ico"\naccent = "#8a1c3b"\n'
        'accent_dark = "#ffb3c6"\nfooter_text = "A project of the Harbour Trust"\nfooter_link = "https://example.org/trust"\n'
    )
    assert site.build().code == 0
    assert (site.out / "logo.png").read_bytes() == (site.root / "brand" / "mark.png").read_bytes()
    assert (site.out / "favicon.ico").read_bytes() == (site.root / "brand" / "tab.ico").read_bytes()
    assert not (site.out / "favicon.svg").exists()
    tree = doc(site, "cl/index.html")
    [icon] = [link for link in tree.iter("link") if link.get("rel") == "icon"]
    assert icon.get("href") == "../favicon.ico" and icon.get("type") == "image/x-icon"
    [logo] = list(tree.find(".//header").iter("img"))
    assert logo.get("src") == "../logo.png" and logo.get("alt") == ""  # the title beside it says it
    assert meta(tree, "property", "og:image") == f"{BASE_URL}logo.png"
    [footer] = [a for a in tree.find(".//footer").iter("a") if a.get("href") == "https://example.org/trust"]
    assert "".join(footer.itertext()) == "A project of the Harbour Trust"
    css = site.read("site.css")
    assert "--accent: #8a1c3b;" in css and "--accent: #ffb3c6;" in css
    # the newsletters (web copy, mail, text part) and the feed stylesheet carry the brand too
    message = email.message_from_bytes(
        (site.out / "newsletters/cl/2025-W10.eml").read_bytes(), policy=email.policy.default
    )
    mail = message.get_body(("html",)).get_content()
    for page in (site.read("newsletters/cl/2025-W10.html"), mail):
        assert "#0b5cad" not in page and "#7db7ff" not in page
        assert "#8a1c3b" in page and "#ffb3c6" in page
        assert f'src="{BASE_URL}logo.png"' in page
        assert '<a href="https://example.org/trust"' in page and "A project of the Harbour Trust</a>" in page
    assert "A project of the Harbour Trust: https://example.org/trust" in site.read("newsletters/cl/2025-W10.txt")
    assert (
        message.get_body(("plain",))
        .get_content()
        .rstrip("\r\n")
        .endswith("A project of the Harbour Trust: https://example.org/trust")
    )
    xsl = site.read("feed.xsl")
    assert "#0b5cad" not in xsl and "#8a1c3b" in xsl and "#ffb3c6" in xsl
    assert "A project of the Harbour Trust" in xsl


def test_newsletter_pages_have_the_head_tags_of_every_page(site):
    """The README: every page has a description, a canonical URL, Open Graph and Twitter card
    tags and a favicon; the newsletters' web copies and archive pages too."""
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    for rel, url in (
        ("newsletters/cl/2025-W10.html", f"{BASE_URL}newsletters/cl/2025-W10.html"),
        ("newsletters/cl/index.html", f"{BASE_URL}newsletters/cl/"),
    ):
        tree = doc(site, rel)
        assert meta(tree, "name", "description"), rel
        assert [link.get("href") for link in tree.iter("link") if link.get("rel") == "canonical"] == [url]
        assert meta(tree, "property", "og:url") == url and meta(tree, "property", "og:title")
        assert meta(tree, "property", "og:locale") == "en_US"
        assert meta(tree, "name", "twitter:card") == "summary" and meta(tree, "name", "twitter:title")
        [icon] = [link for link in tree.iter("link") if link.get("rel") == "icon"]
        assert icon.get("href") == "../../favicon.svg" and (site.out / "favicon.svg").exists()
    assert "Customs officers" in meta(doc(site, "newsletters/cl/2025-W10.html"), "name", "description")


def head_tags(tree):
    """The description, canonical, Open Graph, Twitter and icon tags of a page, in order."""
    tags = []
    for el in tree.find(".//head"):
        key = el.get("name") or el.get("property") or (el.get("rel") if el.tag == "link" else None)
        if key and key.split(":")[0] in ("description", "canonical", "og", "twitter", "icon"):
            tags.append(key)
    return tags


def test_newsletter_web_copies_and_site_pages_share_their_head_tags(site):
    """One place (newsletter/render/head.py) makes the link-preview tags of the site's pages
    and of the newsletters' web copies: the same tags in the same order, and a title with
    quotes or an ampersand escaped alike."""
    site.write("a.txt", BULLETIN.replace("Reopen a Mountain Pass", 'Reopen the "Paso" & Its Road'))
    (site.root / "brand").mkdir()
    (site.root / "brand" / "mark.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 40)
    (site.root / "newsletter.toml").write_text('title = "Field & Notes"\n[brand]\nlogo = "brand/mark.png"\n')
    assert site.build().code == 0
    page, copy = doc(site, entry_page(site, "paso")), doc(site, "newsletters/cl/2025-W10.html")
    assert head_tags(page) == head_tags(copy)
    assert "og:image" in head_tags(copy) and "description" in head_tags(copy)
    for key in ("og:site_name", "og:locale", "og:image", "twitter:card"):
        assert meta(page, "property" if key.startswith("og:") else "name", key) == meta(
            copy, "property" if key.startswith("og:") else "name", key
        ), key
    assert meta(copy, "property", "og:site_name") == "Field & Notes"
    assert 'content="Field &amp; Notes"' in site.read("newsletters/cl/2025-W10.html")
    assert meta(page, "property", "og:title") == 'Chile and Argentina Reopen the "Paso" & Its Road'
    assert 'content="Chile and Argentina Reopen the &#34;Paso&#34; &amp; Its Road"' in site.read(
        entry_page(site, "paso")
    )


@pytest.mark.parametrize(
    "language,locale", [("en", "en_US"), ("pt-BR", "pt_BR"), ("es", "es_ES"), ("zh-Hant-TW", "zh_TW"), ("qu", "")]
)
def test_og_locale_is_language_and_territory(language, locale):
    from newsletter.render.head import og_locale

    assert og_locale(language) == locale


SPANISH = """
    1 de marzo de 2025

    Bolivia inaugura una biblioteca móvil

    Un autobús con dos mil libros recorrerá los pueblos del altiplano.
"""


def nearest_lang(parents: dict, element) -> str | None:
    while element is not None:
        if element.get("lang"):
            return element.get("lang")
        element = parents.get(element)
    return None


def test_interface_text_inside_an_entry_in_another_language_is_marked_with_the_sites(site):
    """An entry in Spanish on an English site: its title carries lang="es", the dates, country
    names and links around it (the site's words) lang="en" again."""
    site.write("a.txt", SPANISH)
    assert site.build().code == 0
    [issue] = [p for p in (site.out / "newsletters/bo").glob("*.html") if p.name != "index.html"]
    for rel in ("index.html", "bo/index.html", "bo/2025/index.html", entry_page(site, "biblioteca"), issue):
        tree = doc(site, str(rel.relative_to(site.out)) if isinstance(rel, Path) else rel)
        parents = {child: parent for parent in tree.iter() for child in parent}
        titles = [a for a in tree.iter("a") if "".join(a.itertext()).strip() == "Bolivia inaugura una biblioteca móvil"]
        titles += [
            h for h in tree.iter("h1") if "".join(h.itertext()).strip() == "Bolivia inaugura una biblioteca móvil"
        ]
        assert titles and all(nearest_lang(parents, t) == "es" for t in titles), rel
        interface = [t for t in tree.iter("time")]
        interface += [a for a in tree.iter("a") if a.get("class") == "country"]
        interface += [p for p in tree.iter("p") if p.get("class") == "entry-date"]
        assert interface and all(nearest_lang(parents, e) == "en" for e in interface), rel


def test_og_locale_follows_the_entrys_language_on_its_page_and_on_a_web_copy_of_only_that_language(site):
    """An entry in Spanish on an English site: og:locale es_ES on its page (like its lang) and on
    the web copy whose entries are all Spanish; English pages and mixed copies keep en_US."""
    site.write("a.txt", SPANISH)
    site.write("b.txt", "2 March 2025\n\nPeru Shares a Lake Survey\n\nBoth navies counted the fish.\n")
    assert site.build().code == 0
    assert meta(doc(site, entry_page(site, "biblioteca")), "property", "og:locale") == "es_ES"
    assert meta(doc(site, entry_page(site, "lake-survey")), "property", "og:locale") == "en_US"
    assert meta(doc(site, "index.html"), "property", "og:locale") == "en_US"
    copies = {
        p.relative_to(site.out).as_posix(): meta(doc(site, p.relative_to(site.out).as_posix()), "property", "og:locale")
        for p in (site.out / "newsletters").glob("*/*.html")
        if p.name != "index.html"
    }
    spanish_only = [rel for rel in copies if "biblioteca" in site.read(rel) and "Lake Survey" not in site.read(rel)]
    mixed = [rel for rel in copies if "biblioteca" in site.read(rel) and "Lake Survey" in site.read(rel)]
    assert spanish_only and mixed, copies
    assert all(copies[rel] == "es_ES" for rel in spanish_only) and all(copies[rel] == "en_US" for rel in mixed)
