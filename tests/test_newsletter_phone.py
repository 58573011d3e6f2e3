"""Newsletters read on a phone (T21 finding 1): under 620 px every entry block is as tall as its
text, and no entry is drawn over the next, in a list issue's web copy and in a mailed digest.

The stylesheet checks are cheap; the layout is measured in the system Chromium at 390 px."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from newsletter.builder.pipeline import Builder
from newsletter.config import load_config
from newsletter.render.newsletters.digest import DigestComposer, DigestRenderer
from newsletter.subscribers.lists import Subscriber

REPO = Path(__file__).resolve().parent.parent
BODY = (
    "The harbour office in Callao counted more ships this month than in any month since records began, "
    "and the port authority says the new cranes halved the time a ship waits at anchor. "
) * 3
WEEK = f"""
    11 March 2025

    Peru Counts More Ships In Callao Than Ever Before

    {BODY}

    Dockers will get a second shift from April, the union says.

    12 March 2025

    Peru Opens A Shelter For Two Hundred People In The South

    {BODY}

    12 de marzo de 2025

    Perú abre un refugio en Arequipa

    El refugio de Arequipa acoge a doscientas personas desde el martes.

    13 March 2025

    Peru Plants A Million Trees Along The River

    {BODY}
"""


def style_rules(css: str):
    """(media text or "", rule) for every style rule of `css`, parsed by cssutils (premailer's parser)."""
    import cssutils

    cssutils.log.setLevel(logging.CRITICAL)
    sheet = cssutils.parseString(css, validate=False)
    for rule in sheet:
        if rule.type == rule.MEDIA_RULE:
            for inner in rule:
                if inner.type == inner.STYLE_RULE:
                    yield rule.media.mediaText, inner
        elif rule.type == rule.STYLE_RULE:
            yield "", rule


def shipped_styles() -> dict[str, str]:
    shipped = json.loads((REPO / "newsletter" / "data" / "inlined-newsletter.json").read_text(encoding="utf-8"))
    import re

    [style] = re.findall(r"<style[^>]*>(.*?)</style>", shipped["source"], re.S)
    return {
        "newsletter.css": (REPO / "templates" / "newsletter.css").read_text(encoding="utf-8"),
        "digest.css": (REPO / "templates" / "digest.css").read_text(encoding="utf-8"),
        "inlined-newsletter.json <style>": style,
    }


@pytest.mark.parametrize("name", ["newsletter.css", "digest.css", "inlined-newsletter.json <style>"])
def test_no_entry_block_gets_a_fixed_height_and_media_rules_only_override(name):
    """An entry is as tall as its text: no `height` on .entry (or .more, .masthead) anywhere; in an
    @media block every declaration is !important (inline styles win otherwise, so a plain
    declaration there is a rule pasted in the wrong place)."""
    blocks = (".entry", ".more", ".masthead", ".section")
    found = []
    for media, rule in style_rules(shipped_styles()[name]):
        selectors = [s.selectorText.strip() for s in rule.selectorList]
        for prop in rule.style:
            if prop.name in ("height", "max-height") and any(s in blocks for s in selectors):
                found.append(f"{media or 'all'}: {rule.selectorText} {{ {prop.name}: {prop.value} }}")
            if media and prop.priority != "important":
                found.append(f"{media}: {rule.selectorText} {{ {prop.name}: {prop.value} }} without !important")
    assert found == []


def web_copy_and_digest(site) -> dict[str, str]:
    site.write("a.txt", WEEK)
    run = site.build("--config", str(site.root / "newsletter.toml"))
    assert run.code == 0, run.err
    [copy] = [p for p in (site.out / "newsletters" / "pe").glob("2025-W11.html")]
    config = load_config(
        site.root / "newsletter.toml", {"base_url": "https://news.example.org/", "state": str(site.state)}
    )
    builder = Builder(config, state_dir=site.state)
    entries, _, _ = builder.read([str(site.bulletins)])
    catalog = builder.catalog(entries, save=False)
    composer = DigestComposer(
        catalog,
        builder.context.names,
        default_frequency=config.newsletter_period,
        frequencies=config.newsletter_frequencies,
        language=config.language,
    )
    renderer = DigestRenderer(builder.context.issue_renderer, builder.context.templates)
    digest = composer.digest(composer.choice(Subscriber("a@example.org", "", frozenset({"pe"}))), "2025-W11")
    assert digest is not None
    return {"web copy": copy.read_text(encoding="utf-8"), "digest": renderer.render(digest, composer).html}


MEASURE = """() => [...document.querySelectorAll('td.entry')].map(e => {
    const r = e.getBoundingClientRect();
    let bottom = r.top;
    for (const c of e.querySelectorAll('*')) bottom = Math.max(bottom, c.getBoundingClientRect().bottom);
    return {top: r.top, bottom: r.bottom, contentBottom: bottom,
            scroll: e.scrollHeight, client: e.clientHeight, text: e.innerText.slice(0, 40)};
})"""


def test_entries_do_not_overlap_on_a_phone_in_a_web_copy_and_a_digest(site, browser):
    (site.root / "newsletter.toml").write_text('[brand]\nfooter_text = "Written by a small team."\n', encoding="utf-8")
    pages = web_copy_and_digest(site)
    seen = {}
    page = browser.new_page(viewport={"width": 390, "height": 800})
    for name, html in pages.items():
        page.set_content(html)
        seen[name] = boxes = page.evaluate(MEASURE)
        assert len(boxes) == 4, (name, boxes)
        for box in boxes:
            assert box["scroll"] <= box["client"] + 1, (name, box)  # its text is not cut
            assert box["contentBottom"] <= box["bottom"] + 1, (name, box)  # nor drawn below it
            assert box["bottom"] - box["top"] > 100, (name, box)
        for upper, lower in zip(boxes, boxes[1:], strict=False):
            assert upper["bottom"] <= lower["top"] + 1, (name, upper, lower)
    assert set(seen) == {"web copy", "digest"}
