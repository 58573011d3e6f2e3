"""`newsletter send` against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.smtp_server import ScriptedHandler, SMTPServer
from helpers.tls import self_signed

from newsletter.cli import main

BULLETIN = """26 August 2021

Peru and Chile Sign a Water Agreement

The agreement covers three rivers.

25 August 2021

Mexico Opens a Shelter

The shelter hosts 200 people.
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder with bulletins, config and subscribers; `send()` runs the CLI in-process."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text(BULLETIN)
    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret")

    class Project:
        root = tmp_path

        def configure(self, port: int, extra: str = "", tls: str = "none") -> None:
            (tmp_path / "newsletter.toml").write_text(
                'base_url = "https://news.example.org/"\nbulletins = ["bulletins"]\n'
                '[newsletter]\ndelivery = "lists"\nfrom_address = "news@example.org"\nunsubscribe_url = "https://news.example.org/unsubscribe"\n'
                f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "{tls}"\nretry_delay = 0.01\n{extra}'
            )
            self.build()

        def build(self) -> None:
            assert main(["build", "-q"]) in (0, 1)

        def subscribers(self, rows: list[str]) -> None:
            (tmp_path / "subscribers.csv").write_text("email,countries,name\n" + "\n".join(rows) + "\n")

        def send(self, *args: str) -> int:
            self.build()
            return main(["send", "-q", *args])

    return Project()


def test_messages_arrive_with_headers_and_both_parts(project, capsys):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["ana@example.org,pe,Ana Quispe", "bob@example.org,mx,Bob", "cy@example.org,*,Cy"])
        assert project.send("--country", "pe") == 0
        assert server.handler.counts() == {"ana@example.org": 1, "cy@example.org": 1}
        msg = next(r.message for r in server.handler.received if r.rcpt == ["ana@example.org"])
    assert msg["Subject"] == "Peru \u2014 23–29 August 2021"
    assert msg["From"] == "News <news@example.org>"
    assert msg["To"] == "Ana Quispe <ana@example.org>"
    assert msg["Date"] and msg["Message-ID"]
    assert msg["List-Id"] == "News \u2014 Peru <pe.news.example.org>"
    unsubscribe = msg["List-Unsubscribe"]
    from newsletter.subscribers.tokens import mailto_token

    token = mailto_token(b"test-secret", "ana@example.org", "pe")
    assert f"<mailto:news@example.org?subject=unsubscribe%20pe%20ana%40example.org%20{token}>" in unsubscribe
    assert "https://news.example.org/unsubscribe?list=pe&email=ana%40example.org&token=" in unsubscribe
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "Peru and Chile Sign a Water Agreement" in html and "Peru and Chile Sign a Water Agreement" in text
    assert "token=" in html and "token=" in text  # the personal link replaced the placeholder
    assert 'style="' in html


def test_message_ids_are_per_issue_and_recipient_and_stable(project):
    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config
    from newsletter.content.catalog import build_catalog
    from newsletter.render.newsletters.issue import issues_for

    config = load_config(None, {"base_url": "https://news.example.org/"})
    builder = Builder(config)
    entries, _, _ = builder.read(["bulletins"])
    catalog = build_catalog(entries, authority=config.authority)
    rendered = builder.context.issue_renderer.render(issues_for(catalog.groups["pe"], "pe", "weekly")[0])
    ids = {
        builder.context.issue_renderer.message(rendered, ("", e), secret=b"k").message_id
        for e in ("a@x.org", "b@x.org")
    }
    assert len(ids) == 2
    again = builder.context.issue_renderer.message(rendered, ("", "a@x.org"), secret=b"k").message_id
    assert again in ids


def test_second_send_sends_nothing(project, capsys, backend):
    backend.seed(project.root / ".newsletter")  # on SQLite and on PostgreSQL
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers([f"p{n}@example.org,pe,P{n}" for n in range(5)])
        assert project.send("--country", "pe") == 0
        capsys.readouterr()
        assert main(["send", "--country", "pe"]) == 0
        assert len(server.handler.received) == 5
    assert "0 sent, 5 already sent" in capsys.readouterr().err


