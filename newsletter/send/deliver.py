"""Deliver one rendered issue to its subscribers, exactly once each.

Personalisation (the unsubscribe link) happens on the already inlined HTML; nothing is
re-rendered per recipient. Temporary failures are retried with exponential back-off and a
fresh connection; permanent ones are recorded and skipped; a server that cannot be reached
a few times in a row ends the run at once (`Unreachable`) rather than making every
recipient wait out the back-off. A message whose final "." reached the server but whose
reply never came is *uncertain*: recorded, reported, never sent again automatically;
`smtp.max_uncertain` of them in a row end the run (a server that takes messages but never
answers would otherwise be tried for every recipient).

Who may be mailed is asked right before each message (`Suppressions.may_mail`). A refusal of
*us* rather than of a recipient — the login (530/534/535), TLS, relaying for every recipient —
is a configuration error (`SetupFailure`): the run stops at once, nobody is marked failed.

SIGINT and SIGTERM stop a run within two seconds (`StopControl`): at once between messages
or before a message's final "."; after it, the server's reply is awaited for up to
`REPLY_GRACE` seconds so that the message is recorded as sent rather than uncertain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.output.writer import write_atomic
from newsletter.render.newsletters.issue import IssueRenderer, RenderedIssue
from newsletter.send.sendlog import SendLog
from newsletter.smtp import (
    ConnectFailure,
    Mailer,
    PermanentFailure,
    RelayRefused,
    SetupFailure,
    TemporaryFailure,
    UncertainDelivery,
)
from newsletter.subscribers.lists import Subscriber
from newsletter.subscribers.suppressions import Suppressions
from newsletter.subscribers.tokens import bounce_token, verp_address

log = logging.getLogger(__name__)

RELAY_PROBE = 3
"""Recipients refused for relaying, with nothing accepted before them, that make a run stop as a
configuration error (the server does not relay for us) rather than mark them failed."""

REPLY_GRACE = 1.5
"""Seconds a stop request waits for the reply to a message whose final "." was sent."""


class StopRequested(BaseException):
    """SIGINT/SIGTERM arrived: leave the run now. A BaseException, like KeyboardInterrupt, so
    that no `except Exception` on the way swallows it (logging's does, when the signal comes
    while a line is being written)."""


class Unreachable(Exception):
    """The SMTP server could not be reached `max_connect_failures` times in a row."""


class NoReplies(Unreachable):
    """`max_uncertain` messages in a row went out and no reply came."""


class InARow:
    """Messages in a row whose reply never came, counted across every connection of a run (a
    parallel digest send shares one): `smtp.max_uncertain` of them stop the run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def bump(self) -> int:
        with self._lock:
            self.count += 1
            return self.count

    def reset(self) -> None:
        with self._lock:
            self.count = 0


class StopControl:
    """Signal handling for a send run. `phase` is `idle` (a stop raises `StopRequested` at once),
    `committed` (the claim is written and the "." is going out: a stop waits `REPLY_GRACE`
    seconds, then raises) or `recording` (the outcome is being written: never interrupted)."""

    def __init__(self) -> None:
        self.requested = False
        self.phase = "idle"

    def _on_signal(self, signum, frame) -> None:
        if signum == signal.SIGALRM:
            if self.phase == "committed":
                raise StopRequested
            return
        if not self.requested:
            self.requested = True
            # Not through logging: a signal that lands while stderr's buffer is being written
            # would make that a reentrant write ("Logging error … reentrant call"); one
            # os.write of the whole line is safe in a handler.
            if log.isEnabledFor(logging.WARNING):
                os.write(2, b"newsletter: stopping (the message in progress is finished or left untouched)\n")
        if self.phase == "idle":
            raise StopRequested
        if self.phase == "committed":
            signal.setitimer(signal.ITIMER_REAL, REPLY_GRACE)

    @contextmanager
    def installed(self) -> Iterator[StopControl]:
        old = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                old[sig] = signal.signal(sig, self._on_signal)
        except ValueError:  # not the main thread: no signal handling
            pass
        try:
            yield self
        finally:
            if signal.SIGALRM in old:
                signal.setitimer(signal.ITIMER_REAL, 0)
            for sig, previous in old.items():
                signal.signal(sig, previous)

    def settle(self) -> None:
        """The outcome of a message is known (or recorded): back to idle."""
        self.phase = "recording"
        signal.setitimer(signal.ITIMER_REAL, 0)


