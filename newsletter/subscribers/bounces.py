"""What comes back: delivery status notifications, spam complaints and `mailto:` unsubscribes.

`newsletter bounces MAILBOX` reads a Maildir or an mbox and acts on each message once:

- **DSN** (RFC 3464, `multipart/report; report-type=delivery-status`): every recipient block
  with `Action: failed` and a 5.x.x status is a hard bounce (→ bounced, off every list); a
  4.x.x status or `Action: delayed` is a soft bounce (counted; `newsletter.soft_bounce_limit`
  in a row → bounced). A bounce whose body is not a DSN still maps to its subscriber through
  the VERP envelope sender (`bounces+TOKEN@domain`, see `tokens.bounce_token`); a 5.x.x code
  in its text makes it hard, anything else soft.
- **ARF** (RFC 5965, `report-type=feedback-report`): a complaint → complained, off every list.
- **Unsubscribe requests** to the `mailto:` of `List-Unsubscribe`: the subject our messages
  encode, `unsubscribe LIST ADDRESS TOKEN`, with a valid token (or sent from that address
  itself) → unsubscribed from LIST.

A message is identified by its Message-ID (or, without one, a hash of its bytes) and recorded
as processed in the subscriber store, so a rerun changes nothing. Nothing is deleted from
the mailbox.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from newsletter.errors import UsageError
from newsletter.subscribers import tokens
from newsletter.subscribers.lists import normalise_email

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_5XX = re.compile(r"\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b|\b55[0-4] ")
_VERP = re.compile(r"\+([a-z2-7]{16})@", re.IGNORECASE)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str, line: str = "") -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if line:
            self.lines.append(line)

    def summary(self) -> str:
        order = ("hard bounce", "soft bounce", "complaint", "unsubscribe", "not ours", "already processed")
        parts = [f"{self.counts[k]} {k}{'s' if self.counts[k] != 1 and not k.startswith(('not', 'already')) else ''}"
                 for k in order if self.counts.get(k)]
        return "mailbox: " + (", ".join(parts) if parts else "no messages")


def open_mailbox(path: Path):
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise UsageError(f"{path}: not a Maildir (no cur/ or new/ inside)")
        return mailbox.Maildir(path, factory=None, create=False)
    if path.is_file():
        return mailbox.mbox(path, create=False)
    raise UsageError(f"{path}: no such Maildir or mbox")


def message_key(raw: bytes, msg: EmailMessage) -> str:
    mid = (msg.get("Message-ID") or "").strip()
    return f"mid:{mid}" if mid else "sha256:" + hashlib.sha256(raw).hexdigest()


def process_mailbox(path: Path, store, sendlog, secret: bytes, config) -> Report:
    """Act on every message of the mailbox not processed before (see the module docstring)."""
    box = open_mailbox(path)
    report = Report()
    by_token = _known_tokens(store, sendlog, secret)
    try:
        for key in box.keys():
            raw = box.get_bytes(key)
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            mkey = message_key(raw, msg)
            if store.processed(mkey):
                report.add("already processed")
                continue
            outcome = _act(msg, store, sendlog, secret, config, by_token, report)
            store.mark_processed(mkey, outcome)
    finally:
        box.close()
    return report


def _known_tokens(store, sendlog, secret: bytes) -> dict[str, str]:
    """VERP token → address, for every address the store or the send log knows."""
    emails = {row[0] for row in store.rows()} | {row[1] for row in sendlog.rows()}
    return {tokens.bounce_token(secret, e): e for e in emails}


def _act(msg: EmailMessage, store, sendlog, secret: bytes, config, by_token, report: Report) -> str:
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    if report_type == "feedback-report":
        return _complaint(msg, store, sendlog, by_token, report)
    verp = _verp_recipient(msg, by_token)
    if report_type == "delivery-status":
        blocks = _recipient_blocks(msg)
        if blocks:
            outcomes = [_bounce(addr, status, action, diag, store, sendlog, config, report, verp)
                        for addr, action, status, diag in blocks]
            return ", ".join(outcomes)
    if verp:  # a bounce with an odd body: the envelope says whose it is
        text = _text_of(msg)
        hard = _SMTP_5XX.search(text) is not None
        status = _STATUS.search(text)
        return _bounce(verp, status.group(0) if status else ("5.0.0" if hard else "4.0.0"),
                       "failed" if hard else "delayed", "not a delivery status notification", store, sendlog,
                       config, report, verp)
    request = _unsubscribe_request(msg, secret, config)
    if request is not None:
        address, group = request
        store.unsubscribe(address, group, via="mail", detail="mailto request")
        sendlog.suppress(address, group, reason="mailto request")
        report.add("unsubscribe", f"{address}: unsubscribed from {group} (mailto request)")
        return f"unsubscribe {address} {group}"
    report.add("not ours")
    return "not ours"


def _bounce(address: str, status: str, action: str, diagnostic: str, store, sendlog, config, report: Report,
            verp: str | None) -> str:
    address = normalise_email(verp or address)  # the envelope's token wins: forwarding rewrites recipients
    detail = f"{status} {diagnostic}".strip()
    hard = action.lower() == "failed" and status.startswith("5")
    if action.lower() in ("delivered", "relayed", "expanded"):
        report.add("not ours")
        return f"delivered {address}"
    state = store.bounce(address, hard=hard, soft_limit=config.newsletter_soft_bounce_limit, via="mail", detail=detail)
    if state == "bounced":
        sendlog.suppress(address, "*", reason=f"bounced: {detail}")
    kind = "hard bounce" if hard else "soft bounce"
    report.add(kind, f"{address}: {kind} ({detail})" + ("; suppressed for every list" if state == "bounced" else
                                                         f"; {state.split()[1]} in a row"))
    return f"{kind} {address}"


def _complaint(msg: EmailMessage, store, sendlog, by_token, report: Report) -> str:
    address = _verp_recipient(msg, by_token)
    fields = _report_fields(msg, "message/feedback-report")
    if address is None and fields.get("original-rcpt-to"):
        address = normalise_email(parseaddr(fields["original-rcpt-to"])[1])
    original = _original_headers(msg)
    if address is None and original is not None:
        address = _address_in_list_unsubscribe(original) or _first_address(original.get_all("To", []))
    if not address:
        report.add("not ours", "a complaint that names no recipient we know; nothing changed")
        return "complaint without recipient"
    store.complain(address, via="mail", detail=fields.get("feedback-type", "abuse"))
    sendlog.suppress(address, "*", reason="complaint")
    report.add("complaint", f"{address}: complained; unsubscribed from every list")
    return f"complaint {address}"


def _parts(msg: EmailMessage):
    return msg.walk() if msg.is_multipart() else [msg]


def _status_blocks(part) -> list:
    """The header blocks of a message/delivery-status part (per-message, then per-recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block + "\n") for block in re.split(r"\r?\n\r?\n", text.strip()) if block.strip()]


