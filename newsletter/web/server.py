"""`newsletter serve`: the web app under waitress, a production WSGI server.

waitress is pure Python (nothing to compile, runs wherever `newsletter` runs), multi-threaded,
and well kept; behind a reverse proxy (see docs/nginx-newsletter.conf) it needs no more. SIGTERM
and SIGINT stop it after the requests in progress.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

from newsletter.errors import ConfigError, UsageError

log = logging.getLogger("newsletter.web")


def make_app(config, templates_dir=None):
    """The configured app, or a `ConfigError` saying what is missing."""
    from newsletter.content.gazetteer import load_gazetteer
    from newsletter.render.templating import Templates
    from newsletter.subscribers.store import SubscriberStore
    from newsletter.web.app import create_app

    problems = []
    secret = os.environ.get(config.newsletter_secret_env)
    if not secret:
        problems.append(f"{config.newsletter_secret_env}: set this environment variable; it signs every link")
    if not config.newsletter_public_url:
        problems.append("newsletter.public_url: required; the URL where `newsletter serve` is reachable")
    if problems:
        raise ConfigError(problems)
    state_dir = Path(config.state)
    SubscriberStore(state_dir).close()  # refuses a damaged store now, not at the first request
    gazetteer = load_gazetteer().with_overrides(config.aliases, config.exclusions)
    return create_app(config, state_dir=state_dir, secret=secret.encode(), templates=Templates(templates_dir),
                      gazetteer=gazetteer)


def serve(config, *, host: str, port: int, templates_dir=None) -> int:
    from waitress.server import create_server

    from newsletter.web.proxy import behind_proxies

    app = behind_proxies(make_app(config, templates_dir), config.serve_proxies)
    try:
        server = create_server(app, host=host, port=port, threads=8, ident="newsletter")
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum, frame):
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.warning("serving %s on http://%s:%d/ (SIGTERM or Ctrl-C to stop)", config.newsletter_public_url, host, server.effective_port)
    try:
        server.run()
    except OSError:
        pass  # the socket was closed by `stop`
    return 0
