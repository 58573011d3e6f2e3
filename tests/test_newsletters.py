"""Newsletter issues on disk: periods, inlined HTML, text part, size limit, preview message."""

from __future__ import annotations

import email
import email.policy
import logging
from html.parser import HTMLParser

import pytest
from premailer import Premailer

from newsletter.render.newsletters.periods import period_id, period_label

WEEK = """
    26 August 2021

    Peru and Chile Sign a Water Agreement

    The agreement covers three rivers. Details at https://example.org/water-agreement-2021.

    24 August 2021

    Peru Opens a Shelter

    The shelter hosts 200 people.

    10 August 2021

    Chile Trains Rangers

    Rangers trained for two weeks.
"""


@pytest.mark.parametrize(
    "day, period, pid, label",
    [
        ("2021-08-26", "weekly", "2021-W34", "23–29 August 2021"),
        ("2021-01-01", "weekly", "2020-W53", "28 December 2020 – 3 January 2021"),
        ("2021-08-26", "monthly", "2021-08", "August 2021"),
        ("2021-08-26", "daily", "2021-08-26", "26 August 2021"),
    ],
)
def test_periods_come_from_entry_dates(day, period, pid, label):
    import datetime as dt

    assert period_id(dt.date.fromisoformat(day), period) == pid
    assert period_label(pid, period) == label


@pytest.fixture
def issues(site):
    site.write("a.txt", WEEK)
    assert site.build().code == 0
    return site


def test_one_issue_per_country_and_period_with_archive(issues):
    files = sorted(
        p.relative_to(issues.out / "newsletters").as_posix() for p in (issues.out / "newsletters").rglob("*.html")
    )
    assert files == [
        "all/2021-W32.html",
        "all/2021-W34.html",
        "all/index.html",
        "cl/2021-W32.html",
        "cl/2021-W34.html",
        "cl/index.html",
        "pe/2021-W34.html",
        "pe/index.html",
    ]
    archive = issues.read("newsletters/cl/index.html")
    assert archive.index("23–29 August 2021") < archive.index("9–15 August 2021")
    assert 'href="../newsletters/cl/index.html"' in issues.read("cl/index.html")
    assert not (issues.out / "newsletters/regional").exists()


def test_monthly_period_from_config(site):
    site.write("a.txt", WEEK)
    (site.root / "newsletter.toml").write_text('[newsletter]\nperiod = "monthly"\n')
    site.build()
    assert sorted(p.name for p in (site.out / "newsletters/cl").iterdir()) == [
        "2021-08.eml",
        "2021-08.html",
        "2021-08.txt",
        "index.html",
    ]


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.items: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    return parser.items


