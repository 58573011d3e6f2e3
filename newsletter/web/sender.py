"""serve's background sender: takes the outbox's due rows (`newsletter.subscribers.outbox`),
decides what each means now, renders the message and hands it to the SMTP server.

- A sign-up from an address already active on those lists is told so ("already"); any other
  becomes *pending* and gets its confirmation link (signed by the request, so the link expires
  `serve.confirm_hours` after the sign-up, not after the send).
- "Send me my link" mails the preferences link to a known address (also one that left); an
  unknown address is sent nothing.
- `serve.address_rate` counts the messages an address was *sent* in the last hour (read from
  the outbox, so every serve process sharing the store counts the same); a failed try does not
  count.
- A failed try is tried again after `serve.mail_retry` seconds, doubled each time up to 30
  minutes, until the link would expire; then the row is `expired`.

One thread per serve process, with its own store connection; a daemon thread, so SIGTERM never
waits for an SMTP server that does not answer. The try is recorded right before the final "."
(`Outbox.attempting`): a sender stopped while the server holds the message leaves the row sent
and uncertain, never sent again; a row it held before that was never handed over, and the
next sender on the host takes it again at once (`Outbox.release_dead`). Every try of one row
carries the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from newsletter.state import pg as pgdb
from newsletter.subscribers.outbox import Outbox, Queued, utcnow
from newsletter.web.mails import MailMaker
from newsletter.web.site import Site

if TYPE_CHECKING:
    from newsletter.config import Config

log = logging.getLogger("newsletter.web.sender")

MAX_BACKOFF = 1800.0
MAX_OUTAGE_WAIT = 30.0  # seconds between tries to reach a database that is down
_LIVE: set[str] = set()  # the owners of this process's running senders


def _alive(owner: str) -> bool:
    """Whether the sender `host:pid:token` on this host may still be running."""
    try:
        pid = int(owner.split(":")[1])
    except (IndexError, ValueError):
        return True
    if pid == os.getpid():
        return owner in _LIVE  # an earlier process with the same pid (pid 1 in a container) is gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class OutboxSender:
    def __init__(
        self,
        site: Site,
        mailer: Callable[[bytes, str, Callable[[], None]], None],
        makers: MailMaker,
        *,
        poll: float = 2.0,
    ) -> None:
        self.site = site
        self.mailer = mailer
        self.makers = makers
        self.poll = poll
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}:{os.urandom(6).hex()}"
        self.lease = float(site.config.smtp_timeout) * 4 + 60
        self.base_delay = float(site.config.serve_mail_retry)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    # -- running ------------------------------------------------------------------------------
    def start(self) -> None:
        _LIVE.add(self.owner)
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 0.1) -> None:
        self._stop.set()
        _LIVE.discard(self.owner)
        self.site.wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        """The thread: never dies. A database that went away (a PostgreSQL restart closes every
        connection) is logged in one line; the thread backs off (`poll`, doubled up to
        `MAX_OUTAGE_WAIT`) and opens a new connection."""
        store = None
        outage = 0.0
        released_once = False
        try:
            while not self._stop.is_set():
                try:
                    if store is None:
                        store = self.site.open_store()
                        if outage:
                            log.warning("outbox: the database answers again")
                            outage = 0.0
                    if not released_once:
                        released_once = True
                        try:
                            released = Outbox(store.db).release_dead(self.host, _alive)
                            if released:
                                log.warning("outbox: %d message(s) held by a stopped serve are sent now", released)
                        except Exception as exc:  # a locked store: their claims run out as before
                            if pgdb.unavailable(exc):
                                raise
                            log.error("outbox: %s", exc)
                    try:
                        self.drain(store)
                    except Exception as exc:  # a locked or busy store: try again at the next poll
                        if pgdb.unavailable(exc):
                            raise
                        log.error("outbox: %s", exc)
                    wait = self.poll
                    due = Outbox(store.db).next_due()
                    if due is not None:
                        wait = max(0.05, min(wait, (due - utcnow()).total_seconds()))
                except Exception as exc:  # the database is down or the connection broke: never die
                    outage = min(MAX_OUTAGE_WAIT, outage * 2 if outage else self.poll)
                    log.error("outbox: %s; trying again in %.0f s", _reason(exc), outage)
                    _close_quietly(store)
                    store = None
                    self._stop.wait(outage)
                    continue
                self.site.wake.wait(wait)
                self.site.wake.clear()
        finally:
            _close_quietly(store)

    def drain(self, store=None) -> int:
        """Send every row that is due now; returns how many rows were handled."""
        own = store is None
        store = store or self.site.open_store()
        try:
            outbox = Outbox(store.db)
            handled = 0
            while not self._stop.is_set():
                row = outbox.claim(self.owner, lease=self.lease)
                if row is None:
                    break
                self._handle(store, outbox, row)
                handled += 1
            if handled and hasattr(self.mailer, "idle"):
                self.mailer.idle()
            now = utcnow()
            if (now.timestamp() - self._last_purge) > 600:
                outbox.purge(now - dt.timedelta(days=1))
                self._last_purge = now.timestamp()
            return handled
        finally:
            if own:
                store.close()

    # -- one row ------------------------------------------------------------------------------
    def _handle(self, store, outbox: Outbox, row: Queued) -> None:
        site = self.site
        now = utcnow()
        if now >= row.expires:
            outbox.failed(
                row.id, self.owner, "the link expired before it could be sent", retry_at=now, expires=row.expires
            )
            return
        if outbox.sent_since(row.email, now - dt.timedelta(hours=1)) >= site.config.serve_address_rate:
            outbox.drop(row.id, self.owner, "serve.address_rate")
            return
        mail = self._make(store, row, self._ident(row))
        if mail is None:
            outbox.drop(row.id, self.owner, "unknown address")
            return
        from newsletter.smtp import PermanentFailure, UncertainDelivery

        try:
            self.mailer(mail.data, row.email, lambda: outbox.attempting(row.id, self.owner))
        except PermanentFailure as exc:  # the server refused this address: trying again changes nothing
            outbox.drop(row.id, self.owner, f"refused: {_reason(exc)}")
            log.warning("outbox: the %s message (#%d) was refused: %s", mail.kind, row.id, _reason(exc))
            return
        except UncertainDelivery as exc:  # it may well have arrived: never sent twice
            outbox.sent(row.id, self.owner, outcome=f"uncertain: {_reason(exc)}")
            log.warning("outbox: the %s message (#%d) may have been sent: %s", mail.kind, row.id, _reason(exc))
            return
        except Exception as exc:  # every other failure is retried; the person saw the same page
            delay = min(MAX_BACKOFF, self.base_delay * 2**row.attempts)
            outcome = outbox.failed(
                row.id, self.owner, _reason(exc), retry_at=utcnow() + dt.timedelta(seconds=delay), expires=row.expires
            )
            log.warning(
                "outbox: the %s message (#%d) was not sent: %s; %s",
                mail.kind,
                row.id,
                _reason(exc),
                f"next try in {delay:.0f} s" if outcome == "queued" else "given up: its link would expire",
            )
            return
        outbox.sent(row.id, self.owner)
        log.info("outbox: sent the %s message #%d", mail.kind, row.id)

    def _ident(self, row: Queued) -> str:
        """The Message-ID's unique part for every try of one row (signed: nobody else can make it)."""
        what = f"outbox\n{row.id}\n{row.created.isoformat()}\n{row.email}".encode()
        return hmac.new(self.site.secret, what, hashlib.sha256).hexdigest()[:24]

    def _make(self, store, row: Queued, ident: str):
        site = self.site
        email = row.email
        if row.kind == "signup":
            groups = set(row.data.get("lists", []))
            known = store.subscriber(email)
            if known is not None and not known[1] and all(known[2].get(g) == "active" for g in groups):
                return self.makers.make("already", email, {"preferences": site.preferences_link(email)}, ident=ident)
            store.request(email, groups)
            hours = duration((row.expires - row.created).total_seconds(), site.words.lang)
            return self.makers.make(
                "confirm",
                email,
                {
                    "confirm": site.confirm_link(row.data["token"]),
                    "lists": [site.list_title(g) for g in sorted(groups)],
                    "hours": hours,
                },
                ident=ident,
            )
        if row.kind == "manage":
            if store.subscriber(email) is None:
                return None
            return self.makers.make("manage", email, {"preferences": site.preferences_link(email)}, ident=ident)
        return None


