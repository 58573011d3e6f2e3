"""A subscriber who changes frequency is never sent a story again (issue #18, the send trial):
a digest holds only the entries dated after the last period already sent to them, whatever its
frequency; a period their earlier digests fully covered sends nothing. Counted on what a real
SMTP server in its own process stored."""

from __future__ import annotations

from test_digest_send import DigestSite, messages, site  # noqa: F401 (site is a fixture)
from test_send_faults import SpoolServer

ALL_THREE = 'frequencies = ["daily", "weekly", "monthly"]\nsend_since = "2025-03-01"\n'
STORIES = (
    "Border Crossing Reopens",
    "Peru Opens A Shelter",
    "Colombia Plants Trees",
    "Storm Season Begins",
    "Venezuela Repairs A Bridge",
    "Peru Counts Llamas",
)


def choose(site: DigestSite, frequency: str) -> None:
    (site.dir / "subscribers.csv").write_text(
        f"email,countries,name,frequency\nx@example.org,* regional,X,{frequency}\n"
    )


def add_news(site: DigestSite, text: str) -> None:
    (site.dir / "bulletins" / "more.txt").write_text(text)


def every_story_once(spool) -> dict[str, str]:
    """subject → text of each message x got; each story is in exactly one of them."""
    got = {m["Subject"]: m.get_body(("plain",)).get_content() for _, m in messages(spool)}
    for story in STORIES:
        assert sum(text.count(story) for text in got.values()) <= 1, (story, list(got))
    return got


def test_weekly_then_daily_sends_only_days_after_the_last_week_sent(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter=ALL_THREE)
        choose(site, "weekly")
        assert site.due("2025-03-24T08:00+00:00").returncode == 0
        assert server.counts() == {"x@example.org": 2}  # W11, W12
        choose(site, "daily")
        again = site.due("2025-03-24T08:00+00:00")
        assert again.returncode == 0, again.stderr
        assert server.counts() == {"x@example.org": 2}  # every day is in a week already sent
        add_news(site, "25 March 2025\n\nPeru Paints A School\n\nThe school in Peru is blue now.\n")
        assert site.due("2025-03-26T08:00+00:00").returncode == 0
        got = every_story_once(tmp_path / "spool")
    assert server.counts() == {"x@example.org": 3}
    assert "Peru Paints A School" in got["News \u2014 25 March 2025"]


def test_weekly_then_monthly_holds_only_what_the_weeks_did_not(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter=ALL_THREE)
        choose(site, "weekly")
        assert site.due("2025-03-24T08:00+00:00").returncode == 0
        add_news(site, "27 March 2025\n\nPeru Paints A School\n\nThe school in Peru is blue now.\n")
        choose(site, "monthly")
        assert site.due("2025-04-01T08:00+00:00").returncode == 0
        got = every_story_once(tmp_path / "spool")
    march = got["News \u2014 March 2025"]
    assert "Peru Paints A School" in march
    assert not any(story in march for story in STORIES)
    assert len(got) == 3


def test_daily_then_weekly_holds_only_the_days_after_the_last_day_sent(site, tmp_path):
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port, newsletter=ALL_THREE)
        choose(site, "daily")
        assert site.due("2025-03-19T08:00+00:00").returncode == 0
        assert server.counts() == {"x@example.org": 5}  # 11, 12, 13, 14 and 18 March
        choose(site, "weekly")
        assert site.due("2025-03-24T08:00+00:00").returncode == 0
        assert site.due("2025-03-24T09:00+00:00").returncode == 0  # and never twice
        got = every_story_once(tmp_path / "spool")
    week = got["News \u2014 17\u201323 March 2025"]
    assert "Peru Counts Llamas" in week and "Venezuela Repairs A Bridge" not in week
    assert len(got) == 6  # no digest of the weeks the days covered
