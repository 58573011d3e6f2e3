"""`newsletter tag TEXT…`: each quoted TEXT gets its own verdict, under its own heading; words
typed without quotes are one text (T21 #21)."""

from __future__ import annotations

from newsletter.cli import main


def verdicts(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("→")]


def test_each_quoted_text_gets_its_own_verdict(capsys):
    assert main(["tag", "Wells dug in Chad", "Rangers trained in Chile", "A fair in town"]) == 0
    out = capsys.readouterr().out
    assert verdicts(out) == ["→ td", "→ cl", "→ regional (no country named)"]
    lines = out.splitlines()
    assert lines.index("Wells dug in Chad") < lines.index("Rangers trained in Chile") < lines.index("A fair in town")


def test_words_typed_without_quotes_are_one_text(capsys):
    assert main(["tag", "Talks", "in", "Port", "of", "Spain"]) == 0
    out = capsys.readouterr().out
    assert verdicts(out) == ["→ tt"]  # Port of Spain, read as one text: not Spain
    assert not out.startswith("Talks")  # one text: no heading
