"""Command line: `newsletter init | build | watch | send | status | resolve | unsubscribe | backup | …`.

Exit status: 0 clean, 1 when any input had errors (outputs still written) or delivery
failed, 2 for usage and configuration errors.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from newsletter import __version__
from newsletter.cli.args import DEFAULT_CONFIG, PhaseClock, RebuildClock, help_defaults, site_config, terminal_progress
from newsletter.diagnostics import PER_FILE, report
from newsletter.errors import InputError, NewsletterError, UsageError, environment_error

log = logging.getLogger("newsletter")


class _Parser(argparse.ArgumentParser):
    _checking = False

    def error(self, message: str):  # argparse exits 2 on usage errors; keep that, with our prefix on every line
        for line in self.format_usage().splitlines():
            print(f"newsletter: {line}" if line.strip() else "newsletter:", file=sys.stderr)
        self.exit(2, f"newsletter: error: {message}\n")

    def add_argument(self, *args, **kwargs):
        self._checking = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    def _get_formatter(self):
        # argparse makes a help formatter for each argument added, only to check its metavar; one
        # given a width checks it alike without asking the terminal's (an import and a system call)
        if self._checking:
            return argparse.HelpFormatter(self.prog, width=80)
        return self.formatter_class(prog=self.prog)  # as argparse makes it


class _CommandParser(_Parser):
    """A subcommand's parser: an argument it does not know is its error, shown with its usage
    (argparse hands unknown arguments back to the main parser, which shows its own)."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error("unrecognized arguments: " + " ".join(extras))
        return namespace, extras


class _Unparsed(Exception):
    """What a parser made for one command (`make_parser(only=…)`) raises where the whole one
    would say something: the whole one parses the arguments again and says it."""


class _OneParser(_Parser):
    def error(self, message: str):
        raise _Unparsed(message)


class _OneCommandParser(_CommandParser):
    def error(self, message: str):
        raise _Unparsed(message)


class _Skipped:
    """The parser of a command that a parser made for another (`make_parser(only=…)`) does not
    need: it takes the arguments, groups and subcommands it is given, and keeps none."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        return None

    def add_mutually_exclusive_group(self, **kwargs: Any) -> _Skipped:
        return self

    def add_subparsers(self, **kwargs: Any) -> _Skipped:
        return self

    def add_parser(self, name: str, **kwargs: Any) -> _Skipped:
        return self


class _Only:
    """The subcommands of a parser made for command `only`: the others' parsers are skipped."""

    def __init__(self, sub: Any, only: str) -> None:
        self.sub, self.only = sub, only

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        return self.sub.add_parser(name, **kwargs) if name == self.only else _Skipped()


_IN_EFFECT: dict[str, str] = {}
"""What `--help` shows as each option's default: the configuration's value when there is one
(`help_defaults`), else the built-in default."""


def _default(key: str, builtin: str) -> str:
    return _IN_EFFECT.get(key, builtin)


def _common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    """--config, --state, -q, -v: on the main parser (`newsletter -q build`) and on every
    subcommand (`newsletter build -q`); a subcommand's own default never hides the main one's."""
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    p.add_argument(
        "--config",
        metavar="FILE",
        default=default(None),
        help=f"configuration file (default: ./{DEFAULT_CONFIG} if present)",
    )
    p.add_argument(
        "--state",
        metavar="DIR",
        default=default(None),
        help=f"state folder (default: {_default('state', '.newsletter')})",
    )
    p.add_argument("-q", "--quiet", action="store_true", default=default(False), help="only print errors")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="print the build's plan, the time of each phase and debugging detail",
    )


def _site_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "bulletins",
        nargs="*",
        metavar="BULLETINS",
        help=f"bulletin folders or files (default: {_default('bulletins', 'bulletins')})",
    )
    p.add_argument("--out", metavar="DIR", help=f"output folder (default: {_default('out', 'feeds')})")
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="absolute URL where the output folder is published"
        + (f" (default: {_IN_EFFECT['base_url']})" if _IN_EFFECT.get("base_url") else ""),
    )
    p.add_argument("--templates", metavar="DIR", help="folder of templates that override the bundled ones")
    _common(p)


