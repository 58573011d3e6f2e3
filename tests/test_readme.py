"""The README's configuration table is the one the code declares."""

from __future__ import annotations

from pathlib import Path

from newsletter.config import describe_options, load_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_configuration_table_matches_the_declared_options():
    assert describe_options() in README.read_text(encoding="utf-8")


def test_every_relative_path_in_a_config_file_is_relative_to_its_folder(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "newsletter.toml").write_text(
        'base_url = "https://news.example.org/"\nbulletins = ["in", "/abs/in"]\nout = "public"\n'
        '[newsletter]\nsubscribers = "people.csv"\n[smtp]\nca_file = "ca.pem"\n')
    monkeypatch.chdir(tmp_path)
    config = load_config("site/newsletter.toml")
    assert config.bulletins == ["site/in", "/abs/in"]
    assert (config.out, config.state) == ("site/public", "site/.newsletter")  # defaults too
    assert (config.newsletter_subscribers, config.smtp_ca_file) == ("site/people.csv", "site/ca.pem")
    given = load_config("site/newsletter.toml", {"out": "elsewhere", "state": "st"})
    assert (given.out, given.state) == ("elsewhere", "st")  # command line: relative to the current folder
