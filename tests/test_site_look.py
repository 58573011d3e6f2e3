"""The site as a reader and a communications team see it, in the system Chromium: axe-core
(WCAG 2.1 AA and best practices: 0 violations) on the home, a country, an entry page and an
issue's web copy; screenshots at 1200 and 390 px, light and dark, into test-artifacts/."""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path

import pytest
from helpers.smtp_server import free_port

from newsletter.cli import main

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("NEWSLETTER_ARTIFACTS", REPO / "test-artifacts"))
BULLETIN = """4 March 2025

Chile and Argentina Reopen a Mountain Pass for Trucks

The pass had been closed for three weeks after heavy snow. Customs officers on both sides
now share one checkpoint, which halves the wait.

3 March 2025

Ecuador Trains Two Hundred Rural Teachers

The course covers reading, arithmetic and first aid, and ends with a month of practice in
village schools.

3 March 2025

Costs < 5% & Rising: Peru Publishes Its Price Survey

Prices of rice and beans rose less than five per cent in a year, the survey says.

2 March 2025

Colombia, Peru and Brazil Agree on River Patrols

The three navies will patrol the Amazon together from April.

1 de marzo de 2025

Bolivia inaugura una biblioteca móvil

Un autobús con dos mil libros recorrerá los pueblos del altiplano.

28 February 2025

Regional Ministers Meet on Disaster Warnings

Ministers from the whole region agreed to share storm warnings by text message.
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("look")
    port = free_port()
    (root / "bulletins").mkdir()
    (root / "bulletins" / "week.txt").write_text(BULLETIN)
    (root / "newsletter.toml").write_text(
        f'title = "Field Notes"\ndescription = "Short news from the Andes and the Amazon."\n'
        f'base_url = "http://127.0.0.1:{port}/"\n'
        f'[newsletter]\npublic_url = "http://127.0.0.1:{free_port()}/newsletter/"\n'
        f'[brand]\nfooter_text = "Field Notes is written by a small team."\nfooter_link = "https://example.org/about"\n'
    )
    assert main(["build", "-q", "--config", str(root / "newsletter.toml")]) == 0
    static = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(root / "feeds"))
    )
    threading.Thread(target=static.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{port}/"
    finally:
        static.shutdown()


def pages(root: Path) -> dict[str, str]:
    [entry] = [p.name for p in (root / "feeds" / "entries").glob("*price-survey*")]
    issue = sorted(p.name for p in (root / "feeds" / "newsletters" / "pe").glob("*.html") if p.name != "index.html")[-1]
    return {
        "home": "index.html",
        "country": "pe/index.html",
        "entry": f"entries/{entry}",
        "webcopy": f"newsletters/pe/{issue}",
    }


AXE = Path(__import__("axe_playwright_python").__file__).parent / "axe.min.js"


def test_no_axe_violations_best_practices_included_and_screenshots(served, browser):
    """Each page is loaded once and seen in every combination: light and dark (the media
    emulated), 1200 and 390 px (the viewport resized): axe runs and a screenshot is taken in each."""
    root, base = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    found = {}
    context = browser.new_context(bypass_csp=True)  # axe is injected
    for name, rel in pages(root).items():
        page = context.new_page()
        page.goto(base + rel)
        page.add_script_tag(path=str(AXE))
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
            for width in (1200, 390):
                page.set_viewport_size({"width": width, "height": 900})
                assert page.evaluate("innerWidth") == width
                page.screenshot(path=str(ARTIFACTS / f"site-{name}-{width}-{scheme}.png"), full_page=True)
                result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
                found[(name, width, scheme)] = [
                    (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
                ]
        page.close()
    context.close()
    assert len(found) == 16
    assert all(not v for v in found.values()), json.dumps({str(k): v for k, v in found.items() if v}, indent=1)


def test_a_feed_opened_in_chromium_reads_as_the_subscribe_page_says_with_the_sites_dates(served, browser):
    root, base = served
    said = (root / "feeds" / "pe" / "subscribe.html").read_text()
    assert "shows as a plain page, or as code where the browser no longer styles feeds" in said
    entry = (root / "feeds" / "entries").glob("*price-survey*").__next__().read_text()
    page = browser.new_page()
    for fmt in ("atom.xml", "rss.xml"):
        page.goto(base + "pe/" + fmt)
        shown = page.inner_text("body")
        # this Chromium still styles feeds: a plain page, its dates as the site writes them
        assert "This is a web feed" in shown and "Field Notes \u2014 Peru" in shown, fmt
        assert "3 March 2025" in shown and ">3 March 2025</time>" in entry, fmt
        assert "<feed" not in shown and "<rss" not in shown


def test_a_feed_previewed_at_another_address_shows_its_text_as_the_site_does_light_and_dark(tmp_path, browser):
    """feed.xsl is found relative to the feed (a copy served at another address than base_url
    is no blank page); an RSS description shows as the site shows it ("Tools & gloves", not
    "Tools &amp;amp; gloves"); the page follows the reader's dark mode."""
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(
        "4 March 2025\n\nPeru Opens a Depot\n\nTools & gloves for the harbour crews, and <5% waste.\n"
    )
    (tmp_path / "newsletter.toml").write_text('title = "Field Notes"\nbase_url = "https://news.example.org/"\n')
    assert main(["build", "-q", "--config", str(tmp_path / "newsletter.toml")]) == 0
    port = free_port()
    static = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(tmp_path / "feeds"))
    )
    threading.Thread(target=static.serve_forever, daemon=True).start()
    try:
        for scheme, background in (("light", "rgb(255, 255, 255)"), ("dark", "rgb(20, 23, 28)")):
            page = browser.new_page(color_scheme=scheme)
            for fmt in ("rss.xml", "atom.xml"):
                page.goto(f"http://127.0.0.1:{port}/pe/{fmt}")
                shown = page.inner_text("body")
                assert "This is a web feed" in shown and "Peru Opens a Depot" in shown, fmt
                assert "Tools & gloves for the harbour crews, and <5% waste." in shown, (fmt, shown)
                assert "&amp;" not in shown and "<p>" not in shown
                colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
                assert colour == background, (scheme, fmt)
            page.close()
    finally:
        static.shutdown()
