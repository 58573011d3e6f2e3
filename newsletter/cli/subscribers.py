"""`newsletter subscribers import | export | list | add | remove | history`, and `newsletter bounces`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.cli.args import site_config
from newsletter.errors import UsageError

if TYPE_CHECKING:
    from newsletter.config import Config


def say(line: str) -> None:
    print(f"newsletter: {line}", file=sys.stderr)


def _store(config: Config, *, create: bool):
    """The subscriber store; None when the state folder has none and `create` is False
    (only `import` and `add`, and `serve`, create it: see `newsletter.subscribers.suppressions`).
    A new store takes over the send log's suppressions as it opens, so no import can undo them."""
    from newsletter.subscribers.store import SubscriberStore

    state_dir = Path(config.state)
    if not create and not SubscriberStore.exists(state_dir):
        return None
    return SubscriberStore(state_dir)


def _gazetteer(config: Config):
    from newsletter.content.gazetteer import load_gazetteer

    return load_gazetteer().with_overrides(config.aliases, config.exclusions)


def _lists(values: list[str], gazetteer) -> set[str]:
    from newsletter.cli.send import list_arg

    groups = set()
    for value in values:
        for item in value.replace(",", " ").split():
            groups.add(list_arg(item, gazetteer))
    return groups


def cmd_subscribers(args) -> int:
    config = site_config(args)
    handler = {
        "import": _import,
        "export": _export,
        "list": _list,
        "add": _add,
        "remove": _remove,
        "history": _history,
    }[args.action]
    with _write_errors(Path(config.state)):
        store = _store(config, create=args.action in ("import", "add"))
        if store is None:
            return _no_store(args, config)
        try:
            return handler(args, config, store)
        finally:
            store.close()


@contextmanager
def _write_errors(state_dir: Path) -> Iterator[None]:
    """A full disk or a read-only state folder is one line (exit 2), not a traceback."""
    import sqlite3

    from newsletter.state.db import write_failure

    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        failure = write_failure(state_dir / "subscribers.sqlite3", exc)
        if failure is None:
            raise
        raise failure from None


def _no_store(args, config: Config) -> int:
    """`list`, `export`, `remove`, `history` in a state folder without a store: nothing to show,
    and nothing created (a store that holds nobody would stop the next `send` from the CSV)."""
    if args.action == "export":
        from newsletter.subscribers.lists import export_csv

        text = export_csv([])
        if args.file and args.file != "-":
            Path(args.file).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    say(
        f"{config.state}: no subscriber store (`newsletter subscribers import FILE` creates one)"
        + ("; 0 addresses" if args.action == "list" else "")
    )
    return 0 if args.action == "list" else 1


def _import(args, config: Config, store) -> int:
    from newsletter.diagnostics import report_list
    from newsletter.subscribers.lists import load_subscribers

    subscribers, diags = load_subscribers(Path(args.file), _gazetteer(config))
    if any(d.severity == "error" for d in report_list(diags)):
        return 2
    result = store.import_subscribers(subscribers, via="csv", resubscribe=args.resubscribe)
    say(
        f"{args.file}: {result.added} added, {result.updated} updated, {result.unchanged} unchanged"
        + (f", {len(result.refused)} kept off lists they left (--resubscribe overrides)" if result.refused else "")
        + (f", {result.overridden} put back on lists they had left (--resubscribe)" if result.overridden else "")
    )
    for email in result.refused[:20]:
        say(f"  {email}: unsubscribed, bounced or complained earlier; not re-subscribed")
    return 1 if any(d.severity == "error" for d in diags) else 0


def _export(args, config: Config, store) -> int:
    from newsletter.subscribers.lists import export_csv

    text = export_csv(store.recipients())
    if args.file and args.file != "-":
        Path(args.file).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _list(args, config: Config, store) -> int:
    group = _lists([args.country], _gazetteer(config)).pop() if args.country else None
    rows = store.rows(group)
    default = config.newsletter_period
    for email, name, left, lists in rows:
        shown = " ".join(f"{g}:{s}" for g, s in sorted(lists.items()))
        frequency = store.frequency(email) or default  # what the digests follow (the site's default if unset)
        print(f"{email:<40} {left or _standing(lists):<12} {frequency:<8} {shown}" + (f"  ({name})" if name else ""))
    say(f"{len(rows)} address{'es' if len(rows) != 1 else ''}" + (f" on the {group} list" if group else ""))
    return 0


def _standing(lists: dict[str, str]) -> str:
    """An address that has not left: subscribed if any list is active, else pending (it has not
    confirmed yet), else unsubscribed (every list left one by one)."""
    states = set(lists.values())
    return "subscribed" if "active" in states else "pending" if "pending" in states else "unsubscribed"


def _add(args, config: Config, store) -> int:
    from newsletter.subscribers.lists import Subscriber, valid_email

    if not valid_email(args.email):
        raise UsageError(f"{args.email!r} is not a valid email address")
    groups = _lists(args.country, _gazetteer(config))
    outcome = store.add(
        Subscriber(args.email, args.name or "", frozenset(groups), frequency=getattr(args, "frequency", None) or ""),
        via="cli",
        resubscribe=args.resubscribe,
    )
    if outcome == "refused":
        say(
            f"{args.email} left those lists (unsubscribed, bounced or complained); not added. "
            "--resubscribe overrides, if they asked you to"
        )
        return 1
    say(f"{args.email}: {outcome} ({' '.join(sorted(groups))})")
    return 0


def _remove(args, config: Config, store) -> int:
    if store.remove(args.email):
        say(f"{args.email}: removed, with its history")
        return 0
    say(f"{args.email}: not in the store")
    return 1


def _history(args, config: Config, store) -> int:
    events = store.history(args.email)
    for at, group, status, via, detail in events:
        print(f"{at}  {group:<9} {status:<13} {via:<5} {detail}".rstrip())
    if not events:
        say(f"{args.email}: not in the store")
        return 1
    return 0


def cmd_bounces(args) -> int:
    """Read a Maildir or mbox: bounces, complaints, mailto unsubscribes (see `bounces`)."""
    import os

    from newsletter.send.sendlog import SendLog
    from newsletter.subscribers.bounces import process_mailbox

    config = site_config(args)
    secret = os.environ.get(config.newsletter_secret_env)
    if not secret:
        raise UsageError(
            f"set {config.newsletter_secret_env}: bounce addresses and unsubscribe requests are signed with it"
        )
    store = _store(config, create=False)  # without one, suppressions go to the send log
    sendlog = SendLog(Path(config.state))
    try:
        report = process_mailbox(Path(args.mailbox), store, sendlog, secret.encode(), config)
    finally:
        sendlog.close()
        if store is not None:
            store.close()
    for line in report.lines:
        say(line)
    say(report.summary())
    return 0
