"""The sending commands: `send` (one issue, or `--due`), `status`, `resolve`, `unsubscribe`, `backup`.

Heavy modules are imported inside the commands so that `newsletter --help` stays quick.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.cli.args import site_config, terminal_progress
from newsletter.errors import ConfigError, StateError, UsageError

if TYPE_CHECKING:
    from newsletter.config import Config


def say(line: str) -> None:
    print(f"newsletter: {line}", file=sys.stderr)


def list_arg(value: str, gazetteer, option: str = "--country") -> str:
    from newsletter.subscribers.lists import list_name

    name = list_name(value, gazetteer)
    if name is None:
        raise UsageError(
            f"{option} {value}: not a list; use a country code or name (mx, Mexico, México), "
            "'all', 'regional', or '*' for every country"
        )
    return name


def _gazetteer(config: Config):
    from newsletter.content.gazetteer import load_gazetteer

    return load_gazetteer().with_overrides(config.aliases, config.exclusions)


def _now(args, tz) -> dt.datetime:
    if not getattr(args, "now", None):
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(args.now)
    except ValueError:
        raise UsageError(f"--now {args.now}: not a time such as 2021-09-06T08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _subscribers_path(args, config: Config) -> Path:
    return Path(getattr(args, "subscribers", None) or config.newsletter_subscribers)


def cmd_send(args) -> int:
    from zoneinfo import ZoneInfo

    from newsletter.builder.pipeline import Builder, inside
    from newsletter.diagnostics import report_list
    from newsletter.send.deliver import StopRequested
    from newsletter.send.runner import Sender, check_finished, require_built
    from newsletter.send.sendlog import SendLog
    from newsletter.state.lock import StateLock

    config = site_config(args)
    if args.rate is not None and args.rate < 0:
        raise ConfigError(["--rate: must not be negative"])
    test = getattr(args, "test", None)
    if test and args.due:
        raise UsageError("--test mails one issue or digest to one address; it cannot be combined with --due")
    if not args.due and not args.country and not (test and config.newsletter_delivery == "digest"):
        raise UsageError("say which list to send (--country CC), or --due for every finished issue")
    if args.country and len(args.country) > 1 and not args.due and not test:
        raise UsageError("--country is given more than once; that needs --due")
    if config.newsletter_delivery == "digest" and not args.due and not test and not args.subscribers:
        raise UsageError(
            'newsletter.delivery is "digest": subscribers get every list they chose in one digest '
            "from `send --due`, so `send --country` would mail them the same stories again; use "
            "`send --due`, or for a one-off `--subscribers FILE` or `--test ADDRESS` "
            '(delivery = "lists" in [newsletter] sends one message per list)'
        )
    out_dir, state_dir = Path(config.out), Path(config.state)
    subscribers_path = _subscribers_path(args, config)
    outbox = Path(args.outbox) if args.outbox else state_dir / "outbox"
    for private, what in ((state_dir, "state folder"), (subscribers_path, "subscriber list"), (outbox, "outbox")):
        if inside(private, out_dir):
            raise UsageError(
                f"the {what} {private} is inside the output folder {out_dir}; it holds addresses and must never be published"
            )
    builder = Builder(config, templates_dir=args.templates, state_dir=state_dir)
    groups = [list_arg(c, builder.context.gazetteer) for c in args.country or []]
    with StateLock(state_dir):  # reading assigns entry ids: the state a build would write
        entries, _, _ = builder.read(args.bulletins or config.bulletins, skip=[out_dir, state_dir])
        catalog = builder.catalog(entries)
    if args.subscribers:
        _check_one_off(subscribers_path)
    subscribers, sub_diags, store = recipients(
        state_dir, subscribers_path, builder.context.gazetteer, one_off=bool(args.subscribers), quiet=args.quiet
    )
    if test and not args.subscribers and not subscribers_path.exists():
        sub_diags = []  # a test to yourself: no subscriber list is needed
    whole_file = report_list(sub_diags)
    if any(d.severity == "error" for d in whole_file):
        return 2
    bad_lines = any(d.severity == "error" for d in sub_diags)
    now = _now(args, ZoneInfo(config.timezone))
    if test:
        testlog = SendLog(state_dir)  # read only here (suppressions); no send lock: nothing is recorded
        try:
            sender = Sender(
                config,
                builder,
                catalog,
                out_dir,
                testlog,
                subscribers,
                say,
                store=store,
                dry_run=args.dry_run,
                outbox=outbox,
            )
            try:
                return 0 if _send_test(sender, test, groups, now, args, require_built) else 1
            finally:
                sender.close()
        finally:
            testlog.close()
    with state_errors(state_dir), SendLog(state_dir) as sendlog:
        if not args.quiet and not args.dry_run:
            say_once_without_public_url(config)
        sender = Sender(
            config,
            builder,
            catalog,
            out_dir,
            sendlog,
            subscribers,
            say,
            dry_run=args.dry_run,
            outbox=outbox,
            rate=args.rate,
            progress=terminal_progress(),
            store=store,
        )
        with sender.control.installed():
            try:
                if args.due:
                    ok = send_due(
                        sender, groups, now, dry_run=args.dry_run, quiet=args.quiet, correction=args.correction
                    )
                else:
                    ok = _send_one(sender, groups[0], now, args, check_finished, require_built)
            except StopRequested:  # between two issues, or before the first message
                say("stopped; run again to send the rest")
                ok = False
            finally:
                sender.close()
    return 0 if ok and not bad_lines else 1


def _send_test(sender, address: str, groups: list[str], now, args, require_built) -> bool:
    """`send --test ADDRESS`: one issue (delivery `lists`, or one --country with `--issue` of a
    list) or one digest mailed to ADDRESS as a subscriber would get it; nothing is recorded."""
    from newsletter.smtp import PermanentFailure, TemporaryFailure, UncertainDelivery
    from newsletter.subscribers.lists import EVERY_COUNTRY, valid_email

    if not valid_email(address):
        raise UsageError(f"--test {address!r}: not a valid email address")
    when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if sender.config.newsletter_delivery == "lists":
        if len(groups) != 1:
            raise UsageError('--test with newsletter.delivery = "lists" mails one list\'s issue: give one --country')
        issue = _pick_issue(sender, groups[0], args)
        require_built(sender, issue)
        renderer = sender.builder.context.issue_renderer
        rendered = renderer.render(issue)
        subject, data = (
            rendered.subject,
            renderer.message(rendered, ("", address), secret=sender.secret, date=when).compose(),
        )
    else:
        from newsletter.send.digest import test_digest

        subject, data = test_digest(sender, address, groups, args.issue, when)
    lists = groups or [EVERY_COUNTRY]
    assert sender.suppressions is not None
    if not any(sender.suppressions.may_mail(address, group) for group in lists):
        raise UsageError(
            f"--test {address}: refused: it left {' '.join(lists)} (unsubscribed, bounced or "
            "complained), and every way of sending, --test too, asks the same suppression check"
        )
    if sender.dry_run:
        from newsletter.output.writer import write_atomic

        assert sender.outbox is not None
        path = sender.outbox / "test" / f"{address.lower()}.eml"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        say(f'--test --dry-run: "{subject}" for {address} written to {path} (nothing mailed or recorded)')
        return True
    assert sender.mailer is not None
    try:
        sender.mailer.send(sender.config.newsletter_from_address, address, data, before_final_dot=lambda: None)
    except (TemporaryFailure, PermanentFailure, UncertainDelivery) as exc:
        say(f"--test: {address}: {exc}")
        return False
    say(f'--test: "{subject}" mailed to {address} (not recorded as a delivery)')
    return True


def _pick_issue(sender, group, args):
    from newsletter.subscribers.lists import EVERY_COUNTRY

    lists = sender.lists()
    if group == EVERY_COUNTRY:
        raise UsageError(
            "--country '*': every country's issue is its own; name one list (--country mx), or "
            "send what each list owes with --due"
        )
    if group not in lists:
        raise UsageError(f"--country {args.country[0]}: no newsletter for it (issues exist for: {' '.join(lists)})")
    issues = sender.issues(group)
    if args.issue == "latest":
        return issues[0]
    matching = [i for i in issues if i.period_id == args.issue]
    if not matching:
        raise UsageError(
            f"--issue {args.issue}: no such issue for {group}; the latest are "
            + ", ".join(i.period_id for i in issues[:5])
        )
    return matching[0]


def _send_one(sender, group, now, args, check_finished, require_built) -> bool:
    issue = _pick_issue(sender, group, args)
    check_finished(sender, issue, now, args.force)
    if not args.dry_run:
        require_built(sender, issue)
    summary = sender.deliver(issue, sender.subscribers, correction=args.correction)
    if summary.unreachable:
        say(f"cannot reach the SMTP server: {summary.unreachable}")
    if summary.gave_up:
        say(f"stopped: {summary.gave_up}")
    if not args.quiet:
        subject = sender.builder.context.issue_renderer.subject(issue)
        say(f"{subject} ({issue.key}): {summary.line(args.dry_run)}")
    return summary.ok


def send_due(sender, groups, now, *, dry_run: bool = False, quiet: bool = False, correction: bool = False) -> bool:
    """Send what the schedule owes (see `newsletter.send.runner`, and `newsletter.send.digest`
    for `newsletter.delivery = "digest"`); True when all went out."""
    from newsletter.send.deliver import SendSummary
    from newsletter.send.runner import require_built

    if sender.config.newsletter_delivery == "digest":
        from newsletter.send.digest import send_digests_due

        if groups:
            raise UsageError(
                '--country with --due limits the lists sent, but newsletter.delivery is "digest": '
                'every subscriber gets one digest of all their lists (set delivery = "lists" in '
                "[newsletter] for one message per list)"
            )
        return send_digests_due(sender, now, correction=correction, quiet=quiet)

    lists = sender.lists()
    unknown = [g for g in groups if g not in lists]
    if unknown:
        raise UsageError(f"--country {' '.join(unknown)}: no newsletter for it (issues exist for: {' '.join(lists)})")
    owed = sender.due(now, groups or lists)
    total, issues_sent, missing = SendSummary(), 0, 0
    for issue, recipients in owed:
        try:
            require_built(sender, issue)
        except UsageError as exc:
            if not dry_run:
                say(str(exc))
                missing += 1
                continue
        summary = sender.deliver(issue, recipients)
        total.add(summary)
        if summary.attempted or summary.interrupted:
            issues_sent += 1
            if not quiet:
                say(f"{issue.key}: {summary.line(dry_run)}")
        if summary.unreachable:
            say(f"cannot reach the SMTP server: {summary.unreachable}")
            break
        if summary.gave_up:
            say(f"stopped: {summary.gave_up}")
            break
        if summary.interrupted:
            break
    if not quiet:
        if issues_sent:
            say(f"--due: {issues_sent} issue{'s' if issues_sent != 1 else ''}: {total.line(dry_run)}")
        else:
            extra = (
                (
                    f"; left from earlier runs: {total.earlier_failed} failed, {total.earlier_uncertain} uncertain "
                    "(see `newsletter status`)"
                )
                if total.earlier_failed or total.earlier_uncertain
                else ""
            )
            say(f"--due: nothing due; {sender.next_due(now, lists)}{extra}")
    return total.ok and not missing


def send_due_after_build(config: Config, builder, catalog, inputs) -> bool:
    """`watch --send-due`: after a rebuild, send what is due from the daemon's own catalog
    (read now, when the build did not hold all of it: `catalog` None). Never raises (the
    daemon goes on); True when a stop signal arrived during the send."""
    import logging

    from newsletter.diagnostics import report
    from newsletter.errors import NewsletterError
    from newsletter.send.deliver import StopRequested
    from newsletter.send.runner import Sender
    from newsletter.send.sendlog import SendLog

    log = logging.getLogger("newsletter.watch")
    try:
        if catalog is None:
            entries, _, _ = builder.read(inputs, skip=[Path(config.out), Path(config.state)])
            catalog = builder.catalog(entries)
        subscribers, diags, store = recipients(
            Path(config.state), Path(config.newsletter_subscribers), builder.context.gazetteer
        )
        report(diags)
        with SendLog(Path(config.state)) as sendlog:
            sender = Sender(config, builder, catalog, Path(config.out), sendlog, subscribers, say, store=store)
            with sender.control.installed():
                try:
                    send_due(sender, [], dt.datetime.now(dt.UTC))
                except StopRequested:
                    pass
                finally:
                    sender.close()
            return sender.control.requested
    except NewsletterError as exc:
        log.error("send --due: %s", exc)
    except Exception:  # a bug must not stop the daemon
        log.exception("send --due failed; it is tried again after the next rebuild")
    return False


def _check_one_off(path: Path) -> None:
    """`--subscribers FILE` must be a readable UTF-8 CSV: else one line saying what it is."""
    if not path.exists():
        raise UsageError(f"--subscribers {path}: no such file")
    if not path.is_file():
        raise UsageError(f"--subscribers {path}: not a file (a CSV of email,countries,name is expected)")
    try:
        path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--subscribers {path}: not a text file (not UTF-8 at byte {exc.start}); "
            "a CSV of email,countries,name is expected"
        ) from None
    except OSError as exc:
        raise UsageError(f"--subscribers {path}: cannot read it ({exc.strerror or exc})") from None


def recipients(
    state_dir: Path, csv_path: Path, gazetteer, *, one_off: bool = False, quiet: bool = False, read_only: bool = False
):
    """(subscribers, diagnostics, store): from the subscriber store once it holds anyone, else
    (and always with `--subscribers FILE`, `one_off`) from the CSV file. The store is returned
    whenever the state folder has one: its suppressions apply to every way of sending.

    A store that holds nobody beside a CSV that lists people is a `UsageError`: the site moved
    to the store (serve created it) without importing its list, and sending from either alone
    would be wrong (nobody reached, or the store's sign-ups ignored)."""
    from newsletter.subscribers.lists import load_subscribers

    store = open_store(state_dir, read_only=read_only)
    if store is not None and not one_off:
        if store.holds_subscribers():
            if csv_path.exists() and not quiet:  # -q (cron): not every hour
                say(
                    f"{csv_path} is not read: the subscriber store in {state_dir} holds the subscribers "
                    f"(`newsletter subscribers import {csv_path}` adds its changes)"
                )
            return store.recipients(), [], store
        if csv_path.exists():
            listed, diags = load_subscribers(csv_path, gazetteer)
            if listed:
                store.close()
                raise UsageError(
                    f"the subscriber store in {state_dir} holds nobody, but {csv_path} lists {len(listed)} "
                    f"{'person' if len(listed) == 1 else 'people'}: nothing was sent. Import them "
                    f"(`newsletter subscribers import {csv_path}`; who unsubscribed stays off), or send to the "
                    f"file alone with --subscribers {csv_path}"
                )
            return [], diags, store
        return [], [], store
    subscribers, diags = load_subscribers(csv_path, gazetteer)
    return subscribers, diags, store


def say_once_without_public_url(config: Config) -> None:
    """Without `newsletter.public_url` (or `unsubscribe_url`) messages have no one-click unsubscribe
    (RFC 8058), which Gmail and Yahoo require of bulk senders: said once by `build` and `send` of
    a site that has subscribers (a subscriber list or store), not by one that only publishes.
    Also said: an `unsubscribe_url` outside `public_url` (one-click unsubscribes would not reach
    serve — the example configuration once set one for another host)."""
    from newsletter.subscribers.store import SubscriberStore

    if not config.newsletter_enabled:
        return
    if not Path(config.newsletter_subscribers).exists() and not SubscriberStore.exists(Path(config.state)):
        return
    public, one_click = config.newsletter_public_url, config.newsletter_unsubscribe_url
    if public and one_click and not one_click.startswith(public):
        say(
            f"newsletter.unsubscribe_url ({one_click}) is not under newsletter.public_url ({public}): one-click "
            f"unsubscribes go there, not to `newsletter serve`; remove unsubscribe_url to use {public}unsubscribe"
        )
    if one_click:
        return
    say(
        "newsletter.public_url is not set: messages have no one-click unsubscribe (List-Unsubscribe-Post), which "
        "Gmail and Yahoo require of bulk senders; set it to where `newsletter serve` is reachable"
    )


@contextmanager
def state_errors(state_dir: Path) -> Iterator[None]:
    """A database write that fails (a full disk, a read-only folder) is one line, not a traceback;
    whatever was recorded before it stays recorded (a message whose outcome could not be written
    stays *uncertain*: never resent automatically)."""
    import sqlite3

    from newsletter.state.db import write_failure

    try:
        yield
    except OSError as exc:
        failure = write_failure(Path(exc.filename or state_dir), exc)
        if failure is None:
            raise
        raise failure from None
    except sqlite3.OperationalError as exc:
        if "full" in str(exc) or "disk I/O" in str(exc):
            raise StateError(
                f"{state_dir}: the disk is full ({exc}); the send stopped, and what was sent before "
                "is recorded: free some space and run it again (see `newsletter status`)"
            ) from None
        raise StateError(
            f"{state_dir}: cannot write the send log or subscriber store ({exc}); the send stopped: "
            "see `newsletter status`, then run it again"
        ) from None
    except Exception as exc:
        psycopg = sys.modules.get("psycopg")  # loaded only for a database = "postgresql://…"
        if psycopg is None or not isinstance(exc, psycopg.OperationalError):
            raise
        raise StateError(
            f"the send log's or subscriber store's database failed ({str(exc).strip().splitlines()[0]}); "
            "the send stopped: see `newsletter status`, then run it again"
        ) from None


def open_store(state_dir: Path, *, read_only: bool = False):
    """The subscriber store, if this state folder has one (None otherwise: nothing is created)."""
    from newsletter.subscribers.store import STORE_NAME, SubscriberStore

    if not SubscriberStore.exists(state_dir):
        return None
    if read_only and not os.access(state_dir, os.W_OK):
        return _reading(SubscriberStore, state_dir / STORE_NAME)
    return SubscriberStore(state_dir)


def _open_log(config: Config, *, read_only: bool = False):
    """The send log; with `read_only` (status, backup), a state folder that cannot be written
    (a read-only mount) is read without writing anything, rather than refused."""
    from newsletter.send.sendlog import LOG_NAME, SendLog

    state_dir = Path(config.state)
    if not SendLog.exists(state_dir):
        raise UsageError(f"{state_dir}: no send log yet; nothing has been sent with this state folder")
    if read_only and not os.access(state_dir, os.W_OK):
        return _reading(SendLog, state_dir / LOG_NAME)
    return SendLog(state_dir)


def _reading(cls, path: Path):
    """A SendLog or SubscriberStore over a read-only connection (its reading methods only)."""
    import sqlite3

    wal = path.with_name(path.name + "-wal")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        if wal.exists() and wal.stat().st_size:
            raise StateError(
                f"cannot read {path} in a read-only folder: its write-ahead log has changes only a "
                "writer can apply; make the folder writable"
            ) from None
        db = sqlite3.connect(f"file:{path}?immutable=1", uri=True, check_same_thread=False)
    try:
        result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        result = (str(exc).splitlines()[0],)
    if not result or result[0] != "ok":
        raise StateError(f"{path}: damaged ({result[0] if result else 'no answer'}); restore it from a backup")
    reader = cls.__new__(cls)
    reader.path = path
    reader.db = db
    return reader


def _list_or_digest(value: str, gazetteer) -> str:
    """A list, or `digest` for the digests (send-log keys `digest/<period id>`)."""
    from newsletter.render.newsletters.digest import DIGEST_KEY

    return DIGEST_KEY if value.strip().lower() == DIGEST_KEY else list_arg(value, gazetteer)


def cmd_status(args) -> int:
    config = site_config(args)
    gazetteer = _gazetteer(config)
    group = _list_or_digest(args.country, gazetteer) if args.country else None
    if args.issue and not group:
        raise UsageError("--issue needs --country")
    state_dir = Path(config.state)
    from newsletter.send.sendlog import SendLog

    if not SendLog.exists(state_dir, config.database or None):
        print(f"nothing sent yet with the state folder {state_dir}")
        return 0
    sendlog = _open_log(config, read_only=True)
    try:
        if args.issue:
            _status_of_issue(sendlog, config, gazetteer, group, args)
        else:
            _status_of_issues(sendlog, group)
    finally:
        sendlog.close()
    return 0


def _status_of_issues(sendlog, group) -> None:
    from newsletter.send.sendlog import STATUSES

    counts: dict[str, dict[str, int]] = {}
    for key, _, status, *_ in sendlog.rows():
        if group is None or key.split("/", 1)[0] == group:
            counts.setdefault(key, dict.fromkeys(STATUSES, 0))[status] += 1
    if not counts:
        print("nothing sent yet" + (f" to the {group} list" if group else ""))
        return
    names = {"sending": "uncertain"}
    print(f"{'issue':<32} " + " ".join(f"{names.get(s, s):>9}" for s in STATUSES))
    for key, row in counts.items():
        print(f"{key:<32} " + " ".join(f"{row[s]:>9}" for s in STATUSES))


def _status_of_issue(sendlog, config: Config, gazetteer, group, args) -> None:
    key = f"{group}/{args.issue}"
    rows = {email: (status, detail) for _, email, status, detail, _, _ in sendlog.rows(key)}
    from newsletter.subscribers.suppressions import Suppressions

    subscribers, _, store = recipients(
        Path(config.state),
        _subscribers_path(args, config),
        gazetteer,
        one_off=bool(args.subscribers),
        quiet=True,
        read_only=True,
    )
    suppressions = Suppressions(Path(config.state), sendlog=sendlog, store=store)
    lines = []
    for email, (status, detail) in rows.items():
        lines.append((email, "uncertain" if status == "sending" else status, detail))
    for sub in subscribers if group != "digest" else []:  # a digest's recipients: the rows of its period
        email = sub.email.lower()
        if email in rows or not sub.wants(group):
            continue
        lines.append((email, "pending" if suppressions.may_mail(email, group) else "suppressed", ""))
    if store is not None:
        store.close()
    if not lines:
        print(f"{key}: nothing sent, and nobody on the list")
        return
    for email, status, detail in sorted(lines):
        print(f"{email:<40} {status:<12} {detail}".rstrip())


def cmd_resolve(args) -> int:
    config = site_config(args)
    group = _list_or_digest(args.country, _gazetteer(config))
    key = f"{group}/{args.issue}"
    all_failed = getattr(args, "all_failed", False)
    if not args.emails and not args.all_uncertain and not all_failed:
        raise UsageError("name the recipients (EMAIL …) or pass --all-uncertain or --all-failed")
    sendlog = _open_log(config)
    try:
        if key not in sendlog.issue_keys():
            known = [k for k in sendlog.issue_keys() if k.startswith(f"{group}/")]
            raise UsageError(
                f"{key}: nothing was ever sent of it; nothing changed"
                + (f" (sent of {group}: {', '.join(known[-5:])})" if known else "")
            )
        emails = list(args.emails)
        wanted = {"sending"} if args.all_uncertain else set()
        if all_failed:
            wanted.add("failed")
        emails += [email for _, email, status, *_ in sendlog.rows(key) if status in wanted and email not in emails]
        if not emails:
            say(
                f"{key}: no {' or '.join('uncertain' if w == 'sending' else w for w in sorted(wanted))} deliveries; "
                "nothing changed"
            )
            return 0
        done = 0
        held = sendlog.live_statuses(key)
        for email in emails:
            if held.get(email.lower(), ("", ""))[0] == "elsewhere":
                say(f"{key}: {email} is being sent by another sender right now; nothing changed")
            elif sendlog.resolve(key, email, sent=args.sent):
                done += 1
                say(
                    f"{key}: {email} "
                    + ("marked as sent; it is never sent again" if args.sent else "released; the next run sends it")
                )
            else:
                say(f"{key}: {email} has no uncertain or failed delivery; nothing changed")
    finally:
        sendlog.close()
    return 0 if done == len(emails) else 1


def cmd_unsubscribe(args) -> int:
    import hmac
    import os

    from newsletter.send.sendlog import SendLog
    from newsletter.subscribers.lists import valid_email

    config = site_config(args)
    if not valid_email(args.email):
        raise UsageError(f"{args.email!r} is not a valid email address")
    group = list_arg(args.country, _gazetteer(config)) if args.country else "*"
    if args.token is not None:
        from newsletter.subscribers.tokens import unsubscribe_token

        secret = os.environ.get(config.newsletter_secret_env)
        if not secret or not args.country:
            raise UsageError(f"--token needs --country and the key in {config.newsletter_secret_env}")
        if not hmac.compare_digest(unsubscribe_token(secret.encode(), args.email, group), args.token):
            say(f"the token does not match {args.email} and {group}; nothing recorded")
            return 1
    from newsletter.subscribers.suppressions import Suppressions

    # no send lock: unsubscribing must work while a send runs; the store if there is one (never
    # created here), else the send log
    with state_errors(Path(config.state)):
        sendlog = SendLog(Path(config.state))
        suppressions = Suppressions(Path(config.state), sendlog=sendlog)
        try:
            added = suppressions.suppress(args.email, group, via="cli")
        finally:
            suppressions.close()
            sendlog.close()
    scope = "every newsletter" if group == "*" else f"the {group} newsletter"
    if not args.quiet:
        say(f"{args.email} {'unsubscribed from' if added else 'was already unsubscribed from'} {scope}")
    return 0


def cmd_backup(args) -> int:
    from newsletter.cli import db as dbcommand
    from newsletter.send.sendlog import LOG_NAME, MARKER_NAME
    from newsletter.state.db import database_url, pgdb
    from newsletter.subscribers.store import MARKER_NAME as STORE_MARKER
    from newsletter.subscribers.store import STORE_NAME

    config = site_config(args)
    state_dir = Path(config.state)
    if args.restore:
        if args.dest:
            raise UsageError("give either DIR (make a backup) or --restore DIR (put one back), not both")
        if (Path(args.restore) / dbcommand.DUMP_NAME).is_file():  # a PostgreSQL site's backup
            return dbcommand.restore(state_dir, Path(args.restore))
        return restore(state_dir, Path(args.restore))
    if not args.dest:
        raise UsageError("name the folder to back up into (newsletter backup DIR), or --restore DIR")
    dest = Path(args.dest)
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest}: not empty; back up into a new folder")
    import os
    import sqlite3
    import tempfile

    from newsletter.state.db import write_failure

    url = database_url(state_dir / MARKER_NAME, None)
    if pgdb.is_url(url):
        _open_log(config, read_only=True).close()  # refuses a lost or replaced database before anything is dumped
        copied = dbcommand.backup(state_dir, url, dest)
        say(f"copied {', '.join(copied)} to {dest}; to put them back: newsletter backup --restore {dest}")
        return 0
    sendlog = _open_log(config, read_only=True)
    store = open_store(state_dir, read_only=True)
    copied = [LOG_NAME, MARKER_NAME]
    work: Path | None = None
    try:
        # Copied into a hidden folder beside DIR, renamed to DIR at the end: a full disk or a
        # killed run leaves no partial backup that could later be restored.
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
        sendlog.backup(work / LOG_NAME)
        shutil.copy2(state_dir / MARKER_NAME, work / MARKER_NAME)
        if store is not None:
            store.backup(work / STORE_NAME)
            shutil.copy2(state_dir / STORE_MARKER, work / STORE_MARKER)
            copied += [STORE_NAME, STORE_MARKER]
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
        work = None
    except (OSError, sqlite3.OperationalError) as exc:
        failure = write_failure(dest, exc)
        if failure is None:
            raise StateError(f"cannot write the backup {dest}: {exc}; nothing was backed up") from None
        raise StateError(f"{failure}; nothing was backed up") from None
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        sendlog.close()
        if store is not None:
            store.close()
    say(f"copied {', '.join(copied)} to {dest}; to put them back: newsletter backup --restore {dest}")
    return 0


