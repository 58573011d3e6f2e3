"""A send whose *configuration* is wrong stops once (exit 2, one line, nobody marked failed) so that
the rerun after the fix sends to everyone: a refused login (535), a TLS failure, a server that
relays for nobody. A server that stores every message but never replies is given up on after
`smtp.max_uncertain` lost replies. `resolve --all-uncertain|--all-failed --resend` put them back.

The server is tests/helpers/spool_smtp.py in its own process; every check counts what it stored.
"""

from __future__ import annotations

import subprocess

import pytest
from helpers.tls import self_signed
from test_send_faults import Site, SpoolServer

PEOPLE = [f"p{n}@example.org" for n in range(5)]


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    s.subscribers(PEOPLE)
    return s


def _one_line(run: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip() and "public_url is not set" not in line]
    assert len(lines) == 1, run.stderr
    return lines[0]


def _statuses(site: Site) -> dict[str, str]:
    status = site.status()
    return {p: status.get(p, "") for p in PEOPLE}


def test_a_wrong_password_stops_once_and_the_rerun_after_the_fix_sends_to_everyone(site, tmp_path):
    with SpoolServer(tmp_path / "spool", "--password", "s3cret") as server:
        site.configure(server.port)
        with open(site.dir / "newsletter.toml", "a") as fh:
            fh.write('username = "news"\n')
        assert site.cli("build").returncode == 0
        site.env["NEWSLETTER_SMTP_PASSWORD"] = "wrong"
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2
        line = _one_line(run)
        assert "refused the login (535 5.7.8" in line and "b'" not in line and "NEWSLETTER_SMTP_PASSWORD" in line
        assert server.counts() == {}
        assert set(_statuses(site).values()) == {"pending"}  # nobody marked failed
        site.env["NEWSLETTER_SMTP_PASSWORD"] = "s3cret"
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0, run.stderr
        assert server.counts() == dict.fromkeys(PEOPLE, 1)


def test_a_tls_failure_stops_once_and_marks_nobody(site, tmp_path):
    key, cert = self_signed(tmp_path)  # self-signed: the client does not trust it
    with SpoolServer(tmp_path / "spool", "--starttls-cert", str(cert), "--starttls-key", str(key)) as server:
        site.configure(server.port)
        (site.dir / "newsletter.toml").write_text(
            (site.dir / "newsletter.toml").read_text().replace('tls = "none"', 'tls = "starttls"')
        )
        assert site.cli("build").returncode == 0
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2
        line = _one_line(run)
        assert "TLS with the SMTP server" in line and "CERTIFICATE_VERIFY_FAILED" in line
        assert server.counts() == {}
        assert set(_statuses(site).values()) == {"pending"}
        with open(site.dir / "newsletter.toml", "a") as fh:
            fh.write(f'ca_file = "{cert}"\n')
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == dict.fromkeys(PEOPLE, 1)


@pytest.mark.parametrize("people", [5, 2])  # more than the 3 probed recipients, and fewer
def test_a_server_that_relays_for_nobody_stops_once_and_marks_nobody(site, tmp_path, people):
    site.subscribers(PEOPLE[:people])
    with SpoolServer(tmp_path / "spool", "--relay-denied") as server:
        site.configure(server.port)
        assert site.cli("build").returncode == 0
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2
        line = _one_line(run)
        assert "refused to relay for every recipient tried" in line and "554 5.7.1" in line
        assert server.counts() == {}
    assert {s for p, s in site.status().items()} == {"pending"}  # nobody marked failed
    with SpoolServer(tmp_path / "spool") as server:  # the relay is fixed
        site.configure(server.port)
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == dict.fromkeys(PEOPLE[:people], 1)


def test_a_server_that_stores_but_never_replies_is_given_up_after_max_uncertain(site, tmp_path):
    people = [f"q{n}@example.org" for n in range(10)]
    site.subscribers(people)
    with SpoolServer(tmp_path / "spool", "--never-reply") as server:
        site.configure(server.port, timeout=0.5)
        assert site.cli("build").returncode == 0
        run = site.cli("send", "--country", "pe", timeout=60)
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert "3 messages in a row went out but no reply came" in run.stderr
        assert sum(server.counts().values()) == 3  # not 10 tries of 0.5 s (or 10,000 of 30 s)
    status = site.status()
    assert sorted(status.values()).count("uncertain") == 3 and sorted(status.values()).count("pending") == 7
    # the operator checks the server's log: they did not arrive after all; --resend puts them back
    run = site.cli("resolve", "--country", "pe", "--issue", "2021-W34", "--all-uncertain", "--resend")
    assert run.returncode == 0, run.stderr
    with SpoolServer(tmp_path / "spool2") as server:
        site.configure(server.port)
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 0, run.stderr
        assert server.counts() == dict.fromkeys(people, 1)


def test_resolve_all_failed_resend_sends_the_failed_again(site, tmp_path):
    with SpoolServer(tmp_path / "spool", "--refuse", "p1@example.org", "--refuse", "p3@example.org") as server:
        site.configure(server.port)
        assert site.cli("build").returncode == 0
        assert site.cli("send", "--country", "pe").returncode == 1
        assert set(server.counts()) == set(PEOPLE) - {"p1@example.org", "p3@example.org"}
    assert [p for p, s in _statuses(site).items() if s == "failed"] == ["p1@example.org", "p3@example.org"]
    with SpoolServer(tmp_path / "spool") as server:  # the mailboxes have room again
        site.configure(server.port)
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == dict.fromkeys(set(PEOPLE) - {"p1@example.org", "p3@example.org"}, 1)  # not retried
        run = site.cli("resolve", "--country", "pe", "--issue", "2021-W34", "--all-failed", "--resend")
        assert run.returncode == 0 and run.stderr.count("released; the next run sends it") == 2, run.stderr
        assert site.cli("send", "--country", "pe").returncode == 0
        assert server.counts() == dict.fromkeys(PEOPLE, 1)


def test_a_server_that_wants_a_login_we_do_not_give_stops_once(site, tmp_path):
    with SpoolServer(tmp_path / "spool", "--password", "s3cret") as server:
        site.configure(server.port)  # no smtp.username
        assert site.cli("build").returncode == 0
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2
        line = _one_line(run)
        assert "refused the login (530" in line and "set smtp.username" in line
        assert server.counts() == {}
    assert set(_statuses(site).values()) == {"pending"}


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_a_missing_or_unreadable_ca_file_is_a_configuration_error_naming_it(site, tmp_path, content):
    ca = tmp_path / "relay-ca.pem"
    if content is not None:
        ca.write_text(content)
    with SpoolServer(tmp_path / "spool") as server:
        site.configure(server.port)
        with open(site.dir / "newsletter.toml", "a") as fh:
            fh.write(f'ca_file = "{ca}"\n')
        assert site.cli("build").returncode == 0
        run = site.cli("send", "--country", "pe")
        assert run.returncode == 2  # not "cannot reach the SMTP server" (exit 1)
        line = _one_line(run)
        assert line.startswith("newsletter: ") and f"smtp.ca_file {ca}" in line and "reach" not in line
        assert server.counts() == {}
