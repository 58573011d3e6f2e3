"""Issues rendered piece by piece (`render.newsletters.pieces`) give Jinja's output byte for byte,
and a user's newsletter templates (`--templates`) still decide what issues say."""

from __future__ import annotations

import jinja2
import pytest

from newsletter.render.newsletters.pieces import Pieces
from newsletter.render.templating import Templates

LEVELS = {"site": 0, "words": 0, "why": 1, "group_url": 1}

TEMPLATES = [
    # a long text between two per-issue values (the bundled <style> between <title> and the
    # preheader): a fixed piece of its own; a short one joins them
    "<title>{{ subject }}</title>\n<style>" + "p { margin: 0 }\n" * 40 + "</style>{{ subject }}<b>\u2014</b>"
    "{{ why }}{% for e in entries %}{{ e.title }}{% endfor %}",
    # the shapes of the bundled templates: fixed text, per-issue values, a loop over entries
    "<title>{{ subject }}</title>{{ site.title }}\n{% for e in entries %}<p>{{ e.title }} {{ site.lang }}</p>\n{% endfor %}"
    "<footer>{{ why }} <a href='{{ group_url }}'>{{ words.more }}</a></footer>\n",
    # whitespace control, trim_blocks/lstrip_blocks, for-else, a filtered loop, loop.index
    "{%- for e in entries -%}\n  [{{ e.title }}]\n{%- endfor %}\n{% for e in entries %}{{ loop.index }}{% endfor %}"
    "{% for e in entries if e.title %}{{ e.title }}{% else %}none{% endfor %}\n",
    # a fixed-looking piece that reads a per-issue value; a loop body that reads one
    "{% if why %}{{ why }} {{ subject }}{% endif %}{% for e in entries %}{{ e.title }}{{ subject }}{% endfor %}|{{ why }}",
    # nested loops, filters, conditions on site values, escaping, a global
    "{% for e in entries %}{% for w in e.title.split() %}<{{ w | upper }}>{% endfor %}{% endfor %}"
    "{% if site.lang != 'en' %}{{ site.lang }}{% endif %}{{ '<&>' }}{{ range(3) | list }}{{ 'x' * subject | length }}",
    # constructs that cross pieces: the template is rendered whole
    "{% set n = entries | length %}{{ n }}{% for e in entries %}{{ e.title }}{% endfor %}{{ n }}",
    "{% macro m(x) %}[{{ x }}]{% endmacro %}{% for e in entries %}{{ m(e.title) }}{% endfor %}{{ m(why) }}",
    # text between pieces rendered each time (one piece with them), before a kept one, a loop of text
    "{{ subject }} - {{ subject | upper }}\n{{ why }}{{ subject }}<hr>{% for e in entries %}-{% endfor %}{{ subject }}",
    # calls on kept values in conditions on per-issue ones (rendered once); in a loop whose
    # variable hides a kept one (not); an untaken branch that cannot be rendered
    "{% if subject %}<a>{{ words.more | upper }}</a>{{ site.title | lower }}{{ why | upper }}{% endif %}"
    "{% if not entries %}{{ why | lower }}{% elif subject %}{{ words.more | length }}{% else %}x{% endif %}"
    "{% if subject %}{% for site in entries %}{{ site.title | upper }}{% endfor %}{% endif %}{{ subject }}",
    "{% if not subject %}{{ site.nothing | upper }}{% endif %}{{ subject }}{% if entries %}{{ why | title }}{% endif %}",
    # a loop over a list-level value, and an empty loop
    "{% for c in why %}{{ c }}{% endfor %}{% for e in entries %}{% endfor %}{{ subject }}",
    "",
    "only text\n",
]


class Site:
    title = "A <site>"
    lang = "en"


