"""OPML 2.0 list of every feed, for importing all countries into a reader at once."""

from __future__ import annotations


def render_opml(title: str, feeds: list[tuple[str, str, str]], date_modified: str) -> bytes:
    """`feeds` are (text, xml_url, html_url) triples, in display order."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_esc(title)}</title>",
        f"    <dateModified>{_esc(date_modified)}</dateModified>",
        "  </head>",
        "  <body>",
    ]
    for text, xml_url, html_url in feeds:
        lines.append(
            f'    <outline type="rss" text={quoteattr(text)} title={quoteattr(text)} '
            f"xmlUrl={quoteattr(xml_url)} htmlUrl={quoteattr(html_url)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """`xml.sax.saxutils.quoteattr`, whose module imports `urllib.request` (and with it
    `http.client`, `ssl` and `email`): 20 ms of every build's start for three replacements."""
    text = _esc(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', "&quot;") + '"'
