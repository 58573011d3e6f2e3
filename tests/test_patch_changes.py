"""A patch (the one-shot `build` after a small change, and the watch daemon's live path)
renders the units of the entries that went, came or changed — not those of every entry of a
changed file — and still gives the bytes of a full build."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from newsletter.builder.pipeline import Builder, build_site
from newsletter.builder.plan import RULES
from newsletter.config import load_config
from newsletter.output.keys import parse_key
from newsletter.output.writer import SiteWriter

ITEMS = [  # (date, title, body): one file of many countries, two years, several weeks
    ("31 December 2020", "Fisheries Talks Close", "Delegates from Norway met."),
    ("30 December 2020", "Alpine Rail Plan", "Switzerland approved the plan."),
    ("4 March 2021", "Harbour Works Begin", "Norway starts the works."),
    ("4 March 2021", "Wine Export Figures", "France reports the figures."),
    ("3 March 2021", "Glacier Survey Ends", "Switzerland publishes the survey."),
    ("2 March 2021", "Farm Subsidy Reform", "France reforms the subsidy."),
    ("1 March 2021", "Ferry Line Opens", "Norway opens a ferry line."),
]


def _text(items) -> str:
    return "".join(f"{date}\n\n{title}\n\n{body}\n\n" for date, title, body in items)


def _stamp(path: Path, n: int) -> None:
    os.utime(path, ns=(10**18 + n * 10**9,) * 2)  # long past: no "racily clean" doubt


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _patched(tmp_path: Path, items, units: dict[str, list[str]], way: str = "patch") -> tuple:
    """(the patch's result, the patched output folder, a full build's output folder) after the
    file of `ITEMS` became `items`, patched the `way` given (the one-shot patch, or the watch
    daemon's live path); `units` holds the keys of the units the patch made."""
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    (bulletins / "many.txt").write_text(_text(ITEMS))
    (bulletins / "other.txt").write_text("5 March 2021\n\nMarket Day\n\nChile holds a market day.\n")
    for path in bulletins.iterdir():
        _stamp(path, 0)
    config = load_config(None, {"base_url": "https://news.example.org/"})
    out, state = tmp_path / "out", tmp_path / "state"
    daemon = Builder(config, state_dir=state) if way == "live" else None
    if daemon is not None:
        daemon.session.defer_saves = True
    daemon_options = {"builder": daemon, "verify": False} if daemon is not None else {}  # as `watch` builds
    build_site(config, [str(bulletins)], out, state, **daemon_options)
    for keys in units.values():
        keys.clear()
    (bulletins / "many.txt").write_text(_text(items))
    _stamp(bulletins / "many.txt", 1)
    result = build_site(config, [str(bulletins)], out, state, **daemon_options)
    assert result.plan.way == way, result.plan.lines()
    counted = {name: len(keys) for name, keys in units.items()}
    if daemon is not None:
        daemon.flush()
    shutil.copytree(state, tmp_path / "full-state")  # the same identity records (edit times)
    for manifest in (tmp_path / "full-state").glob("outputs-*"):
        shutil.rmtree(manifest)
    build_site(config, [str(bulletins)], tmp_path / "full", tmp_path / "full-state")
    for name, keys in units.items():
        del keys[counted[name] :]
    return result, out, tmp_path / "full"


def _edit(n: int, **changes) -> list:
    items = list(ITEMS)
    date, title, body = items[n]
    items[n] = (changes.get("date", date), changes.get("title", title), changes.get("body", body))
    return items


def _units(groups: str, *more: str) -> list[str]:
    """The keys of a group's feeds, page and archive page and of the home page, with `more`."""
    return sorted(["home", *(f"{kind}:{g}" for g in groups.split() for kind in ("feeds", "page", "archive")), *more])


CASES = {  # the file becomes… : (the plan's `renders`, the units rendered)
    # a body grows a paragraph: the entries below it move down a line, and are not rendered again
    "one body edited": (
        _edit(2, body="Norway starts the works.\n\nA second paragraph."),
        "1 entry page; feeds and pages of all, no; year pages of 2021; issues of 2021-W09",
        sorted(
            set(_units("all no", "entry:2021-03-04-harbour-works-begin", "sitemap:2021"))
            - {"archive:all", "archive:no"}  # the archive lists issues and their counts: unchanged
            | {"issue:all/2021-W09", "issue:no/2021-W09", "year:all/2021", "year:no/2021"}
        ),
    ),
    "one entry added": (
        [*ITEMS[:3], ("4 March 2021", "Copper Mine Deal", "Peru signs a deal."), *ITEMS[3:]],
        "1 entry page; feeds and pages of all, pe; year pages of 2021; issues of 2021-W09",
        _units(
            "all pe",
            "entry:2021-03-04-copper-mine-deal",
            "issue:all/2021-W09",
            "issue:pe/2021-W09",
            "sitemap:2021",
            "sitemap:lists",  # a new list
            "subscribe:pe",
            "year:all/2021",
            "year:pe/2021",
        ),
    ),
    "one entry removed": (
        ITEMS[:5] + ITEMS[6:],
        "0 entry pages; feeds and pages of all, fr; year pages of 2021; issues of 2021-W09; 1 entry page removed",
        _units("all fr", "issue:all/2021-W09", "issue:fr/2021-W09", "sitemap:2021", "year:all/2021", "year:fr/2021"),
    ),
    # both the old and the new country's units
    "one entry's country changed": (
        _edit(6, body="Sweden opens a ferry line."),
        "1 entry page; feeds and pages of all, no, se; year pages of 2021; issues of 2021-W09",
        sorted(
            set(_units("all no se", "entry:2021-03-01-ferry-line-opens", "sitemap:2021", "sitemap:lists"))
            - {"archive:all"}
            | {"subscribe:se", "year:all/2021", "year:no/2021", "year:se/2021"}
            | {"issue:all/2021-W09", "issue:no/2021-W09", "issue:se/2021-W09"}
        ),
    ),
    # from 2020-W53 to 2021-W01: no/2020's year page and issue go (Norway's only entry of them)
    "a date moved across a week and a year": (
        _edit(0, date="4 January 2021"),
        "1 entry page; feeds and pages of all, no; year pages of 2020, 2021; issues of 2020-W53, 2021-W01; "
        "1 entry page removed",
        _units(
            "all no",
            "entry:2021-01-04-fisheries-talks-close",
            "issue:all/2020-W53",
            "issue:all/2021-W01",
            "issue:no/2021-W01",
            "sitemap:2020",
            "sitemap:2021",
            "year:all/2020",
            "year:all/2021",
            "year:no/2021",
        ),
    ),
    # the catalog orders the entries of one file and date by line: both count as changed (their
    # units are made; only the list of every entry changes)
    "two entries of one date swapped": (
        ITEMS[:2] + [ITEMS[3], ITEMS[2]] + ITEMS[4:],
        "2 entry pages; feeds and pages of all, fr, no; year pages of 2021; issues of 2021-W09",
        ["feeds:all", "home", "issue:all/2021-W09", "page:all", "sitemap:2021", "year:all/2021"],
    ),
}


@pytest.fixture
def units(monkeypatch) -> dict[str, list[str]]:
    """The keys of the units the site writer is handed rendered, and of those it reuses
    (both called through)."""
    keys: dict[str, list[str]] = {"rendered": [], "reused": []}
    write_unit, reuse = SiteWriter.write_unit, SiteWriter.reuse

    def rendered(self, key, fingerprint, outputs):
        keys["rendered"].append(key)
        return write_unit(self, key, fingerprint, outputs)

    def reused(self, key):
        keys["reused"].append(key)
        return reuse(self, key)

    monkeypatch.setattr(SiteWriter, "write_unit", rendered)
    monkeypatch.setattr(SiteWriter, "reuse", reused)
    return keys


@pytest.mark.parametrize("way", ["patch", "live"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_patch_renders_only_the_units_of_the_entries_that_changed(tmp_path, units, case, way):
    items, renders, rendered = CASES[case]
    result, out, full = _patched(tmp_path, items, units, way)
    assert result.plan.units == renders + "; the home page and the OPML"
    assert tree(out) == tree(full)
    assert sorted(units["rendered"]) == rendered
    assert result.stats.units_rendered == len(rendered)
    # the units of the file's other countries (ch, fr, no) and of the other file's (cl) are not made
    lists = set(renders.split("feeds and pages of ")[1].split(";")[0].split(", "))
    made = {parse_key(key) for key in units["rendered"] + units["reused"]}
    assert {group for kind, group, _ in made if kind in ("feeds", "page", "year", "issue", "archive")} == lists
    assert len([kind for kind, _, _ in made if kind == "entry"]) == int(renders.split()[0])


@pytest.mark.parametrize("way", ["patch", "live"])
def test_a_file_touched_without_a_change_renders_nothing(tmp_path, units, way):
    result, out, full = _patched(tmp_path, ITEMS, units, way)
    assert units["rendered"] == []
    assert result.plan.units == "0 entry pages; feeds and pages of all; the home page and the OPML"
    assert result.stats.units_rendered == 0 and result.stats.written == 0
    assert tree(out) == tree(full)


def test_a_file_saved_again_within_a_tick_unchanged_still_has_its_outputs_checked(tmp_path, monkeypatch):
    """A bulletin saved within a clock tick of the last build is read again; when none of its
    entries changed, the patch renders nothing, so it checks the outputs as the `unchanged`
    way would: one edited by hand sends the build the full way, which repairs it."""
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # the full way: by batches, small as the site is
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    (bulletins / "many.txt").write_text(_text(ITEMS))
    config = load_config(None, {"base_url": "https://news.example.org/"})
    out, state = tmp_path / "out", tmp_path / "state"
    build_site(config, [str(bulletins)], out, state)  # many.txt is "racily clean" from now on
    original = (out / "ch" / "atom.xml").read_bytes()
    (out / "ch" / "atom.xml").write_text("edited by hand")
    result = build_site(config, [str(bulletins)], out, state)
    says = next(r.says for r in RULES if r.ways == ("unchanged",) and r.name == "racy")
    assert says == "a bulletin saved just before the last build must be read again to be sure"
    assert result.plan.steps[:2] == [
        ("unchanged", False, says),
        (
            "patch",
            False,
            "no bulletin changed (those saved just before the last build were read again to be sure), and 1 output is "
            "missing or not as the last build wrote it: ch/atom.xml (edited)",
        ),
    ]  # the output named, not "an output"
    assert result.plan.way == "batches"
    assert (out / "ch" / "atom.xml").read_bytes() == original
    # untouched outputs: the same file re-read renders nothing and checks nothing more
    again = build_site(config, [str(bulletins)], out, state)
    assert again.plan.way == "patch" and again.stats.units_rendered == 0, again.plan.lines()
