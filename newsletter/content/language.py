"""Which of English, Spanish, French and Portuguese a text is in, from its function words.

The tagger asks only when an entry holds a name of another language that English text has no
use for ("venezolanos", "haïtiens"), so that an entry's own words decide, not its date line.
Stopword scores rather than a statistical identifier: on the 180 cases of the tagger's table
whose language is known both are right every time, but py3langid (restricted to the four
languages) takes about 50 µs a text and 2 s to load its model with numpy, the scores about
10 µs and nothing (`python tools/tagger_score.py --languages`); the closed word classes
(articles, prepositions, conjunctions) tell these four languages apart in a sentence or two.
"""

from __future__ import annotations

import ahocorasick_rs

_WORDS = {
    "en": "the and of to in for with on is are was were from by at its their has have this that will new "
    "after over into who which more than says said been be as an",
    "es": "el la los las del y en que por para con una un se al su sus es como mas entre tras sobre desde este "
    "esta son han ha fue hasta ante durante muy",
    "fr": "le la les des du et en pour dans une un sur au aux est par avec qui ses leur leurs ont ce cette "
    "sont selon apres entre vers lors plus",
    "pt": "o os as do da dos das e em no na nos nas para com uma um ao aos pelo pela pelos pelas que se sua seu "
    "suas seus sao foi tem entre apos sobre",
}
_LANGUAGES_OF: dict[bytes, frozenset[str]] = {}
for _lang, _words in _WORDS.items():
    for _word in _words.split():
        _LANGUAGES_OF[_word.encode()] = _LANGUAGES_OF.get(_word.encode(), frozenset()) | {_lang}
_LETTERS = bytes(c if ord("a") <= c <= ord("z") else ord(" ") for c in range(256))
_LOWER_LETTERS = bytes(c | 0x20 if ord("a") <= c | 0x20 <= ord("z") and c < 0x80 else ord(" ") for c in range(256))
"""`_LETTERS` of the lower case, for ASCII (whose only letters to lower are A-Z)."""
_TELLING = [word for word, langs in _LANGUAGES_OF.items() if len(langs) < 4]
"""The function words that count (a word of all four languages tells none of them apart)."""
_TELLS = [tuple(lang for lang in _WORDS if lang in _LANGUAGES_OF[word]) for word in _TELLING]
_FINDER = ahocorasick_rs.BytesAhoCorasick(
    [b" " + word + b" " for word in _TELLING], implementation=ahocorasick_rs.Implementation.DFA
)


def _function_words(folded: str) -> list[tuple[str, ...]]:
    """The languages of each function word of `folded` (lower-cased, or ASCII in any case), in
    turn: its runs of a–z (what `re.findall("[a-z]+")` finds) that are one of `_TELLING`. Every other byte of its
    UTF-8 becomes a space (a multi-byte character has no byte below 0x80, so it splits words
    just as the character does), and one automaton finds each function word standing between
    two spaces: a text's other words never become objects (splitting a text into words took
    twice the time of the rest of the guess)."""
    if folded.isascii():
        padded = b" " + folded.encode("ascii").translate(_LOWER_LETTERS) + b" "
    else:
        padded = b" " + folded.lower().encode("utf-8", "surrogatepass").translate(_LETTERS) + b" "
    tells = _TELLS
    return [tells[index] for index, _start, _end in _FINDER.find_matches_as_indexes(padded, overlapping=True)]


def _scores(words: list[tuple[str, ...]]) -> dict[str, int]:
    scores = dict.fromkeys(_WORDS, 0)
    for langs in words:
        for lang in langs:
            scores[lang] += 1
    return scores


def _winner(scores: dict[str, int]) -> str | None:
    best = max(scores.values())
    if best == 0:
        return None
    winners = [lang for lang, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def text_language(folded: str) -> str | None:
    """ "en", "es", "fr" or "pt" for an accent-folded text whose function words favour one
    language strictly; None when they do not (a short title without any)."""
    return _winner(_scores(_function_words(folded)))


def _clear(words: list[tuple[str, ...]]) -> str | None:
    scores = _scores([langs for langs in words if len(langs) == 1])
    best, second = sorted(scores.values(), reverse=True)[:2]
    if best < 2 or best <= 2 * second:
        return None
    return max(scores, key=scores.__getitem__)


def clear_language(folded: str) -> str | None:
    """The language an accent-folded text is clearly in: at least two of its words are
    function words of that language alone and fewer than half as many of any other; None for
    a short or mixed text."""
    return _clear(_function_words(folded))


def guess_language(folded: str, language: str | None) -> tuple[str | None, str | None]:
    """(`text_language(folded)`, `clear_language(folded)` if that guess is a language other
    than `language`, else None), from one look at the text's words."""
    words = _function_words(folded)
    if len(words) <= 1:  # (most titles and short texts): one word is too few to be clear
        return (words[0][0] if words and len(words[0]) == 1 else None), None
    guess = _winner(_scores(words))
    return guess, (_clear(words) if guess is not None and guess != language else None)


def is_english(folded: str) -> bool | None:
    """True when more function words of `folded` are English than of any other of the four
    languages, False when fewer, None when as many (or none at all)."""
    scores = _scores(_function_words(folded))
    english = scores.pop("en")
    other = max(scores.values())
    return None if english == other else english > other
