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


def screen_of_feed(feed: Path, home: Path, settle: float = 3.0) -> str:
    """Open `feed` (a file) in newsboat on a 200-column pseudo-terminal, enter it and return
    the text that was drawn (terminal escapes replaced by spaces)."""
    urls = home / "urls"
    urls.write_text(f"file://{feed}\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: newsboat, with a HOME of its own
        os.environ.update(TERM="xterm", HOME=str(home), LANG="C.UTF-8", LC_ALL="C.UTF-8")
        os.execv(NEWSBOAT, [NEWSBOAT, "-u", str(urls), "-c", str(home / "cache.db"), "-r"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    out = bytearray()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out.extend(os.read(fd, 65536))
                except OSError:
                    return

    try:
        pump(settle)
        os.write(fd, b"\r")  # open the feed: its item list
        pump(2.0)
        os.write(fd, b"Q")
        pump(1.0)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return _ESCAPES.sub(b" ", bytes(out)).decode("utf-8", "replace")