def test_subscribers_get_only_their_countries(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(
            ["pe@example.org,pe,", "mx@example.org,Mexico,", "both@example.org,pe mx,", "all@example.org,all,"]
        )
        for country in ("pe", "mx", "all", "cl"):
            assert project.send("--country", country) == 0
        got = {}
        for r in server.handler.received:
            got.setdefault(r.rcpt[0], []).append(r.message["List-Id"].split("<")[1].split(".")[0])
    assert got == {
        "pe@example.org": ["pe"],
        "mx@example.org": ["mx"],
        "both@example.org": ["pe", "mx"],
        "all@example.org": ["all"],
    }


def test_temporary_failures_are_retried_until_accepted(project):
    handler = ScriptedHandler(rcpt_replies={"slow@example.org": ["451 try later", "452 still busy"]})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers(["a@example.org,pe,", "slow@example.org,pe,", "b@example.org,pe,"])
        assert project.send("--country", "pe") == 0
        assert server.handler.counts() == {"a@example.org": 1, "slow@example.org": 1, "b@example.org": 1}


def test_permanent_failures_are_recorded_and_skipped(project, capsys):
    handler = ScriptedHandler(rcpt_replies={"gone@example.org": ["550 no such user"] * 10})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers(["gone@example.org,pe,", "b@example.org,pe,"])
        assert project.send("--country", "pe") == 1
        err = capsys.readouterr().err
        assert err.count("gone@example.org: refused: 550 no such user") == 1  # said once per run
        # The rerun has nothing left to do but the old failure: exit 0, and it says so.
        assert main(["send", "--country", "pe"]) == 0
        assert "left from earlier runs: 1 failed, 0 uncertain" in capsys.readouterr().err
        assert server.handler.counts() == {"b@example.org": 1}
        assert server.handler.mails == 2  # gone (once), b, nothing on the rerun


def test_dropped_connection_before_the_final_dot_is_retried_once(project):
    # The 3rd MAIL is answered by a closed connection: nothing was taken, so it is sent again.
    handler = ScriptedHandler(drop_at_mail={3})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers([f"p{n}@example.org,pe," for n in range(8)])
        assert project.send("--country", "pe") == 0
        assert server.handler.counts() == {f"p{n}@example.org": 1 for n in range(8)}


def test_connection_lost_after_the_final_dot_is_uncertain_and_never_resent(project, capsys, backend):
    backend.seed(project.root / ".newsletter")  # on SQLite and on PostgreSQL
    # The 5th message reaches the server whole, then the connection drops without a reply:
    # the server may have taken it. Reported as uncertain, exit 1, not resent by a rerun.
    handler = ScriptedHandler(drop_after_data={5})
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers([f"p{n}@example.org,pe," for n in range(8)])
        assert project.send("--country", "pe") == 1
        assert "p4@example.org: uncertain" in capsys.readouterr().err
        assert main(["send", "--country", "pe"]) == 0
        assert "left from earlier runs: 0 failed, 1 uncertain" in capsys.readouterr().err
        assert server.handler.counts() == {f"p{n}@example.org": 1 for n in range(8) if n != 4}


def test_suppressed_addresses_get_nothing(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["keep@example.org,pe mx,", "Leave@Example.org,pe mx,", "partial@example.org,pe mx,"])
        assert main(["unsubscribe", "leave@example.org"]) == 0
        assert main(["unsubscribe", "partial@example.org", "--country", "mx"]) == 0
        project.send("--country", "pe")
        project.send("--country", "mx")
        assert server.handler.counts() == {"keep@example.org": 2, "partial@example.org": 1}


def test_header_injection_fails_safely(project):
    with SMTPServer() as server:
        project.configure(server.port, extra="")
        toml = (
            (project.root / "newsletter.toml")
            .read_text()
            .replace(
                "base_url =",
                'title = "Café \\r\\nBcc: victim@example.com \u00e9t\u00e9 news with a very long title that needs folding across lines"\nbase_url =',
            )
        )
        (project.root / "newsletter.toml").write_text(toml)
        (project.root / "subscribers.csv").write_text(
            'email,countries,name\neve@example.org,pe,"Eve\r\nBcc: victim@example.com"\n'
        )
        assert project.send("--country", "pe") == 0
        [received] = server.handler.received
    assert received.rcpt == ["eve@example.org"]
    msg = received.message
    assert msg["Bcc"] is None
    assert "victim@example.com" in msg["To"] and "\n" not in str(msg["To"])
    assert str(msg["List-Id"]).strip().startswith("Café Bcc: victim@example.com été news")
    raw_headers = received.data.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in raw_headers.split(b"\r\n"))
    assert not any(line.startswith(b"Bcc:") for line in raw_headers.split(b"\r\n"))


