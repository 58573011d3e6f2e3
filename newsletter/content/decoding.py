"""Turn the bytes of a bulletin file into clean text lines.

Accepts UTF-8 (with or without BOM), UTF-16 with BOM, and legacy Windows-1252/Latin-1
(decoded with a warning). Normalises line endings, Unicode spaces and control characters
so that later stages never see anything that XML or HTML would refuse.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import ahocorasick_rs

# Unicode spaces become a plain space; zero-width characters and controls disappear.
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\ufffe\uffff"
_CONTROLS = "".join(chr(c) for c in range(0x20) if c not in (0x0A,)) + "".join(chr(c) for c in range(0x7F, 0xA0))
_TRANSLATE = str.maketrans(
    {**{c: " " for c in _SPACES}, **{c: None for c in _ZERO_WIDTH}, **{c: None for c in _CONTROLS if c != "\t"}}
)
_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_NEEDS_TRANSLATION = re.compile("[" + re.escape(_SPACES + _ZERO_WIDTH + _CONTROLS.replace("\n", "")) + "]")
_CONTROL_BETWEEN_WORDS = re.compile("(?<=\\S)[\x0b\x0c\x1c-\x1f]+(?=\\S)")
"""Line and page breaks (a word processor's manual line break is \\v) and the separator
controls stand for a break: between two words they become a space. Other controls (bell,
escape…) are noise and go."""
_BINARY_CONTROLS = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_NOT_BINARY = bytes(b for b in range(256) if _BINARY_CONTROLS.match(bytes([b])) is None)
"""`data.translate(None, _NOT_BINARY)` keeps only the bytes `_BINARY_CONTROLS` matches: empty
for almost every file, and ten times quicker to learn so than the regex's search (asked of the
bytes `_PRINTABLE_ASCII` leaves, among which all of those are)."""
_MAX_STRAY_CONTROLS = 0.01  # a few stray control bytes are cleaned; more means binary data
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
"""`data.translate(None, _PRINTABLE_ASCII)` of UTF-8 keeps its ASCII controls and whole multi-byte
characters (no byte of one is ASCII): what may be unprintable, in a few bytes of most files."""
_TWO_SPACES = ahocorasick_rs.BytesAhoCorasick([b"  "])
"""Finds two spaces in a row: its SIMD search reads a file of 65 KB in 2 µs, where `b"  " in data`
takes 90 (and asking each line `"  " in line`, as the parser would, as long)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """Result of decoding: `lines` (without line ends) or an `error`; `warning` is advisory."""

    lines: list[str] | None
    warning: str | None = None
    error: str | None = None
    error_line: int = 1
    warning_line: int = 0
    spaced: bool = True
    """False when no line holds two spaces in a row (known of UTF-8 files that need no cleaning);
    True when one may."""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_bulletin(data: bytes) -> Decoded:
    """Decode and normalise one bulletin file's bytes."""
    warning, warning_line = None, 0
    utf8 = None  # the bytes `text` was decoded from, when UTF-8
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            return Decoded(
                None, error=f"cannot decode UTF-16 text ({exc.reason})", error_line=_line_of(data, exc.start)
            )
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        # its bytes but printable ASCII: its controls and multi-byte characters, a few bytes of most
        # files (one pass over the file for both questions below)
        unusual = data.translate(None, _PRINTABLE_ASCII)
        controls = _BINARY_CONTROLS.search(data) if unusual.translate(None, _NOT_BINARY) else None
        if controls is not None and (
            b"\x00" in data or len(_BINARY_CONTROLS.findall(data)) > max(4, len(data) * _MAX_STRAY_CONTROLS)
        ):
            if b"\x00" in data:
                controls = re.search(rb"\x00", data) or controls
            byte = controls.group()[0]
            return Decoded(
                None,
                error=f"binary data (byte 0x{byte:02x}); this is not a text bulletin, skipped",
                error_line=_line_of(data, controls.start()),
            )
        try:
            text = data.decode("utf-8")
            utf8 = data
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start)
            try:
                text = data.decode("cp1252")
                encoding = "Windows-1252"
            except UnicodeDecodeError:
                text = data.decode("latin-1")
                encoding = "Latin-1"
            warning = f"not UTF-8 (byte 0x{data[exc.start]:02x}); decoded as {encoding}, please save as UTF-8"
            warning_line = line
    # what clean_text changes is never printable; of UTF-8, only the characters that are not
    # printable ASCII are asked (a tenth of the time of asking every line)
    if utf8 is not None:
        printable = unusual.decode("utf-8").isprintable()  # (utf8 is data)
    else:
        printable = text.replace("\n", "").isprintable()
    lines = (text if printable else clean_text(text)).split("\n")
    # (no byte of a multi-byte UTF-8 character is a space: two spaces in the text are two in its bytes)
    # Only a printable text is read so: every other gap `str.split` knows (tab, NBSP, U+3000, …) is
    # unprintable, so its file went through `clean_text` and stays `spaced` (the parser tests each line).
    spaced = not (printable and utf8 is not None) or bool(_TWO_SPACES.find_matches_as_indexes(utf8, overlapping=False))
    return Decoded(lines, warning=warning, warning_line=warning_line, spaced=spaced)


def clean_text(text: str) -> str:
    """Normalise a string from any source the way bulletin text is normalised."""
    if "\r" in text or not text.isascii():
        text = _NEWLINES.sub("\n", text)
    if _NEEDS_TRANSLATION.search(text) is not None:  # rare: most files need no translation at all
        text = _CONTROL_BETWEEN_WORDS.sub(" ", text).translate(_TRANSLATE)
    return text
