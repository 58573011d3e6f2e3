"""Titles of one date that differ only in case or punctuation are two entries (docs/bulletins.md):
the recorded state decides which keeps the plain key — an entry already published keeps its
id, address and page when a variant is added, whichever title sorts first; only the new one
gets `-2`. Without state, the title that sorts first keeps the plain key."""

from __future__ import annotations

import os
from pathlib import Path

import feedparser
from conftest import run_cli

from newsletter.config import load_config
from newsletter.watch.daemon import WatchDaemon, WatchOptions

BASE_URL = "https://news.example.org/"
ARGS = ["build", "bulletins", "--out", "out", "--base-url", BASE_URL]
# ' ' sorts before ':' — the variant added later sorts first
OLD = "12 January 2026\n\nChile: Snow Closes the Passes!\n\nSnow closed two Andean passes in Chile.\n\n"
NEW = "12 January 2026\n\nChile Snow Closes the Passes\n\nTrucks waited at the border with Chile.\n\n"
PLAIN = "2026-01-12-chile-snow-closes-the-passes"
TAG = "tag:news.example.org,2026-01-12:chile-snow-closes-the-passes"


def write(root: Path, name: str, text: str) -> Path:
    path = root / "bulletins" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, ns=(10**18, 10**18))  # long before any build: not "racily clean"
    return path


def feed(root: Path) -> dict[str, tuple[str, str]]:
    """Feed id → (link, title) of the Chile Atom feed."""
    parsed = feedparser.parse((root / "out" / "cl" / "atom.xml").read_bytes())
    return {e.id: (e.link, e.title) for e in parsed.entries}


def page(root: Path, slug: str) -> bytes:
    return (root / "out" / "entries" / f"{slug}.html").read_bytes()


def build(root: Path, *extra: str, state: str = "state"):
    run = run_cli(*ARGS, "--state", state, *extra, cwd=root)
    assert run.code == 0, run.err
    return run


def test_a_published_entry_keeps_its_key_when_a_variant_that_sorts_first_is_added(tmp_path):
    write(tmp_path, "a.txt", OLD)
    build(tmp_path)
    before = feed(tmp_path)
    old_page = page(tmp_path, PLAIN)
    assert list(before) == [TAG] and b"Snow closed two Andean passes" in old_page

    write(tmp_path, "b.txt", NEW)
    run = build(tmp_path)
    assert (
        'bulletins/b.txt:1: warning: "Chile Snow Closes the Passes" (2026-01-12) differs only in case or punctuation '
        'from "Chile: Snow Closes the Passes!" in bulletins/a.txt:1; both are published, as two entries'
    ) in run.err
    after = feed(tmp_path)
    assert after[TAG] == before[TAG]  # the old entry: same feed id, link and title
    assert page(tmp_path, PLAIN) == old_page  # same page, byte for byte
    assert after[f"{TAG}-2"] == (f"{BASE_URL}entries/{PLAIN}-2.html", "Chile Snow Closes the Passes")
    assert b"Trucks waited at the border" in page(tmp_path, f"{PLAIN}-2")

    # built again, incrementally or in full: nothing moves
    assert "0 files written" in build(tmp_path).err
    assert "0 files written" in build(tmp_path, "--full").err
    # an edit of either body keeps each key with its entry
    write(tmp_path, "a.txt", OLD.replace("two Andean passes", "three Andean passes"))
    build(tmp_path)
    assert feed(tmp_path).keys() == after.keys() and b"three Andean passes" in page(tmp_path, PLAIN)
    write(tmp_path, "b.txt", NEW.replace("Trucks waited", "Lorries waited"))
    build(tmp_path)
    assert feed(tmp_path).keys() == after.keys() and b"Lorries waited" in page(tmp_path, f"{PLAIN}-2")
    assert b"three Andean passes" in page(tmp_path, PLAIN)


def test_without_state_the_title_that_sorts_first_keeps_the_plain_key(tmp_path):
    """The same two files built with a new state folder: today's rule, whatever the files' order."""
    write(tmp_path, "a.txt", OLD)
    write(tmp_path, "b.txt", NEW)
    run = build(tmp_path, state="fresh-state")
    assert (
        'bulletins/a.txt:1: warning: "Chile: Snow Closes the Passes!" (2026-01-12) differs only in case or '
        'punctuation from "Chile Snow Closes the Passes" in bulletins/b.txt:1; both are published, as two entries'
    ) in run.err
    assert b"Trucks waited at the border" in page(tmp_path, PLAIN)
    assert b"Snow closed two Andean passes" in page(tmp_path, f"{PLAIN}-2")
    assert feed(tmp_path)[f"{TAG}-2"][1] == "Chile: Snow Closes the Passes!"


def test_the_recorded_keys_hold_among_three_variants_after_one_is_removed(tmp_path):
    """Each of three keeps its key; when the plain key's entry goes, the others keep theirs
    (no `-3` moves to `-2`), and a new variant takes the free plain key."""
    write(tmp_path, "a.txt", OLD)
    build(tmp_path)
    write(tmp_path, "b.txt", NEW)
    build(tmp_path)
    third = NEW.replace("Chile Snow Closes the Passes", "chile snow closes the passes").replace("Trucks", "Buses")
    write(tmp_path, "c.txt", third)
    build(tmp_path)
    three = feed(tmp_path)
    assert three[TAG][1] == "Chile: Snow Closes the Passes!"
    assert three[f"{TAG}-2"][1] == "Chile Snow Closes the Passes"
    assert three[f"{TAG}-3"][1] == "chile snow closes the passes"
    (tmp_path / "bulletins" / "b.txt").unlink()
    build(tmp_path)
    two = feed(tmp_path)
    assert two == {k: v for k, v in three.items() if not k.endswith("-2")}


def test_the_watch_daemon_keeps_the_key_with_the_published_entry(tmp_path):
    """The daemon sees the new file, falls back from its live patch to a full build in memory,
    and gives the new variant `-2`; its saved state makes the next one-shot build agree."""
    write(tmp_path, "a.txt", OLD)
    config = tmp_path / "newsletter.toml"
    config.write_text(f'base_url = "{BASE_URL}"\ntitle = "Field Notes"\n')
    options = WatchOptions([str(tmp_path / "bulletins")], tmp_path / "out", tmp_path / "state", config_path=str(config))
    daemon = WatchDaemon(options, lambda: load_config(str(config)))
    try:
        assert daemon.rebuild(set(), verify=True)
        before, old_page = feed(tmp_path), page(tmp_path, PLAIN)
        added = write(tmp_path, "b.txt", NEW)
        assert daemon.rebuild({("file", str(added))})
        after = feed(tmp_path)
        assert after[TAG] == before[TAG] and page(tmp_path, PLAIN) == old_page
        assert after[f"{TAG}-2"][1] == "Chile Snow Closes the Passes"
    finally:
        daemon._close()  # saves the deferred state
    run = run_cli(*ARGS, "--state", "state", "--config", str(config), "--full", cwd=tmp_path)
    assert run.code == 0, run.err
    assert feed(tmp_path) == after and page(tmp_path, PLAIN) == old_page
