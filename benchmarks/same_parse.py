#!/usr/bin/env python3
"""Do two revisions parse, tag and guess languages alike? For speed work on newsletter/content
that must not change a single entry or message.

    python benchmarks/same_parse.py REV [--against REV2] [PATH ...] [--fuzz 2000] [--tests-capture DIR]

Checks out REV (and REV2, default: the working tree) with `git archive` into a temporary
folder and, in one process per revision, parses every bulletin under PATHs (folders or files;
default: the reference bulletin /work/shared/bulletins/seed-bulletin.txt if it is there) as a
build does (`parse_bulletin` with the tagger's `Countries:` resolver, then `Tagger.tag` for the
entries without a `Countries:` line, with the site's default language), also:
- `--tests-capture DIR`: the bulletins the tests parse, as `--capture DIR` recorded them
  (`pytest -p same_parse` with SAME_PARSE_CAPTURE=DIR set, run from benchmarks/ on PYTHONPATH:
  every `parse_bulletin(path, data)` call of the test run, in-process builds included);
- `--fuzz N`: N bulletins made of random lines (seeded) drawn from all those files, the
  date-line cases of tests/test_parse.py and tests/test_dates_typos.py and variants of them
  (cut, re-cased, glued to words), each file a `.txt` or a `.md`;
- the tagger's case table (tests/helpers/tagger_cases.py): `tag`, `explain_entry`,
  `countries_in`, `text_language`, `is_english` and `clear_language` of every case.
Then compares every field of every entry and every diagnostic (path, line, severity,
message), file by file. Prints each revision's CPU seconds of parsing and of tagging (the least
of `--rounds` runs made in turns). Exit 0 when everything is identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = Path("/work/shared/bulletins/seed-bulletin.txt")


# -- the child: parse with the code on sys.path ---------------------------------------------------


def _inputs(spec: Path) -> list[tuple[str, bytes]]:
    with spec.open("rb") as f:
        return pickle.load(f)


def child(spec: Path, out: Path) -> None:
    from newsletter.config import load_config
    from newsletter.content.gazetteer import fold, load_gazetteer
    from newsletter.content.language import is_english, text_language
    from newsletter.content.parse import clear_language, parse_bulletin
    from newsletter.content.tagger import Tagger

    try:  # as builder/reader.py does
        from newsletter.content.entry import with_countries
    except ImportError:  # before it had it

        def with_countries(e, codes):
            return e._replace(countries=codes)

    files = _inputs(spec)
    language = load_config(None, {"base_url": "https://news.example.org/"}).language
    tagger = Tagger(load_gazetteer())
    parse_cpu = tag_cpu = 0.0
    results = []
    for display, data in files:
        began = time.process_time()
        result = parse_bulletin(display, data, tagger.resolve)
        parsed = time.process_time()
        entries = [
            e if e.countries is not None else with_countries(e, tagger.tag(e.title, e.body, e.language or language))
            for e in result.entries
        ]
        tag_cpu += time.process_time() - parsed
        parse_cpu += parsed - began
        results.append(
            (
                display,
                [tuple(e) for e in entries],
                [(d.path, d.line, d.severity, d.message) for d in result.diagnostics],
                result.has_errors,
            )
        )
    cases = []
    sys.path.insert(0, str(Path(os.environ.get("SAME_PARSE_CODE", ROOT)) / "tests"))
    try:
        from helpers.tagger_cases import CASES
    except ImportError:
        CASES = []
    for case in CASES:
        text = case[1]
        title, _, body = text.partition(". ")
        folded = fold(text)
        row = [text_language(folded), is_english(folded), clear_language(folded), sorted(tagger.countries_in(text))]
        row.append(sorted(tagger.countries_in(text, lower_case=False)))
        for lang in (None, "en", "es", "fr", "pt"):
            row.append(tagger.tag(title, body, lang))
            row.append(tagger.explain_entry(title, body, lang))
        cases.append((text, row))
    with out.open("wb") as f:
        pickle.dump({"files": results, "cases": cases, "parse_cpu": parse_cpu, "tag_cpu": tag_cpu}, f)


# -- the parent -------------------------------------------------------------------------------------


def collect(paths: list[Path], captured: Path | None) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    for path in paths:
        found = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [(str(p), p.read_bytes()) for p in found]
    if captured is not None:
        for p in sorted(captured.glob("*.pickle")):
            with p.open("rb") as f:
                display, data = pickle.load(f)
            files.append((f"captured/{p.stem[:12]}/{display}", data))
    return files


def _date_cases() -> list[str]:
    """The string literals of the date-line tests (lines such as "26 de agosto de 2021")."""
    import ast

    lines = []
    for name in ("test_parse.py", "test_dates_typos.py", "test_parse_language.py"):
        path = ROOT / "tests" / name
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 60:
                if any(c.isdigit() for c in node.value) and "\n" not in node.value:
                    lines.append(node.value)
    return lines


def fuzz(files: list[tuple[str, bytes]], count: int, seed: int = 20) -> list[tuple[str, bytes]]:
    """`count` bulletins of random lines from `files` and the date-line cases, with variants."""
    rng = random.Random(seed)
    pool: list[str] = []
    for _display, data in files[:3000]:
        pool += data.decode("utf-8", "replace").splitlines()[:400]
    dates = _date_cases() + [line for line in pool if line[:1].isdigit() and len(line) < 45]
    words = "the de la Peru Mexico Lunes Thursday mars août 2O26 x ; (updated) - new".split()
    specials = list(
        "\x00\x07\x0b\x0c\x1c\x1f\t\r\xa0\u200b\ufeff\u2028\x85\u3000\xad\u2460\u0663\u2019\u0130\u212a\u0301"
    )

    def variant(line: str) -> str:
        roll = rng.random()
        if roll < 0.15:
            return line.upper()
        if roll < 0.25:
            return line.lower()
        if roll < 0.35 and line:
            return line[: rng.randrange(len(line) + 1)]
        if roll < 0.45:
            return line + rng.choice(["", " ", "x", ".", ",", ";", " 2026", " - updated", " (updated)"])
        if roll < 0.5:
            return rng.choice(words) + " " + line
        if roll < 0.55:
            return " ".join(rng.sample(words, rng.randrange(1, 4))) + rng.choice([" ", ", ", ". "]) + line
        if roll < 0.6:
            return "  " + line + "\t"
        if roll < 0.65:
            return line.replace(" ", "  ")
        if roll < 0.7:
            return rng.choice(["Countries: ", "Language: ", "Link: ", "Id: ", "Lang: es", "# "]) + line
        if roll < 0.75:
            at = rng.randrange(len(line) + 1)
            return line[:at] + rng.choice(specials) + line[at:]
        return line

    made = []
    for n in range(count):
        lines = []
        for _ in range(rng.randrange(1, 60)):
            roll = rng.random()
            if roll < 0.3:
                lines.append(variant(rng.choice(dates)))
            elif roll < 0.5:
                lines.append("")
            else:
                lines.append(variant(rng.choice(pool)) if pool else "")
        end = rng.choice(["\n", "\r\n", "\n\n", ""])
        data = end.join(lines).encode() if end else "\n".join(lines).encode()
        if rng.random() < 0.05:
            data = b"\xef\xbb\xbf" + data
        roll = rng.random()
        if roll < 0.05:
            data = data.decode().encode("cp1252", "replace")
        elif roll < 0.08:
            data = data.decode().encode("utf-16")
        elif roll < 0.1:
            data = data[: rng.randrange(len(data) + 1)]  # cut inside a character, perhaps
        made.append((f"fuzz/f{n:05d}{rng.choice(['.txt', '.txt', '.md'])}", data))
    return made


def tree(rev: str | None, base: Path, name: str) -> Path:
    """The code of `rev` (None: the working tree as it is)."""
    if rev is None:
        return ROOT
    target = base / name
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev, "newsletter", "tests/helpers"], cwd=ROOT, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def run_child(code: Path, spec: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "NEWSLETTER_WORKERS": "1", "SAME_PARSE_CODE": str(code)}
    subprocess.run(
        [sys.executable, str(HERE / "same_parse.py"), "--child", str(spec), str(out)], cwd=code, env=env, check=True
    )
    with out.open("rb") as f:
        return pickle.load(f)


def compare(old: dict, new: dict, limit: int = 20) -> int:
    differences = 0
    fields = None
    try:
        from newsletter.content.entry import Entry

        fields = Entry._fields
    except ImportError:
        pass
    for (path, entries_a, diags_a, err_a), (path_b, entries_b, diags_b, err_b) in zip(
        old["files"], new["files"], strict=True
    ):
        assert path == path_b
        problems = []
        if len(entries_a) != len(entries_b):
            problems.append(f"{len(entries_a)} entries, now {len(entries_b)}")
        for a, b in zip(entries_a, entries_b, strict=False):  # (a count that differs is told above)
            for n, (x, y) in enumerate(zip(a, b, strict=True)):
                if x != y or type(x) is not type(y):
                    problems.append(f"entry line {a[5]}: {fields[n] if fields else n}: {x!r} != {y!r}")
        if diags_a != diags_b:
            problems.append(f"diagnostics: {diags_a!r} != {diags_b!r}")
        if err_a != err_b:
            problems.append(f"has_errors {err_a} != {err_b}")
        if problems:
            differences += 1
            if differences <= limit:
                print(f"DIFFERENT {path}:\n  " + "\n  ".join(problems[:8]))
    for (text, row_a), (_, row_b) in zip(old["cases"], new["cases"], strict=True):
        if row_a != row_b:
            differences += 1
            if differences <= limit:
                print(f"DIFFERENT tagger case {text!r}: {row_a!r} != {row_b!r}")
    return differences


def capture_plugin_configure() -> None:
    """Under pytest with SAME_PARSE_CAPTURE=DIR: record every parse_bulletin call's input."""
    folder = Path(os.environ["SAME_PARSE_CAPTURE"])
    folder.mkdir(parents=True, exist_ok=True)
    import newsletter.content.parse as parse

    original = parse.parse_bulletin

    def recording(path, data, *args, **kwargs):
        name = hashlib.blake2b(path.encode() + b"\0" + data, digest_size=10).hexdigest()
        target = folder / f"{name}.pickle"
        if not target.exists():
            with target.open("wb") as f:
                pickle.dump((Path(path).name if os.path.isabs(path) else path, bytes(data)), f)
        return original(path, data, *args, **kwargs)

    parse.parse_bulletin = recording
    for module in list(sys.modules.values()):
        if getattr(module, "parse_bulletin", None) is original:
            module.parse_bulletin = recording  # type: ignore[attr-defined]