def restore(state_dir: Path, source: Path) -> int:
    """`backup --restore DIR`: check the copy, then — with nothing running (`Quiet`: no send, build,
    watch or serve) — replace each database with it. A database's `-wal` and `-shm` files go
    first: a stale write-ahead log beside another database file would be replayed into it."""
    import os
    import sqlite3

    from newsletter.send.sendlog import LOG_NAME, MARKER_NAME
    from newsletter.state.lock import Quiet
    from newsletter.subscribers.store import MARKER_NAME as STORE_MARKER
    from newsletter.subscribers.store import STORE_NAME

    pairs = [(n, m) for n, m in ((LOG_NAME, MARKER_NAME), (STORE_NAME, STORE_MARKER)) if (source / n).is_file()]
    if not pairs:
        raise UsageError(f"{source}: not a backup of a state folder (no {LOG_NAME} or {STORE_NAME} in it)")
    for name, marker in pairs:
        try:
            db = sqlite3.connect(f"file:{source / name}?mode=ro", uri=True)
            try:
                result = db.execute("PRAGMA quick_check").fetchone()
            finally:
                db.close()
        except sqlite3.Error as exc:
            result = (str(exc),)
        if not result or result[0] != "ok":
            raise UsageError(f"{source / name}: damaged ({result[0] if result else 'no answer'}); nothing was restored")
        if not (source / marker).is_file():
            raise UsageError(f"{source}: {marker} is missing beside {name}; nothing was restored")
    state_dir.mkdir(parents=True, exist_ok=True)
    with Quiet(state_dir):
        for name, marker in pairs:
            tmp = state_dir / f".{name}.restoring"
            shutil.copyfile(source / name, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            for suffix in ("-wal", "-shm", "-journal"):
                (state_dir / (name + suffix)).unlink(missing_ok=True)
            os.replace(tmp, state_dir / name)
            shutil.copyfile(source / marker, state_dir / marker)
    say(
        f"restored {', '.join(n for n, _ in pairs)} from {source} into {state_dir}; whatever happened after "
        "that backup is forgotten: deliveries since may be sent again, and unsubscribes, bounces and complaints "
        "since are lost (record them again with `newsletter unsubscribe` before the next send)"
    )
    return 0
