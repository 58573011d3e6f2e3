"""The daemon's incremental path must give exactly what a full build gives."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
from pathlib import Path

import pytest

from newsletter.builder.pipeline import Builder, build_site
from newsletter.builder.plan import RULES
from newsletter.config import load_config

COUNTRIES = ["Peru", "Chile", "Mexico", "Honduras", "Belize", "Panama"]


def bulletin(rng: random.Random, n: int, tag: str) -> str:
    out = []
    for i in range(n):
        day = 28 - (i % 27)
        countries = rng.sample(COUNTRIES, rng.choice([0, 1, 1, 2]))
        title = f"{' and '.join(countries) or 'Regional forum'} {tag} item {i}"
        year = rng.choice([2019, 2020, 2021])
        out.append(f"{day} {rng.choice(['July', 'August'])} {year}\n\n{title}\n\nBody {rng.random():.6f}.\n\n")
    return "".join(out)


def edited(rng: random.Random, path: Path) -> str:
    """The bulletin at `path` with one title and one body line changed."""
    lines = path.read_text().splitlines()
    n = rng.randrange(0, len(lines), 6) + 2 if lines else 0
    if lines and n < len(lines):
        lines[n] = lines[n] + (" edited" if rng.random() < 0.5 else "")
        lines[n + 2 if n + 2 < len(lines) else n] += " more"
    return "\n".join(lines) + "\n"


def two_years(tmp_path: Path) -> Path:
    """Bulletins of 2019 and 2021 whose mtimes are long past (no "racily clean" doubt)."""
    import os

    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    (bulletins / "old.txt").write_text("3 March 2019\n\nPeru Opens a Port\n\nBody.\n")
    (bulletins / "new.txt").write_text("3 March 2021\n\nChile Opens a Port\n\nBody.\n")
    for path in bulletins.iterdir():
        os.utime(path, ns=(10**18, 10**18))
    return bulletins


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("steps,fast", [(15, 5), pytest.param(40, 15, marks=pytest.mark.slow)])
def test_incremental_rebuilds_match_full_builds(tmp_path, steps, fast):
    rng = random.Random(7)
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(12):
        (bulletins / f"b{n:02d}.txt").write_text(bulletin(rng, 8, f"f{n}"))
    (bulletins / "newest.txt").write_text("30 September 2021\n\nPeru newest\n\nBody.\n")
    config = load_config(
        None, {"base_url": "https://news.example.org/", "newsletter.archive_periods": 4, "newsletter.period": "monthly"}
    )
    out, state = tmp_path / "out", tmp_path / "state"
    builder = Builder(config, state_dir=state)
    builder.session.defer_saves = True
    build_site(config, [str(bulletins)], out, state, builder=builder)
    incremental = 0
    for step in range(steps):
        path = bulletins / f"b{rng.randrange(12):02d}.txt"
        action = rng.random()
        if action < 0.4 and path.exists():  # edit a title or a body
            path.write_text(edited(rng, path))
        elif action < 0.6:
            path.unlink(missing_ok=True)
        elif action < 0.7:
            path.write_text(bulletin(rng, rng.randint(1, 9), f"s{step}"))
        elif action < 0.8:  # news newer than everything, or its going: the newsletter archive moves
            path = bulletins / "newer.txt"
            if path.exists():
                path.unlink()
            else:
                path.write_text(f"{1 + step % 27} November 2021\n\nEcuador update {step}\n\nBody.\n")
        else:  # a file whose errors keep its last good entries
            if path.exists():
                path.write_text("31 February 2021\n\nBroken\n\nBody.\n\n" + path.read_text())
        before = builder.session.snapshot
        result = build_site(
            config, [str(bulletins)], out, state, builder=builder, force=frozenset({str(path.resolve())}), verify=False
        )
        incremental += builder.session.snapshot is before and before is not None
        builder.flush()
        # A fresh process with the same state must produce the same bytes.
        full_state = tmp_path / f"state-{step}"
        shutil.copytree(state, full_state)
        fresh = tmp_path / f"full-{step}"
        build_site(config, [str(bulletins)], fresh, full_state)
        assert tree(out) == tree(fresh), f"step {step}"
        assert len(result.catalog.entries) == len(list(tree(fresh / "entries")))
        shutil.rmtree(fresh)
        shutil.rmtree(full_state)
    assert incremental >= fast  # the fast path was really taken


@pytest.mark.parametrize(
    "period,steps",
    [
        ("weekly", 12),
        ("monthly", 6),
        ("daily", 6),
        # the long random walks: `make test-slow` (CI runs both)
        pytest.param("weekly", 45, marks=pytest.mark.slow),
        pytest.param("monthly", 20, marks=pytest.mark.slow),
        pytest.param("daily", 20, marks=pytest.mark.slow),
    ],
)
def test_one_shot_rebuilds_that_patch_the_last_build_match_full_builds(tmp_path, period, steps):
    """`newsletter build` after a small change patches the last catalog (newsletter.builder.patch);
    every output must be byte-identical to a full build of the same bulletins."""
    import os

    rng = random.Random(int(os.environ.get("WARM_SEED", "11")))
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    stamp = [1_600_000_000_000_000_000]

    def save(path: Path, text: str) -> None:
        path.write_text(text)
        stamp[0] += 1_000_000_000  # mtimes in the past: no "racily clean" doubt
        os.utime(path, ns=(stamp[0], stamp[0]))

    for n in range(12):
        save(bulletins / f"b{n:02d}.txt", bulletin(rng, 8, f"f{n}"))
    save(bulletins / "newest.txt", "30 September 2021\n\nPeru newest\n\nBody.\n")
    config = load_config(
        None,
        {
            "base_url": "https://news.example.org/",
            "feed_limit": 5,
            "newsletter.archive_periods": 30,
            "newsletter.period": period,
        },
    )
    out, state = tmp_path / "out", tmp_path / "state"
    build_site(config, [str(bulletins)], out, state)
    patched = 0
    for step in range(steps):
        path = bulletins / f"b{rng.randrange(12):02d}.txt"
        action = rng.random()
        if action < 0.35 and path.exists():  # edit a title or a body
            save(path, edited(rng, path))
        elif action < 0.45:
            path.unlink(missing_ok=True)
        elif action < 0.65:
            save(path, bulletin(rng, rng.randint(1, 9), f"s{step}"))
        elif action < 0.75:  # news newer than everything: the newsletter archive moves on
            day = dt.date(2021, 10, 1) + dt.timedelta(days=3 * step)
            save(bulletins / f"new{step:02d}.txt", f"{day.day} {day:%B} {day.year}\n\nChile update {step}\n\nBody.\n")
        elif action < 0.8:  # a file with errors keeps its last good entries
            if path.exists():
                save(path, "31 February 2021\n\nBroken\n\nBody.\n\n" + path.read_text())
        elif action < 0.9:  # a country with no entry yet appears, or its only file goes: the group empties
            rare = bulletins / "rare.txt"
            if rare.exists():
                rare.unlink()
            else:
                day = rng.choice([dt.date(2019, 7, 4), dt.date(2020, 8, 9), dt.date(2021, 7, 20)])
                save(rare, f"{day.day} {day:%B} {day.year}\n\nEcuador and Peru step {step}\n\nBody.\n")
        else:  # a new file in the middle of the range
            save(bulletins / f"c{step:02d}.txt", bulletin(rng, 3, f"c{step}"))
        result = build_site(config, [str(bulletins)], out, state)
        patched += result.plan.way == "patch"
        full_state = tmp_path / f"state-{step}"
        shutil.copytree(state, full_state)
        for manifest in full_state.glob("outputs-*"):
            shutil.rmtree(manifest)
        fresh = tmp_path / f"full-{step}"
        build_site(config, [str(bulletins)], fresh, full_state)
        got, want = tree(out), tree(fresh)
        if got != want:
            import difflib

            bad = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            detail = "".join(
                difflib.unified_diff(
                    want.get(bad[0], b"").decode().splitlines(True), got.get(bad[0], b"").decode().splitlines(True), n=1
                )
            )
            raise AssertionError(f"step {step} ({result.plan.way}): {bad[:5]}\n{detail[:3000]}")
        shutil.rmtree(fresh)
        shutil.rmtree(full_state)
    assert patched >= steps // 3  # the patch path was really taken


def test_a_patched_rebuild_reports_like_a_full_one(tmp_path):
    """The summary line of a rebuild that patched the last build counts every file, and the
    nothing-changed shortcut after it finds every output intact."""
    import os

    from conftest import run_cli

    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    rng = random.Random(3)
    for n in range(6):
        (bulletins / f"b{n}.txt").write_text(bulletin(rng, 6, f"f{n}"))
        os.utime(bulletins / f"b{n}.txt", ns=(10**18, 10**18))
    args = ["build", "bulletins", "--out", "out", "--state", "state", "--base-url", "https://news.example.org/"]
    first = run_cli(*args, cwd=tmp_path)
    total = len(list((tmp_path / "out").rglob("*.*")))
    target = bulletins / "b3.txt"
    target.write_text(edited(rng, target))
    os.utime(target, ns=(10**18 + 10**9,) * 2)
    second = run_cli(*args, "-v", cwd=tmp_path)
    assert first.code == second.code == 0
    assert "newsletter: plan: → patch: 1 file changed: bulletins/b3.txt" in second.err
    written = int(re.search(r"(\d+) files? written", second.err).group(1))
    assert 1 <= written < total // 4 and f"{total - written} unchanged" in second.err
    third = run_cli(*args, "-v", cwd=tmp_path)
    assert "nothing changed since the last build" in third.err and f"0 files written, {total} unchanged" in third.err


def test_full_flag_checks_every_output(tmp_path):
    """A patched rebuild checks the outputs it renders or reuses; `build --full` checks all of
    them (an output edited by hand elsewhere is repaired there)."""
    import os

    from conftest import run_cli

    bulletins = two_years(tmp_path)
    args = ["build", "bulletins", "--out", "out", "--state", "state", "--base-url", "https://news.example.org/"]
    run_cli(*args, cwd=tmp_path)
    page = tmp_path / "out/entries/2019-03-03-peru-opens-a-port.html"
    original = page.read_bytes()
    page.write_text("edited by hand")
    (bulletins / "new.txt").write_text("3 March 2021\n\nChile Opens a Port\n\nBody, longer.\n")
    os.utime(bulletins / "new.txt", ns=(10**18 + 10**9,) * 2)
    patched = run_cli(*args, "-v", cwd=tmp_path)
    assert "plan: → patch: 1 file changed: bulletins/new.txt" in patched.err
    assert page.read_text() == "edited by hand"  # 2019 was not part of the change
    full = run_cli(*args, "--full", cwd=tmp_path)
    assert full.code == 0 and page.read_bytes() == original


def test_outputs_removed_by_hand_stop_the_patch_path(tmp_path):
    """A file deleted from the output folder changes its folder's mtime: the next build,
    though only a bulletin changed, is a full one and puts the file back."""
    import os

    from conftest import run_cli

    bulletins = two_years(tmp_path)
    args = ["build", "bulletins", "--out", "out", "--state", "state", "--base-url", "https://news.example.org/", "-v"]
    run_cli(*args, cwd=tmp_path)
    year_page = tmp_path / "out/pe/2019/index.html"
    original = year_page.read_bytes()
    year_page.unlink()
    (bulletins / "new.txt").write_text("3 March 2021\n\nChile Opens a Port\n\nBody, longer.\n")
    os.utime(bulletins / "new.txt", ns=(10**18 + 10**9,) * 2)
    run = run_cli(*args, cwd=tmp_path)
    assert "plan: → patch" not in run.err and "plan: ✗ patch: outputs were added, removed or replaced" in run.err
    assert year_page.read_bytes() == original
    (bulletins / "new.txt").write_text("3 March 2021\n\nChile Opens a Port\n\nBody, longer still.\n")
    os.utime(bulletins / "new.txt", ns=(10**18 + 2 * 10**9,) * 2)
    assert "plan: → patch: 1 file changed: bulletins/new.txt" in run_cli(*args, cwd=tmp_path).err  # patched again


def _edit_and_stamp(path: Path, text: str, n: int) -> None:
    import os

    path.write_text(text)
    os.utime(path, ns=(10**18 + n * 10**9,) * 2)


def test_patch_path_after_the_daemon_with_two_outputs_and_after_a_config_change(tmp_path, monkeypatch):
    """State written by the daemon (no catalog metadata) leads to one full build, then to
    patches again; two output folders sharing one state folder stay identical; a change of
    configuration is never patched."""
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # the full builds go by batches, small as the site is
    bulletins = two_years(tmp_path)
    config = load_config(None, {"base_url": "https://news.example.org/"})
    state, out1, out2 = tmp_path / "state", tmp_path / "out1", tmp_path / "out2"
    daemon = Builder(config, state_dir=state)
    daemon.session.defer_saves = True
    build_site(config, [str(bulletins)], out1, state, builder=daemon, verify=False)
    daemon.flush()
    _edit_and_stamp(bulletins / "new.txt", "3 March 2021\n\nChile Opens a Port\n\nBody, longer.\n", 1)
    assert build_site(config, [str(bulletins)], out1, state).plan.way == "batches"  # no catalog kept by the daemon
    build_site(config, [str(bulletins)], out2, state)
    _edit_and_stamp(bulletins / "old.txt", "3 March 2019\n\nPeru Opens a New Port\n\nBody.\n", 2)
    assert build_site(config, [str(bulletins)], out1, state).plan.way == "patch"
    assert build_site(config, [str(bulletins)], out2, state).plan.way == "patch"
    assert tree(out1) == tree(out2)
    changed = load_config(None, {"base_url": "https://news.example.org/", "feed_limit": 1})
    _edit_and_stamp(bulletins / "old.txt", "3 March 2019\n\nPeru Opens a New Port\n\nBody again.\n", 3)
    result = build_site(changed, [str(bulletins)], out1, state)
    assert result.plan.way == "batches"  # not patched
    fresh_state = tmp_path / "state-copy"
    shutil.copytree(state / "identity", fresh_state / "identity")
    build_site(changed, [str(bulletins)], tmp_path / "fresh", fresh_state)
    assert tree(out1) == tree(tmp_path / "fresh")


def _winter_bulletin(rng: random.Random, n: int, tag: str) -> str:
    """Entries around new year (weeks that straddle two years) over several years."""
    out = []
    for i in range(n):
        day = dt.date(rng.choice([2017, 2018, 2019, 2020, 2021]), 12, 24) + dt.timedelta(days=rng.randrange(14))
        countries = rng.sample(COUNTRIES, rng.choice([0, 1, 2]))
        title = f"{' and '.join(countries) or 'Regional forum'} {tag} winter {i}"
        out.append(f"{day.day} {day:%B} {day.year}\n\n{title}\n\nBody {rng.random():.6f}.\n\n")
    return "".join(out)


@pytest.mark.parametrize("period", ["weekly", "monthly", "daily"])
def test_builds_year_by_year_match_builds_in_memory(tmp_path, monkeypatch, period):
    """One-shot full builds go year by year (newsletter.builder.batches); the daemon builds in memory.
    Both must give the same bytes, with many small batches, weeks straddling new year,
    a file with errors, and years that lose every entry between builds."""
    from newsletter.builder import batches as stream

    monkeypatch.setattr(stream, "BATCH", 7)
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # by batches, small as the site is
    rng = random.Random(int(os.environ.get("STREAM_SEED", "5")))
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(10):
        (bulletins / f"b{n:02d}.txt").write_text(bulletin(rng, 8, f"f{n}") + _winter_bulletin(rng, 5, f"w{n}"))
    (bulletins / "old.txt").write_text("3 March 2009\n\nPeru in 2009\n\nBody.\n")
    config = load_config(
        None, {"base_url": "https://news.example.org/", "newsletter.archive_periods": 0, "newsletter.period": period}
    )
    for step in range(3):
        streamed = build_site(config, [str(bulletins)], tmp_path / "out", tmp_path / "state")
        assert streamed.plan.way == "batches"
        builder = Builder(config, state_dir=tmp_path / f"mem-state-{step}")
        builder.session.defer_saves = True
        shutil.copytree(tmp_path / "state" / "identity", tmp_path / f"mem-state-{step}" / "identity")
        in_memory = build_site(
            config, [str(bulletins)], tmp_path / f"mem-{step}", tmp_path / f"mem-state-{step}", builder=builder
        )
        assert in_memory.plan.way == "in memory"
        assert tree(tmp_path / "out") == tree(tmp_path / f"mem-{step}"), f"step {step}"
        assert streamed.summary().split(" from ")[0] == in_memory.summary().split(" from ")[0]
        # next: a year disappears, a file breaks (its last good entries stay), new winter news
        (bulletins / "old.txt").unlink(missing_ok=True)
        (bulletins / "b03.txt").write_text(
            "31 February 2021\n\nBroken\n\nBody.\n\n" + (bulletins / "b03.txt").read_text()
        )
        (bulletins / f"n{step}.txt").write_text(_winter_bulletin(rng, 4, f"n{step}"))
        for manifest in (tmp_path / "state").glob("outputs-*"):
            (manifest / "head").unlink()  # no patching: a full build each time


def test_a_build_that_stops_half_way_is_not_patched_later(tmp_path, monkeypatch):
    """A full build rewrites year files batch by batch; if it dies before the head is
    written, the next build must not patch year files that no longer match the old head."""
    from newsletter.builder import batches as stream

    monkeypatch.setattr(stream, "BATCH", 5)
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # by batches, small as the site is
    rng = random.Random(9)
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(6):
        (bulletins / f"b{n}.txt").write_text(bulletin(rng, 8, f"f{n}"))
        os.utime(bulletins / f"b{n}.txt", ns=(10**18, 10**18))
    config = load_config(None, {"base_url": "https://news.example.org/"})
    out, state = tmp_path / "out", tmp_path / "state"
    build_site(config, [str(bulletins)], out, state)
    (bulletins / "b0.txt").write_text(bulletin(rng, 8, "g0"))  # one file changes, and the build is a full one
    os.utime(bulletins / "b0.txt", ns=(10**18 + 10**9, 10**18 + 10**9))
    calls = []
    real = stream.run_batch

    def dies_on_the_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(*args)

    monkeypatch.setattr(stream, "run_batch", dies_on_the_second)
    with pytest.raises(RuntimeError):
        build_site(config, [str(bulletins)], out, state, full=True)
    monkeypatch.setattr(stream, "run_batch", real)
    (bulletins / "b0.txt").write_text((bulletins / "b0.txt").read_text() + "\n")  # a small change
    os.utime(bulletins / "b0.txt", ns=(10**18 + 2 * 10**9,) * 2)
    again = build_site(config, [str(bulletins)], out, state)
    assert again.plan.way != "patch"
    shutil.copytree(state / "identity", tmp_path / "fresh-state" / "identity")
    build_site(config, [str(bulletins)], tmp_path / "fresh", tmp_path / "fresh-state")
    assert tree(out) == tree(tmp_path / "fresh")


def test_explain_prints_the_plan_and_writes_nothing(tmp_path, monkeypatch):
    """`build --explain` gives the way a build would go and why the cheaper ones are ruled out;
    it writes nothing. `-v` prints the plan a build ran, in the same words."""
    import os

    from conftest import run_cli

    monkeypatch.setenv(
        "NEWSLETTER_SMALL_SITE_BYTES", "0"
    )  # the commands' full builds go by batches, small as the site is
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(4):
        (bulletins / f"b{n}.txt").write_text(bulletin(random.Random(n), 5, f"x{n}"))
        os.utime(bulletins / f"b{n}.txt", ns=(10**18, 10**18))
    args = ["build", "bulletins", "--out", "out", "--state", "state", "--base-url", "https://news.example.org/"]
    first = run_cli(*args, "--explain", cwd=tmp_path)
    assert first.code == 0 and not (tmp_path / "out").exists() and not (tmp_path / "state").exists()
    assert first.out.splitlines() == [
        "✗ unchanged: no earlier one-shot build of this output folder",
        "✗ patch: no earlier build of this output folder",
        "→ batches: 4 of 4 files are new or changed since the last build read them",
        "  (batches: a full build, year by year, reusing the outputs that are unchanged)",
        "  the build is done in memory instead if reading them shows that:",
        "  - an entry has an Id: line (such ids are given in file order over the whole site)",
        "  - two entries have the same date and title, but for case or punctuation (the whole site's order decides "
        "between them)",
    ]
    built = run_cli(*args, "-v", cwd=tmp_path)
    assert "newsletter: plan: → batches: " in built.err
    assert "newsletter: plan:   renders: every unit, batch by batch: " in built.err
    assert (
        run_cli(*args, "--explain", cwd=tmp_path)
        .out.splitlines()[0]
        .startswith("→ unchanged: nothing changed since the last build")
    )
    (bulletins / "b1.txt").write_text(edited(random.Random(9), bulletins / "b1.txt"))
    os.utime(bulletins / "b1.txt", ns=(10**18 + 10**9,) * 2)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")}
    lines = run_cli(*args, "--explain", cwd=tmp_path).out.splitlines()
    assert lines[0] == "✗ unchanged: a bulletin changed: bulletins/b1.txt"  # which one, not the rule's list
    assert lines[1] == "→ patch: 1 file changed: bulletins/b1.txt"
    # what a patch is, and what would make it fall back (the rules it checks while running, from RULES)
    assert lines[2] == "  (patch: only what the changed files touch is rendered again)"
    assert lines[3] == "  a full build is done instead if reading the changed files shows that:"
    unchecked = [r.says for r in RULES if r.ways == ("patch",) and r.check is None and r.name != "outputs touched"]
    assert [line.removeprefix("  - ") for line in lines[4:]] == [re.sub(r" \(the plan .*\)$", "", s) for s in unchecked]
    assert "  - an entry left a list's feed, which must be refilled from older entries" in lines
    assert run_cli(*args, "--explain", "--full", cwd=tmp_path).out.splitlines()[:2] == [
        "✗ unchanged, patch: --full",  # ways ruled out for the same reason: one line
        "→ batches: 1 of 4 files is new or changed since the last build read them",
    ]
    assert (
        taken(run_cli(*args, "--explain", "--strict", cwd=tmp_path).out.splitlines())
        == "→ in memory: the whole catalog at once"
    )
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "out").rglob("*")} == before
    # -v names the units the patch renders: the lists the changed entries are in, their years
    patched = run_cli(*args, "-v", cwd=tmp_path)
    renders = [line for line in patched.err.splitlines() if "renders:" in line]
    assert "→ patch: 1 file changed" in patched.err and len(renders) == 1, patched.err
    assert "feeds and pages of all" in renders[0] and "year pages of" in renders[0]


@pytest.mark.parametrize("daemon", [False, True], ids=["patch", "live"])
def test_both_fast_paths_take_a_country_appearing_or_emptying_and_the_newest_date_moving(tmp_path, daemon):
    """The one-shot patch and the daemon's live path follow the same rules: a country that
    appears or whose last entry goes, a newest date that moves the newsletter archive
    forwards or backwards, and a file with an error (its last good entries stay) are patched
    in — with the bytes of a full build."""
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    stamp = [1_600_000_000_000_000_000]

    def save(name: str, text: str) -> None:
        (bulletins / name).write_text(text)
        stamp[0] += 1_000_000_000
        os.utime(bulletins / name, ns=(stamp[0], stamp[0]))

    for n in range(6):
        save(
            f"b{n}.txt",
            f"{n + 1} May 2021\n\nPeru and Chile item {n}\n\nBody {n}.\n\n"
            f"{n + 2} February 2021\n\nMexico item {n}\n\nBody.\n",
        )
    config = load_config(
        None, {"base_url": "https://news.example.org/", "newsletter.period": "monthly", "newsletter.archive_periods": 3}
    )
    out, state = tmp_path / "out", tmp_path / "state"
    builder = None
    if daemon:
        builder = Builder(config, state_dir=state)
        builder.session.defer_saves = True
    build_site(config, [str(bulletins)], out, state, builder=builder)
    steps = [
        ("a country appears", "rare.txt", lambda: save("rare.txt", "9 March 2021\n\nEcuador opens a port\n\nBody.\n")),
        (
            "the newest date moves on",
            "newer.txt",
            lambda: save("newer.txt", "2 September 2021\n\nChile update\n\nBody.\n"),
        ),
        ("the newest date moves back", "newer.txt", lambda: (bulletins / "newer.txt").unlink()),
        ("a country empties", "rare.txt", lambda: (bulletins / "rare.txt").unlink()),
        (
            "a file gets an error",
            "b2.txt",
            lambda: save("b2.txt", "31 February 2021\n\nBroken\n\nBody.\n\n" + (bulletins / "b2.txt").read_text()),
        ),
    ]
    for n, (what, name, change) in enumerate(steps):
        change()
        if daemon:
            result = build_site(
                config,
                [str(bulletins)],
                out,
                state,
                builder=builder,
                verify=False,
                force=frozenset({str((bulletins / name).resolve())}),
            )
            builder.flush()
            assert result.plan.way == "live", (what, result.plan.lines())
        else:
            result = build_site(config, [str(bulletins)], out, state)
            assert result.plan.way == "patch", (what, result.plan.lines())
        fresh, fresh_state = tmp_path / f"full-{n}", tmp_path / f"state-{n}"
        build_site(config, [str(bulletins)], fresh, fresh_state)
        assert tree(out) == tree(fresh), what
        assert (out / "ec" / "index.html").exists() == (
            what in ("a country appears", "the newest date moves on", "the newest date moves back")
        )


QUICKER = "the whole catalog at once is quicker than batches of years"


def taken(lines: list[str]) -> str:
    """The line of the way taken (under it, what that way is and what would make it fall back)."""
    return next(line for line in lines if line.startswith("→"))


def test_a_small_site_is_built_in_memory_and_the_plan_says_why(tmp_path, monkeypatch):
    """A full one-shot build of a small site (its bulletins under `workers.SMALL_SITE_BYTES` in
    all) goes in memory, the whole catalog at once: fixed costs dominate it, and batches of
    years would only add a scan and forks. `--explain` and `-v` say why batches was not taken;
    the next builds still find nothing changed or patch. At or above the threshold (the
    constant, or NEWSLETTER_SMALL_SITE_BYTES) the build goes by batches."""
    from conftest import run_cli

    from newsletter.builder import workers
    from newsletter.builder.pipeline import explain

    monkeypatch.delenv("NEWSLETTER_SMALL_SITE_BYTES", raising=False)
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(3):
        (bulletins / f"b{n}.txt").write_text(bulletin(random.Random(n), 5, f"s{n}"))
        os.utime(bulletins / f"b{n}.txt", ns=(10**18, 10**18))
    size = sum(p.stat().st_size for p in bulletins.iterdir())
    assert size < workers.SMALL_SITE_BYTES == workers.small_site_bytes()
    args = ["build", "bulletins", "--out", "out", "--state", "state", "--base-url", "https://news.example.org/"]
    why = f"✗ batches: a small site ({size:,} bytes of bulletins, under {workers.SMALL_SITE_BYTES:,}): " + QUICKER
    lines = run_cli(*args, "--explain", cwd=tmp_path).out.splitlines()
    assert why in lines and taken(lines) == "→ in memory: the whole catalog at once"
    built = run_cli(*args, "-v", cwd=tmp_path)
    assert built.code == 0 and f"newsletter: plan: {why}\n" in built.err
    assert "newsletter: plan: → in memory: the whole catalog at once\n" in built.err
    assert run_cli(*args, "--explain", cwd=tmp_path).out.startswith("→ unchanged: nothing changed")
    config = load_config(None, {"base_url": "https://news.example.org/"})
    monkeypatch.chdir(tmp_path)  # the files named as the command named them
    out, state, inputs = Path("out"), Path("state"), ["bulletins"]
    (bulletins / "b1.txt").write_text(edited(random.Random(9), bulletins / "b1.txt"))
    os.utime(bulletins / "b1.txt", ns=(10**18 + 10**9,) * 2)
    patched = build_site(config, inputs, out, state)
    assert patched.plan.way == "patch", patched.plan.lines()  # the in-memory build left its catalog
    in_memory = build_site(config, inputs, out, state, full=True)
    size = sum(p.stat().st_size for p in bulletins.iterdir())  # edited
    said = f"a small site ({size:,} bytes of bulletins, under {workers.SMALL_SITE_BYTES:,}): " + QUICKER
    assert in_memory.plan.way == "in memory" and ("batches", False, said) in in_memory.plan.steps
    # at the threshold, by batches (the constant, then the environment variable), with the same bytes
    monkeypatch.setattr(workers, "SMALL_SITE_BYTES", size)
    assert explain(config, inputs, out, state, full=True).way == "batches"
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", str(size + 1))
    assert explain(config, inputs, out, state, full=True).way == "in memory"
    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", str(size))
    assert build_site(config, inputs, Path("out2"), state).plan.way == "batches"
    assert tree(out) == tree(Path("out2"))


def test_a_way_that_falls_back_is_planned_again(tmp_path, monkeypatch):
    """`plan` decides every build: the rules it can check beforehand rule ways out; a rule
    only the running way can see broken (an `Id:` line met while parsing) makes the way raise
    `FallBack`, and `plan` is asked again, which now rules that way out with that rule's words
    and takes the next. `--explain` and the build agree up to that point."""
    from newsletter.builder.pipeline import explain

    monkeypatch.setenv("NEWSLETTER_SMALL_SITE_BYTES", "0")  # batches, small as the site is

    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    (bulletins / "a.txt").write_text(bulletin(random.Random(1), 6, "a"))
    text = bulletin(random.Random(2), 6, "b")
    first_title = text.split("\n\n")[1]
    (bulletins / "b.txt").write_text(text.replace(first_title, first_title + "\nId: urn:example:b-1", 1))
    config = load_config(None, {"base_url": "https://news.example.org/"})
    out, state = tmp_path / "out", tmp_path / "state"
    planned = explain(config, [str(bulletins)], out, state)
    assert planned.way == "batches"
    result = build_site(config, [str(bulletins)], out, state)
    says = next(r.says for r in RULES if "batches" in r.ways and r.name == "Id: lines")
    assert result.plan.steps[: len(planned.steps) - 1] == planned.steps[:-1]  # the same rules, in the same order
    assert ("batches", False, says) in result.plan.steps
    assert result.plan.way == "in memory" and result.plan.steps[-1][1]
    assert (out / "index.html").is_file()
    # the files parsed, `--explain` no longer guesses: the parse cache shows the Id: line
    assert taken(planned.lines()) == "→ batches: 2 of 2 files are new or changed since the last build read them"
    again = explain(config, [str(bulletins)], out, state, full=True)
    assert ("batches", False, says) in again.steps and again.way == "in memory"
    (bulletins / "b.txt").write_text(text)  # the Id: line gone: batches, and nothing left to guess
    clean = explain(config, [str(bulletins)], out, state, full=True)
    assert clean.way == "batches"
    assert taken(clean.lines()) == "→ batches: 1 of 2 files is new or changed since the last build read them"
    assert "  - an entry has an Id: line (such ids are given in file order over the whole site)" in clean.lines()
    build_site(config, [str(bulletins)], out, state)
    parsed = explain(config, [str(bulletins)], out, state, full=True)
    assert parsed.lines()[-2:] == [
        "→ batches: all 2 files are as the last build read them: no Id: line, no two entries with the same date and "
        "title",
        "  (batches: a full build, year by year, reusing the outputs that are unchanged)",
    ]  # nothing left that would make it fall back


def test_a_brand_change_reaches_every_output_of_a_rebuild(tmp_path):
    """The brand's options are in the fingerprints of the newsletters and of feed.xsl: a rebuild
    after changing them gives what a full build with them gives."""
    bulletins = two_years(tmp_path)
    base = {"base_url": "https://news.example.org/"}
    state, out = tmp_path / "state", tmp_path / "out"
    build_site(load_config(None, base), [str(bulletins)], out, state)
    brand = {**base, "brand.accent": "#8a1c3b", "brand.accent_dark": "#ffb3c6", "brand.footer_text": "Harbour Trust"}
    changed = load_config(None, brand)
    build_site(changed, [str(bulletins)], out, state)
    fresh_state = tmp_path / "state-copy"
    shutil.copytree(state / "identity", fresh_state / "identity")
    build_site(changed, [str(bulletins)], tmp_path / "fresh", fresh_state)
    assert tree(out) == tree(tmp_path / "fresh")
    assert b"#8a1c3b" in tree(out)["newsletters/cl/2021-W09.html"] and b"Harbour Trust" in tree(out)["feed.xsl"]
