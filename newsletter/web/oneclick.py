"""One-click unsubscribe (RFC 8058): the link of every message, and its button."""

from __future__ import annotations

from flask import Blueprint, request

from newsletter.subscribers import tokens
from newsletter.subscribers.lists import EVERY_COUNTRY, normalise_email
from newsletter.web.site import site, store

bp = Blueprint("oneclick", __name__)


def _args() -> tuple[str, str] | None:
    email = normalise_email(request.args.get("email", ""))
    group = request.args.get("list", "")
    token = request.args.get("token", "")
    if not email or not group or not tokens.matches(tokens.unsubscribe_token(site().secret, email, group), token):
        return None
    return email, group


@bp.get("/unsubscribe")
def page():
    s = site()
    args = _args()
    if args is None:
        return s.bad_link("web.bad.unsubscribe")
    email, group = args
    # the button posts to this app's public address (behind a proxy the request's own path
    # lacks the proxy's prefix), with the same signed query
    action = s.url("unsubscribe", list=group, email=email, token=request.args.get("token", ""))
    return s.page("unsubscribe", email=email, group=group, action=action)


@bp.post("/unsubscribe")
def unsubscribe():
    """No cookie and no origin needed: the token is the proof (RFC 8058)."""
    s = site()
    args = _args()
    if args is None:
        return s.bad_link("web.bad.unsubscribe")
    email, group = args
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    store().unsubscribe(email, group, via="web", detail="one-click" if one_click else "")
    return s.page(
        "unsubscribed",
        email=email,
        group=None if group == EVERY_COUNTRY else group,
        preferences=s.preferences_link(email),
    )
