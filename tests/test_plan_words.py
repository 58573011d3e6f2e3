"""The words a new user reads (T7 #16-18, #21, #28, #33-35): counts in the singular when there
is one, `watch` says which rule a configuration change broke, `-q` leaves only errors, a note
about a bulletin's line is `path:line: …`, titles that differ only in punctuation are two
entries, and `build FILE` says what it unpublishes."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from conftest import run_cli

from newsletter.builder.pipeline import BuildResult, counted
from newsletter.builder.plan import RULES, Plan
from newsletter.config import load_config
from newsletter.content.catalog import Catalog
from newsletter.output.writer import WriteStats
from newsletter.watch.daemon import WatchDaemon, WatchOptions

BASE_URL = "https://news.example.org/"
PERU = "3 March 2021\n\nPeru Opens a Shelter\n\nIt has 80 beds in Lima, Peru.\n\n"
CHILE = "4 March 2021\n\nChile Trains Rangers\n\nTwenty rangers in Chile.\n\n"
KENYA = "5 March 2021\n\nKenya Plants Trees\n\nA million trees in Kenya.\n\n"
ARGS = ["build", "--out", "out", "--state", "state", "--base-url", BASE_URL]


def site(tmp_path: Path, **files: str) -> Path:
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir(exist_ok=True)
    for name, text in files.items():
        (bulletins / f"{name}.txt").write_text(text)
        os.utime(bulletins / f"{name}.txt", ns=(10**18, 10**18))  # long before any build: not "racily clean"
    return bulletins


def test_counts_are_singular_for_one():
    assert [counted(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert counted(1, "entry", "entries") == "1 entry" and counted(60, "entry", "entries") == "60 entries"
    result = BuildResult(Catalog((), {}), [], WriteStats(written=1, unchanged=3, removed=1), 1, 0.5, counts=(1, 1, 0))
    assert (
        result.summary()
        == "1 entry (1 country, 0 regional) from 1 file; 1 file written, 3 unchanged, 1 removed in 0.50 s"
    )


def test_quiet_leaves_only_errors(tmp_path):
    """README: `-q leaves only errors` — not the summary, warnings or notes."""
    site(tmp_path, a=PERU + PERU.replace("80 beds", "90 beds"), b=CHILE)  # the same item twice: a warning
    loud = run_cli(*ARGS, "bulletins", cwd=tmp_path)
    assert "warning: " in loud.err and "entries" in loud.err
    (tmp_path / "bulletins" / "b.txt").write_text(CHILE + "31 February 2021\n\nBad Date\n\nBody.\n\n")
    quiet = run_cli(*ARGS, "bulletins", "-q", cwd=tmp_path)
    assert quiet.code == 1
    assert quiet.err.splitlines() == [
        'bulletins/b.txt:6: impossible date "31 February 2021"; the entry is skipped'
    ] or (quiet.err.strip() and all("warning" not in line and "note" not in line for line in quiet.err.splitlines())), (
        quiet.err
    )
    assert "entries" not in quiet.err and "warning" not in quiet.err and "note:" not in quiet.err


def test_an_edited_entry_keeping_its_id_is_said_as_path_line(tmp_path):
    site(tmp_path, a=PERU)
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    site(tmp_path, a=PERU.replace("Peru Opens a Shelter", "Peru Opens a New Shelter"))
    err = run_cli(*ARGS, "bulletins", cwd=tmp_path).err
    [line] = [line for line in err.splitlines() if "edited entry keeps its id" in line]
    assert line.startswith("bulletins/a.txt:1: edited entry keeps its id (tag:news.example.org,2021-03-03:"), err


def test_explain_says_a_file_saved_just_before_the_build_is_read_again_not_changed(tmp_path):
    bulletins = site(tmp_path, a=PERU, b=CHILE)
    os.utime(bulletins / "b.txt")  # saved now: within a clock tick of the build that follows
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    lines = run_cli(*ARGS, "bulletins", "--explain", cwd=tmp_path).out.splitlines()
    racy = next(r.says for r in RULES if r.name == "racy")
    assert lines[0] == f"✗ unchanged: {racy}"
    assert (
        lines[1]
        == "→ patch: no file changed; 1 file read again to be sure (saved just before the last build): bulletins/b.txt"
    )
    assert not any("changed: bulletins/b.txt" in line for line in lines)


def test_titles_that_differ_only_in_punctuation_are_two_entries(tmp_path):
    """docs/bulletins.md: the same date and the same title is one entry; titles that differ only
    in case or punctuation are two, the one whose exact title sorts later with `-2` in its slug
    and id (whatever their order in the file), and a warning that quotes both titles."""
    first = "7 February 2026\n\nPeru: Rain Returns!\n\nRain returned to the valleys of Peru.\n\n"
    second = "7 February 2026\n\nPeru Rain Returns\n\nFarmers in Peru said it came just in time.\n\n"
    site(tmp_path, new=first + second)
    run = run_cli(*ARGS, "bulletins", cwd=tmp_path)
    assert run.code == 0
    assert (
        'bulletins/new.txt:1: warning: "Peru: Rain Returns!" (2026-02-07) differs only in case or punctuation from '
        '"Peru Rain Returns" in bulletins/new.txt:7; both are published, as two entries'
    ) in run.err
    out = tmp_path / "out"
    assert (out / "entries" / "2026-02-07-peru-rain-returns.html").is_file()
    assert b"Rain returned" in (out / "entries" / "2026-02-07-peru-rain-returns-2.html").read_bytes()
    atom = (out / "pe" / "atom.xml").read_text()
    assert "tag:news.example.org,2026-02-07:peru-rain-returns</id>" in atom
    assert "tag:news.example.org,2026-02-07:peru-rain-returns-2</id>" in atom
    # the same build again and a fresh one give the same bytes; the same title twice is still one entry
    assert "0 files written" in run_cli(*ARGS, "bulletins", "--full", cwd=tmp_path).err
    site(tmp_path, new=first + second + first.replace("Rain returned", "Rain came back"))
    again = run_cli(*ARGS, "bulletins", cwd=tmp_path)
    assert "is already in bulletins/new.txt:1, with the same title; publishing it once" in again.err
    assert len(list((out / "entries").glob("2026-02-07-*.html"))) == 2


def test_building_some_files_says_what_the_others_lose(tmp_path):
    """`newsletter build FILE` after a build of the whole folder: `--explain` and the build say
    how many of the last build's bulletin files are left out and what that removes (T7 #35)."""
    bulletins = site(tmp_path, a=PERU, b=CHILE, c=KENYA)
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    said = "2 of the last build's 3 bulletin files are not among the inputs (bulletins/b.txt, bulletins/c.txt): "
    explained = run_cli(*ARGS, "bulletins/a.txt", "--explain", cwd=tmp_path).out.splitlines()
    assert (
        f"  warning: {said}their 2 entries and the outputs only they make will be removed; name them too, or "
        "build with no files to build the whole site" in explained
    )
    built = run_cli(*ARGS, "bulletins/a.txt", cwd=tmp_path)
    removed = int(re.search(r"(\d+) removed in", built.err).group(1))
    assert removed > 2
    assert (
        f"newsletter: warning: {said}their 2 entries are no longer published ({removed} outputs removed); name them "
        "too, or build with no files to build the whole site"
    ) in built.err
    # a file deleted from the folder is no warning: it was meant to go
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    (bulletins / "c.txt").unlink()
    quiet = run_cli(*ARGS, "bulletins", cwd=tmp_path)
    assert "not among the inputs" not in quiet.err and "warning" not in quiet.err


