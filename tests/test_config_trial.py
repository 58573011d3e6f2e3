"""What a new user's trial of newsletter.toml found (T7, sessions 7 and 8): each wrong file is
refused with one line naming the file and the key, exit 2, no traceback, and nothing is written;
an empty alias name or exclusion is one line and exit 2 (#29); values are quoted as TOML spells
them and a TOML date is taken for a date (#32); a bad value given on the command line is named
as its option, not as a key of the configuration file that does not set it (#37)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.cli import main
from newsletter.config import OPTIONS, load_config, toml_value
from newsletter.errors import ConfigError

BASE = 'base_url = "http://127.0.0.1:8000/"\n'


@pytest.fixture
def site(tmp_path, monkeypatch):
    (tmp_path / "bulletins").mkdir()
    (tmp_path / "bulletins" / "a.txt").write_text("3 March 2021\n\nA road opens in Peru\n\nThe new road opens.\n\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build(site: Path, capsys, text: str | bytes, *args: str) -> tuple[int, str]:
    """`newsletter build --config c.toml` with `text` as c.toml: its exit status and its one line."""
    config = site / "c.toml"
    config.write_bytes(text if isinstance(text, bytes) else text.encode())
    status = main(["build", "--config", "c.toml", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status:
        assert len(err.strip().splitlines()) == 1, err
        assert not (site / "feeds").exists()
    return status, err.strip()


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "newsletter.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_a_file_that_is_not_utf8_or_a_folder_is_one_line_exit_2(site, capsys):
    status, line = build(site, capsys, b'title = "ok"\n\xff\xfe bad\n')
    assert status == 2 and line == "newsletter: c.toml: not valid TOML: not UTF-8 text (byte 0xff at line 2)"
    status, line = build(site, capsys, BASE.encode() + b'title = "caf\xe9"\n')  # saved as Latin-1
    assert status == 2 and line == "newsletter: c.toml: not valid TOML: not UTF-8 text (byte 0xe9 at line 2)"
    (site / "conf").mkdir()
    status = main(["build", "--config", "conf"])
    line = capsys.readouterr().err.strip()
    assert status == 2 and line == "newsletter: conf: this is a folder, not a configuration file"


@pytest.mark.parametrize(
    "text, key",
    [
        (BASE + 'title = ""\n', "title"),
        (BASE + 'title = "  "\n', "title"),
        (BASE + 'state = ""\n', "state"),
        (BASE + 'out = ""\n', "out"),
        (BASE + "bulletins = []\n", "bulletins"),
        (BASE + '[newsletter]\nfrom_address = ""\n', "newsletter.from_address"),
        (BASE + '[newsletter]\nsubscribers = ""\n', "newsletter.subscribers"),
        (BASE + '[smtp]\nhost = ""\n', "smtp.host"),
    ],
)
def test_an_option_that_must_not_be_empty_is_refused(site, capsys, text, key):
    status, line = build(site, capsys, text)
    assert status == 2 and line.startswith(f"newsletter: c.toml: {key}: must not be empty"), line
    assert not list(site.glob(".newsletter*")) and sorted(p.name for p in site.iterdir()) == ["bulletins", "c.toml"]


def test_an_empty_from_address_is_refused_without_newsletters_too(tmp_path):
    """serve's confirmation mails and `send --test` come from it too (T7 23: `From: Field Notes <>`)."""
    message = refused(tmp_path, BASE + '[newsletter]\nenabled = false\nfrom_address = ""\n')
    assert "newsletter.from_address: must not be empty" in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/?x=1", "http://127.0.0.1:8000/site#top", "https://a.org/?"])
def test_a_base_url_or_public_url_with_a_query_or_fragment_is_refused(tmp_path, url):
    assert "base_url: must not have a query or fragment" in refused(tmp_path, f'base_url = "{url}"\n')
    message = refused(tmp_path, BASE + f'[newsletter]\npublic_url = "{url}"\n')
    assert "newsletter.public_url: must not have a query or fragment" in message


