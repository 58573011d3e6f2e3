"""`serve.proxies` through a real reverse proxy process on 127.0.0.1 (tests/helpers/prefix_proxy.py, which
appends to X-Forwarded-For as nginx's `$proxy_add_x_forwarded_for` does): each client behind the
proxy has its own `serve.client_rate` budget, and no client can escape its budget by sending its
own X-Forwarded-For, behind the proxy or without one. Clients come from distinct loopback
addresses (127.0.0.1, 127.0.0.2), so the proxy sees two peers."""

from __future__ import annotations

import http.client
import urllib.parse

from helpers.prefix_proxy import PrefixProxy
from helpers.serve_process import running_serve
from helpers.smtp_server import free_port
from test_web_serve import ENV, ORIGIN, configure

RATE = 2


def _post(port: int, path: str, email: str, *, source: str = "127.0.0.1", headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(
            "POST",
            path,
            body=urllib.parse.urlencode({"email": email, "country": "mx"}),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN, **(headers or {})},
        )
        answer = conn.getresponse()
        answer.read()
        return answer.status
    finally:
        conn.close()


def test_behind_one_proxy_each_client_has_its_own_budget_and_cannot_spoof_another(tmp_path):
    port = free_port()
    configure(tmp_path, port, free_port(), client_rate=RATE, proxies=1)
    (tmp_path / "site").mkdir()
    with running_serve(tmp_path, port, env=ENV), PrefixProxy(tmp_path / "site", port) as proxy:

        def via(email: str, **kw) -> int:
            return _post(proxy.port, "/newsletter/subscribe", email, **kw)

        assert [via(f"a{n}@example.org") for n in range(RATE)] == [200] * RATE
        assert via("a-over@example.org") == 429
        # another client behind the same proxy: its own budget (before the fix: 429, one budget for all)
        assert via("b0@example.org", source="127.0.0.2") == 200
        # the first client claims other addresses in front of the proxy's hop: still itself
        assert via("a-spoof@example.org", headers={"X-Forwarded-For": "203.0.113.7"}) == 429
        assert via("a-spoof2@example.org", headers={"X-Forwarded-For": "203.0.113.8, 127.0.0.2"}) == 429
        # and a cross-site post is refused even with an allowed Origin (Sec-Fetch-Site says so)
        assert via("b1@example.org", source="127.0.0.2", headers={"Sec-Fetch-Site": "cross-site"}) == 403
        assert via("b1@example.org", source="127.0.0.2", headers={"Sec-Fetch-Site": "same-origin"}) == 200


def test_without_proxies_a_client_cannot_escape_its_limit_with_x_forwarded_for(tmp_path):
    port = free_port()
    configure(tmp_path, port, free_port(), client_rate=RATE)
    with running_serve(tmp_path, port, env=ENV):
        answers = [
            _post(port, "/subscribe", f"c{n}@example.org", headers={"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(RATE + 2)
        ]
    assert answers == [200] * RATE + [429, 429]
