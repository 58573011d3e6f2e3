"""What parsing and tagging depend on, as one digest: the parse cache is keyed by it.

A cached parse result holds each entry's countries, so a new gazetteer or tagger rule must make
the cache miss even when the package's version number stayed the same (an upgrade from a
checkout, a development tree). The digest covers the code of this package and the data files
the tagger loads (not the sources tools/build_gazetteer.py makes data/gazetteer.marshal from,
600 KB that would double the time it takes); reading them costs about a millisecond.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_CONTENT = Path(__file__).resolve().parent
_DATA = _CONTENT.parent / "data"
# not read by parsing or tagging: the inlined newsletter template's data, and the sources of
# data/gazetteer.marshal (which is hashed; tests/test_tagger_table.py checks it agrees with them)
_NOT_LOADED = frozenset({"inlined-newsletter.json", "countries.tsv", "gazetteer.json", "wordnet-compounds.tsv"})


@functools.cache
def parsing_fingerprint() -> str:
    """A digest of the parsing and tagging code and of the gazetteer data."""
    digest = hashlib.blake2b(digest_size=12)
    files = sorted(_CONTENT.glob("*.py")) + [p for p in sorted(_DATA.iterdir()) if p.name not in _NOT_LOADED]
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
