"""Signed tokens in links and addresses: every one an HMAC-SHA256 of the NEWSLETTER_SECRET key,
compared in constant time. One purpose per token, so that one kind can never stand for another.

- unsubscribe: (address, list) → the one-click link of every message (RFC 8058);
- preferences: address → the preferences page linked from every footer;
- bounce: address → the VERP envelope sender `bounces+TOKEN@domain`, so that a bounce maps to
  its subscriber whatever its body says;
- mailto: (address, list) → the `mailto:` unsubscribe request's subject.
Confirmation links also expire: see `newsletter.web.app` (itsdangerous, timed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote


def _mac(secret: bytes, *parts: str) -> bytes:
    return hmac.new(secret, "\n".join(parts).encode(), hashlib.sha256).digest()


def unsubscribe_token(secret: bytes, email: str, group: str) -> str:
    """HMAC proving that an unsubscribe request for (email, group) came from our message."""
    mac = _mac(secret, email.lower(), group)  # the form of 0.1, kept so links already sent still work
    return quote(base64.urlsafe_b64encode(mac[:18]).decode(), safe="")


def preferences_token(secret: bytes, email: str) -> str:
    mac = _mac(secret, "preferences", email.lower())
    return base64.urlsafe_b64encode(mac[:18]).decode()


def bounce_token(secret: bytes, email: str) -> str:
    """16 lower-case letters and digits: safe in an address's local part, case-insensitive."""
    mac = _mac(secret, "bounce", email.lower())
    return base64.b32encode(mac[:10]).decode().lower()


def mailto_token(secret: bytes, email: str, group: str) -> str:
    mac = _mac(secret, "mailto", email.lower(), group)
    return base64.b32encode(mac[:10]).decode().lower()


def matches(expected: str, given: str) -> bool:
    """Constant-time comparison of a token from a request."""
    return hmac.compare_digest(expected.encode(), given.encode())


def verp_address(bounce_address: str, token: str) -> str:
    """`bounces@example.org` + token → `bounces+token@example.org`."""
    local, _, domain = bounce_address.rpartition("@")
    return f"{local}+{token}@{domain}"
