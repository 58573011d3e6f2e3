"""The exceptions `newsletter` raises, under one base class.

    NewsletterError            anything this package reports to a person
    ├── ConfigError            newsletter.toml or command-line options are invalid (exit 2)
    ├── UsageError             the command cannot run as asked, e.g. --out inside the input (exit 2)
    ├── InputError             a bulletin is malformed and --strict asked to stop (exit 1)
    ├── StateError             a database or file in the state folder is missing or damaged (exit 2)
    └── BuildInterrupted       a stop was requested (SIGTERM in the daemon) in the middle of a build

Problems with bulletin content are normally not raised: they become `Diagnostic` values
(see `newsletter.diagnostics`) so that every other entry is still published.
"""

from __future__ import annotations

import errno


class NewsletterError(Exception):
    """Base class: a problem to be told to a person, without a traceback."""

    exit_code = 1


class ConfigError(NewsletterError):
    """Raised when configuration is invalid; `problems` holds one line per bad option."""

    exit_code = 2

    def __init__(self, problems: list[str], *, path: str | None = None, given: list[str] | None = None) -> None:
        """`problems` of the file at `path` (each line names it), then `given`: problems of
        values given on the command line (named as its options, without the file)."""
        self.problems = list(problems)
        self.given = list(given or ())
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__("\n".join([f"{where}{p}" for p in self.problems] + self.given))


class UsageError(NewsletterError):
    """Raised when a command is asked to do something it must refuse."""

    exit_code = 2


class StateError(NewsletterError):
    """Raised when the state folder cannot be trusted: never taken as empty, never guessed."""

    exit_code = 2


class InputError(NewsletterError):
    """Raised in --strict mode on the first bulletin error."""

    exit_code = 1

    def __init__(self, message: str, *, path: str, line: int) -> None:
        self.path = path
        self.line = line
        for skipped in ("; this entry is skipped", "; skipped"):  # the messages of a normal build
            message = message.removesuffix(skipped)
        super().__init__(f"{path}:{line}: {message}; --strict stops at the first error: nothing was written")


class BuildInterrupted(NewsletterError):
    """Raised when a build stops early on request; the outputs written so far are complete files."""

    exit_code = 0


ADVICE = {
    errno.ENOSPC: "the disk is full: free some space and run again (every file already written is complete; "
    "the next build brings the rest up to date)",
    errno.EDQUOT: "the disk quota is used up: free some space and run again",
    errno.EACCES: "no permission: run as a user who may write there, or choose another folder",
    errno.EPERM: "not permitted: run as a user who may write there, or choose another folder",
    errno.EROFS: "the file system is read-only: choose a folder on a writable one",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EEXIST: "this is a file, but a folder is needed here (e.g. --state or --out names a file)",
    errno.EISDIR: "this is a folder, not a file",
    errno.ENOENT: "no such file or folder",
}


def environment_error(exc: OSError) -> str:
    """`path: what happened; what to do` for an OSError."""
    where = exc.filename or ""
    what = exc.strerror or str(exc)
    advice = ADVICE.get(exc.errno or 0, "")
    return (
        f"{where}: {what}" + (f"; {advice}" if advice and advice != what.lower() else "")
        if where
        else what + (f"; {advice}" if advice else "")
    )
