"""`send --due` (the schedule), and what an operator sees and decides around a send:
lists by name, unfinished periods, sends before a build, changed issues, bounces, `resolve`."""

from __future__ import annotations

import pytest
from helpers.smtp_server import ScriptedHandler, SMTPServer

from newsletter.cli import main

WEEKS = """16 August 2021

Peru Counts Arrivals at the Northern Border

Officials counted 1,200 arrivals in the week.

25 August 2021

Peru Extends Temporary Permits

The permits now last two years.

1 September 2021

Regional Ministers Agree on Shared Transit Rules

Delegations from the whole region signed the text.

2 September 2021

Peru Adds Mobile Clinics in Tumbes

Three clinics began work on Monday.

8 September 2021

Peru Publishes Its Shelter Census

The census lists 41 shelters.
"""
LATE = """31 August 2021

Peru Reopens a Land Crossing

The crossing at Aguas Verdes reopened.
"""


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "weeks.txt").write_text(WEEKS)
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret")

    class Project:
        root = tmp_path

        def configure(self, port: int, *, timezone: str = "UTC", newsletter: str = "", smtp: str = "") -> None:
            (tmp_path / "newsletter.toml").write_text(
                f'base_url = "https://news.example.org/"\ntimezone = "{timezone}"\n'
                '[newsletter]\ndelivery = "lists"\n'  # these tests are of one message per list (digests: test_digest_send.py)
                'from_address = "news@example.org"\nunsubscribe_url = "https://news.example.org/u"\n'
                f'{newsletter}[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nretry_delay = 0.01\n{smtp}'
            )

        def subscribers(self, rows: list[str]) -> None:
            (tmp_path / "subscribers.csv").write_text("email,countries,name\n" + "\n".join(rows) + "\n")

        def build(self) -> None:
            assert main(["build", "-q"]) == 0

        def run(self, *args: str) -> tuple[int, str]:
            capsys.readouterr()
            code = main(list(args))
            return code, capsys.readouterr().err

        def due(self, now: str, *extra: str) -> tuple[int, str]:
            return self.run("send", "--due", "--now", now, *extra)

    return Project()


def received(server) -> list[tuple[str, str]]:
    """(recipient, subject) of every stored message, in order."""
    return [(m.rcpt[0], str(m.message["Subject"])) for m in server.handler.received]


def test_first_due_run_sends_only_the_latest_finished_issue_then_nothing_twice(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["pe@example.org,pe,", "all@example.org,all,", "reg@example.org,regional,"])
        project.build()
        code, err = project.due("2021-09-09T12:00")  # week 36 is under way; week 35 has ended
        assert code == 0, err
        assert sorted(received(server)) == [
            ("all@example.org", "News \u2014 30 August – 5 September 2021"),
            ("pe@example.org", "Peru \u2014 30 August – 5 September 2021"),
            ("reg@example.org", "Regional news \u2014 30 August – 5 September 2021"),
        ]
        assert "pe/2021-W35: 1 sent" in err and "regional/2021-W35: 1 sent" in err
        assert err.strip().splitlines()[-1].startswith("newsletter: --due: 3 issues: 3 sent")
        code, err = project.due("2021-09-10T12:00")
        assert code == 0 and "nothing due" in err and "2021-W36 fall due at 2021-09-13 06:00 UTC" in err
        assert len(server.handler.received) == 3


def test_an_issue_is_due_only_after_its_period_and_the_delay(project):
    with SMTPServer() as server:
        project.configure(server.port, newsletter="send_delay = 6\n")
        project.subscribers(["pe@example.org,pe,"])
        project.build()
        project.due("2021-09-09T12:00")
        assert project.due("2021-09-13T05:59")[0] == 0  # week 36 ended at midnight; 6 h have not passed
        assert [s for _, s in received(server)] == ["Peru \u2014 30 August – 5 September 2021"]
        assert project.due("2021-09-13T06:00")[0] == 0
        assert [s for _, s in received(server)] == [
            "Peru \u2014 30 August – 5 September 2021",
            "Peru \u2014 6–12 September 2021",
        ]


@pytest.mark.parametrize(
    "timezone, week", [("Asia/Tokyo", "30 August – 5 September 2021"), ("America/Mexico_City", "23–29 August 2021")]
)
def test_periods_end_in_the_configured_time_zone(project, timezone, week):
    # 2021-09-06 03:00 UTC is Monday noon in Tokyo (week 35 over, 6 h delay passed) but still
    # Sunday evening in Mexico City (week 35 not over; the latest finished week is 34).
    with SMTPServer() as server:
        project.configure(server.port, timezone=timezone)
        project.subscribers(["pe@example.org,pe,"])
        project.build()
        assert project.due("2021-09-06T03:00+00:00")[0] == 0
        assert received(server) == [("pe@example.org", f"Peru \u2014 {week}")]


