"""The preferences page (signed link from every message) and "send me my link", reachable at
`{public_url}manage` (a stable address for links from the site and the web copy of issues;
`GET /preferences` without a token shows the same form)."""

from __future__ import annotations

from flask import Blueprint, request

from newsletter.subscribers import tokens
from newsletter.subscribers.lists import normalise_email, valid_email
from newsletter.web.site import HONEYPOT, site, store

bp = Blueprint("manage", __name__)


@bp.get("/manage")
def ask_for_link():
    return site().page("manage")


@bp.post("/manage")
def send_link():
    """Answered the same for every address; the link goes by mail to a known one only."""
    s = site()
    refusal = s.refuse_form()
    if refusal is not None:
        return refusal
    email = normalise_email(request.form.get("email", ""))
    if valid_email(email) and not request.form.get(HONEYPOT):
        s.queue("manage", email, {})
    return s.page("check_inbox", email=email)


@bp.get("/preferences")
def preferences_page():
    s = site()
    email = normalise_email(request.args.get("email", ""))
    token = request.args.get("token", "")
    if not email and not token:
        return s.page("manage")
    if not tokens.matches(tokens.preferences_token(s.secret, email), token):
        return s.bad_link("web.bad.preferences")
    known = store().subscriber(email)
    active = {g for g, status in (known[2] if known else {}).items() if status == "active"}
    current = store().frequency(email) or s.config.newsletter_period
    return s.page(
        "preferences",
        email=email,
        token=token,
        choices=s.choices(active, chosen_first=True),
        chosen=len(active),
        current_frequency=current,
    )


@bp.post("/preferences")
def save():
    s = site()
    if s.cross_site():
        return s.refused(403)
    email = normalise_email(request.form.get("email", ""))
    token = request.form.get("token", "")
    if not token:  # the form of older pages: "send me my link"
        return send_link()
    if not tokens.matches(tokens.preferences_token(s.secret, email), token):
        return s.bad_link("web.bad.preferences")
    groups = set() if request.form.get("leave") else s.chosen_lists(request.form.getlist("country"))
    store().choose(email, groups)
    frequency = s.chosen_frequency(request.form.get("frequency"))
    if groups and frequency is not None:
        store().set_frequency(email, frequency)
    if not groups:
        return s.page("unsubscribed", email=email, group=None, preferences=s.preferences_link(email))
    return s.page(
        "saved", email=email, lists=[s.list_title(g) for g in sorted(groups)], preferences=s.preferences_link(email)
    )
