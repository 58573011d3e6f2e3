"""Many concurrent people against a running `newsletter serve` on 127.0.0.1: each signs up,
confirms and (every other one) unsubscribes. Used by tests/test_web_load.py and `make bench`.

Bounded: `people` journeys, each three requests at most, a time-out on every request.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from itsdangerous import URLSafeTimedSerializer

from newsletter.subscribers.tokens import unsubscribe_token


def journeys(
    base: str, secret: bytes, people: int, *, concurrency: int, origin: str, confirm_link=None
) -> tuple[list[float], list[str]]:
    """(latency of every request in seconds, errors). Everyone starts at the same moment.
    `confirm_link(email)` returns the link of the confirmation mail that address received (a
    person's way); without it the link is signed here (for a server whose mail goes nowhere)."""
    signer = URLSafeTimedSerializer(secret, salt="newsletter-confirm")
    start = threading.Barrier(min(people, concurrency))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def request(url: str, data: bytes | None = None, headers: dict | None = None) -> None:
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30) as r:
                r.read()
                ok = r.status == 200
        except urllib.error.HTTPError as exc:
            ok = False
            errors.append(f"{url}: {exc.code}")
        except OSError as exc:
            ok = False
            errors.append(f"{url}: {exc}")
        with lock:
            latencies.append(time.perf_counter() - began)
        if not ok and not errors:
            errors.append(url)

    def one(n: int) -> None:
        email = f"load{n}@example.org"
        if n < concurrency:
            start.wait(timeout=30)
        form = urllib.parse.urlencode({"email": email, "country": "mx"}).encode()
        request(base + "subscribe", form, {"Origin": origin})
        if confirm_link is not None:
            request(confirm_link(email))
        else:
            request(base + "confirm?" + urllib.parse.urlencode({"token": signer.dumps({"e": email, "l": ["mx"]})}))
        if n % 2:
            query = urllib.parse.urlencode(
                {"list": "mx", "email": email, "token": unsubscribe_token(secret, email, "mx")}
            )
            request(
                base + "unsubscribe?" + query,
                b"List-Unsubscribe=One-Click",
                {"Content-Type": "application/x-www-form-urlencoded"},
            )

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(people)))
    return latencies, errors