@pytest.fixture
def daemon(tmp_path):
    site(tmp_path, a=PERU, b=CHILE)
    config = tmp_path / "newsletter.toml"
    config.write_text(f'base_url = "{BASE_URL}"\ntitle = "Field Notes"\n')
    results: list = []
    options = WatchOptions(
        [str(tmp_path / "bulletins")],
        tmp_path / "out",
        tmp_path / "state",
        config_path=str(config),
        on_result=lambda result, started, done: results.append(result),
    )
    d = WatchDaemon(options, lambda: load_config(str(config)))
    yield d, config, results
    d._close()


def test_after_a_configuration_change_watch_names_the_fingerprints_rule(daemon, caplog):
    d, config, results = daemon
    assert d.rebuild(set(), verify=True)
    first: Plan = results[-1].plan
    verify = next(r.says for r in RULES if r.ways == ("live",) and r.name == "verify")
    assert ("live", False, verify) in first.steps  # the initial build: not "a full check was asked for"
    # the one-shot ways ruled out for the same reason: one line
    assert sum("not the watch daemon" in line or "keeps its catalog" in line for line in first.lines()) <= 1
    config.write_text(f'base_url = "{BASE_URL}"\ntitle = "Other Notes"\n')
    with caplog.at_level(logging.INFO, logger="newsletter.watch"):
        assert d.rebuild({("file", str(config))})
    steps = results[-1].plan.steps
    assert ("live", False, "the configuration, the templates or newsletter itself changed") in steps, steps
    assert not any("has not built" in reason for _, _, reason in steps)
    [line] = [r.getMessage() for r in caplog.records if "rebuilt in" in r.getMessage()]
    assert re.search(r"\d+ outputs? rewritten, \d+ removed \(2 entries, 0 errors\)$", line), line
    # then a bulletin edit goes the live way again
    (Path(d.options.inputs[0]) / "b.txt").write_text(CHILE.replace("Twenty", "Thirty"))
    assert d.rebuild({("file", str(Path(d.options.inputs[0]) / "b.txt"))})
    assert results[-1].plan.way == "live", results[-1].plan.lines()


def test_a_configuration_error_while_watching_is_one_line_per_problem(daemon, caplog):
    d, config, _ = daemon
    assert d.rebuild(set(), verify=True)
    config.write_text('base_url = "notaurl"\nfeed_limit = 0\n')
    with caplog.at_level(logging.ERROR, logger="newsletter.watch"):
        d.rebuild({("file", str(config))})
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == 2 and all(line.startswith(f"configuration not reloaded: {config}: ") for line in lines)


