"""The public web copy of an issue speaks to a visitor; the mailed copy keeps its personal links."""

from __future__ import annotations

import email
import email.policy
import re

import html5lib
import pytest
from conftest import BASE_URL

BULLETIN = """
    26 August 2021

    Peru Opens a Shelter

    It has 80 beds.
"""
PUBLIC = "https://news.example.org/newsletter/"


@pytest.fixture
def copies(site):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(f'[newsletter]\npublic_url = "{PUBLIC}"\n')
    assert site.build().code == 0
    message = email.message_from_bytes(
        (site.out / "newsletters/pe/2021-W34.eml").read_bytes(), policy=email.policy.default
    )
    return site, site.read("newsletters/pe/2021-W34.html"), message


def links(html: str) -> dict[str, str]:
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    return {" ".join("".join(a.itertext()).split()): a.get("href") for a in doc.iter("a")}


def test_the_web_copy_offers_a_sign_up_and_a_manage_link_that_asks_for_the_address(copies):
    site, web, _ = copies
    found = links(web)
    assert found["Get it by email"] == f"{PUBLIC}subscribe?country=pe"
    assert found["Already subscribed? Change your subscription"] == f"{PUBLIC}preferences"  # serve asks for the address
    assert "This is the web copy of the newsletter about Peru." in web
    assert "You receive this" not in web and "unsubscribe" not in web.lower() and "token=" not in web
    text = site.read("newsletters/pe/2021-W34.txt")
    assert f"Get it by email: {PUBLIC}subscribe?country=pe" in text and "You receive this" not in text
    assert "unsubscribe" not in text.lower()


def test_the_mailed_copy_keeps_its_personal_links(copies):
    _, _, message = copies
    html = message.get_body(("html",)).get_content()
    found = links(html)
    assert found["Unsubscribe"].startswith(f"{PUBLIC}unsubscribe?list=pe&email=") and "token=" in found["Unsubscribe"]
    assert found["Change your countries"].startswith(f"{PUBLIC}preferences")  # signed when sent (a secret is set)
    assert "You receive this because you subscribed" in html and "web copy" not in html


def test_without_public_url_the_web_copy_points_to_the_feeds(site):
    site.write("a.txt", BULLETIN)
    assert site.build().code == 0
    found = links(site.read("newsletters/pe/2021-W34.html"))
    assert found["Follow it in a feed reader"] == f"{BASE_URL}pe/subscribe.html"
    assert (site.out / "pe/subscribe.html").is_file()


def test_the_web_copy_has_one_main_landmark_and_the_email_css_keeps_outlook_and_dark_mode_rules(copies):
    _, web, message = copies
    doc = html5lib.parse(web, namespaceHTMLElements=False)
    assert len(list(doc.iter("main"))) == 1 and doc.find(".//main//h1") is not None
    html = message.get_body(("html",)).get_content()
    assert "<main>" not in html  # a mail client has its own landmarks
    [preheader] = re.findall(r'<span class="preheader"[^>]*style="([^"]*)"', html)
    assert "mso-hide:all" in preheader.replace(" ", "")
    for cls in ("issue-title", "entry-title", "entry-body", "footer"):
        [style] = re.findall(rf'class="{cls}"[^>]*style="([^"]*)"', html)[:1]
        assert "line-height" in style and "mso-line-height-rule:exactly" in style.replace(" ", ""), cls
    dark = html.split("prefers-color-scheme: dark")[1].split("</style>")[0]
    assert re.search(r"\.entry, \.more \{ border-top-color: #[0-9a-f]{6} !important", dark)


def test_the_static_sign_up_form_asks_how_often_when_the_site_offers_a_choice(site):
    site.write("a.txt", BULLETIN)
    (site.root / "newsletter.toml").write_text(
        f'[newsletter]\npublic_url = "{PUBLIC}"\nfrequencies = ["weekly", "monthly"]\n'
    )
    assert site.build().code == 0
    doc = html5lib.parse(site.read("pe/index.html"), namespaceHTMLElements=False)
    [form] = [f for f in doc.iter("form") if f.get("action") == f"{PUBLIC}subscribe"]
    radios = {i.get("value"): i.get("checked") is not None for i in form.iter("input") if i.get("name") == "frequency"}
    assert radios == {"weekly": True, "monthly": False}  # the site's period is chosen unless changed
    (site.root / "newsletter.toml").write_text(f'[newsletter]\npublic_url = "{PUBLIC}"\n')
    assert site.build().code == 0
    assert 'name="frequency"' not in site.read("pe/index.html")  # one frequency: nothing to choose