def _close_quietly(store) -> None:
    if store is not None:
        try:
            store.close()
        except Exception:  # closing a broken connection
            pass


def duration(seconds: float, lang: str) -> str:
    """How long a link works, in words of `lang` with CLDR's plurals ("1 hour", "2 días",
    "36\u00a0heures"): the largest unit that says it exactly, else rounded down (a link is never
    promised longer than it works)."""
    from babel.units import format_unit

    seconds = max(1, int(seconds))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 or (unit == "minute" and seconds >= 60):
            return format_unit(seconds // size, f"duration-{unit}", locale=lang)
    return format_unit(seconds, "duration-second", locale=lang)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:200]


class SMTPOutlet:
    """Delivers serve's messages over SMTP as `smtp.*` says: one connection kept while the
    outbox has rows, closed when it is empty (`idle`) or after a failure."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.password = os.environ.get(config.smtp_password_env)
        self._mailer: Any = None  # a newsletter.smtp.Mailer while connected

    def __call__(self, data: bytes, recipient: str, before_final_dot: Callable[[], None] = lambda: None) -> None:
        from newsletter.smtp import Mailer, SMTPSettings

        if self._mailer is None:
            self._mailer = Mailer(SMTPSettings.from_config(self.config, self.password))
        try:
            self._mailer.send(self.config.newsletter_from_address, recipient, data, before_final_dot=before_final_dot)
        except BaseException:
            self.idle()
            raise

    def idle(self) -> None:
        mailer, self._mailer = self._mailer, None
        if mailer is not None:
            try:
                mailer.close()
            except Exception:  # closing a broken connection
                pass


def smtp_mailer(config: Config) -> SMTPOutlet:
    return SMTPOutlet(config)
