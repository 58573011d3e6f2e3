"""One build at a time per state folder.

A build reads and rewrites the output manifest, the identity records and the parse cache;
two builds interleaving their writes (a cron job overlapping the last one, `build` beside a
running `watch`) could leave them describing different builds, and the next rebuild that
patches the last one would trust them. `StateLock` is an exclusive `flock` on
`STATE/build.lock`: a second build waits for the first, up to `wait` seconds, then stops
with a usage error (exit 2). The watch daemon holds it for as long as it runs.

`newsletter send` holds `STATE/sendlog.lock` (see `newsletter.send.sendlog`), every `newsletter
serve` process a *shared* lock on `STATE/serve.lock` (`ServeLock`: several may run at once);
`Quiet` takes all three exclusively, without waiting, for `backup --restore`, which must not
swap the databases under anything that has them open.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from newsletter.errors import UsageError

log = logging.getLogger(__name__)


class FileLock:
    """An exclusive `flock` on `path`, waited for up to `wait` seconds (0: not at all; saying
    `waiting` once), then a usage error saying `busy`."""

    shared = False
    """A shared lock (`LOCK_SH`): several holders at once, but none beside an exclusive one."""

    def __init__(self, path: Path, *, wait: float, busy: str, waiting: str = "") -> None:
        self.path = path
        self.wait = wait
        self.busy = busy
        self.waiting = waiting
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise UsageError(self.busy) from None
                if not told:
                    log.warning("%s", self.waiting or self.busy)
                    told = True
                time.sleep(0.1)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class StateLock(FileLock):
    """One build (or `watch`) per state folder at a time (see the module docstring)."""

    def __init__(self, state_dir: Path, *, wait: float = 60.0) -> None:
        super().__init__(
            state_dir / "build.lock",
            wait=wait,
            busy=f"another newsletter build or watch is using the state folder {state_dir}; "
            f"try again when it is done (waited {wait:.0f} s)",
            waiting=f"waiting for another newsletter build or watch using {state_dir}",
        )


def send_lock(state_dir: Path, *, wait: float = 0) -> FileLock:
    """One `newsletter send` per state folder (held by `SendLog` as a context manager)."""
    return FileLock(
        state_dir / "sendlog.lock",
        wait=wait,
        busy=f"another `newsletter send` is running with the state folder {state_dir}",
    )


class ServeLock(FileLock):
    """Held (shared) by every `newsletter serve` process for as long as it runs."""

    shared = True

    def __init__(self, state_dir: Path) -> None:
        super().__init__(
            state_dir / "serve.lock",
            wait=0,
            busy=f"{state_dir} is being restored; start `newsletter serve` when that is done",
        )


class Quiet:
    """Nothing runs with the state folder: no send, no build or watch, no serve (else a usage
    error naming what runs). Held while `backup --restore` replaces the databases."""

    def __init__(self, state_dir: Path) -> None:
        self.locks = [
            send_lock(state_dir),
            FileLock(
                state_dir / "build.lock",
                wait=0,
                busy=f"a newsletter build or watch is using {state_dir}; stop it first",
            ),
            FileLock(
                state_dir / "serve.lock", wait=0, busy=f"`newsletter serve` is running with {state_dir}; stop it first"
            ),
        ]
        self.locks[0].busy = f"a `newsletter send` is running with {state_dir}; stop it first"
        self._held: list[FileLock] = []

    def __enter__(self) -> Quiet:
        try:
            for lock in self.locks:
                lock.__enter__()
                self._held.append(lock)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        while self._held:
            self._held.pop().__exit__()