def test_a_new_subscriber_gets_issues_from_when_they_joined(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["early@example.org,pe,"])
        project.build()
        project.due("2021-09-07T12:00")  # starts the schedule: week 35
        project.subscribers(["early@example.org,pe,", "late@example.org,pe,"])
        project.due("2021-09-08T12:00")  # late@ is first seen during week 36
        project.due("2021-09-13T12:00")
        assert received(server) == [
            ("early@example.org", "Peru \u2014 30 August – 5 September 2021"),
            ("early@example.org", "Peru \u2014 6–12 September 2021"),
            ("late@example.org", "Peru \u2014 6–12 September 2021"),
        ]


def test_send_since_starts_the_schedule_earlier_oldest_issue_first(project):
    with SMTPServer() as server:
        project.configure(server.port, newsletter='send_since = "2021-08-23"\n')
        project.subscribers(["pe@example.org,pe,"])
        project.build()
        assert project.due("2021-09-09T12:00")[0] == 0
        assert [s for _, s in received(server)] == [
            "Peru \u2014 23–29 August 2021",
            "Peru \u2014 30 August – 5 September 2021",
        ]


def test_due_against_an_unreachable_server_exits_1_with_one_line(project):
    from helpers.smtp_server import free_port

    project.configure(free_port())
    project.subscribers(["pe@example.org,pe,"])
    project.build()
    code, err = project.due("2021-09-09T12:00")
    assert code == 1
    assert sum("cannot reach the SMTP server" in line for line in err.splitlines()) == 1


def test_latest_issue_of_an_unfinished_period_needs_force(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["pe@example.org,pe,"])
        project.build()
        code, err = project.run("send", "--country", "pe", "--now", "2021-09-09T12:00")
        assert code == 2 and "pe/2021-W36: the period has not ended yet" in err and "--force" in err
        assert server.handler.received == []
        assert project.run("send", "--country", "pe", "--now", "2021-09-09T12:00", "--force")[0] == 0
        assert received(server) == [("pe@example.org", "Peru \u2014 6–12 September 2021")]


# -- lists by name -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given, recorded",
    [("Portugal", "pt"), ("PE", "pe"), ("Perú", "pe"), ("all", "all"), ("regional", "regional"), ("*", "*")],
)
def test_unsubscribe_takes_codes_names_and_list_words(project, given, recorded):
    from newsletter.send.sendlog import SendLog

    project.configure(1)
    code, err = project.run("unsubscribe", "a@example.org", "--country", given)
    assert code == 0, err
    with SendLog(project.root / ".newsletter") as log:
        assert log.suppressed() == {"a@example.org": {recorded}}


@pytest.mark.parametrize("given", ["ken", "zz", "Narnia"])
def test_unsubscribe_from_a_list_that_does_not_exist_records_nothing(project, given):
    project.configure(1)
    code, err = project.run("unsubscribe", "a@example.org", "--country", given)
    assert code == 2 and f"--country {given}: not a list" in err
    assert not (project.root / ".newsletter" / "sendlog.sqlite3").exists()


