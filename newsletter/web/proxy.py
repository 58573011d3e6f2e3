"""Client addresses behind reverse proxies: trust `X-Forwarded-For` (and -Proto, -Host) from
`serve.proxies` hops.

waitress does it: it strips every X-Forwarded-* header it was not told to trust before the app
sees it (`clear_untrusted_proxy_headers`), which is why a WSGI middleware behind it (werkzeug's
ProxyFix, used before) never saw the client's address and every client behind nginx shared one
rate-limit budget. Without `serve.proxies` those headers are dropped, so a client cannot claim
another address to escape its limit."""

from __future__ import annotations


def proxy_options(proxies: int) -> dict:
    """waitress `create_server` options for `proxies` trusted hops in front of it."""
    if proxies <= 0:
        return {"clear_untrusted_proxy_headers": True}
    # "*": the proxy may be on another host; only the last `proxies` hops of each header are
    # taken, so what a client puts in front of them is ignored (what ProxyFix's x_for=N did)
    return {
        "trusted_proxy": "*",
        "trusted_proxy_count": proxies,
        "clear_untrusted_proxy_headers": True,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
    }