def test_a_missing_brand_file_is_refused_at_load_relative_to_the_file(site, capsys):
    status, line = build(site, capsys, BASE + '[brand]\nlogo = "missing.png"\n')
    assert status == 2 and line == f"newsletter: c.toml: brand.logo: no such file: {Path('missing.png')}"
    (site / "conf").mkdir()
    (site / "conf" / "tab.ico").write_bytes(b"\0")
    (site / "conf" / "c.toml").write_text(BASE + '[brand]\nfavicon = "tab.ico"\nlogo = "tab.png"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(site / "conf" / "c.toml")
    assert caught.value.problems == [f"brand.logo: no such file: {site / 'conf' / 'tab.png'}"]
    (site / "conf" / "tab.png").write_bytes(b"\0")
    assert load_config(site / "conf" / "c.toml").brand_favicon == str(site / "conf" / "tab.ico")


def test_a_section_given_as_a_value_must_be_a_table(tmp_path):
    assert 'newsletter.toml: newsletter: must be a table ([newsletter]), got "x"' in refused(
        tmp_path, BASE + 'newsletter = "x"\n'
    )


def test_a_path_set_in_the_file_is_named_by_its_key_not_as_an_option(site, capsys):
    status, line = build(site, capsys, BASE + 'out = "bulletins/o"\n')
    assert status == 2 and line.startswith("newsletter: c.toml: out: bulletins/o is inside the bulletin folder"), line
    status, line = build(site, capsys, BASE + 'out = "o"\nstate = "o/st"\n')
    assert status == 2 and line.startswith("newsletter: c.toml: state: o/st is inside the output folder o;"), line
    assert "--state" not in line
    # given on the command line, they are named as options
    status, line = build(site, capsys, BASE, "--out", "o", "--state", "o/st")
    assert status == 2 and "the state folder o/st is inside the output folder o" in line and "--state DIR" in line
    status, line = build(site, capsys, BASE + 'out = "x"\n', "--out", "bulletins/o")
    assert status == 2 and line.startswith("newsletter: --out bulletins/o is inside"), line


@pytest.mark.parametrize(
    "text, message",
    [
        ("[smtp]\ntimeout = nan\n", "smtp.timeout: must be a finite number, got nan"),
        ("[newsletter]\nsend_delay = inf\n", "newsletter.send_delay: must be a finite number, got inf"),
        ("[serve]\nconfirm_hours = -inf\n", "serve.confirm_hours: must be a finite number, got -inf"),
        ("[smtp]\ntimeout = 0\n", "smtp.timeout: must be a positive number"),
        ("feed_limit = 0\n", "feed_limit: must be a positive whole number"),
        ("feed_limit = 99999999999999999999999\n", "feed_limit: must be at most 9223372036854775807"),
        ("[smtp]\nport = 70000\n", "smtp.port: must be a TCP port, 1 to 65535"),
    ],
)
def test_numbers_refuse_nan_inf_and_what_no_option_can_take(tmp_path, text, message):
    got = refused(tmp_path, BASE + text)
    assert message in got and (("whole" in got) == ("whole" in message)), got


@pytest.mark.parametrize(
    "text, message",
    [
        ('title = "a"\ntitle = "b"\n', "not valid TOML: title is set twice (at line 3, column 12)"),
        ('[smtp]\nport = 1\n"port" = 2\n', "not valid TOML: smtp.port is set twice (at line 4, column 11)"),
        ("[smtp]\nport = 1\n[brand]\n[smtp]\n", "not valid TOML: [smtp] is declared twice (at line 5, column 6)"),
    ],
)
def test_a_key_given_twice_is_named(tmp_path, text, message):
    assert message in refused(tmp_path, BASE + text)


def test_a_section_key_at_the_top_suggests_the_section(tmp_path):
    assert "period: unknown option; did you mean newsletter.period?" in refused(tmp_path, BASE + 'period = "weekly"\n')
    assert "smtp.period: unknown option; did you mean newsletter.period?" in refused(
        tmp_path, BASE + '[smtp]\nperiod = "weekly"\n'
    )


def test_unsubscribe_url_must_be_https_except_on_this_machine(tmp_path):
    message = refused(tmp_path, BASE + '[newsletter]\nunsubscribe_url = "http://news.example.org/u"\n')
    assert "newsletter.unsubscribe_url: must be an https:// URL" in message
    assert "must not have a fragment" in refused(
        tmp_path, BASE + '[newsletter]\nunsubscribe_url = "https://news.example.org/u#x"\n'
    )
    path = tmp_path / "newsletter.toml"
    for url in ("http://127.0.0.1:8025/u", "http://localhost/u", "https://news.example.org/u?site=1"):
        path.write_text(BASE + f'[newsletter]\nunsubscribe_url = "{url}"\n')
        assert load_config(path).newsletter_unsubscribe_url == url


MUST_NOT_BE_EMPTY = {
    "title",
    "out",
    "state",
    "bulletins",
    "newsletter.subscribers",
    "newsletter.secret_env",
    "newsletter.from_address",
    "smtp.host",
    "smtp.password_env",
}


def test_the_options_that_must_not_be_empty_are_those_docs_configuration_md_names(tmp_path):
    refusing = set()
    for option in OPTIONS:
        if option.type not in (str, list) or option.key == "base_url":  # base_url: "required"
            continue
        section, _, key = option.key.rpartition(".")
        empty = '""' if option.type is str else "[]"
        text = BASE + (f"[{section}]\n" if section else "") + f"{key} = {empty}\n"
        (tmp_path / "newsletter.toml").write_text(text)
        try:
            load_config(tmp_path / "newsletter.toml")
        except ConfigError as caught:
            if f"{option.key}: must not be empty" in str(caught):
                refusing.add(option.key)
    assert refusing == MUST_NOT_BE_EMPTY
    docs = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    said = docs.split("must not be empty")[0].rpartition("Options that have no meaning when empty")[2]
    for key in MUST_NOT_BE_EMPTY - {"newsletter.secret_env", "smtp.password_env"}:
        assert f"`{key}`" in said, key
    assert "the `*_env` names" in said


def test_a_byte_order_mark_is_ignored(tmp_path):
    """Notepad saves UTF-8 with one (T7 25); bulletins accept it too."""
    path = tmp_path / "newsletter.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode() + b'title = "caf\xc3\xa9"\r\n')
    assert load_config(path).title == "caf\u00e9"


def build_out(site: Path, capsys, text: str, *args: str) -> tuple[int, str]:
    """As `build`, into out/ and st/, and the error lines as they are (there may be several)."""
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
    status, err = build_out(site, capsys, BASE + text)
    assert (status, err) == (2, line)
    assert not (site / "out").exists()


def test_bulletins_must_name_something_and_an_empty_one_is_named_by_its_key(site, capsys):
    assert build_out(site, capsys, BASE + "bulletins = []\n") == (
        2,
        "newsletter: c.toml: bulletins: must not be empty (name the folders or files to read)",
    )
    assert build_out(site, capsys, BASE + 'bulletins = [""]\n') == (
        2,
        'newsletter: c.toml: bulletins: "" is not a path',
    )


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
    status, err = build_out(site, capsys, 'title = "x"\n', "--base-url", "notaurl")
    assert status == 2
    assert err == "newsletter: --base-url: must be an absolute http(s) URL such as https://news.example.org/"
    # with the file's own problems: each line names where to change it
    status, err = build_out(site, capsys, 'title = "x"\nfeed_limit = 0\n', "--base-url", "notaurl")
    assert status == 2 and err.splitlines() == [
        "newsletter: c.toml: feed_limit: must be a positive whole number",
        "newsletter: --base-url: must be an absolute http(s) URL such as https://news.example.org/",
    ]
    # set in the file, the file and key are named
    status, err = build_out(site, capsys, 'base_url = "notaurl"\n')
    assert status == 2 and err.startswith("newsletter: c.toml: base_url: must be an absolute http(s) URL")
