"""Page templates that extend others, rendered piece by piece (`render.inherit`), give Jinja's
output byte for byte; chains it cannot flatten are rendered whole; a user's base.html.j2 or
entry.html.j2 (`--templates`) still decides what entry pages say."""

from __future__ import annotations

import jinja2
import pytest
from conftest import REPO

from newsletter.render.inherit import PagePieces, flatten

LEVELS = {"site": 0, "root": 0, "is_home": 0}

BASE = (
    '<html lang="{{ site.lang }}"><title>{% block title %}{{ site.title }}{% endblock %}</title>\n'
    "{% if head is defined %}{{ head }}{% else %}<meta>{% endif %}\n"
    "{% block head %}{% endblock %}\n"
    "{{ 'home' if is_home is defined else root }}\n<main>{% block main %}default {{ site.title }}{% endblock %}</main>\n"
    "{% for x in [1, 2] %}{{ x }}{{ root }}{% endfor %}</html>\n"
)

CHAINS = [
    # the bundled shape: blocks over a base, a block that assigns, text between blocks
    {
        "base.html": BASE,
        "page.html": "{% extends 'base.html' %}\n{# a comment #}\n{% block title %}{{ entry.title }} — {{ site.title }}"
        "{% endblock %}\n{% block main %}{% set foreign = entry.lang != site.lang %}"
        "<article{% if foreign %} lang='{{ entry.lang }}'{% endif %}>{{ entry.title }}</article>\n"
        "{% for w in entry.title.split() %}[{{ w }}]{% endfor %}{% endblock %}\n",
    },
    # a block left to the base, an assignment that must not leak into the next block
    {
        "base.html": BASE,
        "page.html": "{% extends 'base.html' %}{% block head %}{% set site = entry %}{{ site.title }}{% endblock %}"
        "{% block main %}{{ site.title }}{% endblock %}",
    },
    # three levels; the middle one overrides what the top one does not
    {
        "base.html": BASE,
        "middle.html": "{% extends 'base.html' %}{% block main %}middle {{ entry.title }}{% endblock %}"
        "{% block title %}M{% endblock %}",
        "page.html": "{% extends 'middle.html' %}{% block title %}{{ entry.title | upper }}{% endblock %}",
    },
    # no extends at all
    {"page.html": "<p>{{ site.title }}</p>{% for x in entry.title %}{{ x }}{% endfor %}{{ head | default('-') }}"},
    # constructs that keep a chain whole: super(), self, scoped and nested blocks, a set outside blocks
    {"base.html": BASE, "page.html": "{% extends 'base.html' %}{% block title %}{{ super() }}!{% endblock %}"},
    {"base.html": BASE, "page.html": "{% extends 'base.html' %}{% block main %}{{ self.title() }}{% endblock %}"},
    {
        "base.html": BASE.replace("{% block head %}", "{% block head scoped %}"),
        "page.html": "{% extends 'base.html' %}",
    },
    {
        "base.html": BASE.replace(
            "{% block head %}{% endblock %}", "{% block head %}<{% block inner %}i{% endblock %}>{% endblock %}"
        ),
        "page.html": "{% extends 'base.html' %}{% block inner %}{{ entry.title }}{% endblock %}",
    },
    {"base.html": "{% set x = 1 %}" + BASE, "page.html": "{% extends 'base.html' %}"},
    {"base.html": BASE, "page.html": "{% set t = 'x' %}{% extends 'base.html' %}{% block main %}{{ t }}{% endblock %}"},
    {"base.html": BASE, "page.html": "{% extends site.base %}"},
    # two blocks that assign, next to each other: neither sees the other's assignments
    {
        "base.html": "<{% block a %}{% endblock %}{% block b %}{% endblock %}>",
        "page.html": "{% extends 'base.html' %}{% block a %}{% set site = entry %}{{ site.title }}{% endblock %}"
        "{% block b %}{% set x = 1 %}{{ site.title }}{{ x }}{% endblock %}",
    },
]
WHOLE = {4, 5, 6, 7, 8, 9, 10}
"""The chains above that are rendered whole."""


