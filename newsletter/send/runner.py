"""What `newsletter send` does around one delivery: find the issue, check it was built, pick the
recipients, and — for `--due` — decide which finished issues every list still owes.

The schedule (`send --due`):
- an issue is *due* once its period has ended in the configured time zone and
  `newsletter.send_delay` hours have passed;
- the schedule starts at `newsletter.send_since`, or else at the start of the period before
  the first `--due` run (recorded in the send log), so a first run mails at most the latest
  finished issue of each list, never the whole archive;
- a subscriber who joins a list later (first seen by a `--due` run) gets the issues of
  periods that end after they joined, not the back issues.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from newsletter.content.catalog import Catalog
from newsletter.errors import ConfigError, UsageError
from newsletter.render.newsletters.issue import Issue, issues_for, newsletter_groups
from newsletter.render.newsletters.periods import period_bounds, period_id
from newsletter.render.units import archive_since
from newsletter.send.deliver import Delivery, SendSummary, StopControl, content_hash
from newsletter.send.sendlog import SendLog
from newsletter.smtp import Mailer, SMTPSettings
from newsletter.subscribers.lists import Subscriber
from newsletter.subscribers.suppressions import Suppressions

if TYPE_CHECKING:
    from newsletter.config import Config

SINCE_KEY = "due_since"


@dataclass
class Sender:
    """One send run: a catalog, its builder (templates, links, renderer) and where to send."""

    config: Config
    builder: Any
    catalog: Catalog
    out_dir: Path
    sendlog: SendLog
    subscribers: list[Subscriber]
    say: Callable[[str], None]
    dry_run: bool = False
    outbox: Path | None = None
    rate: float | None = None
    progress: Callable | None = None
    control: StopControl = field(default_factory=StopControl)
    mailer: Mailer | None = None
    secret: bytes | None = None
    store: Any = None
    """The subscriber store, if the state folder has one (see `Delivery.store`)."""
    suppressions: Suppressions | None = None
    """Who may be mailed: asked by every delivery of this run (default: the store's, else the send log's)."""

    def __post_init__(self) -> None:
        config = self.config
        secret_text = os.environ.get(config.newsletter_secret_env)
        if config.newsletter_unsubscribe_url and not secret_text:
            if not self.dry_run:
                public = config.newsletter_public_url
                source = (
                    "newsletter.public_url is set"
                    if public and config.newsletter_unsubscribe_url == public + "unsubscribe"
                    else "newsletter.unsubscribe_url is set"
                )
                raise ConfigError(
                    [
                        f"{source}, so one-click unsubscribe links need a key: set the "
                        f"environment variable {config.newsletter_secret_env}"
                    ]
                )
            self.say(
                f"warning: {config.newsletter_secret_env} is not set: the outbox messages carry placeholder "
                "unsubscribe links (token=preview), not the ones subscribers would get"
            )
        self.secret = secret_text.encode() if secret_text else None
        password = os.environ.get(config.smtp_password_env)
        if config.smtp_username and password is None and not self.dry_run:
            raise ConfigError(
                [f"smtp.username is set: put the password in the environment variable {config.smtp_password_env}"]
            )
        if not self.dry_run:
            self.mailer = Mailer(SMTPSettings.from_config(config, password))
        self.tz = ZoneInfo(config.timezone)
        if self.suppressions is None:
            self.suppressions = Suppressions(self.sendlog.path.parent, sendlog=self.sendlog, store=self.store)

    # -- which issues exist ------------------------------------------------------------------
    def lists(self) -> list[str]:
        return newsletter_groups(self.catalog) if self.config.newsletter_enabled else []

    def issues(self, group: str) -> list[Issue]:
        """The group's issues that builds publish (the newest `archive_periods`), newest first."""
        if not self.catalog.entries:
            return []
        since = archive_since(self.config, self.catalog.entries[0].date)
        return issues_for(self.catalog.groups[group], group, self.config.newsletter_period, since, self.config.language)

    def period_end(self, pid: str, period: str = "") -> dt.datetime:
        """When a period (of `period`, default the site's) ends, in the configured zone."""
        end = period_bounds(pid, period or self.config.newsletter_period)[1]
        return dt.datetime(end.year, end.month, end.day, tzinfo=self.tz)

    def web_copy(self, issue: Issue) -> Path:
        return self.out_dir / self.builder.context.links.issue_path(issue.group, issue.period_id, "html")

    # -- sending -------------------------------------------------------------------------------
    def deliver(self, issue: Issue, recipients: list[Subscriber], *, correction: bool = False) -> SendSummary:
        """Send one issue to those of `recipients` who have not had it; reports a changed issue."""
        if not correction:
            settled = self._settled(issue.key, issue.group, recipients)
            if settled is not None:
                return settled
        renderer = self.builder.context.issue_renderer
        rendered = renderer.render(issue)
        content = content_hash(rendered)
        log_key = issue.key
        if correction:
            earlier = {
                email
                for _, email, status, _, _, old in self.sendlog.rows(issue.key)
                if status == "sent" and old != content
            }
            recipients = [s for s in recipients if s.email.lower() in earlier]
            log_key = f"{issue.key}+correction-{content[:8]}"
            rendered = dataclasses.replace(rendered, subject=f"Correction: {rendered.subject}")
        elif not self.dry_run:
            self._check_unchanged(issue, content)
        delivery = Delivery(
            renderer=renderer,
            rendered=rendered,
            sendlog=self.sendlog,
            secret=self.secret,
            control=self.control,
            mailer=self.mailer,
            outbox=self.outbox if self.dry_run else None,
            rate=self.config.smtp_rate if self.rate is None else self.rate,
            max_attempts=self.config.smtp_max_attempts,
            retry_delay=self.config.smtp_retry_delay,
            max_connect_failures=self.config.smtp_max_connect_failures,
            max_uncertain=self.config.smtp_max_uncertain,
            log_key=log_key,
            say=self.say,
            progress=self.progress,
            store=self.store,
            suppressions=self.suppressions,
        )
        summary = delivery.run(recipients)
        if summary.sent and not self.dry_run:
            self.sendlog.record_issue(log_key, content)
        return summary

    def _settled(self, key: str, group: str, recipients: list[Subscriber]) -> SendSummary | None:
        """The summary of an issue nobody is owed (without rendering it), else None."""
        statuses = self.sendlog.live_statuses(key)
        assert self.suppressions is not None
        summary = SendSummary()
        for sub in recipients:
            if not sub.wants(group):
                continue
            email = sub.email.lower()
            status = statuses.get(email, ("", ""))[0]
            if not self.suppressions.may_mail(email, group):
                summary.suppressed += 1
            elif status == "sent":
                summary.already += 1
            elif status == "failed":
                summary.earlier_failed += 1
            elif status == "sending":
                summary.earlier_uncertain += 1
            elif status == "elsewhere":
                summary.elsewhere += 1
            else:
                return None
        return summary

    def _check_unchanged(self, issue: Issue, content: str) -> None:
        """An issue that changed after it was first sent is said once: who has which version."""
        recorded = self.sendlog.issue_content(issue.key)
        if recorded is None or content in recorded:
            return
        got = sum(1 for row in self.sendlog.rows(issue.key) if row[2] == "sent" and row[5] != content)
        self.say(
            f"{issue.key} changed after it was first sent: {got} recipient{'s' if got != 1 else ''} got the "
            f"earlier version and are not sent it again; anyone still due gets this one. To send them the "
            f"new version as a correction: newsletter send --country {issue.group} --issue {issue.period_id} --correction"
        )
        self.sendlog.report_change(issue.key, content)

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()
        if self.suppressions is not None:
            self.suppressions.close()

    # -- the schedule ---------------------------------------------------------------------------
    def schedule_start(self, now: dt.datetime, period: str = "", key: str = SINCE_KEY) -> dt.datetime:
        """Periods ending after this are in the schedule (see the module docstring); digests
        keep one schedule per frequency (`period`, recorded under `key`)."""
        period = period or self.config.newsletter_period
        if self.config.newsletter_send_since:
            day = dt.date.fromisoformat(self.config.newsletter_send_since)
            return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)
        recorded = self.sendlog.get_meta(key)
        if recorded:
            return dt.datetime.fromisoformat(recorded)
        # The period before the one that (now − delay) falls in: its issue is the latest finished one.
        moment = (now - dt.timedelta(hours=self.config.newsletter_send_delay)).astimezone(self.tz)
        current = period_bounds(period_id(moment.date(), period), period)[0]
        previous = period_bounds(period_id(current - dt.timedelta(days=1), period), period)[0]
        start = dt.datetime(previous.year, previous.month, previous.day, tzinfo=self.tz)
        if not self.dry_run:
            self.sendlog.set_meta(key, start.isoformat())
        return start

    def due(self, now: dt.datetime, groups: list[str]) -> list[tuple[Issue, list[Subscriber]]]:
        """Every (issue, recipients) the schedule owes, oldest period first."""
        start = self.schedule_start(now)
        first_run = self.sendlog.get_meta("due_runs") is None
        delay = dt.timedelta(hours=self.config.newsletter_send_delay)
        seen_at = "" if first_run else now.astimezone(dt.UTC).isoformat(timespec="seconds")
        owed: list[tuple[dt.datetime, str, Issue, list[Subscriber]]] = []
        for group in groups:
            audience = [s for s in self.subscribers if s.wants(group)]
            known = self.sendlog.members(group)
            new = [s.email for s in audience if s.email.lower() not in known]
            if new and not self.dry_run:
                self.sendlog.add_members(group, new, seen_at)
            joined = {s.email.lower(): known.get(s.email.lower(), seen_at) for s in audience}
            for issue in self.issues(group):
                end = self.period_end(issue.period_id)
                if end <= start:
                    break  # newest first: every older one is before the schedule too
                if end + delay > now:
                    continue
                recipients = [
                    s
                    for s in audience
                    if not joined[s.email.lower()] or end > dt.datetime.fromisoformat(joined[s.email.lower()])
                ]
                if recipients:
                    owed.append((end, group, issue, recipients))
        if not self.dry_run:
            self.sendlog.set_meta("due_runs", str(int(self.sendlog.get_meta("due_runs") or 0) + 1))
        owed.sort(key=lambda t: (t[0], t[1]))
        return [(issue, recipients) for _, _, issue, recipients in owed]

    def next_due(self, now: dt.datetime, groups: list[str]) -> str:
        """When the next issue falls due, for the 'nothing due' line."""
        pid = period_id(now.astimezone(self.tz).date(), self.config.newsletter_period)
        when = self.period_end(pid) + dt.timedelta(hours=self.config.newsletter_send_delay)
        return f"the issues of {pid} fall due at {when.strftime('%Y-%m-%d %H:%M %Z')}"


def require_built(sender: Sender, issue: Issue) -> None:
    """A message's "view in a browser" link must work: its web copy must have been built."""
    path = sender.web_copy(issue)
    if not path.is_file():
        raise UsageError(
            f"{issue.key}: its web copy {path} has not been built, so the message's \"view in a "
            f'browser" link would be broken; run `newsletter build` first'
        )


def check_finished(sender: Sender, issue: Issue, now: dt.datetime, force: bool) -> None:
    end = sender.period_end(issue.period_id)
    if end > now and not force:
        raise UsageError(
            f"{issue.key}: the period has not ended yet (it ends {end.strftime('%Y-%m-%d %H:%M %Z')}); "
            "entries may still be added. Pass --force to send it now"
        )
