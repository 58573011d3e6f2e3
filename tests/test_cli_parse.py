"""`main` parses the command line with a parser made for the command it names alone (quicker to
make than the whole one); what it parses, and every error it reports, is the whole parser's."""

from __future__ import annotations

import contextlib
import io
import math

import pytest

from newsletter.cli import _parse, _Unparsed, make_parser

CASES = [
    ["build", "-q", "b", "--out", "o", "--base-url", "https://example.org/"],
    ["-q", "build", "b"],
    ["-qv", "build", "--full", "--strict", "--explain"],
    ["--state", "build", "build"],  # an option's value that is also a command
    ["--config", "send", "build", "x"],  # ... and the guess is wrong: the whole parser decides
    ["--st", "S", "build"],  # an abbreviated option
    ["--v", "build"],  # an ambiguous one
    ["--config=x", "build", "--", "-x"],
    ["build", "--bogus"],
    ["build", "--base", "u"],
    ["build", "init"],
    ["bui"],
    [],
    ["--version", "build"],
    ["watch", "--debounce", "5", "--once", "a", "b"],
    ["watch", "--debounce", "x"],
    ["send", "--country", "mx", "--country", "pa", "--dry-run", "--rate", "2"],
    ["resolve", "--country", "mx", "--issue", "2021-W01", "--sent", "--resend"],
    ["resolve", "--country", "mx", "--issue", "2021-W01", "--sent", "a@example.org"],
    ["subscribers", "add", "a@example.org", "--country", "mx"],
    ["subscribers", "add", "a@example.org"],
    ["subscribers"],
    ["db", "migrate", "--to", "postgresql://localhost/x"],
    ["db"],
    ["tag", "--file", "x", "build"],
    ["serve", "--port", "x"],
    ["serve", "--port", "81", "-v"],
    ["init", "d", "--base-url", "u"],
    ["unsubscribe", "a@example.org", "--token", "t"],
]


def outcome(parse, argv: list[str]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parsed = vars(parse(argv))
            result = ("parsed", {k: v for k, v in parsed.items() if not (isinstance(v, float) and math.isnan(v))})
        except SystemExit as exc:
            result = ("exit", exc.code)
    return result, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", CASES, ids=" ".join)
def test_the_command_alone_parses_as_the_whole_parser(argv):
    assert outcome(_parse, argv) == outcome(lambda a: make_parser().parse_args(a), argv)


def test_a_wrong_guess_is_left_to_the_whole_parser():
    """`send` is the config file's name here, not the command: the parser of `send` alone fails
    (saying nothing) and the whole one parses the command line."""
    argv = ["--config", "send", "build", "x"]
    with pytest.raises(_Unparsed):
        make_parser("send").parse_args(argv)
    assert (_parse(argv).command, _parse(argv).config) == ("build", "send")
