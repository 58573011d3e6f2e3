"""Deliver one rendered issue to its subscribers, exactly once each.

Personalisation (the unsubscribe link) happens on the already inlined HTML; nothing is
re-rendered per recipient. Temporary failures are retried with exponential back-off and a
fresh connection; permanent ones are recorded and skipped. Ctrl-C (or SIGTERM) finishes
the message in progress, then stops; the next run carries on where this one stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from newsletter.newsletters.issue import IssueRenderer, RenderedIssue
from newsletter.send.sendlog import SendLog
from newsletter.send.smtp import Mailer, PermanentFailure, TemporaryFailure
from newsletter.send.subscribers import Subscriber
from newsletter.writer import write_atomic

log = logging.getLogger(__name__)


@dataclass
class SendSummary:
    sent: int = 0
    already: int = 0
    suppressed: int = 0
    failed: int = 0
    deferred: int = 0
    uncertain: int = 0
    interrupted: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.deferred or self.uncertain or self.interrupted)

    def line(self, dry_run: bool = False) -> str:
        verb = "written to the outbox" if dry_run else "sent"
        parts = [f"{self.sent} {verb}", f"{self.already} already sent", f"{self.suppressed} unsubscribed",
                 f"{self.failed} failed"]
        if self.deferred:
            parts.append(f"{self.deferred} deferred to the next run")
        if self.uncertain:
            parts.append(f"{self.uncertain} uncertain (a run was killed while the server took them; not resent)")
        if self.interrupted:
            parts.append("stopped early; run again to send the rest")
        return ", ".join(parts)


@contextmanager
def stop_requests() -> Iterator[list[bool]]:
    """A flag set by the first SIGINT/SIGTERM; a second SIGINT interrupts at once."""
    flag = [False]
    old = {}

    def handler(signum, frame):
        if flag[0] and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag[0] = True
        log.warning("stopping after the message in progress (Ctrl-C again to stop now)")

    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        pass
    try:
        yield flag
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


@dataclass
class Delivery:
    renderer: IssueRenderer
    rendered: RenderedIssue
    sendlog: SendLog
    secret: bytes | None
    mailer: Mailer | None = None
    outbox: Path | None = None
    rate: float = 0.0
    max_attempts: int = 5
    retry_delay: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str, int, int], None] | None = None

    def run(self, subscribers: list[Subscriber]) -> SendSummary:
        issue = self.rendered.issue
        group, key = issue.group, issue.key
        summary = SendSummary()
        statuses = self.sendlog.statuses(key)
        suppressed = self.sendlog.suppressed()
        audience = [s for s in subscribers if s.wants(group)]
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        interval = 1.0 / self.rate if self.rate > 0 else 0.0
        next_at = time.monotonic()
        with stop_requests() as stop:
            for n, sub in enumerate(audience, 1):
                if stop[0]:
                    summary.interrupted = True
                    break
                email = sub.email.lower()
                blocked = suppressed.get(email, ())
                if "*" in blocked or group in blocked or (self.outbox is None and self.sendlog.is_suppressed(email, group)):
                    summary.suppressed += 1
                    continue
                status = statuses.get(email)
                if status == "sent":
                    summary.already += 1
                    continue
                if status == "failed":
                    summary.failed += 1
                    continue
                if status == "sending":
                    summary.uncertain += 1
                    continue
                message = self.renderer.message(self.rendered, sub.name, sub.email, secret=self.secret, date=now)
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
                        self.sleep(delay)
                    next_at = max(next_at, time.monotonic()) + interval
                self._deliver(sub, message, data, summary)
                if self.progress is not None:
                    self.progress("sending", n, len(audience))
        if self.mailer is not None:
            self.mailer.close()
        return summary

    def _deliver(self, sub: Subscriber, message, data: bytes, summary: SendSummary) -> None:
        key = self.rendered.issue.key
        sender = self.renderer.config.newsletter_from_address
        for attempt in range(1, self.max_attempts + 1):
            try:
                self.mailer.send(sender, sub.email, data,
                                 before_final_dot=lambda: self.sendlog.claim(key, sub.email, message.message_id))
            except TemporaryFailure as exc:
                self.sendlog.release(key, sub.email)
                if attempt == self.max_attempts:
                    summary.deferred += 1
                    summary.failures.append(f"{sub.email}: {exc} (will retry on the next run)")
                    log.warning("%s: %s; giving up for this run after %d attempts", sub.email, exc, attempt)
                    return
                delay = min(self.retry_delay * 2 ** (attempt - 1), 60.0)
                log.info("%s: %s; retrying in %.2f s", sub.email, exc, delay)
                self.sleep(delay)
            except PermanentFailure as exc:
                self.sendlog.mark_failed(key, sub.email, message.message_id, str(exc))
                summary.failed += 1
                summary.failures.append(f"{sub.email}: {exc}")
                log.warning("%s: refused: %s", sub.email, exc)
                return
            else:
                self.sendlog.mark_sent(key, sub.email)
                summary.sent += 1
                return
