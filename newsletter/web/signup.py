"""Sign-up with double opt-in: the form, its post (queued for the sender: every address gets
the same answer, in the same time) and the confirmation link."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, request
from itsdangerous import BadSignature, SignatureExpired

from newsletter.subscribers.lists import normalise_email, valid_email
from newsletter.web.site import HONEYPOT, site, store

bp = Blueprint("signup", __name__)


@bp.get("/")
@bp.get("/subscribe")
def form():
    s = site()
    selected = s.chosen_lists(request.args.getlist("country"))
    return s.page("subscribe", choices=s.choices(selected or {"all"}, chosen_first=bool(selected)))


@bp.post("/subscribe")
def subscribe():
    s = site()
    refusal = s.refuse_form()
    if refusal is not None:
        return refusal
    email = normalise_email(request.form.get("email", ""))
    groups = s.chosen_lists(request.form.getlist("country"))
    if not valid_email(email) or not groups:  # the form again, as the person filled it in
        sent = request.form.get("frequency")
        return s.page(
            "subscribe",
            400,
            choices=s.choices(groups, chosen_first=True),
            email=email,
            error=s.words.t("web.subscribe.error"),
            chosen=sent if sent in s.frequencies else None,
        )
    if not request.form.get(HONEYPOT):  # a bot is answered like everyone; nothing happens
        frequency = s.chosen_frequency(request.form.get("frequency"))
        signed = {"e": email, "l": sorted(groups), **({"f": frequency} if frequency is not None else {})}
        token = s.confirm_signer.dumps(signed)
        s.queue("signup", email, {"lists": sorted(groups), "token": token})
    return s.page("check_inbox", email=email)


@bp.get("/confirm")
def confirm():
    s = site()
    try:
        data = s.confirm_signer.loads(request.args.get("token", ""), max_age=s.confirm_seconds)
    except SignatureExpired:
        return s.bad_link("web.bad.expired")
    except BadSignature:
        return s.bad_link("web.bad.confirm")
    email, groups = data["e"], set(data["l"])
    known = store().subscriber(email)
    unseen = groups - set(known[2] if known else ())
    if unseen:  # the sender has not written the sign-up yet (the link is signed: it came from us)
        store().request(email, unseen)
    store().confirm(email, groups)  # a link from before the person left brings nobody back
    now = store().subscriber(email)
    active = sorted(g for g in groups if now is not None and now[2].get(g) == "active")
    if not active:  # the page says what the store holds, and how to come back
        again = s.url("subscribe") + "?" + urlencode([("country", g) for g in sorted(groups)])
        return s.page("not_confirmed", again=again)
    if "f" in data and s.chosen_frequency(data["f"] or s.config.newsletter_period) is not None:
        store().set_frequency(email, data["f"])
    return s.page("confirmed", lists=[s.list_title(g) for g in active], preferences=s.preferences_link(email))
