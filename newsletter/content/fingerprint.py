"""What parsing and tagging depend on, as one digest: the parse cache is keyed by it.

A cached parse result holds each entry's countries, so a new gazetteer or tagger rule must make
the cache miss even when the package's version number stayed the same (an upgrade from a
checkout, a development tree). The digest covers the code of this package and the data files
the tagger loads; reading them costs about a millisecond.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

_CONTENT = Path(__file__).resolve().parent
_DATA = _CONTENT.parent / "data"


@functools.cache
def parsing_fingerprint() -> str:
    """A digest of the parsing and tagging code and of the gazetteer data."""
    digest = hashlib.blake2b(digest_size=12)
    files = sorted(_CONTENT.glob("*.py")) + [p for p in sorted(_DATA.iterdir()) if p.name != "inlined-newsletter.json"]
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