def test_html_is_inlined_like_premailer_would(issues):
    """Every element carries the style premailer gives it when run on the whole issue."""
    import email

    from newsletter.render.templating import Templates

    eml = email.message_from_bytes(
        (issues.out / "newsletters/pe/2021-W34.eml").read_bytes(), policy=email.policy.default
    )
    ours = eml.get_body(("html",)).get_content()  # the mailed copy
    # Render the same issue from the un-inlined template, then let premailer inline it.
    templates = Templates()
    source = templates.env.loader.get_source(templates.env, "newsletter.html.j2")[0]
    css = templates.read("newsletter.css").decode()
    plain = source.replace("{{ css }}", css).replace("| email_body", "| safe")
    import jinja2

    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config

    config = load_config(None, {"base_url": "https://news.example.org/"})
    builder = Builder(config)
    from newsletter.content.catalog import build_catalog

    entries, _, _ = builder.read([str(issues.bulletins)])
    catalog = build_catalog(entries, authority=config.authority)
    from newsletter.render.newsletters.issue import issues_for

    issue = issues_for(catalog.groups["pe"], "pe", "weekly")[0]
    renderer = builder.context.issue_renderer
    items = [renderer._item(e) for e in issue.entries]
    context = renderer._context(issue, renderer.subject(issue), "pre", items, len(items))
    context["unsubscribe_url"] = renderer.generic_unsubscribe("pe")
    env = jinja2.Environment(autoescape=True)
    reference = Premailer(
        env.from_string(plain).render(**context),
        allow_network=False,
        strip_important=False,
        keep_style_tags=True,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
    ours_styles = [(t, a.get("style")) for t, a in elements(ours) if t not in ("span",)]
    ref_styles = [(t, a.get("style")) for t, a in elements(reference) if t not in ("span",)]
    assert ours_styles == ref_styles
    styled = [t for t, a in elements(ours) if a.get("class") and a.get("style")]
    assert len(styled) > 10
    assert "@media (prefers-color-scheme: dark)" in ours and "!important" in ours


def test_email_html_essentials(issues):
    html = issues.read("newsletters/pe/2021-W34.html")
    assert 'class="preheader"' in html and "2 news items" in html
    assert 'width="600"' in html and "<table" in html
    assert (
        '<a href="https://news.example.org/newsletters/pe/2021-W34.html"' not in html
    )  # no "view in browser" link to itself
    assert 'class="topbar"' not in html
    import email
    import email.policy

    message = email.message_from_bytes(
        (issues.out / "newsletters/pe/2021-W34.eml").read_bytes(), policy=email.policy.default
    )
    assert 'href="https://news.example.org/newsletters/pe/2021-W34.html"' in message.get_body(("html",)).get_content()
    assert "Unsubscribe</a>" in message.get_body(("html",)).get_content()
    assert "Unsubscribe</a>" not in html  # the web copy speaks to a visitor (tests/test_web_copy.py)
    assert "token=" not in html  # the archive copy has no personal token
    assert 'href="https://example.org/water-agreement-2021"' in html
    assert "<img" not in html  # nothing depends on images


def test_shipped_style_block_is_valid_css_without_comments(issues):
    """Every declaration sits in a rule (cssutils reports none outside), and the developers'
    notes in newsletter.css stay out of every issue's <style>."""
    import re

    import cssutils

    html = issues.read("newsletters/pe/2021-W34.html")
    [style] = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert "/*" not in style and "premailer" not in style
    errors: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: errors.append(record.getMessage())  # type: ignore[method-assign]
    log = logging.getLogger("cssutils-check")
    log.addHandler(handler)
    cssutils.log.setLog(log)
    cssutils.log.setLevel(logging.WARNING)
    cssutils.parseString(style, validate=False)
    assert errors == []


def test_text_part_is_wrapped_with_urls_written_out(issues):
    text = issues.read("newsletters/pe/2021-W34.txt")
    assert "Peru \u2014 23–29 August 2021" in text
    assert "https://news.example.org/entries/2021-08-26-peru-and-chile-sign-a-water-agreement.html" in text
    assert "https://example.org/water-agreement-2021" in text
    for line in text.splitlines():
        assert len(line) <= 78 or line.startswith("http") or " " not in line, line


def test_preview_message_is_complete(issues):
    msg = email.message_from_bytes(
        (issues.out / "newsletters/pe/2021-W34.eml").read_bytes(), policy=email.policy.default
    )
    assert msg["Subject"] == "Peru \u2014 23–29 August 2021"
    assert msg["To"] == "Subscriber <subscriber@example.invalid>"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert "Peru Opens a Shelter" in msg.get_body(("plain",)).get_content()
    assert msg["List-Id"] == "News \u2014 Peru <pe.news.example.org>"
    assert msg["Message-ID"].endswith("@news.example.org>")


def test_issues_are_deterministic(issues):
    first = {p: p.read_bytes() for p in (issues.out / "newsletters").rglob("*") if p.is_file()}
    issues.build(out=issues.root / "again")
    for path, data in first.items():
        assert (issues.root / "again" / path.relative_to(issues.out)).read_bytes() == data


def test_oversized_issue_becomes_links(site):
    body = "Long paragraph about water. " * 60
    site.write("a.txt", "".join(f"23 August 2021\n\nPeru item {n}\n\n{body}\n\n" for n in range(120)))
    site.build()
    html = site.read("newsletters/pe/2021-W34.html")
    assert len(html.encode()) <= 100_000
    assert "More news this week" in html
    for n in range(120):
        assert f"Peru item {n}<" in html  # every entry is there, in full or as a link
    text = site.read("newsletters/pe/2021-W34.txt")
    assert "Peru item 119" in text


def test_archive_keeps_the_newest_periods(site):
    text = "".join(
        f"{day} {month} 2021\n\nPeru item {month} {day}\n\nBody.\n\n"
        for month in ("March", "June", "September")
        for day in (1, 15)
    )
    site.write("a.txt", text)
    (site.root / "newsletter.toml").write_text('[newsletter]\nperiod = "monthly"\narchive_periods = 4\n')
    site.build()
    assert sorted(p.name for p in (site.out / "newsletters/pe").glob("*.html")) == [
        "2021-06.html",
        "2021-09.html",
        "index.html",
    ]
    (site.root / "newsletter.toml").write_text('[newsletter]\nperiod = "monthly"\narchive_periods = 0\n')
    site.build()
    assert sorted(p.name for p in (site.out / "newsletters/pe").glob("*.html")) == [
        "2021-03.html",
        "2021-06.html",
        "2021-09.html",
        "index.html",
    ]


def test_bundled_inlined_template_is_current():
    """Builds with the bundled templates use newsletter/data/inlined-newsletter.json instead of
    running premailer; it must be exactly what premailer gives for today's template and CSS."""
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("build_inlined", root / "tools" / "build_inlined_template.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shipped = json.loads((root / "newsletter" / "data" / "inlined-newsletter.json").read_text(encoding="utf-8"))
    assert shipped == tool.bundled_inlined(), "run: python tools/build_inlined_template.py"


def test_changed_newsletter_css_is_inlined_again(tmp_path):
    """User templates (or an edited CSS) do not match the bundled key: premailer runs, and the
    result is kept in the state folder."""
    from newsletter.render.newsletters.issue import cached_inline
    from newsletter.render.templating import Templates

    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "newsletter.css").write_text("p { color: #123456; }\n")
    inlined = cached_inline(Templates(tmp_path / "tpl"), tmp_path / "state")
    assert "#123456" in inlined.source
    assert list((tmp_path / "state").glob("inlined-newsletter-*.json"))
    bundled = cached_inline(Templates(), tmp_path / "state2")
    assert "#123456" not in bundled.source and not (tmp_path / "state2").exists()
