"""Client addresses behind reverse proxies: trust `X-Forwarded-For` from `serve.proxies` hops."""

from __future__ import annotations


def behind_proxies(app, proxies: int):
    if proxies <= 0:
        return app
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app
