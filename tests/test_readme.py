"""The README is a way in: short, its links lead somewhere, and docs/configuration.md's option
table is the one the code declares."""

from __future__ import annotations

import re
from pathlib import Path

from newsletter.config import describe_options, load_config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_configuration_table_matches_the_declared_options():
    assert describe_options() in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")


def test_the_readme_is_at_most_300_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def _relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # not in code blocks
    return [link for link in LINK.findall(text) if not re.match(r"[a-z]+:", link)]


def test_the_readme_links_to_every_docs_page_and_each_link_resolves():
    links = _relative_links(README)
    assert {
        "docs/configuration.md",
        "docs/sending.md",
        "docs/subscriptions.md",
        "docs/watching.md",
        "docs/countries.md",
        "benchmarks/README.md",
    } <= {link.split("#")[0] for link in links}
    assert all(link.startswith(("docs/", "benchmarks/")) for link in links), links


def test_every_relative_link_of_the_readme_and_the_docs_pages_resolves():
    for page in PAGES:
        for link in _relative_links(page):
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            assert target.is_file(), (page.name, link)
            if anchor:
                assert anchor in _anchors(target), (page.name, link)


def test_every_relative_path_in_a_config_file_is_relative_to_its_folder(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "newsletter.toml").write_text(
        'base_url = "https://news.example.org/"\nbulletins = ["in", "/abs/in"]\nout = "public"\n'
        '[newsletter]\nsubscribers = "people.csv"\n[smtp]\nca_file = "ca.pem"\n'
    )
    monkeypatch.chdir(tmp_path)
    config = load_config("site/newsletter.toml")
    assert config.bulletins == ["site/in", "/abs/in"]
    assert (config.out, config.state) == ("site/public", "site/.newsletter")  # defaults too
    assert (config.newsletter_subscribers, config.smtp_ca_file) == ("site/people.csv", "site/ca.pem")
    given = load_config("site/newsletter.toml", {"out": "elsewhere", "state": "st"})
    assert (given.out, given.state) == ("elsewhere", "st")  # command line: relative to the current folder


def test_the_system_packages_the_readme_names_are_the_ones_ci_installs():
    import re

    readme = README.read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("(`apt-get install -y "))
    named = set(re.search(r"apt-get install -y ([a-z0-9 ]+)`", line).group(1).split())
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    installed = set(re.findall(r"missing\+=\(([a-z0-9-]+)\)", ci))
    assert named == installed == {"chromium", "newsboat", "postgresql"}


def test_the_project_layout_names_every_module_of_the_package():
    """README's project layout row for `newsletter/` names each module of each of its packages
    (a sub-package, such as `render/feeds/`, is named as a folder) (T7 #27)."""
    package = Path(__file__).parent.parent / "newsletter"
    readme = (package.parent / "README.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith("| `newsletter/` |")]
    missing = []
    for folder in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
        if f"`{folder.name}/`" not in row:
            missing.append(f"{folder.name}/")
        for module in sorted(folder.glob("*.py")):
            if module.name != "__init__.py" and f"`{module.name}`" not in row:
                missing.append(f"{folder.name}/{module.name}")
        missing += [
            f"{folder.name}/{sub.name}/"
            for sub in folder.iterdir()
            if (sub / "__init__.py").is_file() and f"`{sub.name}/`" not in row
        ]
    assert missing == [], missing
