#!/usr/bin/env python3
"""Precision, recall and exact-set accuracy of the country tagger on tests/helpers/tagger_cases.py,
and of geotext and country_converter (coco) on the same cases, side by side.

usage: python tools/tagger_score.py   (geotext and country_converter are scored when installed:
       pip install geotext country_converter)
       python tools/tagger_score.py --languages   (the language of the cases: stopword scores
       beside py3langid, pip install py3langid)
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers.tagger_cases import CASES, entry  # noqa: E402

from newsletter.content.gazetteer import load_gazetteer  # noqa: E402
from newsletter.content.tagger import Tagger  # noqa: E402


def ours():
    tagger = Tagger(load_gazetteer())
    return lambda case: set(tagger.tag(*entry(case)))  # as the build tags the entry


def geotext():
    from geotext import GeoText

    return lambda case: {code.lower() for code in GeoText(case[1]).country_mentions}


def coco():
    import country_converter

    logging.getLogger("country_converter").setLevel(logging.CRITICAL)
    converter = country_converter.CountryConverter()

    def tag(case: tuple) -> set[str]:
        text = case[1]
        found = set()
        for word in {w.strip(".,:;()'’") for w in text.split()} | {text}:
            code = converter.convert(word, to="ISO2", not_found=None)
            if isinstance(code, str) and len(code) == 2:
                found.add(code.lower())
        return found

    return tag


def score(tag) -> dict[str, tuple[float, float, float]]:
    """class → (precision, recall, exact-set accuracy); "all" for every case."""
    counts = defaultdict(lambda: [0, 0, 0, 0, 0])  # true positives, found, expected, exact, cases
    for case in CASES:
        expected, kind = case[0], case[2]
        want, got = set(expected.split()), tag(case)
        for key in (kind, "all"):
            c = counts[key]
            c[0] += len(want & got)
            c[1] += len(got)
            c[2] += len(want)
            c[3] += want == got
            c[4] += 1
    return {
        k: (tp / found if found else 1.0, tp / exp if exp else 1.0, exact / n)
        for k, (tp, found, exp, exact, n) in counts.items()
    }


def languages() -> int:
    """Which language the cases with a known one are in (tests/helpers/tagger_cases.py LANGUAGE_OF), by
    the tagger's stopword scores and by py3langid (restricted to the four languages), with the
    time each takes per text and to load."""
    import time

    from helpers.tagger_cases import LANGUAGE_OF

    from newsletter.content.gazetteer import fold
    from newsletter.content.language import text_language

    began = time.perf_counter()
    import py3langid

    identifier = py3langid.langid.LanguageIdentifier.from_modelpath(
        py3langid.langid.MODEL_DIR / py3langid.langid.MODEL_FILE
    )
    identifier.set_languages(["en", "es", "fr", "pt"])
    load = time.perf_counter() - began
    texts = list(LANGUAGE_OF.items())
    for name, guess, setup in (
        ("stopword scores", lambda t: text_language(fold(t)) or "?", 0.0),
        ("py3langid", lambda t: identifier.classify(t)[0], load),
    ):
        right = sum(guess(text) == lang for text, lang in texts)
        rounds = []
        for _ in range(5):  # the fastest of five rounds: a shared machine slows some
            began = time.perf_counter()
            for text, _lang in texts:
                guess(text)
            rounds.append((time.perf_counter() - began) / len(texts) * 1e6)
        us = min(rounds)
        print(
            f"{name}: {right} of {len(texts)} right ({right / len(texts):.2f}), {us:.1f} µs per text, "
            f"{setup * 1000:.0f} ms to load"
        )
    return 0


def main() -> int:
    if sys.argv[1:] == ["--languages"]:
        return languages()
    taggers = {"newsletter": ours}
    for name, make in (("geotext", geotext), ("coco", coco)):
        try:
            make()
            taggers[name] = make
        except ImportError:
            print(f"({name} is not installed: pip install {'geotext' if name == 'geotext' else 'country_converter'})")
    results = {name: score(make()) for name, make in taggers.items()}
    kinds = ["all"] + sorted({case[2] for case in CASES})
    print(f"{len(CASES)} cases (tests/helpers/tagger_cases.py); precision / recall / exact set\n")
    print("| class | cases | " + " | ".join(results) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in results) + " |")
    for kind in kinds:
        n = sum(1 for case in CASES if case[2] == kind) if kind != "all" else len(CASES)
        cells = [f"{p:.2f} / {r:.2f} / {e:.2f}" for p, r, e in (results[name][kind] for name in results)]
        print(f"| {kind} | {n} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
