"""Entry bodies' summaries and HTML (`content.markup`) are what their plain definitions give:
the first paragraph cut at a word boundary; each paragraph escaped in a `<p>`."""

from __future__ import annotations

import html
import itertools

from newsletter.content.markup import body_html, summarize


def _summary(text: str, limit: int) -> str:
    first = text.split("\n\n", 1)[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(".,;: ") + "\u2026"


WORDS = ["a", "bb", "ccc.", "d,", "ééé", "word", "x" * 12, "—", "&<>", ""]


def texts():
    for n, start in itertools.product(range(0, 40, 3), range(len(WORDS))):
        words = [WORDS[(start + k * 7) % len(WORDS)] for k in range(n)]
        yield " ".join(words)
        yield " ".join(words[: n // 2]) + "\n\n" + " ".join(words[n // 2 :])
        yield "".join(words) + "\n\n\n" + " ".join(words)


def test_a_summary_is_the_first_paragraph_cut_at_a_word_boundary():
    for text in texts():
        for limit in (0, 1, 5, 12, 20, 200):
            assert summarize(text, limit) == _summary(text, limit), (text, limit)


def test_a_plain_body_is_its_paragraphs_escaped():
    for text in texts():
        if text:
            want = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in text.split("\n\n"))
            assert body_html(text, "text") == want, text
