"""The command line keeps its promises: -v, --help, every line prefixed, init, the Usage block."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

from conftest import REPO

from newsletter.cli import make_parser

BULLETIN = """26 August 2021

Peru Opens a Shelter

It has 80 beds.
"""


def run(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_init_makes_a_site_that_builds_and_never_overwrites(tmp_path):
    done = run(tmp_path, "init", "site")
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    assert (site / "newsletter.toml").is_file() and (site / "bulletins").is_dir()
    toml = (site / "newsletter.toml").read_text()
    assert 'base_url = "http://127.0.0.1:8000/"' in toml  # without --base-url, as the README says
    assert '# logo = "logo.png"' in toml
    sample = (site / "bulletins" / "sample.txt").read_text()
    built = run(site, "build")
    assert built.returncode == 0, built.stderr
    assert "3 entries" in built.stderr and (site / "feeds" / "index.html").is_file()
    assert (site / "feeds" / "ec" / "atom.xml").is_file()  # the sample names countries
    again = run(tmp_path, "init", "site")
    assert again.returncode == 2 and "already exist; nothing was written" in again.stderr
    assert (site / "bulletins" / "sample.txt").read_text() == sample
    reference = (REPO / "examples").rglob("*.txt")
    assert all(sample.splitlines()[2] not in p.read_text(errors="replace") for p in reference)  # our own words


def test_verbose_says_each_plan_line_once_and_times_each_phase_and_every_line_is_prefixed(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.txt").write_text(BULLETIN)
    for _attempt in range(2):  # a full build, then one that finds nothing changed or patches
        done = run(tmp_path, "-v", "build", "b", "--out", "out", "--base-url", "https://news.example.org/")
        assert done.returncode == 0, done.stderr
        lines = done.stderr.splitlines()
        assert lines and all(line.startswith("newsletter: ") for line in lines), done.stderr
        plan = [line for line in lines if line.startswith("newsletter: plan: ")]
        assert plan and len(plan) == len(set(plan)), done.stderr
        for line in plan:  # not said a second time without its prefix either
            assert sum(line.removeprefix("newsletter: plan: ").lstrip("✗→ ") in other for other in lines) == 1, line
        times = [line for line in lines if line.startswith("newsletter: time: ")]
        assert any("waiting for the state lock" in t for t in times) and any("choosing the way" in t for t in times)
        assert re.search(r"time: total: \d+\.\d{3} s", done.stderr)


def test_help_shows_the_defaults_in_effect_from_the_config(tmp_path):
    (tmp_path / "newsletter.toml").write_text(
        'base_url = "https://x.example.org/"\nout = "public"\n[watch]\ndebounce_ms = 900\n'
    )
    shown = " ".join(run(tmp_path, "build", "--help").stdout.split())
    assert "output folder (default: public)" in shown and "(default: https://x.example.org/)" in shown
    watch = " ".join(run(tmp_path, "watch", "--help").stdout.split())
    assert "watch.debounce_ms, 900" in watch
    bare = " ".join(run(tmp_path / "..", "build", "--help").stdout.split())  # no config: built-in defaults
    assert "output folder (default: feeds)" in bare


def _usage_block() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Usage", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\n\s+(?=[\[(-])", " ", block)  # continuation lines
    return [line for line in joined.splitlines() if line.startswith("newsletter ")]


def test_the_usage_block_names_every_command_with_options_each_really_takes():
    parser = make_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    usage = _usage_block()
    assert not any("same options as" in line for line in usage)  # each line says what it takes
    named = {line.split()[1] for line in usage if not line.split()[1].startswith("-")}
    assert set(commands) <= named, set(commands) - named
    for line in usage:
        command = line.split()[1]
        if command.startswith("-"):
            continue
        sub = commands[command]
        parsers = [sub] + [
            p for a in sub._actions if isinstance(a, argparse._SubParsersAction) for p in a.choices.values()
        ]  # `db migrate --to`: an action's own options
        takes = {opt for parser in parsers for action in parser._actions for opt in action.option_strings}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", line):
            assert option in takes, (command, option)


def test_usage_errors_prefix_every_line_and_show_the_commands_own_usage(tmp_path):
    unknown = run(tmp_path, "frobnicate")
    assert unknown.returncode == 2 and "invalid choice: 'frobnicate'" in unknown.stderr
    bogus = run(tmp_path, "build", "--bogus")
    assert bogus.returncode == 2 and "unrecognized arguments: --bogus" in bogus.stderr
    assert bogus.stderr.startswith("newsletter: usage: newsletter build ")  # build's usage, not the main one
    nested = run(tmp_path, "subscribers", "add", "--bogus")
    assert nested.returncode == 2 and nested.stderr.startswith("newsletter: usage: newsletter subscribers add ")
    for done in (unknown, bogus, nested):
        assert all(line.startswith("newsletter:") for line in done.stderr.splitlines()), done.stderr
