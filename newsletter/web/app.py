"""The subscription web app: sign-up with double opt-in, one-click unsubscribe (RFC 8058),
preferences. A Flask application factory (`create_app`); `newsletter.web.server` serves it.

Promises, each tested:
- No response tells whether an address is subscribed: sign-up and "send me my preferences
  link" answer the same page for known, unknown and left addresses (what differs goes by
  mail, to the address itself).
- Tokens are HMAC-signed (`newsletter.subscribers.tokens`) and compared in constant time; a
  tampered or expired one gets a 400 page and records nothing.
- Forms are safe against cross-site posting: a browser's `Origin` (or `Sec-Fetch-Site`) must
  be this app's or the static site's; the preferences form also carries its signed token.
  The one-click POST needs no cookie and no origin: its token is the proof (RFC 8058).
- A hidden field that people never fill in turns bots away (answered like everyone else).
- Rate limits per client and per address; security headers on every response; the app serves
  no file from disk but its own stylesheet: nothing under the state folder is reachable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from newsletter.render.newsletters.mime import Message, address
from newsletter.render.words import Words, group_title
from newsletter.subscribers import tokens
from newsletter.subscribers.lists import list_name, normalise_email, valid_email
from newsletter.subscribers.store import SubscriberStore
from newsletter.web.limits import SlidingWindow

log = logging.getLogger(__name__)

HONEYPOT = "website"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def create_app(config, *, state_dir: Path, secret: bytes, templates, gazetteer, send_mail=None) -> Flask:
    """The app for one site. `send_mail(message_bytes, recipient)` delivers the app's own
    messages (confirmations, preference links); by default over SMTP as `smtp.*` says."""
    app = Flask("newsletter.web", static_folder=None, template_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=16 * 1024)
    public = config.newsletter_public_url
    allowed_origins = {o for o in (_origin(public), _origin(config.base_url)) if o}
    confirm_signer = URLSafeTimedSerializer(secret, salt="newsletter-confirm")
    client_limit = SlidingWindow(config.serve_client_rate, 600.0)
    address_limit = SlidingWindow(config.serve_address_rate, 3600.0)
    env = templates.env.overlay(autoescape=True)
    words = Words(config.language)
    names = {code.lower(): group_title(code.lower(), words, {c.lower(): n for c, n in gazetteer.display.items()})
             for code in gazetteer.display}
    mailer = send_mail or _smtp_sender(config)
    site_css = templates.read("site.css")
    store_check = [True]  # the first open checks the database's integrity; later ones need not

    def store() -> SubscriberStore:
        opened = SubscriberStore(state_dir, check=store_check[0])
        store_check[0] = False
        return opened

    def url(path: str, **query) -> str:
        return f"{public}{path}" + (f"?{urlencode(query)}" if query else "")

    def list_title(group: str) -> str:
        if group in ("all", "regional"):
            return words.t(group)
        return names.get(group, group.upper())

    def page(name: str, status: int = 200, **context) -> Response:
        html = env.get_template(f"web/{name}.html.j2").render(site=config, url=url, list_title=list_title, words=words,
                                                              **context)
        return Response(html, status=status, mimetype="text/html")

    def bad_link(reason: str) -> Response:
        return page("message", 400, title=words.t("web.bad.title"), text=words.t("web.bad.text", reason=words.t(reason)))

    def refused(status: int) -> Response:
        return page("message", status, title=words.t(f"web.{status}.title"), text=words.t(f"web.{status}.text"))

    def country_choices(selected: set[str]) -> list[tuple[str, str, bool]]:
        codes = sorted(names, key=lambda c: names[c])
        return ([("all", list_title("all"), "all" in selected), ("regional", list_title("regional"), "regional" in selected)]
                + [(c, names[c], c in selected) for c in codes])

    def chosen_lists() -> set[str]:
        groups = set()
        for value in request.form.getlist("country"):
            group = list_name(value, gazetteer)
            if group is not None:
                groups.add(group)
        return groups

    def cross_site() -> bool:
        origin = request.headers.get("Origin")
        if origin is not None:
            return origin not in allowed_origins
        return request.headers.get("Sec-Fetch-Site") == "cross-site"

    def over_client_limit() -> bool:
        return not client_limit.allow(request.remote_addr or "?")

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(404)
    def not_found(_):
        return refused(404)

    @app.errorhandler(405)
    def not_allowed(_):
        return refused(405)

    @app.errorhandler(413)
    def too_large(_):
        return refused(413)

    @app.get("/site.css")
    def stylesheet():
        return Response(site_css, mimetype="text/css")

    @app.get("/")
    @app.get("/subscribe")
    def subscribe_form():
        selected = {g for g in (list_name(v, gazetteer) for v in request.args.getlist("country")) if g}
        return page("subscribe", choices=country_choices(selected or {"all"}))

    @app.post("/subscribe")
    def subscribe():
        if cross_site():
            return refused(403)
        if over_client_limit():
            return refused(429)
        email = normalise_email(request.form.get("email", ""))
        groups = chosen_lists()
        if not valid_email(email) or not groups:
            return page("subscribe", 400, choices=country_choices(groups or {"all"}), email=email,
                        error=words.t("web.subscribe.error"))
        if request.form.get(HONEYPOT):
            return page("check_inbox", email=email)  # a bot: answered like everyone, nothing happens
        with store() as s:
            known = s.subscriber(email)
            already = known is not None and not known[1] and all(known[2].get(g) == "active" for g in groups)
            if not already:
                s.request(email, groups)
        if address_limit.allow(email):
            if already:
                _send(mailer, config, words, email, "already", {"preferences": preferences_link(email)})
            else:
                token = confirm_signer.dumps({"e": email, "l": sorted(groups)})
                _send(mailer, config, words, email, "confirm", {"confirm": url("confirm", token=token),
                                                         "lists": [list_title(g) for g in sorted(groups)],
                                                         "hours": int(config.serve_confirm_hours)})
        return page("check_inbox", email=email)

    def preferences_link(email: str) -> str:
        return url("preferences", email=email, token=tokens.preferences_token(secret, email))

    @app.get("/confirm")
    def confirm():
        try:
            data = confirm_signer.loads(request.args.get("token", ""), max_age=int(config.serve_confirm_hours * 3600))
        except SignatureExpired:
            return bad_link("web.bad.expired")
        except BadSignature:
            return bad_link("web.bad.confirm")
        email, groups = data["e"], set(data["l"])
        with store() as s:
            s.confirm(email, groups)
        return page("confirmed", lists=[list_title(g) for g in sorted(groups)], preferences=preferences_link(email))

    def unsubscribe_args() -> tuple[str, str] | None:
        email = normalise_email(request.args.get("email", ""))
        group = request.args.get("list", "")
        token = request.args.get("token", "")
        if not email or not group or not tokens.matches(tokens.unsubscribe_token(secret, email, group), token):
            return None
        return email, group

    @app.get("/unsubscribe")
    def unsubscribe_page():
        args = unsubscribe_args()
        if args is None:
            return bad_link("web.bad.unsubscribe")
        email, group = args
        return page("unsubscribe", email=email, group=group, action=request.full_path)

    @app.post("/unsubscribe")
    def unsubscribe():
        args = unsubscribe_args()
        if args is None:
            return bad_link("web.bad.unsubscribe")
        email, group = args
        with store() as s:
            s.unsubscribe(email, group, via="web", detail="one-click" if request.form.get("List-Unsubscribe")
                          == "One-Click" else "")
        return page("unsubscribed", email=email, group=group, preferences=preferences_link(email))

    @app.get("/preferences")
    def preferences_page():
        email = normalise_email(request.args.get("email", ""))
        token = request.args.get("token", "")
        if not email and not token:
            return page("manage")
        if not tokens.matches(tokens.preferences_token(secret, email), token):
            return bad_link("web.bad.preferences")
        with store() as s:
            known = s.subscriber(email)
        active = {g for g, status in (known[2] if known else {}).items() if status == "active"}
        return page("preferences", email=email, token=token, choices=country_choices(active))

    @app.post("/preferences")
    def preferences():
        if cross_site():
            return refused(403)
        email = normalise_email(request.form.get("email", ""))
        token = request.form.get("token", "")
        if not token:  # "send me my link": answered the same for every address
            if over_client_limit():
                return refused(429)
            if valid_email(email) and not request.form.get(HONEYPOT) and address_limit.allow(email):
                with store() as s:
                    known = s.subscriber(email) is not None
                if known:
                    _send(mailer, config, words, email, "manage", {"preferences": preferences_link(email)})
            return page("check_inbox", email=email)
        if not tokens.matches(tokens.preferences_token(secret, email), token):
            return bad_link("web.bad.preferences")
        groups = set() if request.form.get("leave") else chosen_lists()
        with store() as s:
            s.choose(email, groups)
        if not groups:
            return page("unsubscribed", email=email, group=None, preferences=preferences_link(email))
        return page("saved", email=email, lists=[list_title(g) for g in sorted(groups)],
                    preferences=preferences_link(email))

    @app.get("/health")
    def health():
        return Response("ok\n", mimetype="text/plain")

    return app


def _smtp_sender(config):
    import os

    from newsletter.send.smtp import Mailer, SMTPSettings

    password = os.environ.get(config.smtp_password_env)

    def send(data: bytes, recipient: str) -> None:
        mailer = Mailer(SMTPSettings.from_config(config, password))
        try:
            mailer.send(config.newsletter_from_address, recipient, data, before_final_dot=lambda: None)
        finally:
            mailer.close()
    return send


def _send(mailer, config, words: Words, email: str, kind: str, context: dict) -> None:
    """One of the app's own messages, in the site's language; a failure is logged, never
    shown (the answer stays the same)."""
    subject = words.t(f"mail.{kind}.subject", site=config.title)
    text = words.t(f"mail.{kind}.text", site=config.title, **{k: (", ".join(v) if isinstance(v, list) else v)
                                                               for k, v in context.items()})
    html = "<p>" + "</p><p>".join(_escape(p).replace("\n", "<br>") for p in text.split("\n\n")) + "</p>"
    for link in [v for v in context.values() if isinstance(v, str) and v.startswith("http")]:
        html = html.replace(_escape(link), f'<a href="{_escape(link)}">{_escape(link)}</a>')
    domain = config.authority.split("@")[-1]
    mid = hashlib.blake2b(f"{kind}\n{email}\n{dt.datetime.now().timestamp()}".encode(), digest_size=12).hexdigest()
    message = Message(from_addr=address(config.newsletter_from_name, config.newsletter_from_address),
                      to_addr=email, subject=subject, date=dt.datetime.now(dt.UTC),
                      message_id=f"<{mid}.{kind}@{domain}>", text=text, html=html,
                      headers=(("Auto-Submitted", "auto-generated"),))
    try:
        mailer(message.compose(), email)
    except Exception as exc:  # noqa: BLE001 - the person sees the same page whatever the mail server does
        log.error("could not send the %s message to %s: %s", kind, email, exc)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
