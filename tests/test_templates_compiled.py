"""The bundled templates compiled at install time (`python -m newsletter.render.precompile`):
read by builds, never written by them, never used for a template whose source differs, and
the same outputs as compiling at every start."""

from __future__ import annotations

import pytest
from conftest import REPO

from newsletter.render import templating
from newsletter.render.precompile import compile_bundled
from newsletter.render.templating import Compiled, Templates, from_source


def _no_compiling(monkeypatch, templates: Templates) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(templates.env, "compile", refuse)


def test_compiled_templates_are_loaded_without_compiling(tmp_path, monkeypatch):
    assert compile_bundled(tmp_path / "compiled") > 10
    templates = Templates(compiled=Compiled(tmp_path / "compiled"))
    _no_compiling(monkeypatch, templates)
    templates.env.filters.update(longdate=str, body_html=str, teaser=str, groupby_month=list)
    assert templates.get("entry.html.j2") is not None  # with base.html.j2 and the macros it imports
    assert templates.get("feed.xsl") is not None


def test_a_changed_template_is_compiled_again_and_nothing_is_written(tmp_path, monkeypatch):
    compile_bundled(tmp_path / "compiled")
    files = sorted((tmp_path / "compiled").iterdir())
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "feed.xsl").write_text((REPO / "templates" / "feed.xsl").read_text() + "<!-- mine -->\n")
    templates = Templates(mine, compiled=Compiled(tmp_path / "compiled"))
    compiled_again = []
    compile = templates.env.compile
    monkeypatch.setattr(templates.env, "compile", lambda *a, **k: compiled_again.append(a[1:2]) or compile(*a, **k))
    template = templates.get("feed.xsl")
    assert compiled_again == [("feed.xsl",)]
    assert template.filename == str(mine / "feed.xsl")
    assert sorted((tmp_path / "compiled").iterdir()) == files  # a build only reads the folder


def test_a_template_made_at_run_time_is_read_by_its_source(tmp_path, monkeypatch):
    folder = tmp_path / "compiled"
    writing = Templates(compiled=Compiled(folder, write=True))
    assert from_source(writing.env, "Hello {{ name }}!", "greeting").render(name="<you>") == "Hello &lt;you&gt;!"
    reading = Templates(compiled=Compiled(folder))
    _no_compiling(monkeypatch, reading)
    assert from_source(reading.env, "Hello {{ name }}!", "greeting").render(name="me") == "Hello me!"
    with pytest.raises(AssertionError, match="compiled again"):  # another source under the same name
        from_source(reading.env, "Bye {{ name }}!", "greeting")


def test_a_build_makes_the_same_bytes_with_and_without_compiled_templates(site, monkeypatch):
    site.write("a.txt", "26 August 2021\n\nPeru and Chile Sign a Water Agreement\n\nThe agreement covers rivers.\n")
    assert site.build("--out", str(site.root / "with")).code == 0
    monkeypatch.setattr(templating, "COMPILED", site.root / "nothing-compiled")
    assert site.build("--out", str(site.root / "without"), "--state", str(site.root / "state2")).code == 0

    def tree(path):
        return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}

    assert tree(site.root / "with") == tree(site.root / "without")
    assert not (site.root / "nothing-compiled").exists()
