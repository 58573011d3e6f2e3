"""The README: every line `newsletter` writes to stderr starts with `newsletter:`; a problem on one
line of a file is `path:line: what is wrong`, for editors to jump to."""

from __future__ import annotations

from newsletter.cli import main


def test_a_subscriber_list_that_cannot_be_read_is_a_newsletter_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(b"\x00\xff\x00junk")
    for name, exit_code in (("missing.csv", 2), ("empty.csv", 0), ("binary.csv", 2)):
        capsys.readouterr()
        code = main(["subscribers", "import", name, "--state", str(tmp_path / "state")])
        err = capsys.readouterr().err
        assert code == exit_code, (name, err)
        assert err.strip(), name
        for line in err.splitlines():
            assert line.startswith("newsletter: "), (name, line)
            assert name in line


def test_a_bad_line_of_a_subscriber_list_is_path_and_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "people.csv").write_text("email,countries\nnot-an-address,mx\nana@example.org,mx\n", encoding="utf-8")
    code = main(["subscribers", "import", "people.csv", "--state", str(tmp_path / "state")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert any(line.startswith("people.csv:2: ") for line in err.splitlines()), err
    assert all(line.startswith(("people.csv:2: ", "newsletter: ")) for line in err.splitlines()), err
