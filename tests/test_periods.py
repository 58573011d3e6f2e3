"""Period names people read: dates, in the site's language (item 5 of issue #18)."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from newsletter.render.newsletters.periods import frequency_of, period_bounds, period_label


@pytest.mark.parametrize(
    "pid, period, lang, label",
    [
        ("2025-W11", "weekly", "en", "10–16 March 2025"),
        ("2025-W11", "weekly", "es", "10–16 de marzo de 2025"),
        ("2025-W11", "weekly", "fr", "10–16 mars 2025"),
        ("2025-W11", "weekly", "pt", "10–16 de março de 2025"),
        ("2025-W18", "weekly", "en", "28 April – 4 May 2025"),
        ("2025-W18", "weekly", "es", "28 de abril – 4 de mayo de 2025"),
        ("2025-W18", "weekly", "fr", "28 avril – 4 mai 2025"),
        ("2026-W01", "weekly", "en", "29 December 2025 – 4 January 2026"),
        ("2026-W01", "weekly", "pt", "29 de dezembro de 2025 – 4 de janeiro de 2026"),
        ("2025-03", "monthly", "en", "March 2025"),
        ("2025-03", "monthly", "es", "marzo de 2025"),
        ("2025-03", "monthly", "fr", "mars 2025"),
        ("2025-03-04", "daily", "en", "4 March 2025"),
        ("2025-03-04", "daily", "fr", "4 mars 2025"),
        ("2025-03-04", "daily", "pt-BR", "4 de março de 2025"),
        ("2025-W11", "weekly", "de", "10–16 March 2025"),  # an unknown language falls back to English
    ],
)
def test_periods_are_named_as_dates_in_the_site_language(pid, period, lang, label):
    assert period_label(pid, period, lang) == label


@pytest.mark.parametrize("pid, period", [("2025-W11", "weekly"), ("2025-03", "monthly"), ("2025-03-04", "daily")])
def test_a_period_id_says_its_frequency(pid, period):
    assert frequency_of(pid) == period
    start, after = period_bounds(pid, period)
    assert start < after


def test_list_issues_name_their_week_as_dates_in_subject_and_heading(site):
    site.write(
        "a.txt",
        """
        12 March 2025

        Peru Opens A Shelter

        The shelter in Peru hosts 200 people.
    """,
    )
    (site.root / "newsletter.toml").write_text('language = "es"\n')
    assert site.build().code == 0
    text = site.read("newsletters/pe/2025-W11.txt")
    assert "Perú \u2014 10\u201316 de marzo de 2025" in text
    message = email.message_from_bytes(
        (site.out / "newsletters/pe/2025-W11.eml").read_bytes(), policy=email.policy.default
    )
    assert message["Subject"] == "Perú \u2014 10\u201316 de marzo de 2025"
    assert re.search(
        r'<h1 class="issue-title"[^>]*>Perú \u2014 10\u201316 de marzo de 2025</h1>',
        site.read("newsletters/pe/2025-W11.html"),
    )
    assert "10\u201316 de marzo de 2025" in site.read("newsletters/pe/index.html")
