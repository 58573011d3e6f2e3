"""Command line: `newsletter build | watch | send | unsubscribe`.

Exit status: 0 clean, 1 when any input had errors (outputs still written) or delivery
failed, 2 for usage and configuration errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from newsletter import __version__
from newsletter.diagnostics import PER_FILE, report
from newsletter.errors import NewsletterError

log = logging.getLogger("newsletter")

DEFAULT_CONFIG = "newsletter.toml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, with our prefix
        self.print_usage(sys.stderr)
        self.exit(2, f"newsletter: error: {message}\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help=f"configuration file (default: ./{DEFAULT_CONFIG} if present)")
    p.add_argument("--state", metavar="DIR", help="state folder (default: .newsletter)")
    p.add_argument("-q", "--quiet", action="store_true", help="only print errors")
    p.add_argument("-v", "--verbose", action="store_true", help="print debugging detail")


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("bulletins", nargs="*", metavar="BULLETINS", help="bulletin folders or files (default: from config, else ./bulletins)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: feeds)")
    p.add_argument("--base-url", metavar="URL", help="absolute URL where the output folder is published")
    p.add_argument("--templates", metavar="DIR", help="folder of templates that override the bundled ones")
    _common(p)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newsletter", description="News bulletins in; per-country feeds, pages and newsletters out.")
    parser.add_argument("--version", action="version", version=f"newsletter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build = sub.add_parser("build", help="build feeds, pages and newsletters once")
    _site_options(build)
    build.add_argument("--strict", action="store_true", help="stop at the first bulletin error and write nothing")
    build.add_argument("--full", action="store_true",
                       help="rebuild the catalog and check every output on disk, even after a small change")

    watch = sub.add_parser("watch", help="build, then keep the output current as bulletins change")
    _site_options(watch)
    watch.add_argument("--polling", action="store_true", help="poll for changes (network file systems give no events)")
    watch.add_argument("--once", action="store_true", help="one incremental build from the saved state, then exit (for cron)")
    watch.add_argument("--debounce", type=int, metavar="MS", help="quiet time before a rebuild (default: watch.debounce_ms, 250)")

    send = sub.add_parser("send", help="send one newsletter issue to its subscribers over SMTP")
    _site_options(send)
    send.add_argument("--country", required=True, metavar="CC", help="country code (or 'all') of the issue to send")
    send.add_argument("--issue", default="latest", metavar="ID", help="period id such as 2021-W34, or 'latest' (default)")
    send.add_argument("--subscribers", metavar="FILE", help="subscriber CSV (default: newsletter.subscribers from config)")
    send.add_argument("--dry-run", action="store_true", help="write each message to the outbox folder instead of sending")
    send.add_argument("--outbox", metavar="DIR", help="outbox folder for --dry-run (default: STATE/outbox)")
    send.add_argument("--rate", type=float, metavar="N", help="at most N messages per second")

    unsub = sub.add_parser("unsubscribe", help="record that an address must never be sent newsletters again")
    unsub.add_argument("email")
    unsub.add_argument("--country", metavar="CC", help="only this country's newsletter (default: all of them)")
    unsub.add_argument("--token", help="the token of a one-click unsubscribe link; refused unless it matches "
                                       "(for a web endpoint that hands requests to this command)")
    _common(unsub)
    return parser


def _config(args):
    from newsletter.config import load_config

    path = args.config
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    overrides = {"base_url": getattr(args, "base_url", None), "out": getattr(args, "out", None), "state": args.state}
    if args.command == "unsubscribe" and not overrides["base_url"]:
        overrides["base_url"] = "http://localhost/"  # not used by this command
    # Bulletin folders named in a config file are relative to that file.
    base_dir = Path(path).parent if path and not getattr(args, "bulletins", None) else None
    return load_config(path, overrides, base_dir=base_dir)


def _setup_logging(args) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    fmt = "%(asctime)s %(message)s" if args.command == "watch" else "%(message)s"
    logging.basicConfig(level=level, format=fmt, datefmt="%Y-%m-%d %H:%M:%S", stream=sys.stderr)
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    logging.getLogger("markdown_it").setLevel(logging.WARNING)  # its debug output traces the parser


def _progress():
    if not sys.stderr.isatty():
        return None
    import time

    last = [0.0]

    def show(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.1 or done == total:
            last[0] = now
            sys.stderr.write(f"\r{stage} {done}/{total} ({100 * done // max(total, 1)}%)\x1b[K")
            if done == total:
                sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    return show


def cmd_build(args) -> int:
    import gc

    from newsletter.build import build_site, check_layout
    from newsletter.statelock import StateLock

    gc.disable()  # a one-shot process: a collection over every entry at the end would only cost time

    config = _config(args)
    inputs = args.bulletins or config.bulletins
    hub = config.watch_websub_hub
    check_layout(inputs, Path(config.out), Path(config.state))  # before the lock creates the state folder
    with StateLock(Path(config.state)):
        result = build_site(config, inputs, Path(config.out), Path(config.state), templates_dir=args.templates,
                            strict=args.strict, progress=_progress(), track_changes=bool(hub), full=args.full)
    report(result.diagnostics, limit=None if args.verbose else PER_FILE)
    if hub:
        announce(hub, Path(config.state), result.stats.changed_paths or [], config.base_url)
    if not args.quiet:
        print(f"newsletter: {result.summary()}", file=sys.stderr)
    return 1 if result.errors else 0


def announce(hub: str, state_dir: Path, changed_paths: list[str], base_url: str, wait: float = 10.0) -> None:
    """Tell the WebSub hub which feeds changed; what fails is kept for the next run."""
    from newsletter.links import Links
    from newsletter.websub import Publisher, changed_feed_urls

    publisher = Publisher(hub, state_dir)  # also retries what earlier runs could not send
    publisher.publish(changed_feed_urls(changed_paths, Links(base_url)))
    if not publisher.wait_idle(wait):
        log.warning("WebSub hub %s did not answer; the pings will be sent again by the next run", hub)
    publisher.close()


def cmd_watch(args) -> int:
    from newsletter.build import check_layout
    from newsletter.statelock import StateLock
    from newsletter.watch.daemon import WatchDaemon, WatchOptions

    config = _config(args)
    inputs = args.bulletins or config.bulletins
    check_layout(inputs, Path(config.out), Path(config.state))
    config_path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    debounce = (args.debounce if args.debounce is not None else config.watch_debounce_ms) / 1000.0
    options = WatchOptions(inputs=inputs, out_dir=Path(config.out), state_dir=Path(config.state),
                           templates_dir=args.templates, config_path=config_path, polling=args.polling,
                           debounce=debounce, rescan=config.watch_rescan_seconds)
    with StateLock(Path(config.state)):
        return WatchDaemon(options, lambda: _config(args)).run(once=args.once)


def cmd_send(args) -> int:
    from newsletter.build import Builder, _inside
    from newsletter.errors import ConfigError, UsageError
    from newsletter.newsletters.issue import issues_for, newsletter_groups
    from newsletter.send.deliver import Delivery
    from newsletter.send.sendlog import SendLog
    from newsletter.send.smtp import Mailer, SMTPSettings
    from newsletter.send.subscribers import load_subscribers

    config = _config(args)
    if args.rate is not None and args.rate < 0:
        raise ConfigError(["--rate: must not be negative"])
    out_dir, state_dir = Path(config.out), Path(config.state)
    subscribers_path = Path(args.subscribers or config.newsletter_subscribers)
    for private, what in ((state_dir, "state folder"), (subscribers_path, "subscriber list"),
                          (Path(args.outbox) if args.outbox else state_dir / "outbox", "outbox")):
        if _inside(private, out_dir):
            raise UsageError(f"the {what} {private} is inside the output folder {out_dir}; it holds addresses and must never be published")
    builder = Builder(config, templates_dir=args.templates, state_dir=state_dir)
    entries, diagnostics, _ = builder.read(args.bulletins or config.bulletins, skip=[out_dir, state_dir])
    catalog = builder.catalog(entries)
    group = args.country.lower()
    if group not in newsletter_groups(catalog):
        known = " ".join(newsletter_groups(catalog))
        raise UsageError(f"--country {args.country}: no newsletter for it (issues exist for: {known})")
    issues = issues_for(catalog.groups[group], group, config.newsletter_period)
    if args.issue == "latest":
        issue = issues[0]
    else:
        matching = [i for i in issues if i.period_id == args.issue]
        if not matching:
            raise UsageError(f"--issue {args.issue}: no such issue for {group}; the latest are "
                             + ", ".join(i.period_id for i in issues[:5]))
        issue = matching[0]
    subscribers, sub_diags = load_subscribers(subscribers_path, builder.gazetteer)
    report(sub_diags)
    if any(d.severity == "error" and d.line == 0 for d in sub_diags):
        return 2
    secret_text = os.environ.get(config.newsletter_secret_env)
    if config.newsletter_unsubscribe_url and not secret_text and not args.dry_run:
        raise ConfigError([f"newsletter.unsubscribe_url is set, so unsubscribe links need a key: set the "
                           f"environment variable {config.newsletter_secret_env}"])
    password = os.environ.get(config.smtp_password_env)
    if config.smtp_username and password is None and not args.dry_run:
        raise ConfigError([f"smtp.username is set: put the password in the environment variable {config.smtp_password_env}"])
    rendered = builder.issue_renderer.render(issue)
    with SendLog(state_dir) as sendlog:
        delivery = Delivery(
            renderer=builder.issue_renderer, rendered=rendered, sendlog=sendlog,
            secret=secret_text.encode() if secret_text else None,
            mailer=None if args.dry_run else Mailer(SMTPSettings.from_config(config, password)),
            outbox=(Path(args.outbox) if args.outbox else state_dir / "outbox") if args.dry_run else None,
            rate=config.smtp_rate if args.rate is None else args.rate,
            max_attempts=config.smtp_max_attempts, retry_delay=config.smtp_retry_delay, progress=_progress())
        summary = delivery.run(subscribers)
    for line in summary.failures:
        print(f"newsletter: {line}", file=sys.stderr)
    if not args.quiet:
        print(f"newsletter: {rendered.subject} ({issue.key}): {summary.line(args.dry_run)}", file=sys.stderr)
    return 0 if summary.ok else 1


def cmd_unsubscribe(args) -> int:
    from newsletter.errors import UsageError
    from newsletter.send.sendlog import SendLog
    from newsletter.send.subscribers import valid_email

    config = _config(args)
    if not valid_email(args.email):
        raise UsageError(f"{args.email!r} is not a valid email address")
    group = (args.country or "*").lower()
    if args.token is not None:
        import hmac

        from newsletter.newsletters.issue import unsubscribe_token

        secret = os.environ.get(config.newsletter_secret_env)
        if not secret or not args.country:
            raise UsageError(f"--token needs --country and the key in {config.newsletter_secret_env}")
        if not hmac.compare_digest(unsubscribe_token(secret.encode(), args.email, group), args.token):
            print(f"newsletter: the token does not match {args.email} and {group}; nothing recorded", file=sys.stderr)
            return 1
    sendlog = SendLog(Path(config.state))  # no send lock: unsubscribing must work while a send runs
    try:
        added = sendlog.suppress(args.email, group)
    finally:
        sendlog.db.close()
    scope = "every newsletter" if group == "*" else f"the {group} newsletter"
    print(f"newsletter: {args.email} {'unsubscribed from' if added else 'was already unsubscribed from'} {scope}", file=sys.stderr)
    return 0


COMMANDS = {"build": cmd_build, "watch": cmd_watch, "send": cmd_send, "unsubscribe": cmd_unsubscribe}


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    _setup_logging(args)
    try:
        return COMMANDS[args.command](args)
    except NewsletterError as exc:
        print(f"newsletter: {exc}" if "\n" not in str(exc) else str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsletter: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run() -> None:
    """Console entry point: `main`, then a fast exit.

    Every file has been written and closed by then; skipping the interpreter's teardown
    (freeing hundreds of thousands of objects one by one) saves about a second on large
    sites, for `build` and for a daemon asked to stop.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
