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
from newsletter.diagnostics import report
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
    return parser


def _config(args):
    from newsletter.config import load_config

    path = args.config
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    overrides = {"base_url": getattr(args, "base_url", None), "out": getattr(args, "out", None), "state": args.state}
    base_dir = Path(path).parent if path else None
    config = load_config(path, overrides, base_dir=None)
    if base_dir is not None and not getattr(args, "bulletins", None):
        # Folders named in a config file are relative to that file.
        import dataclasses

        config = dataclasses.replace(config, bulletins=[str(base_dir / b) for b in config.bulletins])
    return config


def _setup_logging(args) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)


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
    from newsletter.build import build_site

    config = _config(args)
    inputs = args.bulletins or config.bulletins
    result = build_site(config, inputs, Path(config.out), Path(config.state), templates_dir=args.templates,
                        strict=args.strict, progress=_progress())
    report(result.diagnostics)
    if not args.quiet:
        print(f"newsletter: {result.summary()}", file=sys.stderr)
    return 1 if result.errors else 0


COMMANDS = {"build": cmd_build}


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