def renders(n: int = 40):
    """(variables, list key) of `n` renders over three lists, entries shared between them as
    an issue renderer shares them (the same dict for the same entry)."""
    entries = [{"title": f"Entry {i} & <b>{i % 3}</b>"} for i in range(12)]
    entries.append({"title": ""})
    words = {"more": "More »"}
    for k in range(n):
        group = ["pe", "cl", "all"][k % 3]
        yield (
            {
                "site": Site,
                "words": words,
                "why": f"You follow {group}",
                "group_url": f"https://example.org/{group}/",
                "subject": f"Issue {k} <{group}>",
                "entries": entries[k % 5 : k % 5 + k % 7],
            },
            group,
        )


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", TEMPLATES)
def test_pieces_render_what_jinja_renders(source, autoescape):
    env = jinja2.Environment(
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    pieces = Pieces(env, source, None, LEVELS)
    whole = env.from_string(source)
    for variables, group in renders():
        assert pieces.render(dict(variables), group) == whole.render(variables)
        assert pieces.render_utf8(dict(variables), group) == whole.render(variables).encode()


def test_templates_that_cross_pieces_are_rendered_whole():
    env = jinja2.Environment()
    assert Pieces(env, "{% set x = 1 %}{{ x }}", None, LEVELS)._plan is None
    assert Pieces(env, "{{ subject }}{% for e in entries %}{{ e }}{% endfor %}", None, LEVELS)._plan is not None


def test_an_error_reads_as_jinja_s():
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    pieces = Pieces(env, "{{ site.title }}{{ nowhere }}", None, LEVELS)
    with pytest.raises(jinja2.UndefinedError, match="nowhere"):
        pieces.render({"site": Site}, "pe")


def test_the_bundled_templates_are_cut():
    """The bundled newsletter templates are rendered in pieces (else this is all for nothing)."""
    from newsletter.render.newsletters.issue import IssueRenderer

    renderer = IssueRenderer(Templates(), _config(), _links(), {}, _tz())
    for pieces in (renderer._html, renderer._text):
        kinds = [kind for kind, *_ in pieces._plan]
        assert "each" in kinds and "fixed" in kinds and "value" in kinds  # words.t("nl.view") and such
    # the <style> between the <title> and the preheader: a fixed piece, not joined and encoded with each render
    assert [kind for kind, *_ in renderer._html._plan][:6] == ["value", "fixed", "render", "fixed", "render", "fixed"]


def test_a_long_text_between_pieces_rendered_each_time_is_a_piece_of_its_own():
    env = jinja2.Environment()
    long = "{{ subject }}" + "x" * 300 + "{{ label }}"
    short = "{{ subject }}" + "x" * 30 + "{{ label }}"
    assert [
        kind
        for kind, *_ in Pieces(env, long + "{{ why }}{% for e in entries %}{{ e }}{% endfor %}", None, LEVELS)._plan
    ] == ["render", "fixed", "render", "fixed", "each"]
    assert [
        kind
        for kind, *_ in Pieces(env, short + "{{ why }}{% for e in entries %}{{ e }}{% endfor %}", None, LEVELS)._plan
    ] == ["render", "fixed", "each"]


def _config():
    from newsletter.config import load_config

    return load_config(None, {"base_url": "https://example.org/"})


def _links():
    from newsletter.render.links import Links

    return Links("https://example.org/")


def _tz():
    import zoneinfo

    return zoneinfo.ZoneInfo("UTC")


WEEK = """
    26 August 2021

    Peru and Chile Sign a Water Agreement

    The agreement covers three rivers.

    24 August 2021

    Peru Opens a Shelter

    The shelter hosts 200 people.
"""


def test_overridden_newsletter_templates_take_effect(site, tmp_path):
    """A user's newsletter.html.j2 and newsletter.txt.j2 decide every issue's HTML, web copy,
    text and preview message — also their fixed parts (kept per list) and entry blocks (kept
    per entry across lists)."""
    import email
    import email.policy

    custom = tmp_path / "custom"
    custom.mkdir()
    (custom / "newsletter.html.j2").write_text(
        "<!DOCTYPE html>\n<html><head><title>{{ subject }}</title></head>\n<body>\n<h1>OWN {{ heading }}</h1>\n"
        "{% for entry in entries %}<div class='own-entry'>{{ entry.title }} ({{ site.title }})</div>\n{% endfor %}"
        "<p class='own-footer'>{{ why }} / {{ group_name }}</p>\n</body>\n</html>\n"
    )
    (custom / "newsletter.txt.j2").write_text(
        "OWN TEXT {{ heading }}\n{% for entry in entries %}* {{ entry.title }}\n{% endfor %}{{ more_link }}\n"
    )
    site.write("a.txt", WEEK)
    assert site.build("--templates", str(custom)).code == 0
    for group, titles in (("pe", 2), ("cl", 1)):
        html = site.read(f"newsletters/{group}/2021-W34.html")
        text = site.read(f"newsletters/{group}/2021-W34.txt")
        assert "<h1>OWN " in html and html.count("own-entry") == titles
        assert "Peru Opens a Shelter" in html if group == "pe" else "Peru Opens a Shelter" not in html
        assert text.startswith("OWN TEXT ") and text.count("\n* ") == titles
        eml = (site.out / f"newsletters/{group}/2021-W34.eml").read_bytes()
        message = email.message_from_bytes(eml, policy=email.policy.default)
        parts = {p.get_content_type(): p.get_content() for p in message.walk() if not p.is_multipart()}
        assert parts["text/plain"].startswith("OWN TEXT ")
        assert "own-footer" in parts["text/html"] and "<h1>OWN " in parts["text/html"]
    pe, cl = site.read("newsletters/pe/2021-W34.html"), site.read("newsletters/cl/2021-W34.html")
    assert pe.split("own-footer")[1] != cl.split("own-footer")[1]  # each list its own footer


def test_the_date_header_kept_between_messages_keeps_each_zone():
    """Equal instants in two zones are equal datetimes: each keeps its own Date header."""
    import datetime as dt
    import zoneinfo
    from email.utils import format_datetime

    from newsletter.render.newsletters.mime import Message

    lima = dt.datetime(2021, 8, 26, tzinfo=zoneinfo.ZoneInfo("America/Lima"))
    for when in (lima, lima.astimezone(dt.UTC), lima, lima.replace(tzinfo=None)):
        data = Message("a@example.org", "b@example.org", "S", when, "<m@example.org>", "t", "<p>h</p>").compose()
        assert f"\r\nDate: {format_datetime(when)}\r\n".encode() in data


def test_the_cut_templates_are_read_compiled(tmp_path, monkeypatch):
    """With the bundled templates compiled at install time, an issue renderer neither parses
    nor compiles its cut templates: a small site's build does not pay for cutting them."""
    import jinja2

    from newsletter.render.newsletters.issue import IssueRenderer
    from newsletter.render.precompile import compile_bundled
    from newsletter.render.templating import Compiled

    compile_bundled(tmp_path / "compiled")
    templates = Templates(compiled=Compiled(tmp_path / "compiled"))

    def refuse(*args, **kwargs):
        raise AssertionError("parsed or compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", refuse)
    monkeypatch.setattr(jinja2.Environment, "parse", refuse)
    renderer = IssueRenderer(templates, _config(), _links(), {}, _tz())
    assert renderer._html._plan and renderer._text._plan


def _wrap_word_by_word(text: str, indent: str = "", width: int = 78) -> str:
    """The greedy wrap as it was written first, a line grown word by word."""
    out = []
    for paragraph in text.split("\n\n"):
        lines, line = [], ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = indent + word
            else:
                line = f"{line} {word}" if line else word
        if line:
            lines.append(line)
        out.append("\n".join(lines))
    return "\n\n".join(out)


def test_wrap_text_wraps_as_word_by_word():
    import random

    from newsletter.render.newsletters.issue import wrap_text

    rng = random.Random(7)
    pieces = [
        "a",
        "bb",
        "ccc",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "x" * 90,
        "ü",
        "\u00a0",
        "\u2003",
        "\x1c",
        "https://example.org/" + "p" * 70,
    ]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 60)))
        for indent, width in (("", 78), ("  ", 78), ("   ", 10), ("", 1), ("   ", 2), ("", 0)):
            assert wrap_text(text, indent, width) == _wrap_word_by_word(text, indent, width)