def _recipient_blocks(msg: EmailMessage) -> list[tuple[str, str, str, str]]:
    """(address, action, status, diagnostic) of each recipient block of a DSN."""
    found = []
    for part in _parts(msg):
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
            if not recipient:
                continue
            address = normalise_email(str(recipient).split(";", 1)[-1].strip().strip("<>"))
            status = _STATUS.search(str(block.get("Status", "")))
            found.append((address, str(block.get("Action", "failed")).strip(),
                          status.group(0) if status else "5.0.0", " ".join(str(block.get("Diagnostic-Code", "")).split())))
    return found


def _report_fields(msg: EmailMessage, ctype: str) -> dict[str, str]:
    for part in _parts(msg):
        if part.get_content_type() == ctype:
            fields: dict[str, str] = {}
            for block in _status_blocks(part):
                for name, value in block.items():
                    fields.setdefault(name.lower(), str(value).strip())
            return fields
    return {}


def _original_headers(msg: EmailMessage):
    for part in _parts(msg):
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            return payload[0] if isinstance(payload, list) and payload else None
        if part.get_content_type() == "text/rfc822-headers":
            return email.message_from_string(part.get_content(), policy=email.policy.default)
    return None


def _verp_recipient(msg: EmailMessage, by_token: dict[str, str]) -> str | None:
    """The subscriber whose VERP address this message (or the message it returns) was sent to."""
    headers = [msg.get_all(h, []) for h in ("To", "Delivered-To", "X-Original-To", "Envelope-To", "Return-Path")]
    original = _original_headers(msg)
    if original is not None:
        headers.append(original.get_all("Return-Path", []))
    for values in headers:
        for value in values:
            for match in _VERP.finditer(str(value)):
                address = by_token.get(match.group(1).lower())
                if address:
                    return address
    return None


def _address_in_list_unsubscribe(original) -> str | None:
    for value in original.get_all("List-Unsubscribe", []):
        for url in re.findall(r"<([^>]+)>", str(value)):
            if url.startswith("http"):
                query = parse_qs(urlsplit(url).query)
                if query.get("email"):
                    return normalise_email(query["email"][0])
    return None


def _first_address(values) -> str | None:
    for _, address in getaddresses([str(v) for v in values]):
        if "@" in address:
            return normalise_email(address)
    return None


def _text_of(msg: EmailMessage) -> str:
    chunks = []
    for part in _parts(msg):
        if part.get_content_maintype() == "text":
            try:
                chunks.append(part.get_content())
            except (LookupError, UnicodeError):
                chunks.append(part.get_payload(decode=True).decode("latin-1"))
    return "\n".join(chunks)


def _unsubscribe_request(msg: EmailMessage, secret: bytes, config) -> tuple[str, str] | None:
    """(address, list) of a valid `unsubscribe LIST ADDRESS [TOKEN]` request to our mailto."""
    ours = normalise_email(config.newsletter_unsubscribe_mailto)
    recipients = {normalise_email(a) for _, a in getaddresses([str(v) for h in ("To", "Delivered-To", "X-Original-To")
                                                                for v in msg.get_all(h, [])])}
    if ours not in recipients:
        return None
    words = str(msg.get("Subject", "")).split()
    if len(words) < 3 or words[0].lower() != "unsubscribe":
        return None
    group, address = words[1].lower(), normalise_email(words[2])
    sender = normalise_email(parseaddr(str(msg.get("From", "")))[1])
    token_ok = len(words) >= 4 and tokens.matches(tokens.mailto_token(secret, address, group), words[3].lower())
    if token_ok or sender == address:
        return address, group
    return None
