"""Entry bodies as HTML, plain text and summaries.

Plain-text bodies: each paragraph becomes a `<p>`, bare http(s) URLs become links, and
everything else is escaped. Markdown bodies go through markdown-it with raw HTML disabled
(bare URLs become links there too), so no bulletin can put markup (let alone script) into a
page or a feed.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?'\u2019\u201d\")]"
_TAG = re.compile(r"<[^>]+>")


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).disable("image")
    md.core.ruler.push("bare_urls", _link_bare_urls)  # last: after text_join has merged the text
    return md


def _link_bare_urls(state) -> None:
    """Bare http(s) URLs in Markdown text become links, as in plain-text bodies (markdown-it's
    own `linkify` needs the linkify-it-py package for what `_URL` does here); not inside a
    link or code."""
    from markdown_it.token import Token

    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, depth = [], 0
        for token in block.children:
            if token.type == "link_open":
                depth += 1
            elif token.type == "link_close":
                depth -= 1
            if token.type != "text" or depth > 0 or "://" not in token.content:
                children.append(token)
                continue
            text, pos = token.content, 0
            for m in _URL.finditer(text):
                url, _tail = _split_url(m.group())
                if m.start() > pos:
                    children.append(Token("text", "", 0, content=text[pos : m.start()]))
                children.append(Token("link_open", "a", 1, attrs={"href": url}, markup="linkify", info="auto"))
                children.append(Token("text", "", 0, content=url))
                children.append(Token("link_close", "a", -1, markup="linkify", info="auto"))
                pos = m.start() + len(url)
            if pos < len(text):
                children.append(Token("text", "", 0, content=text[pos:]))
        block.children = children


def _split_url(url: str) -> tuple[str, str]:
    tail = ""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def _linkify(paragraph: str) -> str:
    out, pos = [], 0
    for m in _URL.finditer(paragraph):
        url, tail = _split_url(m.group())
        out.append(html.escape(paragraph[pos : m.start()], quote=False))
        href = html.escape(url)
        out.append(f'<a href="{href}">{html.escape(url, quote=False)}</a>{html.escape(tail, quote=False)}')
        pos = m.end()
    out.append(html.escape(paragraph[pos:], quote=False))
    return "".join(out)


def body_html(body: str, body_format: str) -> str:
    """Safe HTML for an entry body."""
    if body_format == "markdown":
        return _markdown().render(body).strip()
    if not body:
        return ""
    if "http" not in body:  # (most bodies): no URL, so one escape (html.escape's, inline); it leaves the newlines be
        text = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n\n", "</p>\n<p>")
        return f"<p>{text}</p>"
    return "\n".join(f"<p>{_linkify(p)}</p>" for p in body.split("\n\n"))


_ANCHOR = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)


def body_text(body: str, body_format: str, *, urls: bool = False) -> str:
    """Plain text of an entry body: paragraphs separated by blank lines.

    With `urls`, Markdown links keep their target written out: `text (https://…)`.
    """
    if body_format != "markdown":
        return body
    rendered = _markdown().render(body)
    if urls:
        rendered = _ANCHOR.sub(
            lambda m: m.group(2) if m.group(2) == m.group(1) else f"{m.group(2)} ({m.group(1)})", rendered
        )
    rendered = re.sub(r"</(p|li|h\d|blockquote|pre)>", "\n\n", rendered)
    text = html.unescape(_TAG.sub("", rendered))
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def summarize(text: str, limit: int = 280) -> str:
    """The first paragraph of a plain text, cut at a word boundary with an ellipsis."""
    end = text.find("\n\n")  # (found, not split: no copy of the rest)
    if end < 0:
        end = len(text)
    if end <= limit:
        return text[:end]
    space = text.rfind(" ", 0, limit)  # the last word boundary in the first `limit` characters
    return text[: limit if space < 0 else space].rstrip(".,;: ") + "\u2026"