def test_dry_run_writes_an_outbox_and_sends_nothing(project):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["ana@example.org,pe,Ana"])
        assert project.send("--country", "pe", "--dry-run") == 0
        assert server.handler.received == []
    outbox = project.root / ".newsletter" / "outbox" / "pe" / "2021-W34" / "ana@example.org.eml"
    assert b"Subject:" in outbox.read_bytes()


def test_private_files_inside_the_output_folder_are_refused(project, capsys):
    project.configure(1)
    project.subscribers(["ana@example.org,pe,Ana"])
    assert main(["send", "--country", "pe", "--state", "feeds/state"]) == 2
    assert "inside the output folder" in capsys.readouterr().err


def test_bad_subscriber_lines_are_reported_with_their_line(project, capsys):
    with SMTPServer() as server:
        project.configure(server.port)
        project.subscribers(["ana@example.org,pe,Ana", "not-an-address,pe,X", "zed@example.org,narnia,Zed"])
        assert project.send("--country", "pe") == 1  # the good lines are sent; the bad ones make it 1
        assert server.handler.counts() == {"ana@example.org": 1}
    err = capsys.readouterr().err
    assert 'subscribers.csv:3: "not-an-address" is not a valid email address; skipped' in err
    assert 'subscribers.csv:4: unknown country "narnia" for zed@example.org; skipped' in err


def _spawn_send(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "send", "--country", "pe"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NEWSLETTER_SECRET": "k"},
    )


@pytest.mark.slow_on_postgresql("ctrl-c")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_interrupted_process_resumes_without_duplicates(project, sig, backend):
    backend.seed(project.root / ".newsletter")  # on SQLite and on PostgreSQL
    handler = ScriptedHandler(delay=0.02)
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers([f"p{n}@example.org,pe," for n in range(40)])
        proc = _spawn_send(project.root)
        server.wait_for(8)
        proc.send_signal(sig)
        proc.wait(timeout=20)
        first_run = len(server.handler.received)
        assert 8 <= first_run < 40
        rerun = _spawn_send(project.root)
        _, err = rerun.communicate(timeout=60)
        counts = server.handler.counts()
    assert max(counts.values()) == 1, "someone got the issue twice"
    uncertain = 0
    if "uncertain" in err:
        uncertain = int(err.split(" uncertain")[0].rsplit(", ", 1)[-1])
    if sig == signal.SIGINT:
        assert uncertain == 0
    # Everyone got it exactly once, except a message a SIGKILL caught after its final "."
    # and before the server's reply was recorded: the server may or may not have taken it,
    # so it is never resent automatically, and it is reported.
    assert 40 - uncertain <= len(counts) <= 40
    assert uncertain <= 1


# -- TLS and authentication, with a certificate made for the test ------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    key, cert = self_signed(tmp_path_factory.mktemp("tls"))
    return key, cert


def _server_context(certificate):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    return context


