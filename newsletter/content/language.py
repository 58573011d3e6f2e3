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


def _tokens(folded: str) -> list[bytes]:
    """The runs of a–z in `folded` lower-cased (what `re.findall("[a-z]+")` finds), as bytes:
    every other byte of its UTF-8 becomes a space, and a multi-byte character has no byte
    below 0x80, so it splits words just as the character does. Half the time of `findall`,
    which makes a str object for every word (10,000 entries are read for their language)."""
    return folded.lower().encode("utf-8", "surrogatepass").translate(_LETTERS).split()


def text_language(folded: str) -> str | None:
    """ "en", "es", "fr" or "pt" for an accent-folded text whose function words favour one
    language strictly; None when they do not (a short title without any)."""
    scores = dict.fromkeys(_WORDS, 0)
    for word in _tokens(folded):
        langs = _LANGUAGES_OF.get(word)
        if langs is not None and len(langs) < 4:
            for lang in langs:
                scores[lang] += 1
    best = max(scores.values())
    if best == 0:
        return None
    winners = [lang for lang, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def is_english(folded: str) -> bool | None:
    """True when more function words of `folded` are English than of any other of the four
    languages, False when fewer, None when as many (or none at all)."""
    scores = dict.fromkeys(_WORDS, 0)
    for word in _tokens(folded):
        langs = _LANGUAGES_OF.get(word)
        if langs is not None and len(langs) < 4:
            for lang in langs:
                scores[lang] += 1
    english = scores.pop("en")
    other = max(scores.values())
    return None if english == other else english > other
