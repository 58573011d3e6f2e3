"""What every command takes from its arguments: the configuration, and progress on a terminal."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsletter.config import Config

DEFAULT_CONFIG = "newsletter.toml"


def site_config(args) -> Config:
    """The configuration: --config FILE (or ./newsletter.toml), with command-line overrides."""
    from newsletter.config import load_config

    path = args.config
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    overrides = {"base_url": getattr(args, "base_url", None), "out": getattr(args, "out", None), "state": args.state}
    if (
        args.command in ("unsubscribe", "status", "resolve", "backup", "subscribers", "bounces", "tag", "db")
        and not overrides["base_url"]
    ):
        overrides["base_url"] = "http://localhost/"  # not used by this command
    # Paths in the config file are relative to its folder; paths given here, to the current one.
    config = load_config(path, overrides)
    if config.database:  # (configure does nothing without one: a build never loads sqlite3)
        from newsletter.state.db import configure

        configure(Path(config.state), config.database)  # the store and send log of this state folder
    return config


def terminal_progress():
    """A progress callback for a terminal; None when stderr is not one."""
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


def help_defaults(argv: list[str]) -> dict[str, str]:
    """The defaults `--help` shows: the values of the configuration `argv` would use (its
    `--config FILE`, else ./newsletter.toml); nothing when there is none or it is broken."""
    from newsletter.config import load_config
    from newsletter.errors import NewsletterError

    path = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"), None)
    path = path or next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    if path is None:
        return {}
    try:
        try:
            config = load_config(path)
            shown = {"base_url": config.base_url}
        except NewsletterError:  # no base_url in the file: every other value still shows
            config = load_config(path, {"base_url": "http://localhost/"})
            shown = {}
    except (NewsletterError, OSError):
        return {}
    shown.update(
        {
            "state": config.state,
            "out": config.out,
            "bulletins": " ".join(config.bulletins),
            "watch.debounce_ms": str(config.watch_debounce_ms),
            "newsletter.subscribers": config.newsletter_subscribers,
            "smtp.rate": str(config.smtp_rate),
        }
    )
    return shown


class PhaseClock(logging.Handler):
    """Times the phases of a build for `-v`. It listens to the planner's log (without printing
    it: the plan is printed once, at the end): the way chosen ends the planning phase; the
    command marks the state lock taken and the build returned."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.started = time.perf_counter()
        self.marks: list[tuple[str, float]] = []
        self.way = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s: %s" and isinstance(record.args, tuple) and not self.way:  # Plan.take: the way taken
            self.way = str(record.args[0])
            self.mark("reading the state and choosing the way")

    def mark(self, phase: str) -> None:
        """`phase` is what ran since the previous mark (or since the clock started)."""
        self.marks.append((phase, time.perf_counter()))

    def lines(self) -> list[str]:
        out, last = [], self.started
        for phase, at in self.marks:
            out.append(f"{phase}: {at - last:.3f} s")
            last = at
        out.append(f"total: {last - self.started:.3f} s")
        return out


class RebuildClock(PhaseClock):
    """`watch -v`: after each of the daemon's builds, its plan and the time of its phases, each
    line once, as `build -v` says them (the state lock is held for the whole daemon, so its
    phases are choosing the way and the way itself)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.funcName == "take":  # Plan.take: a way taken (again, if the one before fell back)
            self.marks.append(("reading the state and choosing the way", time.perf_counter()))

    def said(self, result: Any, started: float, done: float) -> None:
        """Print the plan and phase times of the build `result` (a `BuildResult`) just made, which
        ran from `started` to `done` (`time.perf_counter()`: the daemon's log line says the same)."""
        self.started = started
        self.marks = [m for m in self.marks if m[1] >= started][:1]  # not those of a build that failed
        self.marks.append(
            (f"{result.plan.way or 'the build'} (reading, rendering, writing and saving the state)", done)
        )
        for line in result.plan.lines():
            print(f"newsletter: plan: {line}", file=sys.stderr)
        for line in self.lines():
            print(f"newsletter: time: {line}", file=sys.stderr)
        self.marks = []
