"""The templates' escape (`templating._fast_escape`) gives markupsafe's values for everything a
template may print, and a template renders the same bytes as with Jinja's own Template."""

from __future__ import annotations

import datetime as dt

import jinja2
from markupsafe import Markup, escape

from newsletter.render.templating import Templates, _fast_escape


class Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class Text(str):
    pass


VALUES = [
    "",
    "plain",
    "<a href=\"x\">'&'</a>",
    "ünïcødé — ‹›",
    Markup("<i>kept</i>"),
    Markup("&amp;"),
    Text("<sub>"),
    Html(),
    12,
    -7,
    True,
    3.5,
    None,
    dt.date(2021, 8, 26),
    dt.date(33, 1, 2),
    dt.datetime(2021, 8, 26, 7, 5),
    ["<list>"],
]


def test_the_fast_escape_gives_markupsafe_s_values():
    fast = _fast_escape()
    assert fast is not escape  # the fast one is in use with this markupsafe
    for value in VALUES:
        got, want = fast(value), escape(value)
        assert type(got) is Markup and got == want, value


def test_a_template_renders_the_bytes_jinja_s_own_template_renders(tmp_path):
    source = (
        "{% macro m(x) %}<{{ x }}>{% endmacro %}"
        "{% for v in values %}{{ v }}|{{ m(v) }}|{{ v ~ '&' }}|{{ v | string | upper }}\n{% endfor %}"
    )
    (tmp_path / "t.html.j2").write_text(source)
    ours = Templates(tmp_path).get("t.html.j2")
    assert ours.root_render_func.__globals__["escape"] is not escape
    theirs = jinja2.Environment(autoescape=True).from_string(source)
    assert ours.render(values=VALUES) == theirs.render(values=VALUES)