def _authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = (auth_data.login, auth_data.password) == (b"news", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


class TLSServer(SMTPServer):
    def __init__(self, certificate, *, implicit: bool):
        super().__init__()
        from aiosmtpd.controller import Controller

        context = _server_context(certificate)
        options = dict(authenticator=_authenticator, auth_required=True, decode_data=False)
        if implicit:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; on an implicit-TLS port the whole
            # session is encrypted, so its TLS requirement for AUTH is switched off.
            self.controller = Controller(
                self.handler,
                hostname="127.0.0.1",
                port=self.port,
                ssl_context=context,
                server_hostname="127.0.0.1",
                auth_require_tls=False,
                **options,
            )
        else:
            self.controller = Controller(
                self.handler,
                hostname="127.0.0.1",
                port=self.port,
                tls_context=context,
                require_starttls=True,
                server_hostname="127.0.0.1",
                **options,
            )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS: see TLSServer
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_and_login(project, certificate, monkeypatch, mode):
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "s3cret")
    with TLSServer(certificate, implicit=mode == "ssl") as server:
        project.configure(server.port, extra=f'username = "news"\nca_file = "{certificate[1]}"\n', tls=mode)
        project.subscribers(["ana@example.org,pe,Ana"])
        assert project.send("--country", "pe") == 0
        assert server.handler.counts() == {"ana@example.org": 1}


def test_wrong_password_is_refused_and_nothing_is_sent(project, certificate, monkeypatch, capsys):
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "wrong")
    with TLSServer(certificate, implicit=False) as server:
        project.configure(server.port, extra=f'username = "news"\nca_file = "{certificate[1]}"\n', tls="starttls")
        project.subscribers(["ana@example.org,pe,Ana"])
        assert project.send("--country", "pe") == 2  # a configuration error: nobody is marked failed
        assert server.handler.received == []
        [line] = capsys.readouterr().err.strip().splitlines()
        assert "refused the login (535 5.7.8" in line and "b'" not in line
        monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "s3cret")  # fixed: the rerun sends to everyone
        assert project.send("--country", "pe") == 0
        assert server.handler.counts() == {"ana@example.org": 1}


def test_untrusted_certificate_is_not_accepted(project, certificate, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SMTP_PASSWORD", "s3cret")
    with TLSServer(certificate, implicit=False) as server:
        project.configure(server.port, extra='username = "news"\nmax_attempts = 1\n', tls="starttls")  # no ca_file
        project.subscribers(["ana@example.org,pe,Ana"])
        assert project.send("--country", "pe") == 2  # TLS failed: a configuration error, nobody marked failed
        assert server.handler.received == []


def test_password_must_come_from_the_environment(project, monkeypatch, capsys):
    monkeypatch.delenv("NEWSLETTER_SMTP_PASSWORD", raising=False)
    project.configure(1, extra='username = "news"\n')
    project.subscribers(["ana@example.org,pe,Ana"])
    assert project.send("--country", "pe") == 2
    assert "NEWSLETTER_SMTP_PASSWORD" in capsys.readouterr().err


def test_one_click_token_is_checked(project, capsys, monkeypatch):
    from newsletter.render.newsletters.issue import unsubscribe_token

    monkeypatch.setenv("NEWSLETTER_SECRET", "test-secret")
    project.configure(1)
    good = unsubscribe_token(b"test-secret", "ana@example.org", "pe")
    assert main(["unsubscribe", "ana@example.org", "--country", "pe", "--token", "forged"]) == 1
    assert main(["unsubscribe", "ana@example.org", "--country", "mx", "--token", good]) == 1  # other list
    assert main(["unsubscribe", "ana@example.org", "--country", "pe", "--token", good]) == 0
    from newsletter.send.sendlog import SendLog

    with SendLog(project.root / ".newsletter") as log:
        assert log.suppressed() == {"ana@example.org": {"pe"}}


@pytest.mark.slow_on_postgresql
def test_unsubscribe_during_a_send_is_honoured(project, backend):
    backend.seed(project.root / ".newsletter")  # on SQLite and on PostgreSQL
    handler = ScriptedHandler(delay=0.05)
    with SMTPServer(handler) as server:
        project.configure(server.port)
        project.subscribers([f"p{n}@example.org,pe," for n in range(30)])
        proc = _spawn_send(project.root)
        server.wait_for(3)
        assert main(["unsubscribe", "p29@example.org"]) == 0  # no lock wait, while the send runs
        proc.communicate(timeout=60)
        assert "p29@example.org" not in server.handler.counts()
        assert len(server.handler.counts()) == 29
