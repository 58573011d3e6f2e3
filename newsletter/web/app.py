"""The subscription web app: sign-up with double opt-in, one-click unsubscribe (RFC 8058),
preferences. A Flask application factory (`create_app`) with one blueprint per concern —
`signup`, `manage` (preferences and "send me my link"), `oneclick` — sharing a `Site`
(`newsletter.web.site`); `newsletter.web.server` serves it under waitress.

Promises, each tested:
- No request waits for an SMTP server: the app's messages go into the store's outbox and a
  background sender (`newsletter.web.sender`) mails them, trying again until the link would
  expire.
- No response tells whether an address is subscribed: sign-up and "send me my link" answer
  the same page, after the same work, for known, unknown and left addresses (what differs is
  decided by the sender and goes by mail, to the address itself).
- Tokens are HMAC-signed (`newsletter.subscribers.tokens`) and compared in constant time; a
  tampered or expired one gets a 400 page and records nothing.
- Forms are safe against cross-site posting: a browser's `Origin` (or `Sec-Fetch-Site`) must
  be this app's or the static site's; the preferences form also carries its signed token.
  The one-click POST needs no cookie and no origin: its token is the proof (RFC 8058).
- A hidden field that people never fill in turns bots away (answered like everyone else).
- Rate limits per client; security headers on every response; the app serves no file from
  disk but its own stylesheets and filter script: nothing under the state folder is reachable.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from newsletter.state import db as statedb
from newsletter.state import pg as pgdb
from newsletter.subscribers.store import MARKER_NAME
from newsletter.web import manage, oneclick, signup
from newsletter.web.mails import MailMaker
from newsletter.web.sender import OutboxSender, smtp_mailer
from newsletter.web.site import Site, close_store, site

if TYPE_CHECKING:
    from newsletter.config import Config

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# `same-origin`: the app's own pages send it their address and, with every POST, their real
# `Origin` (with `no-referrer` a browser posts `Origin: null`); other sites get nothing, so a
# token in a preferences link never leaves the app.
REFERRER_POLICY = "same-origin"
log = logging.getLogger("newsletter.web")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def create_app(config: Config, *, state_dir: Path, secret: bytes, templates, gazetteer, send_mail=None) -> Flask:
    """The app for one site. `send_mail(message_bytes, recipient, before_final_dot)` delivers the app's own
    messages (confirmations, preference links); by default over SMTP as `smtp.*` says. The
    sender is `app.extensions["newsletter.sender"]`: `newsletter serve` starts its thread;
    tests may call its `drain()`."""
    app = Flask("newsletter.web", static_folder=None, template_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=16 * 1024)
    shared = Site(config, state_dir, secret, templates, gazetteer)
    app.extensions["newsletter"] = shared
    makers = MailMaker(config, shared.env, shared.words, templates.read("web/mail.css").decode())
    app.extensions["newsletter.sender"] = OutboxSender(shared, send_mail or smtp_mailer(config), makers)
    app.teardown_appcontext(close_store)
    for blueprint in (signup.bp, manage.bp, oneclick.bp):
        app.register_blueprint(blueprint)
    statics = {
        "site.css": ("site.css", "text/css"),
        "web.css": ("web/web.css", "text/css"),
        "filter.js": ("web/filter.js", "text/javascript"),
    }
    files = {name: (templates.read(path), mimetype) for name, (path, mimetype) in statics.items()}

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = REFERRER_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    for status in (404, 405, 413):
        app.register_error_handler(status, lambda _exc, status=status: site().refused(status))

    @app.errorhandler(Exception)
    def database_down(exc: Exception):
        """The database server down or restarting: a short 503 page (nothing was recorded: each
        request's writes are one transaction), one log line, no traceback; the next request
        opens a new connection."""
        if isinstance(exc, HTTPException):
            return exc
        if not pgdb.unavailable(exc):
            raise exc
        log.error("the database is unavailable: %s", _first_line(exc))
        response = site().refused(503)
        response.headers["Retry-After"] = "30"
        return response

    def static_file(name: str) -> Response:
        data, mimetype = files[name]
        return Response(data, mimetype=mimetype)

    for name in files:
        app.add_url_rule(f"/{name}", f"static_{name}", lambda name=name: static_file(name))

    @app.get("/health")
    def health():
        """ "ok" when the store answers (with PostgreSQL: a new connection runs a query), else 503."""
        url = statedb.database_url(state_dir / MARKER_NAME, None)
        if pgdb.is_url(url):
            try:
                probe = pgdb.PgConnection(url, "subscribers", what="subscriber store")
                try:
                    probe.execute("SELECT 1").fetchone()
                finally:
                    probe.close()
            except Exception as exc:
                if not pgdb.unavailable(exc):
                    raise
                return Response(f"database unavailable: {_first_line(exc)}\n", status=503, mimetype="text/plain")
        return Response("ok\n", mimetype="text/plain")

    return app
