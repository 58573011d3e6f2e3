"""One SMTP connection, reused for many messages, with failures sorted into kinds.

`Mailer.send` speaks MAIL, RCPT and DATA itself (rather than `smtplib.sendmail`) so that
the caller can record a claim between the message body and its final "." — the only
moment at which the server can accept a message without our knowing it.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from newsletter.errors import NewsletterError

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """4xx reply, lost connection or time-out: the message was not accepted; try again."""


class ConnectFailure(TemporaryFailure):
    """The server could not be reached at all (refused, unknown host, time-out while connecting)."""


class PermanentFailure(Exception):
    """5xx reply: the server refuses this message or recipient; do not try again."""

    @property
    def hard_bounce(self) -> bool:
        """A 5.1.x enhanced status (bad mailbox or domain): the address itself is dead."""
        return re.match(r"5\d\d 5\.1\.\d+", str(self)) is not None


class SetupFailure(NewsletterError):
    """The server refuses *us*, not a recipient: the login (530/534/535), TLS, or relaying for
    every recipient. A configuration error: the run stops at once (exit 2) and nobody is marked
    failed, so the rerun after the fix sends to everyone."""

    exit_code = 2


class RelayRefused(PermanentFailure):
    """RCPT refused by policy (5.7.x, "relay"): one recipient's problem, or the server refusing to
    relay for us at all; `Delivery` tells them apart (nothing accepted yet: the latter)."""


AUTH_CODES = (530, 534, 535)
"""Authentication required, mechanism too weak, credentials invalid."""

_RELAY = re.compile(r"^5\d\d 5\.7\.\d+|relay", re.IGNORECASE)


class UncertainDelivery(Exception):
    """The whole message, final "." included, reached the server, but its reply never came
    (connection lost, time-out): it may have been accepted. Never retried automatically."""


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    tls: str
    username: str
    password: str | None
    timeout: float
    ca_file: str = ""
    password_env: str = ""

    @classmethod
    def from_config(cls, config, password: str | None) -> SMTPSettings:
        settings = cls(
            config.smtp_host,
            config.smtp_port,
            config.smtp_tls,
            config.smtp_username,
            password,
            config.smtp_timeout,
            config.smtp_ca_file,
            config.smtp_password_env,
        )
        if settings.ca_file:  # a configuration error (exit 2), not the server being down
            from newsletter.errors import ConfigError

            try:
                settings.tls_context()
            except ssl.SSLError as exc:  # (an OSError too)
                raise ConfigError(
                    [f"smtp.ca_file {settings.ca_file}: not PEM certificates ({exc.reason or exc})"]
                ) from None
            except OSError as exc:
                raise ConfigError([f"smtp.ca_file {settings.ca_file}: {exc.strerror or exc}"]) from None
        return settings

    def tls_context(self) -> ssl.SSLContext:
        """Certificate and host name are always verified; `ca_file` adds a private CA."""
        return ssl.create_default_context(cafile=self.ca_file or None)


def _text(message: bytes | str) -> str:
    """A server's reply as one line of text (never a Python bytes repr)."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(text.split())


def _classify(
    code: int, message: bytes | str, settings: SMTPSettings | None = None, *, rcpt: bool = False
) -> Exception:
    detail = f"{code} {_text(message)}".strip()
    if code in AUTH_CODES and settings is not None:
        return _login_refused(settings, detail)
    if 400 <= code < 500:
        return TemporaryFailure(detail)
    if rcpt and _RELAY.search(detail):
        return RelayRefused(detail)
    return PermanentFailure(detail)


def _where(s: SMTPSettings) -> str:
    return f"the SMTP server {s.host}:{s.port}"


def _login_refused(s: SMTPSettings, detail: str) -> SetupFailure:
    fix = (
        f"check smtp.username ({s.username}) and the password in {s.password_env or 'the environment'}"
        if s.username
        else "it wants a login: set smtp.username and the password"
    )
    return SetupFailure(
        f"{_where(s)} refused the login ({detail}); nothing was sent and nobody is marked failed: {fix}, then run again"
    )


