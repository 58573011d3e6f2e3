"""`newsletter tag --file` says what `build` says about a bulletin's problems, with the same exit
code; `--language` takes only the languages the tagger reads (#19, trial section 2)."""

from __future__ import annotations

import pytest

from newsletter.cli import main

GOOD = "7 May 2027\n\nWells Dug in Chad\n\nThe wells serve four villages.\n\n"


def build(tmp_path, bulletin) -> int:
    return main(
        [
            "build",
            str(bulletin),
            "--out",
            str(tmp_path / "out"),
            "--state",
            str(tmp_path / "state"),
            "--base-url",
            "https://news.example.org/",
            "-q",
        ]
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ((GOOD + "8 Jnue, 2O27\n\nBridge in Laos\n\nText.\n").encode(), "has a letter for a digit, and 'Jnue'"),
        (
            (GOOD + "8 May 2027\n\nBridge in Laos\nCountries: Laos, Atlantis\n\nText.\n").encode(),
            'unknown country "Atlantis"',
        ),
        (b"\x00\x9f\x13garbage\x00" * 50, "binary data"),
        ("8 May 2027\n\nBridge in Laos\n\nText.\n".encode("utf-16-le"), "binary data"),
    ],
    ids=["date-typo", "countries", "binary", "utf16-no-bom"],
)
def test_tag_file_reports_the_builds_diagnostics_and_exits_1(tmp_path, capsys, data, message):
    bulletin = tmp_path / "b.txt"
    bulletin.write_bytes(data)
    assert main(["tag", "--file", str(bulletin)]) == 1
    tag_err = capsys.readouterr().err
    assert build(tmp_path, bulletin) == 1
    build_err = capsys.readouterr().err
    problems = [line for line in tag_err.splitlines() if message in line]
    assert len(problems) == 1 and problems[0].startswith(f"{bulletin}:")
    assert problems[0] in build_err  # the same line, word for word


def test_tag_file_shows_a_non_utf8_warning_and_exits_0(tmp_path, capsys):
    bulletin = tmp_path / "b.txt"
    bulletin.write_bytes("7 May 2027\n\nCaf\u00e9 in Chad\n\nText.\n".encode("cp1252"))
    assert main(["tag", "--file", str(bulletin)]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and captured.out.strip().endswith("→ td")


def test_tag_with_an_unknown_language_is_a_one_line_usage_error(capsys):
    assert main(["tag", "--language", "xx", "Wells Dug in Chad"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'xx'" in err and "en, es, fr, pt" in err
    assert main(["tag", "--language", "pt-BR", "Wells Dug in Chad"]) == 0