LONG_WEEK = "".join(
    f"""
    {day} August 2021

    Peru Report Number {day} — Año de Señales

    {"Lima’s councils met again about water, roads and schools — niños y niñas. " * 6}
"""
    for day in (23, 24, 25, 26)
)


def test_an_issue_larger_than_max_bytes_shows_the_entries_that_fit_and_lists_the_rest(site):
    """The most entries in full whose HTML, as UTF-8 bytes, fits `newsletter.max_bytes`; the
    others become title links, in the HTML and in the text."""
    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config
    from newsletter.render.newsletters.issue import issues_for

    site.write("a.txt", LONG_WEEK)

    def rendered(**options):
        config = load_config(None, {"base_url": "https://news.example.org/", **options})
        builder = Builder(config, state_dir=site.state)
        entries, _, _ = builder.read([str(site.bulletins)])
        [issue] = issues_for(builder.catalog(entries, save=False).groups["pe"], "pe", "weekly")
        return builder.context.issue_renderer.render(issue)

    whole = rendered()
    assert whole.full_entries == len(whole.issue.entries) == 4
    assert len(whole.html.encode()) == len(whole.html_bytes) > len(whole.html)  # not ASCII
    cut = rendered(**{"newsletter.max_bytes": len(whole.html_bytes) - 1})
    assert cut.full_entries == 3 and len(cut.html_bytes) < len(whole.html_bytes)
    oldest = whole.issue.entries[-1].title
    assert cut.html.count(oldest) == whole.html.count(oldest) == 1  # a link instead of the entry
    assert cut.text.count("Lima’s") == 3 * 6 and whole.text.count("Lima’s") == 4 * 6
    none = rendered(**{"newsletter.max_bytes": 1000})
    assert none.full_entries == 0 and "Lima’s" not in none.text


