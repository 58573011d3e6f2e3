"""Drive the real newsboat (a terminal feed reader) and read what it shows on screen."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import termios
import time
from pathlib import Path

NEWSBOAT = "/usr/bin/newsboat"
_ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


# what each step waits for: the feed loaded (its line counts its items, "(1/1) Loading file://…
# 1 N 2/2) Its title"), then the feed's item list drawn
LOADED = re.compile(rb"Loading file://.*?[1-9][0-9]*/[1-9][0-9]*\)", re.S)
ITEMS = re.compile(rb"Articles in feed")
QUIET = 0.3  # once it is there, the drawing is complete when newsboat has written nothing for this long


def screen_of_feed(feed: Path, home: Path, timeout: float = 15.0) -> str:
    """Open `feed` (a file) in newsboat on a 200-column pseudo-terminal, enter it and return
    the text that was drawn (terminal escapes replaced by spaces). Each step waits for what it
    needs on screen (up to `timeout`), not a fixed time: what was not drawn fails the caller's checks."""
    urls = home / "urls"
    urls.write_text(f"file://{feed}\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: newsboat, with a HOME of its own
        os.environ.update(TERM="xterm", HOME=str(home), LANG="C.UTF-8", LC_ALL="C.UTF-8")
        os.execv(NEWSBOAT, [NEWSBOAT, "-u", str(urls), "-c", str(home / "cache.db"), "-r"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    out = bytearray()

    def pump(until: re.Pattern[bytes] | None, seconds: float) -> None:
        """Read until `until` matches what was drawn since this call began and then nothing more
        comes for QUIET seconds (or until newsboat exits, or `seconds` pass)."""
        start = len(out)
        end = time.monotonic() + seconds
        seen = until is None
        quiet_since = time.monotonic()
        while time.monotonic() < end:
            if seen and time.monotonic() - quiet_since >= QUIET and until is not None:
                return
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                out.extend(chunk)
                quiet_since = time.monotonic()
                seen = seen or bool(until and until.search(_ESCAPES.sub(b" ", bytes(out[start:]))))

    try:
        pump(LOADED, timeout)
        os.write(fd, b"\r")  # open the feed: its item list
        pump(ITEMS, timeout)
        os.write(fd, b"Q")
        pump(None, 2.0)  # until it has exited
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return _ESCAPES.sub(b" ", bytes(out)).decode("utf-8", "replace")
