"""The daemon's incremental path must give exactly what a full build gives."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from newsletter.build import Builder, build_site
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


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_incremental_rebuilds_match_full_builds(tmp_path):
    rng = random.Random(7)
    bulletins = tmp_path / "bulletins"
    bulletins.mkdir()
    for n in range(12):
        (bulletins / f"b{n:02d}.txt").write_text(bulletin(rng, 8, f"f{n}"))
    # A newest entry that no edit below will pass, so the newsletter window stays put.
    (bulletins / "newest.txt").write_text("30 September 2021\n\nPeru newest\n\nBody.\n")
    config = load_config(None, {"base_url": "https://news.example.org/"})
    out, state = tmp_path / "out", tmp_path / "state"
    builder = Builder(config, state_dir=state)
    builder.defer_saves = True
    build_site(config, [str(bulletins)], out, state, builder=builder)
    incremental = 0
    for step in range(40):
        path = bulletins / f"b{rng.randrange(12):02d}.txt"
        action = rng.random()
        if action < 0.4 and path.exists():  # edit a title or a body
            lines = path.read_text().splitlines()
            n = rng.randrange(0, len(lines), 6) + 2 if lines else 0
            if lines and n < len(lines):
                lines[n] = lines[n] + (" edited" if rng.random() < 0.5 else "")
                lines[n + 2 if n + 2 < len(lines) else n] += " more"
            path.write_text("\n".join(lines) + "\n")
        elif action < 0.6:
            path.unlink(missing_ok=True)
        elif action < 0.8:
            path.write_text(bulletin(rng, rng.randint(1, 9), f"s{step}"))
        else:  # a file whose errors keep its last good entries
            if path.exists():
                path.write_text("31 February 2021\n\nBroken\n\nBody.\n\n" + path.read_text())
        before = builder.snapshot
        result = build_site(config, [str(bulletins)], out, state, builder=builder,
                            force=frozenset({str(path.resolve())}), verify=False)
        incremental += builder.snapshot is before and before is not None
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
    assert incremental >= 15  # the fast path was really taken
