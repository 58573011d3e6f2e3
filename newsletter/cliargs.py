"""What every command takes from its arguments: the configuration, and progress on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_CONFIG = "newsletter.toml"


def site_config(args):
    """The configuration: --config FILE (or ./newsletter.toml), with command-line overrides."""
    from newsletter.config import load_config

    path = args.config
    if path is None and Path(DEFAULT_CONFIG).is_file():
        path = DEFAULT_CONFIG
    overrides = {"base_url": getattr(args, "base_url", None), "out": getattr(args, "out", None), "state": args.state}
    if args.command in ("unsubscribe", "status", "resolve", "backup", "subscribers", "bounces", "tag", "db") \
            and not overrides["base_url"]:
        overrides["base_url"] = "http://localhost/"  # not used by this command
    # Paths in the config file are relative to its folder; paths given here, to the current one.
    config = load_config(path, overrides)
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