def test_an_empty_subscriber_list_is_a_warning(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers([])
        project.build()
        code, err = project.run("send", "--country", "pe")
        assert code == 0 and "subscribers.csv: warning: the subscriber list is empty" in err


# -- previews and builds ------------------------------------------------------------------------------
def test_dry_run_without_the_key_warns_about_placeholder_links(project, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET")
    project.configure(1)
    project.subscribers(["pe@example.org,pe,"])
    project.build()
    code, err = project.run("send", "--country", "pe", "--dry-run")
    assert code == 0 and "NEWSLETTER_SECRET is not set" in err and "token=preview" in err


def test_send_before_any_build_is_refused(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["pe@example.org,pe,"])
        code, err = project.run("send", "--country", "pe")
        assert code == 2 and "has not been built" in err and "newsletter build" in err
        assert server.handler.received == []


# -- an issue that changed after it was sent ------------------------------------------------------------
def test_a_changed_issue_is_reported_never_resent_and_can_be_corrected(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["first@example.org,pe,"])
        project.build()
        assert project.run("send", "--country", "pe", "--issue", "2021-W35")[0] == 0
        (project.root / "bulletins" / "late.txt").write_text(LATE)  # a late entry for that week
        project.build()
        project.subscribers(["first@example.org,pe,", "second@example.org,pe,"])
        code, err = project.run("send", "--country", "pe", "--issue", "2021-W35")
        assert code == 0 and "pe/2021-W35 changed after it was first sent: 1 recipient got the earlier version" in err
        assert "--correction" in err
        code, err = project.run("send", "--country", "pe", "--issue", "2021-W35")
        assert "changed after" not in err  # said once
        assert [r for r, _ in received(server)] == ["first@example.org", "second@example.org"]
        old, new = (m.message for m in server.handler.received)
        assert "Aguas Verdes" not in old.get_body(("plain",)).get_content()
        assert "Aguas Verdes" in new.get_body(("plain",)).get_content()
        code, err = project.run("send", "--country", "pe", "--issue", "2021-W35", "--correction")
        assert code == 0
        assert received(server)[-1] == ("first@example.org", "Correction: Peru \u2014 30 August – 5 September 2021")
        ids = [m.message["Message-ID"] for m in server.handler.received]
        assert len(set(ids)) == 3
        assert project.run("send", "--country", "pe", "--issue", "2021-W35", "--correction")[0] == 0
        assert len(server.handler.received) == 3


# -- bounces and operator decisions ------------------------------------------------------------------------
def test_a_hard_bounce_suppresses_the_address_for_every_list(project):
    handler = ScriptedHandler(rcpt_replies={"dead@example.org": ["550 5.1.1 <dead@example.org>: no such user"]})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers(["dead@example.org,pe all,", "ok@example.org,pe all,"])
        project.build()
        code, err = project.run("send", "--country", "pe", "--issue", "2021-W35")
        assert code == 1 and err.count("dead@example.org: refused: 550 5.1.1") == 1
        assert "suppressed for every list" in err
        assert project.run("send", "--country", "all", "--issue", "2021-W35")[0] == 0
        assert [r for r, _ in received(server)] == ["ok@example.org", "ok@example.org"]


def test_a_soft_5xx_is_failed_for_that_issue_only(project):
    handler = ScriptedHandler(rcpt_replies={"full@example.org": ["552 5.2.2 mailbox full"]})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers(["full@example.org,pe all,"])
        project.build()
        assert project.run("send", "--country", "pe", "--issue", "2021-W35")[0] == 1
        assert project.run("send", "--country", "all", "--issue", "2021-W35")[0] == 0
        assert received(server) == [("full@example.org", "News \u2014 30 August – 5 September 2021")]


def test_status_and_resolve_settle_uncertain_recipients(project, capsys):
    handler = ScriptedHandler(drop_after_data={1, 2})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers(["u1@example.org,pe,", "u2@example.org,pe,", "ok@example.org,pe,"])
        project.build()
        code, err = project.run("send", "--country", "pe", "--issue", "2021-W35")
        assert code == 1 and "2 uncertain" in err
        capsys.readouterr()
        assert main(["status", "--country", "pe", "--issue", "2021-W35"]) == 0
        lines = dict(line.split()[:2] for line in capsys.readouterr().out.splitlines())
        assert lines == {"ok@example.org": "sent", "u1@example.org": "uncertain", "u2@example.org": "uncertain"}
        assert main(["status"]) == 0
        assert capsys.readouterr().out.splitlines()[1].split() == ["pe/2021-W35", "1", "2", "0", "0"]
        assert main(["resolve", "--country", "pe", "--issue", "2021-W35", "u1@example.org", "--sent"]) == 0
        assert main(["resolve", "--country", "pe", "--issue", "2021-W35", "u2@example.org", "--resend"]) == 0
        assert main(["resolve", "--country", "pe", "--issue", "2021-W35", "ok@example.org", "--resend"]) == 1
        assert project.run("send", "--country", "pe", "--issue", "2021-W35")[0] == 0
        assert [r for r, _ in received(server)] == ["ok@example.org", "u2@example.org"]


def test_watch_send_due_sends_after_a_rebuild_and_only_once(project):
    with SMTPServer() as server:
        project.configure(server.port, newsletter='send_since = "2021-09-06"\n')  # week 36 on (real clock)
        project.subscribers(["pe@example.org,pe,"])
        assert project.run("watch", "--once", "--send-due")[0] == 0
        assert received(server) == [("pe@example.org", "Peru \u2014 6–12 September 2021")]
        assert project.run("watch", "--once", "--send-due")[0] == 0
        assert project.run("watch", "--once")[0] == 0  # off by default
        assert len(server.handler.received) == 1


def test_due_can_be_limited_to_some_lists(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["pe@example.org,pe all,"])
        project.build()
        assert project.due("2021-09-09T12:00", "--country", "Peru")[0] == 0
        assert received(server) == [("pe@example.org", "Peru \u2014 30 August – 5 September 2021")]
        assert project.due("2021-09-09T12:00", "--country", "narnia")[0] == 2


def test_with_a_bounce_address_each_message_has_its_own_envelope_sender(project):
    from newsletter.subscribers.tokens import bounce_token

    with SMTPServer() as server:
        project.configure(server.port, newsletter='bounce_address = "bounces@news.example.org"\n')
        project.subscribers(["a@example.org,pe,", "b@example.org,pe,"])
        project.build()
        assert project.run("send", "--country", "pe", "--issue", "2021-W35")[0] == 0
        senders = {m.rcpt[0]: m.mail_from for m in server.handler.received}
    assert senders == {
        e: f"bounces+{bounce_token(b'test-secret', e)}@news.example.org" for e in ("a@example.org", "b@example.org")
    }
    assert all(str(m.message["From"]) == "News <news@example.org>" for m in server.handler.received)