class Site:
    title = "A <site> & co"
    lang = "en"
    base = "base.html"


def renders():
    for i in range(12):
        entry = {"title": f"Entry {i} <b>&</b> {'x' * (i % 3)}{' — ünï' * (i % 2)}", "lang": "en" if i % 4 else "fr"}
        variables = {"site": Site, "root": "../", "entry": entry}
        if i % 2:
            variables["head"] = f"<head {i}>"
        yield variables


def _env(templates: dict[str, str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@pytest.mark.parametrize("n", range(len(CHAINS)))
def test_page_pieces_render_what_jinja_renders(n):
    env = _env(CHAINS[n])
    pieces = PagePieces(env, "page.html", LEVELS, "fingerprint")
    assert (pieces._plan is None) == (n in WHOLE), "cut" if n in WHOLE else "whole"
    whole = env.get_template("page.html")
    for variables in renders():  # one page after another: what one page had, the next must not see
        given = dict(variables)
        assert pieces.render(given) == whole.render(variables)
        assert pieces.render_utf8(given) == whole.render(variables).encode()  # (each text encoded on its own)
        assert given == variables  # read as the page's own variables, never written to


def test_a_chain_that_escapes_differently_is_rendered_whole():
    env = _env({"base.txt": "{% block x %}{% endblock %}<", "page.html": "{% extends 'base.txt' %}"})
    env.autoescape = jinja2.select_autoescape(["html"])
    assert flatten(env, "page.html") is None


def test_an_error_reads_as_jinja_s():
    env = _env(CHAINS[0])
    pieces = PagePieces(env, "page.html", LEVELS, "fingerprint")
    with pytest.raises(jinja2.UndefinedError, match="'entry' is undefined"):
        pieces.render({"site": Site, "root": ""})


def test_the_bundled_entry_template_is_cut():
    from newsletter.builder.context import BuildContext
    from newsletter.config import load_config

    context = BuildContext.create(load_config(None, {"base_url": "https://example.org/"}))
    plan = context.pages.compile_templates()._entry_pieces._plan
    assert plan is not None
    assert [kind for kind, *_ in plan].count("fixed") >= 3


def test_the_cut_entry_template_is_read_compiled(tmp_path, monkeypatch):
    """With the bundled templates compiled at install time, the page renderer neither parses
    nor compiles the entry page's pieces."""
    from newsletter.config import load_config
    from newsletter.render.precompile import compile_bundled
    from newsletter.render.site import SiteRenderer
    from newsletter.render.templating import Compiled, Templates

    compile_bundled(tmp_path / "compiled")
    templates = Templates(compiled=Compiled(tmp_path / "compiled"))

    def refuse(*args, **kwargs):
        raise AssertionError("parsed or compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    monkeypatch.setattr(jinja2.Environment, "parse", refuse)
    renderer = SiteRenderer(templates, load_config(None, {"base_url": "https://example.org/"}), {}, newsletters=set())
    assert renderer.compile_templates()._entry_pieces._plan


def _my_base(site, tmp_path):
    """A bulletin, and a templates folder whose base.html.j2 marks `<main>` (class "mine")."""
    site.write("a.txt", "26 August 2021\n\nPeru and Chile Sign a Water Agreement\n\nThe agreement covers rivers.\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    base = (REPO / "templates" / "base.html.j2").read_text()
    (mine / "base.html.j2").write_text(base.replace("<main>", '<main class="mine">'))
    return mine


def test_overridden_base_and_entry_templates_take_effect(site, tmp_path):
    mine = _my_base(site, tmp_path)
    assert site.build("--templates", str(mine)).code == 0
    page = next((site.out / "entries").glob("*.html")).read_text()
    assert '<main class="mine">' in page and "Peru and Chile Sign a Water Agreement" in page
    (mine / "entry.html.j2").write_text(
        "{% extends 'base.html.j2' %}{% block main %}<p>mine: {{ entry.title | upper }}</p>{% endblock %}"
    )
    assert site.build("--templates", str(mine)).code == 0
    page = next((site.out / "entries").glob("*.html")).read_text()
    assert '<main class="mine">\n<p>mine: PERU AND CHILE SIGN A WATER AGREEMENT</p></main>' in page


def test_a_users_templates_without_the_head_tags_block_still_give_pages_their_head_tags(site, tmp_path):
    # the bundled entry and year templates fill base.html.j2's `head_tags` block; a user's base
    # without that block, or a user's entry template that does not fill it, still gets them
    site.write("a.txt", "26 August 2021\n\nPeru and Chile Sign a Water Agreement\n\nThe agreement covers rivers.\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    base = (REPO / "templates" / "base.html.j2").read_text()
    assert "{% block head_tags %}" in base
    (mine / "base.html.j2").write_text(base.replace("{% block head_tags %}", "").replace("{% endblock %}\n", "\n", 1))
    head = '<meta name="description" content="The agreement covers rivers.">\n<link rel="canonical" href="'
    for templates in (mine, None):
        assert site.build(*(("--templates", str(templates)) if templates else ())).code == 0
        entry = next((site.out / "entries").glob("*.html")).read_text()
        assert head in entry and '<meta property="og:type" content="article">' in entry
        assert '<link rel="canonical" href="https://news.example.org/pe/2021/">' in site.read("pe/2021/index.html")
    (mine / "base.html.j2").unlink()
    (mine / "entry.html.j2").write_text("{% extends 'base.html.j2' %}{% block main %}<p>mine</p>{% endblock %}")
    assert site.build("--templates", str(mine)).code == 0
    entry = next((site.out / "entries").glob("*.html")).read_text()
    assert head in entry and "<p>mine</p>" in entry


def test_the_bundled_year_template_is_cut_and_a_users_base_still_shapes_year_pages(site, tmp_path):
    from newsletter.builder.context import BuildContext
    from newsletter.config import load_config

    context = BuildContext.create(load_config(None, {"base_url": "https://example.org/"}))
    assert context.pages.compile_templates()._year._plan is not None
    mine = _my_base(site, tmp_path)
    assert site.build("--templates", str(mine)).code == 0
    page = (site.out / "pe" / "2021" / "index.html").read_text()
    assert '<main class="mine">' in page and "Peru and Chile Sign a Water Agreement" in page
    year = (REPO / "templates" / "year.html.j2").read_text()
    (mine / "year.html.j2").write_text(year.replace('<section class="archive">', '<section class="archive mine">'))
    assert site.build("--templates", str(mine)).code == 0
    page = (site.out / "pe" / "2021" / "index.html").read_text()
    assert '<main class="mine">' in page and '<section class="archive mine">' in page
    assert site.build().code == 0  # back to the bundled templates: the pieces follow
    page = (site.out / "pe" / "2021" / "index.html").read_text()
    assert "mine" not in page and "Peru and Chile Sign a Water Agreement" in page


def test_the_bundled_pages_render_by_their_pieces_not_by_the_fallback(site, monkeypatch):
    # `render` falls back to Jinja's whole template on any error, which would hide a broken cut
    from newsletter.builder.context import BuildContext
    from newsletter.config import load_config

    context = BuildContext.create(load_config(None, {"base_url": "https://example.org/"}))
    pages = context.pages.compile_templates()
    for pieces in (pages._entry_pieces, pages._year):
        assert [kind for kind, *_ in pieces._plan][-1] == "joined"  # one piece rendered each time

    def refuse(self):
        raise AssertionError(f"{self.name} rendered whole")

    monkeypatch.setattr(PagePieces, "whole", refuse)
    monkeypatch.setenv("NEWSLETTER_WORKERS", "1")
    site.write("a.txt", "26 August 2021\n\nPeru and Chile Sign a Water Agreement\n\nThe agreement covers rivers.\n")
    assert site.build().code == 0
    assert "The agreement covers rivers." in next((site.out / "entries").glob("*.html")).read_text()
    assert "Peru and Chile Sign a Water Agreement" in site.read("pe/2021/index.html")