@dataclass
class SendSummary:
    sent: int = 0
    already: int = 0
    suppressed: int = 0
    failed: int = 0
    deferred: int = 0
    uncertain: int = 0
    earlier_failed: int = 0
    earlier_uncertain: int = 0
    interrupted: bool = False
    unreachable: str = ""
    gave_up: str = ""
    """Why the run stopped early although the server was reachable (`NoReplies`)."""
    bounced: int = 0
    elsewhere: int = 0
    """Messages another sender on the same database was sending at that moment (PostgreSQL)."""

    @property
    def ok(self) -> bool:
        """Everything this run tried was delivered (old failures alone do not count)."""
        return not (
            self.failed or self.deferred or self.uncertain or self.interrupted or self.unreachable or self.gave_up
        )

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.deferred + self.uncertain

    def add(self, other: SendSummary) -> None:
        for name in (
            "sent",
            "already",
            "suppressed",
            "failed",
            "deferred",
            "uncertain",
            "earlier_failed",
            "earlier_uncertain",
            "bounced",
            "elsewhere",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.interrupted = self.interrupted or other.interrupted
        self.unreachable = self.unreachable or other.unreachable
        self.gave_up = self.gave_up or other.gave_up

    def line(self, dry_run: bool = False) -> str:
        verb = "written to the outbox" if dry_run else "sent"
        parts = [
            f"{self.sent} {verb}",
            f"{self.already} already sent",
            f"{self.suppressed} unsubscribed",
            f"{self.failed} failed",
        ]
        if self.elsewhere:
            parts.append(f"{self.elsewhere} being sent by another sender")
        if self.deferred:
            parts.append(f"{self.deferred} deferred to the next run")
        if self.uncertain:
            parts.append(f"{self.uncertain} uncertain (the server may have taken them; not resent)")
        if self.earlier_failed or self.earlier_uncertain:
            parts.append(
                f"left from earlier runs: {self.earlier_failed} failed, {self.earlier_uncertain} uncertain "
                "(see `newsletter status`)"
            )
        if self.bounced:
            parts.append(
                f"{self.bounced} address{'es' if self.bounced != 1 else ''} suppressed for every list (hard bounce)"
            )
        if self.interrupted:
            parts.append("stopped early; run again to send the rest")
        return ", ".join(parts)


def content_hash(rendered: RenderedIssue) -> str:
    """What a recipient is sent, before personalisation: a change shows as a new hash."""
    h = hashlib.blake2b(digest_size=12)
    for part in (rendered.subject, rendered.html, rendered.text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


@dataclass
class Delivery:
    renderer: IssueRenderer
    rendered: RenderedIssue
    sendlog: SendLog
    secret: bytes | None
    control: StopControl
    mailer: Mailer | None = None
    outbox: Path | None = None
    rate: float = 0.0
    max_attempts: int = 5
    retry_delay: float = 1.0
    max_connect_failures: int = 3
    max_uncertain: int = 3
    log_key: str = ""
    """The key deliveries are recorded under (default: the issue's key; a correction has its own)."""
    store: Any = None
    """The subscriber store, if the state folder has one: told of accepted messages (soft bounces
    count only in a row)."""
    suppressions: Suppressions | None = None
    """Who may be mailed (checked right before each message) and where a hard bounce is written;
    by default the store's, else the send log's."""
    say: Callable[[str], None] = print
    progress: Callable[[str, int, int], None] | None = None
    content: str = field(default="", init=False)
    _connect_failures: int = field(default=0, init=False)
    uncertain_in_a_row: InARow = field(default_factory=InARow)
    """Shared by the connections of a parallel run: lost replies count in a row across them."""
    _accepted: bool = field(default=False, init=False)
    _held: list = field(default_factory=list, init=False)
    """Relay refusals before anything was accepted: (key, sub, message_id, exc), marked failed
    only once another recipient is accepted (else the run stops: `RELAY_PROBE`)."""

    def run(self, subscribers: list[Subscriber]) -> SendSummary:
        issue = self.rendered.issue
        group = issue.group
        key = self.log_key or issue.key
        self.content = content_hash(self.rendered)
        summary = SendSummary()
        statuses = self.sendlog.live_statuses(key)
        if self.suppressions is None:
            self.suppressions = Suppressions(self.sendlog.path.parent, sendlog=self.sendlog, store=self.store)
        may_mail = self.suppressions.may_mail
        audience = [s for s in subscribers if s.wants(group)]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        interval = 1.0 / self.rate if self.rate > 0 else 0.0
        next_at = time.monotonic()
        control = self.control
        try:
            for n, sub in enumerate(audience, 1):
                control.phase = "idle"
                if control.requested:
                    raise StopRequested
                email = sub.email.lower()
                if not may_mail(email, group):
                    summary.suppressed += 1
                    continue
                status = statuses.get(email, ("", ""))[0]
                if status == "sent":
                    summary.already += 1
                    continue
                if status == "failed":
                    summary.earlier_failed += 1
                    continue
                if status == "sending":
                    summary.earlier_uncertain += 1
                    continue
                if status == "elsewhere":
                    summary.elsewhere += 1
                    continue
                message = self.renderer.message(
                    self.rendered,
                    (sub.name, sub.email),
                    secret=self.secret,
                    date=now,
                    version=self.content,
                    key=self.sendlog.message_key(),
                )
                data = message.compose()
                if self.outbox is not None:
                    folder = self.outbox / issue.group / issue.period_id
                    folder.mkdir(parents=True, exist_ok=True)
                    write_atomic(folder / f"{email}.eml", data)
                    summary.sent += 1
                    continue
                if interval:
                    delay = next_at - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    next_at = max(next_at, time.monotonic()) + interval
                self._deliver(key, sub, message.message_id, data, summary)
                if self.progress is not None:
                    self.progress("sending", n, len(audience))
            if self._held and not self._accepted:
                self._relay_refused()
        except StopRequested:
            summary.interrupted = True
            if control.phase == "committed":  # the "." may have gone out: leave the claim as uncertain
                summary.uncertain += 1
                self.say(f"{key}: {sub.email}: stopped while the server was taking the message; uncertain, not resent")
            if self.mailer is not None:
                self.mailer.abort()
        except NoReplies as exc:
            summary.gave_up = str(exc)
        except Unreachable as exc:
            summary.unreachable = str(exc)
        except Exception:  # a refusal of us (`SetupFailure`), a failed write (full disk): drop any half-sent message
            if self.mailer is not None:
                self.mailer.abort()
            raise
        finally:
            control.phase = "idle"
        return summary

    def send_one(
        self, key: str, sub: Subscriber, message_id: str, data: bytes, content: str, summary: SendSummary
    ) -> None:
        """Deliver one message composed elsewhere (a digest) under `key`, claimed with `content`
        just before its final "." exactly as `run` does for each recipient."""
        self.content = content
        self._deliver(key, sub, message_id, data, summary)

    def finish(self) -> None:
        """The end of a run of `send_one` calls: relay refusals with nothing accepted are a
        refusal of us (`SetupFailure`), as at the end of `run`."""
        if self._held and not self._accepted:
            self._relay_refused()

    def _relay_refused(self) -> None:
        _, _, _, exc = self._held[0]
        settings = self.mailer.settings if self.mailer is not None else None
        where = f"the SMTP server {settings.host}:{settings.port}" if settings else "the SMTP server"
        raise SetupFailure(
            f"{where} refused to relay for every recipient tried ({len(self._held)}: {exc}); nothing "
            "was sent and nobody is marked failed: check smtp.username (it may need a login), "
            "newsletter.from_address and the server's relay rules, then run again"
        )

    def _fail(self, key: str, sub: Subscriber, message_id: str, exc: PermanentFailure, summary: SendSummary) -> None:
        self.sendlog.mark(key, sub.email, "failed", message_id, self.content, str(exc))
        summary.failed += 1
        note = ""
        if exc.hard_bounce:
            assert self.suppressions is not None
            if self.suppressions.suppress(sub.email, "*", status="bounced", via="smtp", detail=str(exc)):
                summary.bounced += 1
            note = "; the address is suppressed for every list"
        self.say(f"{key}: {sub.email}: refused: {exc}{note}")

    def envelope_sender(self, email: str) -> str:
        """VERP (`bounces+TOKEN@domain`) with `newsletter.bounce_address` and the key; else From."""
        config = self.renderer.config
        if config.newsletter_bounce_address and self.secret:
            return verp_address(config.newsletter_bounce_address, bounce_token(self.secret, email))
        return config.newsletter_from_address

    def _deliver(self, key: str, sub: Subscriber, message_id: str, data: bytes, summary: SendSummary) -> None:
        """Send one message, unless another sender on the same database has it (`SendLog.take`)."""
        taken = self.sendlog.take(key, sub.email)
        if taken:
            if taken == "sent":
                summary.already += 1
            elif taken == "failed":
                summary.earlier_failed += 1
            elif taken == "sending":
                summary.earlier_uncertain += 1
            else:
                summary.elsewhere += 1
            return
        try:
            self._deliver_taken(key, sub, message_id, data, summary)
        finally:
            self.sendlog.let_go(key, sub.email)

    def _deliver_taken(self, key: str, sub: Subscriber, message_id: str, data: bytes, summary: SendSummary) -> None:
        sender = self.envelope_sender(sub.email)
        control = self.control
        assert self.mailer is not None

        def claim() -> None:
            control.phase = "committed"
            self.sendlog.claim(key, sub.email, message_id, self.content)

        for attempt in range(1, self.max_attempts + 1):
            try:
                self.mailer.send(sender, sub.email, data, before_final_dot=claim)
            except TemporaryFailure as exc:
                control.settle()
                if isinstance(exc, ConnectFailure):
                    self._connect_failures += 1
                    if self._connect_failures >= self.max_connect_failures:
                        raise Unreachable(
                            f"{exc} ({self._connect_failures} tries in a row); nothing more is sent "
                            f"in this run: run it again when the server is back"
                        ) from None
                else:
                    self._connect_failures = 0
                    self.sendlog.release(key, sub.email, str(exc))  # the server did not take it
                if attempt == self.max_attempts:
                    self.sendlog.mark(
                        key, sub.email, "deferred", message_id, self.content, f"{exc} (after {attempt} attempts)"
                    )
                    summary.deferred += 1
                    self.say(f"{key}: {sub.email}: {exc}; deferred to the next run after {attempt} attempts")
                    return
                control.phase = "idle"
                self._back_off(sub, exc, attempt)
            except PermanentFailure as exc:
                control.settle()
                self._connect_failures = 0
                self.uncertain_in_a_row.reset()
                if isinstance(exc, RelayRefused) and not self._accepted:
                    self._held.append((key, sub, message_id, exc))
                    if len(self._held) >= RELAY_PROBE:
                        self._relay_refused()
                    return
                self._fail(key, sub, message_id, exc, summary)
                return
            except UncertainDelivery as exc:
                control.settle()
                summary.uncertain += 1
                self.sendlog.note(key, sub.email, str(exc))
                self.say(
                    f"{key}: {sub.email}: uncertain: {exc}; not resent automatically "
                    f"(see `newsletter status` and `newsletter resolve`)"
                )
                in_a_row = self.uncertain_in_a_row.bump()
                if in_a_row >= self.max_uncertain:
                    raise NoReplies(
                        f"{in_a_row} messages in a row went out but no reply came; "
                        "nothing more is sent in this run (the server may be taking messages without "
                        "answering): see `newsletter status`, then `newsletter resolve`"
                    ) from None
                return
            else:
                control.settle()
                self._connect_failures = 0
                self.uncertain_in_a_row.reset()
                if not self._accepted:
                    self._accepted = True
                    for held_key, held_sub, held_mid, held_exc in self._held:
                        self._fail(held_key, held_sub, held_mid, held_exc, summary)
                    self._held.clear()
                self.sendlog.mark_sent(key, sub.email)
                if self.store is not None:
                    self.store.delivered(sub.email)
                summary.sent += 1
                return

    def _back_off(self, sub: Subscriber, exc: Exception, attempt: int) -> None:
        delay = min(self.retry_delay * 2 ** (attempt - 1), 60.0)
        log.info("%s: %s; retrying in %.2f s", sub.email, exc, delay)
        if self.control.requested:
            raise StopRequested
        time.sleep(delay)