class _Unconnected(smtplib.SMTP):
    """An SMTP session made before it connects (`connect` follows), knowing the host name that
    STARTTLS checks the certificate against, as `SMTP(host)` would."""

    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._host = host


class _UnconnectedSSL(smtplib.SMTP_SSL):
    def __init__(self, host: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(timeout=timeout, context=context)
        self._host = host


class Mailer:
    """A lazily opened SMTP session; `close()` ends it politely."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._connecting: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        try:
            # Made unconnected, then kept in `_connecting` while it connects: a stop (`hang_up`,
            # from another thread) can wake a server that never sends its greeting.
            if s.tls == "ssl":
                smtp = _UnconnectedSSL(s.host, s.timeout, s.tls_context())
            else:
                smtp = _Unconnected(s.host, s.timeout)
            self._connecting = smtp
            smtp.connect(s.host, s.port)
            if s.tls != "ssl":
                smtp.ehlo()
                if s.tls == "starttls":
                    smtp.starttls(context=s.tls_context())
                    smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise _login_refused(s, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS, or no AUTH, offered
            raise SetupFailure(
                f"{_where(s)}: {exc} (smtp.tls = {s.tls!r}, smtp.username = {s.username!r}); "
                "nothing was sent: fix the [smtp] settings, then run again"
            ) from None
        except ssl.SSLError as exc:  # before OSError: a TLS failure is a configuration error, not an outage
            raise SetupFailure(
                f"TLS with {_where(s)} failed ({exc.reason or exc}); nothing was sent and nobody "
                "is marked failed: check smtp.tls, smtp.port and smtp.ca_file, then run again"
            ) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code in AUTH_CODES:
                raise _login_refused(s, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            if s.tls == "starttls" and exc.smtp_code >= 500:  # STARTTLS refused
                raise SetupFailure(
                    f"{_where(s)} refused STARTTLS ({exc.smtp_code} {_text(exc.smtp_error)}); "
                    "nothing was sent: check smtp.tls, then run again"
                ) from None
            raise _classify(exc.smtp_code, exc.smtp_error, s) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectFailure(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        finally:
            self._connecting = None
        try:  # small commands must not wait for delayed ACKs (Nagle): ~40 ms per message otherwise
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        return smtp

    def send(self, sender: str, recipient: str, message: bytes, before_final_dot: Callable[[], None]) -> str:
        """Deliver one message; returns the server's acceptance reply.

        `before_final_dot` runs after the body and before the final "." (where the caller
        records its claim). Raises `TemporaryFailure` (not accepted: try again),
        `PermanentFailure` (refused) or `UncertainDelivery` (the "." went out, no reply came).
        """
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        dot_sent = False
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise _classify(code, reply, self.settings)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                smtp.rset()
                raise _classify(code, reply, self.settings, rcpt=True)
            code, reply = smtp.docmd("data")
            if code != 354:
                raise _classify(code, reply, self.settings)
            body = smtplib.quotedata(message.decode("ascii")).encode("ascii")
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            smtp.send(body)
            before_final_dot()
            smtp.send(b".\r\n")
            dot_sent = True
            code, reply = smtp.getreply()
            if code == -1:  # smtplib's "connection closed" reply
                raise smtplib.SMTPServerDisconnected("connection closed without a reply")
            if code != 250:
                raise _classify(code, reply)
            return f"{code} {_text(reply)}"
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            if dot_sent:
                raise UncertainDelivery(f"no reply after the message was sent: {exc}") from exc
            raise TemporaryFailure(f"connection lost: {exc}") from exc
        except TemporaryFailure as exc:
            if str(exc).startswith("421"):  # the server is closing the connection
                self._drop()
            raise

    def abort(self) -> None:
        """Drop the connection without a QUIT (a stop request; a message may be half sent)."""
        self._drop()

    def hang_up(self) -> None:
        """`abort` from another thread than the one using the connection: `shutdown` wakes a
        read blocked on the server's reply (closing the socket alone does not), which then fails
        as a lost connection (uncertain after the final ".")."""
        for smtp in (self._smtp, self._connecting):
            sock = getattr(smtp, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.abort()

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass
        self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()
