#!/usr/bin/env python3
"""What the place data of the gazetteer changes: every entry of the given bulletins (and every
case of tests/helpers/tagger_cases.py) tagged with the full table and with the table without its
places — the `place` and `place-word` rows, the article forms of the names a city elsewhere
bears ("au Salvador"), and the states and provinces whose name two countries use — so that
each change can be read and judged before the data is trusted.

usage: python tools/places_effect.py [BULLETIN_OR_FOLDER …] [--show N]
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers.tagger_cases import CASES, entry  # noqa: E402

from newsletter.content.gazetteer import read_table  # noqa: E402
from newsletter.content.parse import parse_bulletin  # noqa: E402
from newsletter.content.sources import find_sources  # noqa: E402
from newsletter.content.tagger import Tagger  # noqa: E402

PLACE_KINDS = ("place", "place-word", "form", "subdivision")


def without_places(text: str, kinds: tuple[str, ...] = PLACE_KINDS) -> str:
    keep = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and (
            parts[1] in kinds
            or (parts[1].endswith("-form") and "form" in kinds)
            or (parts[0] == "-" and parts[1] == "subdivision" and "subdivision" in kinds)
        ):
            continue
        keep.append(line)
    return "\n".join(keep) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="*", help="bulletin files or folders")
    ap.add_argument("--show", type=int, default=20, help="how many changed entries to print (default 20)")
    ap.add_argument(
        "--kinds",
        default=",".join(PLACE_KINDS),
        help="the kinds of row to leave out (default: the place data, "
        + ",".join(PLACE_KINDS)
        + "; e.g. city, abbreviation, language, first-name)",
    )
    args = ap.parse_args()
    table = resources.files("newsletter").joinpath("data/countries.tsv").read_text(encoding="utf-8")
    kinds = tuple(args.kinds.split(","))
    full, bare = Tagger(read_table(table)), Tagger(read_table(without_places(table, kinds)))
    texts: list[tuple[str, str, str, str | None]] = []
    for n, case in enumerate(CASES):
        texts.append((f"tests/helpers/tagger_cases.py #{n}", *entry(case)))
    sources, _ = find_sources(args.inputs) if args.inputs else ([], [])
    for source in sources:
        result = parse_bulletin(str(source.path), source.path.read_bytes(), full.resolve)
        for item in result.entries:
            if item.countries is None:  # tagged as the build of an English site tags it
                texts.append((f"{source.path}:{item.line}", item.title, item.body, item.language or "en"))
    changed = 0
    for where, title, body, language in texts:
        before, after = bare.tag(title, body, language), full.tag(title, body, language)
        if before != after:
            changed += 1
            if changed <= args.show:
                print(f"{where}: {' '.join(before) or '-'} -> {' '.join(after) or '-'}  {title[:70]!r}")
    print(f"{changed} of {len(texts)} texts change their countries with the rows of kind {', '.join(kinds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
