"""A build after an option changed gives what a fresh build with that option gives: every page,
feed and issue that depends on the option is rendered again (its fingerprint names the option)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsletter.builder.pipeline import build_site
from newsletter.config import load_config

BASE = {"base_url": "https://news.example.org/", "newsletter.archive_periods": 6}

SIGNUP = {
    "newsletter.public_url": "https://news.example.org/serve/",
    "newsletter.delivery": "digest",
    "newsletter.frequencies": ["weekly", "monthly"],
}

BULLETIN = """\
2 March 2021

Peru Opens a Port

Lima's new quay opened on Monday.

9 March 2021

Chile and Peru Sign a Water Pact

The two neighbours share a river basin.

16 March 2021

Belize Counts Its Reefs

A survey of the barrier reef began.
"""


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "before,after",
    [
        ({"newsletter.enabled": True}, {"newsletter.enabled": False}),
        ({"newsletter.enabled": False}, {"newsletter.enabled": True}),
        ({"newsletter.period": "weekly"}, {"newsletter.period": "monthly"}),
        (  # the sign-up form on the home and list pages checks the default frequency
            {**SIGNUP, "newsletter.period": "weekly"},
            {**SIGNUP, "newsletter.period": "monthly"},
        ),
        ({"feed_limit": 50}, {"feed_limit": 2}),
        ({"language": "en"}, {"language": "es"}),
    ],
    ids=["newsletters off", "newsletters on", "period", "period on the sign-up form", "feed limit", "language"],
)
def test_a_build_after_an_option_changed_equals_a_fresh_build(tmp_path, before, after):
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    (bulletins / "march.txt").write_text(BULLETIN)
    os.utime(bulletins / "march.txt", ns=(10**18, 10**18))  # long past: no "racily clean" doubt
    out, state = tmp_path / "out", tmp_path / "state"
    build_site(load_config(None, {**BASE, **before}), [str(bulletins)], out, state)
    build_site(load_config(None, {**BASE, **after}), [str(bulletins)], out, state)
    fresh = tmp_path / "fresh"
    build_site(load_config(None, {**BASE, **after}), [str(bulletins)], fresh, tmp_path / "fresh-state")
    assert tree(out) == tree(fresh)


@pytest.mark.parametrize("daemon", [False, True], ids=["build", "watch daemon"])
def test_an_id_line_added_or_changed_on_a_published_entry_is_its_id(tmp_path, daemon):
    """docs/bulletins.md: "An `Id:` line overrides it" — also for an entry published before."""
    from newsletter.builder.pipeline import Builder

    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    path = bulletins / "march.txt"
    path.write_text(BULLETIN)
    os.utime(path, ns=(10**18, 10**18))
    config = load_config(None, BASE)
    out, state = tmp_path / "out", tmp_path / "state"
    builder = None
    if daemon:
        builder = Builder(config, state_dir=state)
        builder.session.defer_saves = True
    build_site(config, [str(bulletins)], out, state, builder=builder)
    for n, fixed in enumerate(("port-opening-2021", "port-opening-2021-v2"), start=2):
        path.write_text(BULLETIN.replace("Peru Opens a Port\n", f"Peru Opens a Port\nId: {fixed}\n"))
        os.utime(path, ns=(n * 10**18, n * 10**18))
        build_site(config, [str(bulletins)], out, state, builder=builder)
        atom = (out / "pe" / "atom.xml").read_text()
        assert f"tag:news.example.org,2021-03-02:{fixed}</id>" in atom
        fresh = tmp_path / f"fresh-{fixed}"
        build_site(config, [str(bulletins)], fresh, tmp_path / f"state-{fixed}")
        assert tree(out) == tree(fresh)
