"""The rest of T7's configuration findings (session 8): an empty alias name or exclusion is one
line and exit 2, not a traceback (#29); values are quoted as TOML spells them and a TOML date is
taken for a date (#32); a bad value given on the command line is named as its option, not as a
key of the configuration file that does not set it (#37)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.cli import main
from newsletter.config import load_config, toml_value
from newsletter.errors import ConfigError

BASE = 'base_url = "http://127.0.0.1:8000/"\n'


@pytest.fixture
def site(tmp_path, monkeypatch):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text("3 March 2021\n\nA road opens in Peru\n\nThe new road opens.\n\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build(site: Path, capsys, text: str, *args: str) -> tuple[int, str]:
    (site / "c.toml").write_text(text)
    status = main(["build", "--config", "c.toml", "--out", "out", "--state", "st", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.strip()


@pytest.mark.parametrize(
    "text, line",
    [
        ('[aliases]\n"" = "CL"\n', 'newsletter: c.toml: aliases: a name must not be empty (the one for "CL")'),
        ('[aliases]\n"  " = "CL"\n', 'newsletter: c.toml: aliases: a name must not be empty (the one for "CL")'),
        ('exclusions = [""]\n', 'newsletter: c.toml: exclusions: "" is empty; remove it from the list'),
        (
            'exclusions = ["Georgia Street", " "]\n',
            'newsletter: c.toml: exclusions: " " is empty; remove it from the list',
        ),
    ],
)
def test_an_empty_alias_name_or_exclusion_is_one_line_exit_2(site, capsys, text, line):
    status, err = build(site, capsys, BASE + text)
    assert (status, err) == (2, line)
    assert not (site / "out").exists()


def test_bulletins_must_name_something_and_an_empty_one_is_named_by_its_key(site, capsys):
    assert build(site, capsys, BASE + "bulletins = []\n") == (
        2,
        "newsletter: c.toml: bulletins: must not be empty (name the folders or files to read)",
    )
    assert build(site, capsys, BASE + 'bulletins = [""]\n') == (2, 'newsletter: c.toml: bulletins: "" is not a path')


@pytest.mark.parametrize(
    "text, message",
    [
        ("title = true\n", "title: must be a string, got true"),
        ('title = ["a", "b"]\n', 'title: must be a string, got ["a", "b"]'),
        ("feed_limit = 'ten'\n", 'feed_limit: must be a whole number, got "ten"'),
        ('exclusions = ["x", 3]\n', "exclusions: 3 is not a string"),
        ('[aliases]\nPatagonia = "XX"\n', 'aliases.Patagonia: "XX" is not an ISO 3166-1 alpha-2 country code'),
        ("[newsletter]\nfrequencies = ['weekly', 'hourly']\n", 'must be some of daily, weekly, monthly, not "hourly"'),
        (
            "[newsletter]\nsend_since = 2025-03-01T10:00:00\n",
            "send_since: must be a date such as 2021-08-23, without a time",
        ),
        ("[newsletter]\nsend_since = 10:00:00\n", "send_since: must be a date such as 2021-08-23, without a time"),
    ],
)
def test_values_are_quoted_as_toml_spells_them(tmp_path, text, message):
    path = tmp_path / "newsletter.toml"
    path.write_text(BASE + text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert "True" not in str(caught.value) and "['" not in str(caught.value)


def test_toml_value_spells_every_kind():
    import datetime as dt

    assert [toml_value(v) for v in (True, False, 'a"b', 3, 2.5, float("nan"), float("-inf"))] == [
        "true",
        "false",
        '"a\\"b"',
        "3",
        "2.5",
        "nan",
        "-inf",
    ]
    assert toml_value(["a", {"k": 1}, []]) == '["a", { "k" = 1 }, []]'
    assert toml_value(dt.date(2025, 3, 1)) == "2025-03-01"


def test_a_toml_date_is_taken_for_send_since(tmp_path):
    path = tmp_path / "newsletter.toml"
    path.write_text(BASE + "[newsletter]\nsend_since = 2025-03-01\n")
    assert load_config(path).newsletter_send_since == "2025-03-01"
    path.write_text(BASE + '[newsletter]\nsend_since = "2025-03-01"\n')
    assert load_config(path).newsletter_send_since == "2025-03-01"


def test_a_bad_command_line_value_is_named_as_its_option_not_as_the_files_key(site, capsys):
    status, err = build(site, capsys, 'title = "x"\n', "--base-url", "notaurl")
    assert status == 2
    assert err == "newsletter: --base-url: must be an absolute http(s) URL such as https://news.example.org/"
    # with the file's own problems: each line names where to change it
    status, err = build(site, capsys, 'title = "x"\nfeed_limit = 0\n', "--base-url", "notaurl")
    assert status == 2 and err.splitlines() == [
        "newsletter: c.toml: feed_limit: must be a positive whole number",
        "newsletter: --base-url: must be an absolute http(s) URL such as https://news.example.org/",
    ]
    # set in the file, the file and key are named
    status, err = build(site, capsys, 'base_url = "notaurl"\n')
    assert status == 2 and err.startswith("newsletter: c.toml: base_url: must be an absolute http(s) URL")