def pytest_configure(config) -> None:  # a pytest plugin when loaded with `-p same_parse`
    if os.environ.get("SAME_PARSE_CAPTURE"):
        capture_plugin_configure()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rev")
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--against", default=None, help="the second revision (default: the working tree)")
    ap.add_argument("--fuzz", type=int, default=0)
    ap.add_argument("--tests-capture", type=Path, default=None)
    ap.add_argument(
        "--rounds", type=int, default=1, help="time each revision this many times, in turns (the least counts)"
    )
    args = ap.parse_intermixed_args()
    paths = args.paths or ([SEED] if SEED.exists() else [])
    files = collect(paths, args.tests_capture)
    if args.fuzz:
        files += fuzz(files, args.fuzz)
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        base = Path(tmp)
        spec = base / "inputs.pickle"
        with spec.open("wb") as f:
            pickle.dump(files, f)
        old_code = tree(args.rev, base, "old")
        new_code = tree(args.against, base, "new")
        old = run_child(old_code, spec, base / "old.pickle")
        new = run_child(new_code, spec, base / "new.pickle")
        for _ in range(args.rounds - 1):  # in turns, so that a busy machine slows both alike
            for mine, code in ((old, old_code), (new, new_code)):
                again = run_child(code, spec, base / "again.pickle")
                mine["parse_cpu"] = min(mine["parse_cpu"], again["parse_cpu"])
                mine["tag_cpu"] = min(mine["tag_cpu"], again["tag_cpu"])
    entries = sum(len(r[1]) for r in new["files"])
    diags = sum(len(r[2]) for r in new["files"])
    print(
        f"{len(files)} files, {entries} entries, {diags} diagnostics, {len(new['cases'])} tagger cases\n"
        f"CPU s: parse {old['parse_cpu']:.2f} -> {new['parse_cpu']:.2f} "
        f"({new['parse_cpu'] / max(old['parse_cpu'], 1e-9):.2f}x), "
        f"tag {old['tag_cpu']:.2f} -> {new['tag_cpu']:.2f} ({new['tag_cpu'] / max(old['tag_cpu'], 1e-9):.2f}x), "
        f"both {(new['parse_cpu'] + new['tag_cpu']) / max(old['parse_cpu'] + old['tag_cpu'], 1e-9):.2f}x"
    )
    differences = compare(old, new)
    print("identical" if not differences else f"{differences} DIFFERENT")
    return 0 if not differences else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(main())