def test_swapping_two_titles_that_differ_only_in_punctuation_changes_nothing(tmp_path):
    """Which of two such entries gets `-2` does not depend on their order in the file: swapped,
    each keeps its id, address and page, byte for byte (T8 #3). (Lists of one day follow the
    files' order: those are the only bytes that change.)"""
    import feedparser

    first = "7 February 2026\n\nPeru: Rain Returns!\n\nRain returned to the valleys of Peru.\n\n"
    second = "7 February 2026\n\nPeru Rain Returns\n\nFarmers in Peru said it came just in time.\n\n"

    def pages(root: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((root / "out" / "entries").iterdir())}

    def items(root: Path) -> dict[str, tuple[str, str]]:
        feed = feedparser.parse((root / "out" / "pe" / "atom.xml").read_bytes())
        return {e.id: (e.link, e.title) for e in feed.entries}

    for where in ("one", "two"):
        (tmp_path / where).mkdir()
    site(tmp_path / "one", new=first + second)
    site(tmp_path / "two", new=second + first)
    for where in ("one", "two"):
        assert run_cli(*ARGS, "bulletins", cwd=tmp_path / where).code == 0
    one, two = tmp_path / "one", tmp_path / "two"
    assert len(pages(one)) == 2 and pages(one) == pages(two)
    assert len(items(one)) == 2 and items(one) == items(two)
    # and on the same site: swapping them in place keeps each entry's id and address
    before = items(one)
    site(one, new=second + first)
    assert run_cli(*ARGS, "bulletins", cwd=one).code == 0
    assert items(one) == before and pages(one) == pages(two)


def test_editing_the_title_is_named_in_the_plan(tmp_path):
    """After an edit of `title` alone, `--explain` says the configuration changed and which key,
    not "the configuration, the templates or newsletter itself changed" (T8 #4)."""
    site(tmp_path, a=PERU)
    config = tmp_path / "newsletter.toml"
    config.write_text(f'base_url = "{BASE_URL}"\ntitle = "Field Notes"\n')
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    config.write_text(f'base_url = "{BASE_URL}"\ntitle = "Field Notes, Weekly"\n')
    explained = run_cli(*ARGS, "bulletins", "--explain", cwd=tmp_path).out
    assert "the configuration changed (title)" in explained, explained
    assert "the templates or newsletter itself" not in explained, explained


def test_one_file_left_out_is_said_so_in_the_singular(tmp_path):
    """`build a.txt` after a build of a.txt and b.txt: the plan says b.txt is not among the
    inputs (not that "a bulletin changed"), the warning says "its 1 entry is", `-v`'s debug line
    counts in the singular, and `init` over two files says they "already exist" (T8)."""
    site(tmp_path, a=PERU, b=CHILE)
    assert run_cli(*ARGS, "bulletins", cwd=tmp_path).code == 0
    explained = run_cli(*ARGS, "bulletins/a.txt", "--explain", cwd=tmp_path).out
    assert "a bulletin is not among the inputs: bulletins/b.txt" in explained, explained
    assert "changed: bulletins/b.txt" not in explained, explained
    assert "→ patch: no file changed; 1 file is not among the inputs (their entries go): bulletins/b.txt" in explained
    assert "(bulletins/b.txt): its 1 entry and the outputs" in explained, explained
    built = run_cli("-v", *ARGS, "bulletins/a.txt", cwd=tmp_path)
    assert "(bulletins/b.txt): its 1 entry is no longer published (" in built.err, built.err
    full = run_cli("-v", *ARGS, "bulletins/a.txt", "--full", cwd=tmp_path)
    assert "read 1 entry from 1 file (" in full.err, full.err
    (tmp_path / "newsletter.toml").write_text("")
    (tmp_path / "bulletins" / "sample.txt").write_text(PERU)
    again = run_cli("init", ".", cwd=tmp_path)
    assert "newsletter.toml and bulletins/sample.txt already exist; nothing was written" in again.err, again.err


def test_strict_says_a_bulletin_error_as_a_build_does(tmp_path):
    """`--strict` prints the bulletin's error as `path:line: …`, as a normal build does, not
    prefixed with `newsletter:` (T8)."""
    site(tmp_path, a=PERU + "31 February 2021\n\nA Broken Date\n\nBody.\n")
    normal = run_cli(*ARGS, "bulletins", cwd=tmp_path)
    strict = run_cli(*ARGS, "bulletins", "--strict", "--out", "strict-out", cwd=tmp_path)
    assert normal.code == strict.code == 1
    said = [line for line in strict.err.splitlines() if "--strict stops" in line]
    assert said and said[0].startswith('bulletins/a.txt:7: impossible date "31 February 2021"'), strict.err
    assert any(line.startswith("bulletins/a.txt:7: ") for line in normal.err.splitlines()), normal.err