def test_a_header_value_is_cleaned_as_the_control_characters_rule_says():
    """`clean_header` returns a value it has nothing to replace in as it is, and every other
    value with its control characters, line breaks and runs of whitespace as single spaces."""
    import random

    from newsletter.render.newsletters.mime import _CONTROLS, clean_header

    rng = random.Random(11)
    pieces = ["a", "Ñ", "—", "😀", " ", "  ", "\r\n", "\n", "\t", "\x00", "\x7f", "\x85", "\u2028", "\xa0", "\u200b"]
    for _ in range(20000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 10)))
        assert clean_header(value) == " ".join(_CONTROLS.sub(" ", value).split())


def test_the_date_header_reads_as_format_datetime_in_every_zone():
    """`mime._date` (kept by datetime and UTC offset): what the standard library writes, in every zone."""
    import datetime as dt
    import random
    import zoneinfo
    from email.utils import format_datetime

    from newsletter.render.newsletters.mime import _date

    rng = random.Random(7)
    zones = [zoneinfo.ZoneInfo(z) for z in sorted(zoneinfo.available_timezones())[::7]]
    zones += [dt.UTC, dt.timezone(dt.timedelta(hours=-3, minutes=-30)), dt.timezone(dt.timedelta(seconds=3725)), None]
    for _ in range(4000):
        when = dt.datetime(
            rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), rng.choice((0, 1, 999999)), tzinfo=rng.choice(zones), fold=rng.randint(0, 1),
        )  # fmt: skip
        assert _date(when) == format_datetime(when), when