def make_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only`, a parser of that command alone, for `_parse`
    (argparse makes twenty parsers' groups and help texts at once, a tenth of a build's start)."""
    top, command = (_Parser, _CommandParser) if only is None else (_OneParser, _OneCommandParser)
    parser = top(prog="newsletter", description="News bulletins in; per-country feeds, pages and newsletters out.")
    parser.add_argument("--version", action="version", version=f"newsletter {__version__}")
    _common(parser, top=True)
    sub: Any = parser.add_subparsers(dest="command", required=True, parser_class=command)
    if only is not None:
        sub = _Only(sub, only)

    init = sub.add_parser("init", help="start a site: a configuration, a bulletin folder and a sample bulletin")
    init.add_argument(
        "dir", nargs="?", default=".", metavar="DIR", help="the site's folder (default: here; created if needed)"
    )
    init.add_argument(
        "--base-url", metavar="URL", help="where the site will be published (default: http://127.0.0.1:8000/)"
    )

    build = sub.add_parser("build", help="build feeds, pages and newsletters once")
    _site_options(build)
    build.add_argument("--strict", action="store_true", help="stop at the first bulletin error and write nothing")
    build.add_argument(
        "--full",
        action="store_true",
        help="rebuild the catalog and check every output on disk, even after a small change",
    )
    build.add_argument(
        "--explain", action="store_true", help="print which way the build would go and why, and write nothing"
    )

    watch = sub.add_parser("watch", help="build, then keep the output current as bulletins change")
    _site_options(watch)
    watch.add_argument("--polling", action="store_true", help="poll for changes (network file systems give no events)")
    watch.add_argument(
        "--once", action="store_true", help="one incremental build from the saved state, then exit (for cron)"
    )
    watch.add_argument(
        "--debounce",
        type=int,
        metavar="MS",
        help=f"quiet time before a rebuild (default: watch.debounce_ms, {_default('watch.debounce_ms', '250')})",
    )
    watch.add_argument(
        "--send-due",
        action="store_true",
        help="after each rebuild, send the issues that have fallen due (as `send --due`)",
    )

    send = sub.add_parser("send", help="send newsletter issues to their subscribers over SMTP")
    _site_options(send)
    send.add_argument(
        "--country",
        action="append",
        metavar="CC",
        help="the list: a country code or name, 'all' or 'regional' (with --due: repeat to limit the run)",
    )
    send.add_argument(
        "--issue", default="latest", metavar="ID", help="period id such as 2021-W34, or 'latest' (default)"
    )
    send.add_argument(
        "--due", action="store_true", help="send every finished issue each list still owes (for a timer or cron job)"
    )
    send.add_argument("--force", action="store_true", help="send an issue whose period has not ended yet")
    send.add_argument(
        "--correction",
        action="store_true",
        help="send a changed issue again, marked as a correction, to those who got the earlier version",
    )
    send.add_argument("--now", metavar="TIME", help=argparse.SUPPRESS)  # tests: the clock the schedule reads
    send.add_argument(
        "--subscribers",
        metavar="FILE",
        help="subscriber CSV (default: newsletter.subscribers, "
        f"{_default('newsletter.subscribers', 'subscribers.csv')})",
    )
    send.add_argument(
        "--dry-run", action="store_true", help="write each message to the outbox folder instead of sending"
    )
    send.add_argument("--outbox", metavar="DIR", help="outbox folder for --dry-run (default: STATE/outbox)")
    send.add_argument(
        "--rate",
        type=float,
        metavar="N",
        help=f"at most N messages per second (default: smtp.rate, {_default('smtp.rate', '0.0')}: no limit)",
    )
    send.add_argument(
        "--test",
        metavar="ADDRESS",
        help="mail one issue (--country CC) or digest (of the --country "
        "lists, default every list) to ADDRESS only, without recording it as a delivery",
    )

    status = sub.add_parser("status", help="what was sent: per issue, or per recipient of one issue")
    status.add_argument("--country", metavar="CC", help="only this list ('digest': the digests)")
    status.add_argument("--issue", metavar="ID", help="one issue (period id): every recipient and what became of it")
    status.add_argument(
        "--subscribers", metavar="FILE", help="subscriber CSV (default: newsletter.subscribers from config)"
    )
    _common(status)

    resolve = sub.add_parser("resolve", help="settle uncertain (or failed) deliveries of one issue")
    resolve.add_argument("emails", nargs="*", metavar="EMAIL", help="the recipients to settle")
    resolve.add_argument("--country", required=True, metavar="CC", help="the list ('digest': a digest)")
    resolve.add_argument("--issue", required=True, metavar="ID", help="the issue (period id)")
    resolve.add_argument("--all-uncertain", action="store_true", help="every uncertain recipient of the issue")
    resolve.add_argument(
        "--all-failed",
        action="store_true",
        help="every failed recipient of the issue (e.g. with --resend after fixing what refused them)",
    )
    verdict = resolve.add_mutually_exclusive_group(required=True)
    verdict.add_argument(
        "--sent", action="store_true", help="they got it (e.g. the server's log says so): never resend"
    )
    verdict.add_argument("--resend", action="store_true", help="they did not: the next run sends it to them")
    _common(resolve)

    unsub = sub.add_parser("unsubscribe", help="record that an address must never be sent newsletters again")
    unsub.add_argument("email", metavar="EMAIL", help="the address to unsubscribe")
    unsub.add_argument(
        "--country",
        metavar="CC",
        help="only this list: a country code or name, 'all', 'regional' (default: every list)",
    )
    unsub.add_argument(
        "--token",
        help="the token of a one-click unsubscribe link; refused unless it matches "
        "(for a web endpoint that hands requests to this command)",
    )
    _common(unsub)

    subs = sub.add_parser("subscribers", help="the subscriber store: import, export, list, add, remove, history")
    actions = subs.add_subparsers(dest="action", required=True, parser_class=command)
    imp = actions.add_parser("import", help="add or update subscribers from a CSV (email,countries,name); idempotent")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument(
        "--resubscribe",
        action="store_true",
        help="also put back addresses that unsubscribed, bounced or complained (says how many)",
    )
    _common(imp)
    exp = actions.add_parser("export", help="write everyone with an active list as CSV")
    exp.add_argument("file", nargs="?", metavar="FILE", help="default: standard output")
    _common(exp)
    lst = actions.add_parser("list", help="every address with the status of each of its lists")
    lst.add_argument("--country", metavar="CC", help="only this list")
    _common(lst)
    add = actions.add_parser("add", help="add an address, active at once (the operator vouches: no opt-in)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument(
        "--country",
        action="append",
        required=True,
        metavar="CC",
        help="a list: country code or name, 'all', 'regional', '*' (repeat, or 'mx pa')",
    )
    add.add_argument("--name", help="the subscriber's name")
    add.add_argument(
        "--frequency",
        choices=["daily", "weekly", "monthly"],
        help="how often they get their digest (default: the site's newsletter.period)",
    )
    add.add_argument("--resubscribe", action="store_true", help="even if the address left those lists")
    _common(add)
    rem = actions.add_parser("remove", help="forget an address entirely, with its history")
    rem.add_argument("email", metavar="EMAIL")
    _common(rem)
    his = actions.add_parser("history", help="every change of an address: when, which list, how")
    his.add_argument("email", metavar="EMAIL")
    _common(his)

    bounces = sub.add_parser("bounces", help="process a Maildir or mbox: bounces, complaints, mailto unsubscribes")
    bounces.add_argument("mailbox", metavar="MAILBOX", help="a Maildir folder or an mbox file")
    _common(bounces)

    serve = sub.add_parser("serve", help="run the sign-up, confirmation, unsubscribe and preferences web app")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    serve.add_argument("--templates", metavar="DIR", help="folder of templates that override the bundled ones")
    serve.add_argument("--base-url", metavar="URL", help="absolute URL where the static site is published")
    _common(serve)

    tag = sub.add_parser("tag", help="show which words of a text name which country, and why near misses do not")
    tag.add_argument(
        "text",
        nargs="*",
        metavar="TEXT",
        help="a text (or --file); several quoted TEXTs get a verdict each, words without quotes are one text",
    )
    tag.add_argument(
        "--file", metavar="FILE", help="a bulletin: every entry's countries, with the words that named them"
    )
    tag.add_argument(
        "--language",
        metavar="LANG",
        help="the language of a text whose own words do not say "
        "(default: as the build does, the entry's Language: line, its clear words or its date line, else the site's)",
    )
    _common(tag)

    backup = sub.add_parser(
        "backup",
        help="copy the state folder's send log and subscriber store consistently, even "
        "while a send runs; --restore DIR puts a copy back",
    )
    backup.add_argument("dest", metavar="DIR", nargs="?", help="folder to write the copy into (created if needed)")
    backup.add_argument(
        "--restore",
        metavar="DIR",
        help="replace the state folder's databases with the copy in DIR "
        "(refused while a send, build, watch or serve runs)",
    )
    _common(backup)

    db = sub.add_parser("db", help="the store's and send log's database: migrate --to postgresql://… copies them there")
    db_actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_migrate = db_actions.add_parser(
        "migrate", help="copy the SQLite store and send log into PostgreSQL, check the counts, then use it"
    )
    db_migrate.add_argument("--to", required=True, metavar="URL", help="postgresql://USER@HOST:PORT/DB (empty)")
    _common(db_migrate)
    _common(db)
    return parser


class _Prefixed(logging.Formatter):
    """Every line of every message starts with `newsletter:` (a message may have several), but
    for a note about a bulletin's line (logged with `extra=AT_LINE`): `path:line: …`, as
    bulletin problems are printed, for editors to jump to."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "at_line", False):
            return record.getMessage()
        return "\n".join(f"newsletter: {line}" for line in super().format(record).splitlines())


def _setup_logging(args) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    fmt = "%(asctime)s %(message)s" if args.command == "watch" else "%(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Prefixed(fmt, datefmt="%Y-%m-%d %H:%M:%S"))
    logging.basicConfig(level=level, handlers=[handler])
    if args.command in ("build", "watch"):  # `-v` prints each build's plan once, at its end (not as it is made)
        logging.getLogger("newsletter.builder.plan").propagate = False
        logging.getLogger("newsletter.builder.batches").setLevel(max(level, logging.INFO))
    logging.getLogger("watchdog").setLevel(logging.WARNING)  # its debug output is every raw inotify event
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
    logging.getLogger("markdown_it").setLevel(logging.WARNING)  # its debug output traces the parser


def cmd_build(args) -> int:
    import gc

    # A one-shot process: a collection over every entry at the end would only cost time, and
    # during the imports below (some ten thousand new objects, no garbage) it costs ~8 ms.
    gc.disable()
    from newsletter.builder import workers
    from newsletter.builder.pipeline import Builder, build_site, check_layout, explain
    from newsletter.state.lock import StateLock

    config = site_config(args)
    inputs = args.bulletins or config.bulletins
    hub = config.watch_websub_hub
    check_layout(inputs, Path(config.out), Path(config.state), config)  # before the lock creates the state folder
    if args.explain:
        plan = explain(
            config,
            inputs,
            Path(config.out),
            Path(config.state),
            templates_dir=args.templates,
            strict=args.strict,
            full=args.full,
        )
        print("\n".join(plan.lines()))
        return 0
    clock = PhaseClock() if args.verbose else None
    if clock is not None:
        logging.getLogger("newsletter.builder.plan").addHandler(clock)
    with StateLock(Path(config.state)):
        if clock is not None:
            clock.mark("waiting for the state lock")
        # The Builder is made here, not inside build_site, so that it lives until the process's
        # fast exit (`run`): freeing its caches object by object would cost ~10 ms at 1k entries.
        builder = Builder(config, templates_dir=args.templates, state_dir=Path(config.state))
        workers.EXITING = _EXIT_FAST  # `run`'s os._exit follows: nothing needs freeing
        result = build_site(
            config,
            inputs,
            Path(config.out),
            Path(config.state),
            builder=builder,
            templates_dir=args.templates,
            strict=args.strict,
            progress=terminal_progress(),
            track_changes=bool(hub),
            full=args.full,
        )
        if clock is not None:
            clock.mark(f"{clock.way or 'the build'} (reading, rendering, writing and saving the state)")
    shown = [d for d in result.diagnostics if d.severity == "error"] if args.quiet else result.diagnostics
    report(shown, limit=None if args.verbose else PER_FILE)  # -q leaves only errors
    if clock is not None:
        logging.getLogger("newsletter.builder.plan").removeHandler(clock)
        for line in result.plan.lines():
            print(f"newsletter: plan: {line}", file=sys.stderr)
        for line in clock.lines():
            print(f"newsletter: time: {line}", file=sys.stderr)
    if hub:
        announce(hub, Path(config.state), result.stats.changed_paths or [], config.base_url)
    if not args.quiet:
        print(f"newsletter: {result.summary()}", file=sys.stderr)
        from newsletter.builder.plan import left_out_words

        if left_out := left_out_words(result.plan.left_out, result.stats.removed):  # `build FILE`
            print(f"newsletter: warning: {left_out}", file=sys.stderr)
        from newsletter.cli.send import say_once_without_public_url

        say_once_without_public_url(config)
    workers.park((builder, result))  # `run` exits without freeing them (~4 ms at 1k entries)
    workers.reap_parked()
    return 1 if result.errors else 0


def announce(hub: str, state_dir: Path, changed_paths: list[str], base_url: str, wait: float = 10.0) -> None:
    """Tell the WebSub hub which feeds changed; what fails is kept for the next run."""
    from newsletter.output.websub import Publisher, changed_feed_urls
    from newsletter.render.links import Links

    publisher = Publisher(hub, state_dir)  # also retries what earlier runs could not send
    publisher.publish(changed_feed_urls(changed_paths, Links(base_url)))
    if not publisher.wait_idle(wait):
        log.warning("WebSub hub %s did not answer; the pings will be sent again by the next run", hub)
    publisher.close()


def cmd_watch(args) -> int:
    from newsletter.builder.pipeline import check_layout
    from newsletter.state.lock import StateLock
    from newsletter.watch.daemon import WatchDaemon, WatchOptions

    config = site_config(args)
    inputs = args.bulletins or config.bulletins
    check_layout(inputs, Path(config.out), Path(config.state), config)
    config_path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    debounce = (args.debounce if args.debounce is not None else config.watch_debounce_ms) / 1000.0
    options = WatchOptions(
        inputs=inputs,
        out_dir=Path(config.out),
        state_dir=Path(config.state),
        templates_dir=args.templates,
        config_path=config_path,
        polling=args.polling,
        debounce=debounce,
        rescan=config.watch_rescan_seconds,
        after_build=_send_due_after_build() if args.send_due else None,
    )
    clock = RebuildClock() if args.verbose else None
    if clock is not None:
        logging.getLogger("newsletter.builder.plan").addHandler(clock)
        options.on_result = clock.said
    with StateLock(Path(config.state)):
        return WatchDaemon(options, lambda: site_config(args)).run(once=args.once)


def cmd_tag(args) -> int:
    from newsletter.content.gazetteer import load_gazetteer
    from newsletter.content.tagger import Tagger

    config = site_config(args)
    if args.language and args.language.split("-")[0].lower() not in TAG_LANGUAGES:
        raise UsageError(f"--language {args.language!r} is not one of {', '.join(TAG_LANGUAGES)}")
    tagger = Tagger(load_gazetteer().with_overrides(config.aliases, config.exclusions))
    failed = False
    if args.file:
        from newsletter.content.parse import parse_bulletin

        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise UsageError(f"{args.file}: {exc.strerror or exc}") from None
        result = parse_bulletin(args.file, data, tagger.resolve)
        report(result.diagnostics, limit=None)  # the build's lines: its entries with errors are not shown
        failed = result.has_errors
        texts = [(f"{args.file}:{e.line}: {e.title}", e.title, e.body, e.language, e.countries) for e in result.entries]
    elif args.text:  # each quoted TEXT its own verdict; words typed without quotes are one text
        several = len(args.text) > 1 and any(len(text.split()) > 1 for text in args.text)
        texts = (
            [(text, text, "", None, None) for text in args.text]
            if several
            else [("", " ".join(args.text), "", None, None)]
        )
    else:
        raise UsageError("give a text, or --file BULLETIN")
    for heading, title, body, language, fixed in texts:
        if heading:
            print(heading)
        if fixed is not None:
            print(f"  Countries: line → {' '.join(fixed) or 'regional'} (the text is not searched)")
            continue
        codes, why = tagger.explain_entry(title, body, args.language or language or config.language)  # as build tags
        for words, code, reason in why:
            print(f"  {code or '-':>3}  {words!r}: {reason}")
        print(f"  → {' '.join(codes) or 'regional (no country named)'}")
    return 1 if failed else 0


TAG_LANGUAGES = ("en", "es", "fr", "pt")
"""The languages the tagger reads (a tag such as `pt-BR` counts as its first part)."""


def cmd_serve(args) -> int:
    from newsletter.web.server import serve

    return serve(site_config(args), host=args.host, port=args.port, templates_dir=args.templates)


def cmd_db(args) -> int:
    from newsletter.cli.db import cmd_db as db  # sqlite3, PostgreSQL: not for every command's start

    return db(args)


def cmd_init(args) -> int:
    from newsletter.cli.init import init_site

    for line in init_site(Path(args.dir), args.base_url or "http://127.0.0.1:8000/"):
        print(f"newsletter: {line}", file=sys.stderr)
    return 0


def _send_due_after_build():
    from newsletter.cli.send import send_due_after_build

    return send_due_after_build


def _imported(module: str, name: str):
    """Command `name` of `module`, imported when it runs (a build never loads the send commands)."""

    def command(args) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return command


COMMANDS = {
    "init": cmd_init,
    "build": cmd_build,
    "watch": cmd_watch,
    "send": _imported("newsletter.cli.send", "cmd_send"),
    "status": _imported("newsletter.cli.send", "cmd_status"),
    "resolve": _imported("newsletter.cli.send", "cmd_resolve"),
    "unsubscribe": _imported("newsletter.cli.send", "cmd_unsubscribe"),
    "backup": _imported("newsletter.cli.send", "cmd_backup"),
    "subscribers": _imported("newsletter.cli.subscribers", "cmd_subscribers"),
    "bounces": _imported("newsletter.cli.subscribers", "cmd_bounces"),
    "serve": cmd_serve,
    "tag": cmd_tag,
    "db": cmd_db,
}


def _parse(argv: list[str]) -> argparse.Namespace:
    """`make_parser().parse_args(argv)`, made quicker by a parser of the command `argv` names
    alone: where that one parses `argv`, the command is the one it names and the whole parser
    gives the same result; anything else (an error, a guess that was wrong) is left to the whole
    one, as is a request for help (which lists every command)."""
    helped = any(a.startswith("--h") or (a[:1] == "-" and a[1:2] != "-" and "h" in a) for a in argv)
    only = None if helped else next((a for a in argv if a in COMMANDS), None)
    if only is not None:
        try:
            return make_parser(only).parse_args(argv)
        except _Unparsed:
            pass
    return make_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "-h" in argv or "--help" in argv:  # show the defaults in effect: the configuration's
        _IN_EFFECT.clear()
        _IN_EFFECT.update(help_defaults(argv))
    args = _parse(argv)
    _setup_logging(args)
    try:
        return COMMANDS[args.command](args)
    except NewsletterError as exc:
        said = "" if isinstance(exc, InputError) else "newsletter: "  # a bulletin's `path:line: …`, as a build says it
        for line in str(exc).splitlines():
            print(f"{said}{line}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsletter: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `status | head`: a closed stdout ends quietly (an OSError: caught first)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # the environment failed (full disk, no permission…): one line, no traceback
        print(f"newsletter: {environment_error(exc)}", file=sys.stderr)
        return 1


_EXIT_FAST = False
"""Set by `run`: the process ends with `os._exit` once the command returns."""


def run() -> None:
    """Console entry point: `main`, then a fast exit.

    Every file has been written and closed by then; skipping the interpreter's teardown
    (freeing hundreds of thousands of objects one by one) saves about a second on large
    sites, for `build` and for a daemon asked to stop.
    """
    global _EXIT_FAST
    _EXIT_FAST = True
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
