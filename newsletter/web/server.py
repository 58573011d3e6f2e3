"""`newsletter serve`: the web app under waitress, a production WSGI server, and the outbox's
background sender beside it.

waitress is pure Python (nothing to compile, runs wherever `newsletter` runs), multi-threaded,
and well kept; behind a reverse proxy (see docs/nginx-newsletter.conf) it needs no more. Its
defaults are tuned so that idle or slow clients cannot starve it: waitress reads requests in
its event loop and hands only complete ones to its threads, so what idle sockets can exhaust
is the connection limit (100 by default, after which it stops accepting). Here the limit is
far above what idle clients can hold before `channel_timeout` closes them, and the loop uses
poll() (select() stops at 1024 descriptors).

SIGTERM and SIGINT stop it at once: the event loop ends (idle connections included: closing
the listening socket alone left waitress looping while any client kept a connection open,
which is why serve once had not exited 10 s after SIGTERM), requests in progress get up to a
half a second (`IN_PROGRESS_GRACE`), the sender thread is not waited for (a row it held
before the final "." is taken again by the next serve; one after it stays sent).
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from newsletter.config import Config

log = logging.getLogger("newsletter.web")
access_log = logging.getLogger("newsletter.web.access")

THREADS = 8
CHANNEL_TIMEOUT = 30  # seconds an idle or stalled connection is kept
IN_PROGRESS_GRACE = 0.5
"""Seconds SIGTERM waits for requests in progress (queued ones are cancelled at once). A request
waiting for the store's write lock behind others can take that long under load; each one's
writes are a transaction, so one cut short changes nothing. It was 1 s, which with the process's
exit on a loaded machine once made SIGTERM take 2.17 s against the 2 s promised."""


def make_app(config: Config, templates_dir=None, send_mail=None):
    """The configured app, or a `ConfigError` saying what is missing."""
    from newsletter.content.gazetteer import load_gazetteer
    from newsletter.render.templating import Templates
    from newsletter.subscribers.store import SubscriberStore
    from newsletter.web.app import create_app

    problems = []
    secret = os.environ.get(config.newsletter_secret_env) or ""
    if not secret:
        problems.append(f"{config.newsletter_secret_env}: set this environment variable; it signs every link")
    if not config.newsletter_public_url:
        problems.append("newsletter.public_url: required; the URL where `newsletter serve` is reachable")
    if problems:
        raise ConfigError(problems)
    state_dir = Path(config.state)
    SubscriberStore(state_dir).close()  # refuses a damaged store now, not at the first request
    gazetteer = load_gazetteer().with_overrides(config.aliases, config.exclusions)
    return create_app(
        config,
        state_dir=state_dir,
        secret=secret.encode(),
        templates=Templates(templates_dir),
        gazetteer=gazetteer,
        send_mail=send_mail,
    )


def access_logged(app):
    """One line per request: method, path (never its query: tokens and addresses live there),
    status, milliseconds."""

    def logged(environ, start_response):
        began = time.perf_counter()
        status = ["-"]

        def start(code, headers, exc_info=None):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        try:
            return app(environ, start)
        finally:
            access_log.info(
                "%s %s %s %.1f ms",
                environ.get("REQUEST_METHOD", "-"),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                status[0],
                (time.perf_counter() - began) * 1000,
            )

    return logged


def connection_limit() -> int:
    """As many connections as the process may open (its soft limit raised to the hard one, up
    to 10,064 descriptors), less a margin for the store and SMTP."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 10064 if hard == resource.RLIM_INFINITY else min(hard, 10064)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        soft = 10064
    return max(100, min(10000, soft - 64))


class Stop(SystemExit):
    """Raised in the main thread by SIGTERM/SIGINT: ends waitress's event loop at once (its
    handlers let SystemExit through; `run` then stops its threads)."""


def serve(config: Config, *, host: str, port: int, templates_dir=None) -> int:
    from newsletter.state.lock import ServeLock

    with ServeLock(Path(config.state)):  # shared with other serve processes; `backup --restore` waits for none
        return _serve(config, host=host, port=port, templates_dir=templates_dir)


def _serve(config: Config, *, host: str, port: int, templates_dir=None) -> int:
    from waitress.server import create_server

    from newsletter.web.proxy import proxy_options

    app = make_app(config, templates_dir)
    sender = app.extensions["newsletter.sender"]
    try:
        server = create_server(
            access_logged(app),
            host=host,
            port=port,
            threads=THREADS,
            ident="newsletter",
            connection_limit=connection_limit(),
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=5,
            asyncore_use_poll=True,
            backlog=2048,
            **proxy_options(config.serve_proxies),
        )
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum, frame):
        raise Stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth is N" at every burst
    sender.start()
    log.warning(
        "serving %s on http://%s:%s/ (SIGTERM or Ctrl-C to stop)",
        config.newsletter_public_url,
        host,
        server.effective_port,
    )
    try:
        server.run()  # returns once Stop ended the loop
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sender.stop()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=IN_PROGRESS_GRACE)
        server.close()
    log.warning("stopped")
    return 0
