"""Complete email messages, composed directly as bytes.

Python's `email` package costs about a millisecond per message; a build writes one
message per issue and `send` one per recipient, so messages are put together here from
pre-encoded parts. Every header value is stripped of line breaks and encoded (RFC 2047)
when it is not plain ASCII, so nothing from a bulletin or a subscriber list can add a
header. The output is checked with the standard library's parser in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


def clean_header(value: str) -> str:
    """A header value on one line: line breaks and control characters become spaces."""
    value = _LINE_BREAKS.sub(" ", value)
    return " ".join("".join(ch if ch >= " " else " " for ch in value).split())


def encode_header(name: str, value: str) -> bytes:
    """`Name: value` folded and RFC 2047-encoded when needed, with CRLF."""
    value = clean_header(value)
    if value.isascii() and len(name) + len(value) < 76:
        return f"{name}: {value}\r\n".encode("ascii")
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}\r\n".encode("ascii")


def address(name: str, email: str) -> str:
    """`"Name" <email>` with the display name encoded when it is not ASCII."""
    return formataddr((clean_header(name), clean_header(email)), charset="utf-8")


def phrase_and_id(phrase: str, ident: str) -> str:
    """`phrase <id>` (as in List-Id) with only the phrase encoded when it is not ASCII."""
    phrase = clean_header(phrase)
    if not phrase.isascii():
        phrase = Header(phrase, "utf-8").encode()
    else:
        phrase = '"' + phrase.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{phrase} <{clean_header(ident)}>"


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class Message:
    """Everything a message says; `compose` turns it into RFC 5322 bytes."""

    from_addr: str
    to_addr: str
    subject: str
    date: object
    message_id: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = ()

    def compose(self) -> bytes:
        boundary = "=_nl_" + hashlib.blake2b(self.message_id.encode(), digest_size=12).hexdigest()
        out = [
            encode_header("From", self.from_addr),
            encode_header("To", self.to_addr),
            encode_header("Subject", self.subject),
            encode_header("Date", format_datetime(self.date)),
            encode_header("Message-ID", self.message_id),
        ]
        out += [encode_header(k, v) for k, v in self.headers]
        out.append(b"MIME-Version: 1.0\r\n")
        out.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode())
        out.append(b"This is a multi-part message in MIME format.\r\n")
        for subtype, body in (("plain", self.text), ("html", self.html)):
            out.append(f"--{boundary}\r\n".encode())
            out.append(f"Content-Type: text/{subtype}; charset=utf-8\r\n".encode())
            out.append(b"Content-Transfer-Encoding: base64\r\n\r\n")
            # Text travels in canonical form: CRLF line ends (RFC 2046).
            out.append(_b64(body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")))
        out.append(f"--{boundary}--\r\n".encode())
        return b"".join(out)
