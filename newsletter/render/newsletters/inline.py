"""CSS inlining with premailer, done once per template instead of once per issue.

premailer costs milliseconds per document; a build makes thousands of issues. So the
newsletter *template* is inlined: Jinja syntax is swapped for inert placeholders, the CSS
is inlined into the template's own elements by premailer (network off, `@media` rules kept
with their `!important` so they can still win), and the placeholders are put back. Entry
bodies are HTML fragments inserted at render time; premailer also styles one specimen of
each tag a body may contain, and the `email_body` filter gives every such tag in a body the
style premailer computed for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

log = logging.getLogger(__name__)

BODY_TAGS = (
    "p",
    "a",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "br",
)
_SPECIMEN = (
    '<p>x<a href="#">x</a><strong>x</strong><em>x</em><code>x</code><br></p><ul><li>x</li></ul>'
    "<ol><li>x</li></ol><pre>x</pre><blockquote>x</blockquote><h1>x</h1><h2>x</h2><h3>x</h3>"
    "<h4>x</h4><h5>x</h5><h6>x</h6><hr>"
)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_BODY_EXPR = re.compile(r"\{\{\s*(.+?)\s*\|\s*email_body\s*\}\}")
_TAG_OPEN = re.compile(r"<(" + "|".join(BODY_TAGS) + r")(?=[\s>/])")
_CSSUTILS_SILENCED = False
_CSS_COMMENT = re.compile(r"/\*.*?\*/\s*", re.DOTALL)
ACCENT, ACCENT_DARK = "#0b5cad", "#7db7ff"
"""The accent colours newsletter.css is written with (`brand.accent`, `brand.accent_dark` replace them)."""


def _silence_cssutils() -> None:
    global _CSSUTILS_SILENCED  # one-time logging set-up, not state
    if not _CSSUTILS_SILENCED:
        logging.getLogger("CSSUTILS").setLevel(logging.CRITICAL)
        _CSSUTILS_SILENCED = True


@dataclass(frozen=True)
class InlinedTemplate:
    """Template source with CSS inlined, and the styles for body fragments by tag."""

    source: str
    body_styles: tuple[dict[str, str], ...]

    def body_filter(self) -> Callable[[str, int], Markup]:
        def email_body(fragment: str, index: int = 0) -> Markup:
            styles = self.body_styles[index]

            def add(m: re.Match) -> str:
                style = styles.get(m.group(1))
                return f'<{m.group(1)} style="{style}"' if style else m.group(0)

            return Markup(_TAG_OPEN.sub(add, str(fragment)))

        return email_body

    def with_accent(self, accent: str, accent_dark: str) -> InlinedTemplate:
        """The template with the brand's colours for the default ones (`ACCENT`, `ACCENT_DARK`):
        inlined once with the defaults, coloured per site without running premailer again."""
        if (accent, accent_dark) == (ACCENT, ACCENT_DARK):
            return self

        def colour(text: str) -> str:
            return text.replace(ACCENT, accent).replace(ACCENT_DARK, accent_dark)

        styles = tuple({tag: colour(style) for tag, style in s.items()} for s in self.body_styles)
        return InlinedTemplate(colour(self.source), styles)


def inline_css(html: str) -> str:
    """`html` with its <style> rules copied onto the elements (premailer, offline; the style tags
    are kept for the media queries, classes and links left alone)."""
    from premailer import Premailer

    return Premailer(
        html,
        allow_network=False,
        strip_important=False,
        keep_style_tags=True,
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
        remove_classes=False,
        disable_link_rewrites=True,
    ).transform()


def inline_template(source: str, css: str) -> InlinedTemplate:
    """Inline `css` into the HTML template `source` (Jinja syntax is preserved)."""
    _silence_cssutils()
    css = _CSS_COMMENT.sub("", css)  # notes for developers, not for every reader's mail
    source = source.replace("{{ css }}", css)
    saved: list[str] = []
    specimens: list[str] = []

    def protect(m: re.Match) -> str:
        text = m.group(0)
        body = _BODY_EXPR.fullmatch(text)
        if body is not None:
            specimens.append(body.group(1))
            return f'<div data-nl-specimen="{len(specimens) - 1}">{_SPECIMEN}</div>'
        saved.append(text)
        token = f"nljinja{len(saved) - 1}x"
        inside_tag = source.rfind("<", 0, m.start()) > source.rfind(">", 0, m.start())
        statement = text.startswith(("{%", "{#"))
        return f"<!--{token}-->" if statement and not inside_tag else token

    protected = _JINJA.sub(protect, source)
    inlined = inline_css(protected)

    body_styles: list[dict[str, str]] = []

    def restore_specimen(m: re.Match) -> str:
        index = int(m.group(1))
        styles: dict[str, str] = {}
        for tag, style in re.findall(r'<(\w+)\s[^>]*?style="([^"]*)"', m.group(2)):
            styles.setdefault(tag, style)
        body_styles.append(styles)
        return "{{ " + specimens[index] + " | email_body(" + str(index) + ") }}"

    inlined = re.sub(r'<div data-nl-specimen="(\d+)"[^>]*>(.*?)</div>', restore_specimen, inlined, flags=re.DOTALL)
    inlined = re.sub(r"<!--(nljinja\d+x)-->", r"\1", inlined)
    inlined = re.sub(r"nljinja(\d+)x", lambda m: saved[int(m.group(1))], inlined)
    return InlinedTemplate(inlined, tuple(body_styles))
