"""Sending digests (`newsletter.delivery = "digest"`): one message per (subscriber, period).

The plan (`DigestSender.plan`): for each frequency in `newsletter.frequencies`, every period
that has ended (in the configured zone, plus `newsletter.send_delay`) and ends after that
frequency's schedule start — `newsletter.send_since`, or else the start of the period before
the first `--due` run, recorded in the send log as for list issues. Each subscriber gets the
periods of the frequency they chose *now* (the digest reflects their choice when it is sent)
that end after they were first seen by a `--due` run (no back issues for newcomers), with the
lists they chose now; a period in which those lists had no news sends nothing. A subscriber
who already got a list issue of that period (a site that switched from `lists`) is not sent
the period again.

Delivery keeps every guarantee of a list send: each message is claimed in the send log
(`digest/<period id>`, with the content hash of what that subscriber is sent) just before its
final "." (`Delivery._deliver`), so a lost reply or a killed run leaves it *uncertain*, never
resent; `status` and `resolve` settle it. Messages go out over `smtp.connections` SMTP
connections at once, one thread each; a message is handed to exactly one of them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.content.catalog import REGIONAL
from newsletter.output.writer import write_atomic
from newsletter.render.newsletters.digest import (
    DIGEST_KEY,
    DigestComposer,
    DigestRenderer,
    RenderedDigest,
)
from newsletter.render.newsletters.periods import frequency_of, period_bounds, period_id
from newsletter.send.deliver import (
    REPLY_GRACE,
    Delivery,
    InARow,
    NoReplies,
    SendSummary,
    StopControl,
    StopRequested,
    Unreachable,
)
from newsletter.smtp import Mailer
from newsletter.subscribers.lists import EVERY_COUNTRY, Subscriber

MEMBERS = DIGEST_KEY
RUNS_KEY = "digest_runs"
"""The send log's `members` list under which digest subscribers' first-seen times are kept."""


def since_key(frequency: str) -> str:
    return f"digest_since.{frequency}"


def correction_key(key: str, content: str) -> str:
    return f"{key}+correction-{content[:8]}"


class Locked:
    """Calls to `target` one at a time: the send log and the store are shared by the threads."""

    def __init__(self, target: Any, lock: threading.Lock) -> None:
        self._target = target
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        lock = self._lock

        def call(*args, **kwargs):
            with lock:
                return value(*args, **kwargs)

        return call


@dataclass
class DigestJob:
    """One (choice, period): its rendered digest and who is owed it."""

    key: str
    """The send-log key (`digest/<period id>`, or its correction key)."""
    period: str
    rendered: RenderedDigest
    recipients: list[Subscriber]
    subject: str = ""


@dataclass
class PeriodPlan:
    period: str
    frequency: str
    end: dt.datetime
    jobs: list[DigestJob] = field(default_factory=list)
    summary: SendSummary = field(default_factory=SendSummary)


class DigestSender:
    """Plans and sends the digests a `send --due` run owes; built on a `Sender`."""

    def __init__(self, sender: Any, *, connections: int | None = None) -> None:
        self.sender = sender
        self.config = sender.config
        self.sendlog = sender.sendlog
        self.connections = max(1, connections or self.config.smtp_connections)
        frequencies = list(self.config.newsletter_frequencies) or [self.config.newsletter_period]
        default = self.config.newsletter_period if self.config.newsletter_period in frequencies else frequencies[0]
        context = sender.builder.context
        self.composer = DigestComposer(
            sender.catalog,
            context.names,
            default_frequency=default,
            frequencies=frequencies,
            language=self.config.language,
        )
        self.renderer = DigestRenderer(context.issue_renderer, context.templates)
        self.frequencies = frequencies

    # -- the schedule ----------------------------------------------------------------------
    def period_end(self, pid: str, frequency: str) -> dt.datetime:
        return self.sender.period_end(pid, frequency)

    def schedule_start(self, frequency: str, now: dt.datetime) -> dt.datetime:
        """As for list issues (`Sender.schedule_start`), one schedule per frequency."""
        return self.sender.schedule_start(now, frequency, since_key(frequency))

    def finished_periods(self, frequency: str, now: dt.datetime) -> list[tuple[str, dt.datetime]]:
        """(period id, end) of the periods with news that the schedule owes, oldest first."""
        start = self.schedule_start(frequency, now)
        delay = dt.timedelta(hours=self.config.newsletter_send_delay)
        first_day = start.date() - dt.timedelta(days=1)
        pids: set[str] = set()
        for entry in self.sender.catalog.entries:  # newest first
            if entry.date < first_day:
                break
            pids.add(period_id(entry.date, frequency))
        owed = []
        for pid in pids:
            end = self.period_end(pid, frequency)
            if start < end and end + delay <= now:
                owed.append((pid, end))
        return sorted(owed, key=lambda t: t[1])

    def next_due(self, now: dt.datetime) -> str:
        """When the next digests fall due, for the 'nothing due' line."""
        delay = dt.timedelta(hours=self.config.newsletter_send_delay)
        soonest = []
        for frequency in self.frequencies:
            pid = period_id((now - delay).astimezone(self.sender.tz).date(), frequency)
            soonest.append((self.period_end(pid, frequency) + delay, pid))
        when, pid = min(soonest)
        return f"the digests of {pid} fall due at {when.strftime('%Y-%m-%d %H:%M %Z')}"

    def _joined(self, now: dt.datetime) -> dict[str, str]:
        """email → when first seen by a `--due` run ('' for those there when digests began)."""
        first_run = self.sendlog.get_meta(RUNS_KEY) is None
        seen_at = "" if first_run else now.astimezone(dt.UTC).isoformat(timespec="seconds")
        known = self.sendlog.members(MEMBERS)
        new = [s.email for s in self.sender.subscribers if s.email.lower() not in known]
        if not self.sender.dry_run:
            if new:
                self.sendlog.add_members(MEMBERS, new, seen_at)
            self.sendlog.set_meta(RUNS_KEY, str(int(self.sendlog.get_meta(RUNS_KEY) or 0) + 1))
        return {s.email.lower(): known.get(s.email.lower(), seen_at) for s in self.sender.subscribers}

    def _had_list_issue(self, pid: str) -> set[str]:
        """Addresses that got (or may have got) a list issue of this period."""
        got: set[str] = set()
        for key in self.sendlog.issue_keys():
            if key.endswith(f"/{pid}") and not key.startswith(f"{DIGEST_KEY}/"):
                got.update(
                    email for email, (status, _) in self.sendlog.statuses(key).items() if status in ("sent", "sending")
                )
        return got

    def coverage(self) -> dict[str, list[tuple[dt.date, dt.date, str]]]:
        """email → (first day, day after, key) of every digest period sent to them (or maybe sent:
        uncertain), whatever its frequency: the days a later digest must not repeat."""
        covered: dict[str, list[tuple[dt.date, dt.date, str]]] = {}
        for key in self.sendlog.issue_keys():
            if not key.startswith(f"{DIGEST_KEY}/"):
                continue
            pid = key.split("/", 1)[1].split("+", 1)[0]
            try:
                start, after = period_bounds(pid, frequency_of(pid))
            except ValueError:
                continue
            base = f"{DIGEST_KEY}/{pid}"
            for email, (status, _) in self.sendlog.statuses(key).items():
                if status in ("sent", "sending"):
                    covered.setdefault(email, []).append((start, after, base))
        return covered

    @staticmethod
    def covered_until(
        periods: list[tuple[dt.date, dt.date, str]], key: str, start: dt.date, after: dt.date
    ) -> dt.date | None:
        """The day after the last period sent to them that is not this one and does not lie wholly
        after it (so that a correction of an older period still sees that period's entries)."""
        ends = [a for s, a, k in periods if k != key and s < after]
        return max(ends) if ends else None

    def plan(self, now: dt.datetime, *, correction: bool = False) -> list[PeriodPlan]:
        """What is owed, period by period, oldest first (see the module docstring); with
        `correction`, those who got an earlier version of a digest that has changed since."""
        joined = self._joined(now)
        by_frequency: dict[str, list[Subscriber]] = {}
        choices = {}
        for sub in self.sender.subscribers:
            choice = self.composer.choice(sub)
            choices[sub.email.lower()] = choice
            by_frequency.setdefault(choice.frequency, []).append(sub)
        plans: list[PeriodPlan] = []
        coverage = self.coverage()
        for frequency in self.frequencies:
            audience = by_frequency.get(frequency, [])
            if not audience:
                continue
            for pid, end in self.finished_periods(frequency, now):
                plan = PeriodPlan(pid, frequency, end)
                key = f"{DIGEST_KEY}/{pid}"
                first_day, day_after = period_bounds(pid, frequency)
                statuses = self.sendlog.statuses(key)
                had_list = self._had_list_issue(pid)
                groups: dict[Any, list[Subscriber]] = {}
                for sub in audience:
                    email = sub.email.lower()
                    first_seen = joined.get(email, "")
                    if first_seen and end <= dt.datetime.fromisoformat(first_seen):
                        continue  # joined after this period ended: no back issues
                    if email in had_list:
                        continue
                    choice = choices[email]
                    until = self.covered_until(coverage.get(email, []), key, first_day, day_after)
                    if until is not None and until > first_day:
                        if until >= day_after:
                            continue  # every day of it was in digests they already got
                        choice = dataclasses.replace(choice, after=until)
                    groups.setdefault(choice, []).append(sub)
                changed = 0
                for choice, subs in groups.items():
                    digest = self.composer.digest(choice, pid)
                    if digest is None:
                        continue
                    rendered = self.renderer.render(digest, self.composer)
                    same = self._same_choice(key, choice, rendered.content)
                    # Who got an earlier version of *this* choice's digest: a digest's hash is per
                    # choice, so one sent for other lists (a `--subscribers FILE` that differs, a
                    # change of lists since) is not a change of the digest.
                    earlier = [
                        s
                        for s in subs
                        if statuses.get(s.email.lower(), ("", ""))[0] == "sent"
                        and statuses[s.email.lower()][1] not in ("", rendered.content)
                        and same(statuses[s.email.lower()][1])
                    ]
                    if correction:
                        if earlier:
                            plan.jobs.append(
                                DigestJob(
                                    correction_key(key, rendered.content),
                                    pid,
                                    rendered,
                                    earlier,
                                    f"Correction: {rendered.subject}",
                                )
                            )
                        continue
                    changed += len(earlier)
                    plan.jobs.append(DigestJob(key, pid, rendered, subs))
                if changed and not self.sender.dry_run and self.sendlog.get_meta(f"{key}.changed") != str(changed):
                    self.sendlog.set_meta(f"{key}.changed", str(changed))
                    self.sender.say(
                        f"{key} changed after it was first sent: {changed} recipient"
                        f"{'s' if changed != 1 else ''} got the earlier version and are not sent it "
                        "again; to send them this one as a correction: newsletter send --due --correction"
                    )
                if plan.jobs:
                    plans.append(plan)
        plans.sort(key=lambda p: (p.end, p.period))
        return plans

    def _same_choice(self, key: str, choice: Any, content: str) -> Callable[[str], bool]:
        """Records which choice `content` is the digest of (send-log meta `KEY.choice.HASH`), and
        answers whether an earlier content hash was of the same choice."""
        import hashlib

        signature = hashlib.blake2b(repr(choice).encode(), digest_size=8).hexdigest()
        if not self.sender.dry_run and self.sendlog.get_meta(f"{key}.choice.{content}") is None:
            self.sendlog.set_meta(f"{key}.choice.{content}", signature)
        known: dict[str, bool] = {}

        def same(earlier: str) -> bool:
            if earlier not in known:
                known[earlier] = self.sendlog.get_meta(f"{key}.choice.{earlier}") == signature
            return known[earlier]

        return same

    # -- delivery ----------------------------------------------------------------------------
    def send(self, plans: list[PeriodPlan], *, progress: Callable[[str, int, int], None] | None = None) -> SendSummary:
        """Deliver every planned message once; the per-period summaries are on the plans."""
        work: list[tuple[PeriodPlan, DigestJob, Subscriber]] = []
        for plan in plans:
            for job in plan.jobs:
                work.extend((plan, job, sub) for sub in job.recipients)
        if self.sender.dry_run:
            return self._write_outbox(work)
        return _Pool(self, work, progress).run()

    def _write_outbox(self, work: list[tuple[PeriodPlan, DigestJob, Subscriber]]) -> SendSummary:
        outbox = self.sender.outbox
        total = SendSummary()
        statuses: dict[str, dict[str, tuple[str, str]]] = {}
        suppressions = self.sender.suppressions
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for plan, job, sub in work:
            one = _settled(
                statuses.setdefault(job.key, self.sendlog.live_statuses(job.key)),
                sub,
                job.rendered.digest.choice.lists,
                suppressions.may_mail,
            )
            if one is None:
                message = self.renderer.message(
                    job.rendered,
                    (sub.name, sub.email),
                    secret=self.sender.secret,
                    date=now,
                    subject=job.subject or None,
                    key=self.sendlog.message_key(),
                )
                folder = outbox_folder(outbox, job.key)
                folder.mkdir(parents=True, exist_ok=True)
                write_atomic(folder / f"{sub.email.lower()}.eml", message.compose())
                one = SendSummary(sent=1)
            plan.summary.add(one)
            total.add(one)
        return total


def _settled(
    statuses: dict[str, tuple[str, str]], sub: Subscriber, lists: tuple[str, ...], may_mail: Callable[[str, str], bool]
) -> SendSummary | None:
    """The outcome for a subscriber nothing is to be sent to (already had it, failed or
    uncertain earlier, may be mailed none of the digest's lists — asked right before the
    message, so that leaving during a run is honoured), else None."""
    email = sub.email.lower()
    status = statuses.get(email, ("", ""))[0]
    if status == "sent":
        return SendSummary(already=1)
    if status == "failed":
        return SendSummary(earlier_failed=1)
    if status == "sending":
        return SendSummary(earlier_uncertain=1)
    if status == "elsewhere":  # in flight in another live sender
        return SendSummary(elsewhere=1)
    if not any(may_mail(email, group) for group in lists):
        return SendSummary(suppressed=1)
    return None


class _Pool:
    """`smtp.connections` threads, each with its own SMTP connection, taking messages from one
    queue: a message is taken by one thread only, claimed before its final "." as ever."""

    def __init__(self, owner: DigestSender, work: list, progress) -> None:
        self.owner = owner
        self.sender = owner.sender
        self.work = work
        self.progress = progress
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        for item in work:
            self.queue.put(item)
        self.db_lock = threading.Lock()
        self.sum_lock = threading.Lock()
        self.stop = threading.Event()
        self.total = SendSummary()
        self.done = 0
        self.deliveries: list[Delivery] = []
        self.errors: list[BaseException] = []
        self.statuses: dict[str, dict[str, tuple[str, str]]] = {}
        self.suppressions: Any = Locked(self.sender.suppressions, self.db_lock)
        rate = self.sender.config.smtp_rate if self.sender.rate is None else self.sender.rate
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.next_at = time.monotonic()
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.message_key = self.sender.sendlog.message_key()  # read once, before the workers start
        self.in_a_row = InARow()
        """Lost replies in a row across every connection: `smtp.max_uncertain` stops the run."""

    def _delivery(self) -> Delivery:
        config = self.sender.config
        sendlog: Any = Locked(self.sender.sendlog, self.db_lock)
        store = Locked(self.sender.store, self.db_lock) if self.sender.store is not None else None
        first = self.sender.mailer
        assert first is not None  # not a dry run
        mailer = first if not self.deliveries else Mailer(first.settings)
        delivery = Delivery(
            renderer=self.sender.builder.context.issue_renderer,
            rendered=None,  # type: ignore[arg-type]
            sendlog=sendlog,  # type: ignore[arg-type]
            secret=self.sender.secret,
            control=StopControl(),
            mailer=mailer,  # type: ignore[arg-type]
            max_attempts=config.smtp_max_attempts,
            retry_delay=config.smtp_retry_delay,
            max_connect_failures=config.smtp_max_connect_failures,
            max_uncertain=config.smtp_max_uncertain,
            say=self.sender.say,
            store=store,
            suppressions=self.suppressions,  # type: ignore[arg-type]
            uncertain_in_a_row=self.in_a_row,
        )
        self.deliveries.append(delivery)
        return delivery

    def run(self) -> SendSummary:
        count = min(self.owner.connections, len(self.work))
        threads = [threading.Thread(target=self._worker, args=(self._delivery(),), daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        try:
            while any(t.is_alive() for t in threads):
                for thread in threads:
                    thread.join(0.05)
        except StopRequested:
            self._stop(threads)
        finally:
            for delivery in self.deliveries:
                if delivery.mailer is not None and delivery.mailer is not self.sender.mailer:
                    delivery.mailer.close()
        if self.sender.control.requested:
            self.total.interrupted = True
        if self.errors:
            raise self.errors[0]
        return self.total

    def _stop(self, threads: list[threading.Thread]) -> None:
        """A stop signal: no new message is started; one whose "." went out gets `REPLY_GRACE`
        seconds for its reply, then its connection is dropped (it stays uncertain)."""
        self.stop.set()
        for delivery in self.deliveries:
            delivery.control.requested = True
        for delivery in self.deliveries:  # before its final ".": give up at once (nothing was taken)
            if delivery.control.phase != "committed" and delivery.mailer is not None:
                delivery.mailer.hang_up()
        deadline = time.monotonic() + REPLY_GRACE  # one grace for all connections, not one each
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.02)
        for delivery in self.deliveries:
            if delivery.mailer is not None:
                delivery.mailer.hang_up()
        deadline = time.monotonic() + 0.3
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.total.interrupted = True

    def _add(self, plan: PeriodPlan, one: SendSummary) -> None:
        with self.sum_lock:
            plan.summary.add(one)
            self.total.add(one)
            self.done += 1
            if self.progress is not None:
                self.progress("sending", self.done, len(self.work))

    def _pace(self) -> None:
        if not self.interval:
            return
        with self.sum_lock:
            at = max(self.next_at, time.monotonic())
            self.next_at = at + self.interval
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _worker(self, delivery: Delivery) -> None:
        owner = self.owner
        try:
            while not self.stop.is_set():
                try:
                    plan, job, sub = self.queue.get_nowait()
                except queue.Empty:
                    return
                with self.db_lock:
                    statuses = self.statuses.get(job.key)
                    if statuses is None:
                        statuses = self.statuses[job.key] = self.sender.sendlog.live_statuses(job.key)
                one = _settled(statuses, sub, job.rendered.digest.choice.lists, self.suppressions.may_mail)
                if one is not None:
                    self._add(plan, one)
                    continue
                message = owner.renderer.message(
                    job.rendered,
                    (sub.name, sub.email),
                    secret=self.sender.secret,
                    date=self.now,
                    subject=job.subject or None,
                    key=self.message_key,
                )
                data = message.compose()
                self._pace()
                one = SendSummary()
                delivery.control.phase = "idle"
                try:
                    delivery.send_one(job.key, sub, message.message_id, data, job.rendered.content, one)
                finally:
                    self._add(plan, one)
            delivery.finish()
        except NoReplies as exc:
            with self.sum_lock:
                self.total.gave_up = self.total.gave_up or str(exc)
            self.stop.set()
        except Unreachable as exc:
            with self.sum_lock:
                self.total.unreachable = self.total.unreachable or str(exc)
            self.stop.set()
        except StopRequested:
            self.stop.set()
        except BaseException as exc:  # a bug: stop every thread, report it from the main one
            self.errors.append(exc)
            self.stop.set()


def digest_line(plan: PeriodPlan, dry_run: bool) -> str:
    """`digest/2025-W11 (10–16 March 2025, weekly): 3 sent, …` for `send --due`."""
    label = plan.jobs[0].rendered.digest.label if plan.jobs else plan.period
    choices = len(plan.jobs)
    return (
        f"{DIGEST_KEY}/{plan.period} ({label}, {plan.frequency}, {choices} distinct choice"
        f"{'s' if choices != 1 else ''}): {plan.summary.line(dry_run)}"
    )


def outbox_folder(outbox: Path, key: str) -> Path:
    """Where `--dry-run` writes a digest's messages: `OUTBOX/digest-2025-W11/EMAIL.eml`."""
    return outbox / key.replace("/", "-", 1)


def send_digests_due(
    sender: Any,
    now: dt.datetime,
    *,
    correction: bool = False,
    quiet: bool = False,
    say: Callable[[str], None] | None = None,
) -> bool:
    """`send --due` with `newsletter.delivery = "digest"`: plan, send, say one line per period
    and one for the run; True when everything tried went out."""
    say = say or sender.say
    digests = DigestSender(sender)
    plans = digests.plan(now, correction=correction) if sender.config.newsletter_enabled else []
    total = digests.send(plans, progress=sender.progress)
    if total.unreachable:
        say(f"cannot reach the SMTP server: {total.unreachable}")
    if total.gave_up:
        say(f"stopped: {total.gave_up}")
    if not quiet:
        for plan in plans:
            if plan.summary.attempted or plan.summary.interrupted or sender.dry_run:
                say(digest_line(plan, sender.dry_run))
        if total.attempted:
            periods = sum(1 for p in plans if p.summary.attempted)
            say(f"--due: digests of {periods} period{'s' if periods != 1 else ''}: {total.line(sender.dry_run)}")
        else:
            extra = (
                (
                    f"; left from earlier runs: {total.earlier_failed} failed, {total.earlier_uncertain} uncertain "
                    "(see `newsletter status`)"
                )
                if total.earlier_failed or total.earlier_uncertain
                else ""
            )
            say(f"--due: no digest due; {digests.next_due(now)}{extra}")
    return total.ok


def test_digest(sender: Any, address: str, groups: list[str], issue: str, when: dt.datetime) -> tuple[str, bytes]:
    """(subject, message) of the digest `address` would get with the lists `groups` (default:
    every list) for period `issue` (its id says the frequency; `latest`: the newest period with
    news at the site's `period`), for `send --test`."""
    from newsletter.errors import UsageError

    digests = DigestSender(sender)
    frequency = digests.composer.default_frequency if issue == "latest" else frequency_of(issue)
    person = Subscriber(address, "", frozenset(groups or {EVERY_COUNTRY, REGIONAL}), frequency=frequency)
    choice = dataclasses.replace(digests.composer.choice(person), frequency=frequency)
    if issue == "latest":
        newest = [sender.catalog.groups[g][0].date for g in choice.lists if sender.catalog.groups[g]]
        if not newest:
            raise UsageError("--test: those lists have no news yet")
        issue = period_id(max(newest), frequency)
    digest = digests.composer.digest(choice, issue)
    if digest is None:
        raise UsageError(f"--test: no news for those lists in {issue}")
    rendered = digests.renderer.render(digest, digests.composer)
    message = digests.renderer.message(rendered, ("", address), secret=sender.secret, date=when)
    return rendered.subject, message.compose()
