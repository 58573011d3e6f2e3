"""The `Entry` value, slugs and entry ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import NamedTuple
from urllib.parse import quote


class Entry(NamedTuple):
    """One news item. Immutable; later stages derive new values with `_replace`.

    A NamedTuple rather than a dataclass: the parse cache holds hundreds of thousands of
    these, and tuples load from it several times faster.
    """

    date: dt.date
    title: str
    body: str
    """Body source: paragraphs separated by a blank line (plain text) or Markdown."""
    body_format: str
    """"text" for .txt bulletins, "markdown" for .md bulletins."""
    source: str
    """Path of the bulletin file, as reported in messages."""
    line: int
    """Line of the entry's date line in `source`."""
    link: str | None = None
    """Canonical URL from a `Link:` line."""
    fixed_id: str | None = None
    """Id from an `Id:` line."""
    countries: tuple[str, ...] | None = None
    """Country codes: from `Countries:` at parse time, else filled in by the tagger."""
    id: str = ""
    slug: str = ""
    updated: dt.datetime | None = None
    """When the entry last changed (set from the identity state); None means its date."""
    title_key: str = ""
    """Normalised title (see `title_key()`); with the date, the entry's natural key."""
    digest: str = ""
    """Hash of what the entry says (title, body, format, link); see `content_digest()`."""
    language: str | None = None
    """Its language, from a `Language:` line or the words of its date line; None: the site's."""

    @property
    def key(self) -> tuple[dt.date, str]:
        """The natural key: two entries with the same key are the same item."""
        return (self.date, self.title_key or title_key(self.title))


def content_digest(title: str, body: str, body_format: str, link: str | None) -> str:
    """What counts as a change to an entry's text."""
    digest = _DIGEST.copy()  # (a copy of a made one: no keyword arguments parsed, no parameters set up)
    digest.update("\x1f".join((title, body, body_format, link or "")).encode())
    return digest.hexdigest()


_DIGEST = hashlib.blake2b(digest_size=8)


def title_key(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a title."""
    return slugify(title, limit=1000)


_WORD_BYTES = bytes(
    c | 0x20 if 0x41 <= c <= 0x5A else c if 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 else 0x20 for c in range(256)
)
"""Lower-cases A-Z, keeps a-z and 0-9 and makes every other byte a space, the gaps `bytes.split`
splits at."""


def slugify(text: str, *, limit: int = 80) -> str:
    """ASCII slug: lowercase words joined by hyphens, cut at a word boundary."""
    # `re.sub("[^a-z0-9]+", "-", ascii_text.lower()).strip("-")` in half the time (every title's key)
    if text.isascii():  # (its own NFKD form; its apostrophes go in the same pass as the gaps)
        words = text.encode("ascii").translate(_WORD_BYTES, b"'")
    else:  # (before NFKD, which makes "'" of a full-width apostrophe: that one stays a gap)
        text = text.replace("\u2019", "").replace("'", "")
        words = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").translate(_WORD_BYTES)
    slug = b"-".join(words.split()).decode("ascii")
    return (shorten(slug, limit) if len(slug) > limit else slug) or "entry"


def shorten(slug: str, limit: int = 80) -> str:
    """`slug` cut at a word boundary to at most `limit` characters (`slugify` does this last,
    so the slug of a title is its `title_key` shortened: no second Unicode normalisation)."""
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug


def entry_id(authority: str, date: dt.date, slug: str, fixed: str | None = None) -> str:
    """A `tag:` URI (RFC 4151) for an entry, or the `Id:` given in the bulletin.

    An `Id:` that is already a URI is used as it is; anything else is made into a tag URI.
    """
    if fixed:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$", fixed):
            return quote(fixed, safe=":/?#[]@!$&'()*+,;=%-._~")
        return f"tag:{authority},{date.isoformat()}:{quote(fixed, safe='-._~')}"
    return f"tag:{authority},{date.isoformat()}:{slug}"


_ID_AT = Entry._fields.index("id")
assert Entry._fields[_ID_AT : _ID_AT + 3] == ("id", "slug", "updated")
_new_entry = tuple.__new__


def with_identity(entry: Entry, eid: str, slug: str, updated: dt.datetime | None) -> Entry:
    """`entry._replace(id=eid, slug=slug, updated=updated)`, five times quicker (the catalog
    does this for every entry of every build)."""
    return _new_entry(Entry, entry[:_ID_AT] + (eid, slug, updated) + entry[_ID_AT + 3 :])


_COUNTRIES_AT = Entry._fields.index("countries")


def with_countries(entry: Entry, countries: tuple[str, ...]) -> Entry:
    """`entry._replace(countries=countries)`, several times quicker (the tagger's codes for
    every entry without a `Countries:` line)."""
    return _new_entry(Entry, entry[:_COUNTRIES_AT] + (countries,) + entry[_COUNTRIES_AT + 1 :])
