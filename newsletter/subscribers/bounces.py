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
  encode, `unsubscribe LIST ADDRESS TOKEN`, with a valid token → unsubscribed from LIST (a
  request without one is ignored, even "from" that address: anyone can write a From header).

Mail to the bounce address comes from strangers too, so a bounce or complaint counts only when
it is tied to a message we sent: the VERP token of its envelope (only we can make one), or the
Message-ID of a delivery the send log holds *to that address*. Anything else — a DSN to the bare
bounce address naming someone, an ARF report whose Original-Rcpt-To names someone — is reported
and ignored. One DSN is one bounce per address, however many blocks it has (three "delayed"
blocks are one soft bounce); a soft bounce of an address the store does not hold creates nothing.

A message is identified by its Message-ID (or, without one, a hash of its bytes) and recorded
as processed in the subscriber store, so a rerun changes nothing. Nothing is deleted from
the mailbox. A mailbox entry that is not a regular file (a FIFO, a dangling link) or cannot be
read is skipped with one line; it is never opened in a way that could wait.

Without a subscriber store (a site that sends from its CSV), suppressions go to the send log
(see `newsletter.subscribers.suppressions`) and soft bounces are reported, not counted.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import os
import re
import stat
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import UsageError
from newsletter.subscribers import tokens
from newsletter.subscribers.lists import normalise_email
from newsletter.subscribers.suppressions import Suppressions

if TYPE_CHECKING:
    from newsletter.config import Config

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
        order = ("hard bounce", "soft bounce", "complaint", "unsubscribe", "not ours", "already processed", "skipped")
        parts = [
            f"{self.counts[k]} {k}{'s' if self.counts[k] != 1 and not k.startswith(('not', 'already', 'skipped')) else ''}"
            for k in order
            if self.counts.get(k)
        ]
        return "mailbox: " + (", ".join(parts) if parts else "no messages")


def open_mailbox(path: Path):
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise UsageError(f"{path}: not a Maildir (no cur/ or new/ inside)")
        return None
    try:
        mode = path.stat().st_mode
    except OSError:
        raise UsageError(f"{path}: no such Maildir or mbox") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{path}: not a Maildir or an mbox file (a FIFO or device?); nothing read")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the mbox ({exc.strerror or exc})") from None
    return mailbox.mbox(path, create=False)


def _maildir_messages(path: Path, report: Report):
    """The bytes of each message of a Maildir (new/, then cur/); odd entries are skipped with a line."""
    for sub in ("new", "cur"):
        folder = path / sub
        try:
            names = sorted(os.listdir(folder))
        except FileNotFoundError:
            continue
        except OSError as exc:
            report.add("skipped", f"{folder}: cannot read the folder ({exc.strerror or exc}); skipped")
            continue
        for name in names:
            if name.startswith("."):
                continue
            entry = folder / name
            why = ""
            try:
                fd = os.open(entry, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
            except FileNotFoundError:
                why = "a dangling symbolic link" if os.path.islink(entry) else "gone while reading"
            except OSError as exc:
                why = f"cannot read it ({exc.strerror or exc})"
            else:
                try:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        why = "not a regular file (a FIFO, device or folder)"
                    else:
                        with os.fdopen(fd, "rb") as fh:
                            fd = -1
                            yield fh.read()
                except OSError as exc:
                    why = f"cannot read it ({exc.strerror or exc})"
                finally:
                    if fd >= 0:
                        os.close(fd)
            if why:
                report.add("skipped", f"{entry}: {why}; skipped")


def message_key(raw: bytes, msg: EmailMessage) -> str:
    mid = (msg.get("Message-ID") or "").strip()
    return f"mid:{mid}" if mid else "sha256:" + hashlib.sha256(raw).hexdigest()


def process_mailbox(path: Path, store, sendlog, secret: bytes, config: Config) -> Report:
    """Act on every message of the mailbox not processed before (see the module docstring).
    `store` may be None (no subscriber store: nothing is created)."""
    box = open_mailbox(path)
    report = Report()
    by_token = _known_tokens(store, sendlog, secret)
    where = Suppressions(Path(config.state), sendlog=sendlog, store=store)
    try:
        if box is None:
            messages = _maildir_messages(path, report)
        else:
            messages = (box.get_bytes(key) for key in box.keys())
        for raw in messages:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            mkey = message_key(raw, msg)
            if store is not None and store.processed(mkey):
                report.add("already processed")
                continue
            outcome = _act(msg, store, sendlog, where, secret, config, by_token, report)
            if store is not None:
                store.mark_processed(mkey, outcome)
    finally:
        if box is not None:
            box.close()
    return report


def _known_tokens(store, sendlog, secret: bytes) -> dict[str, str]:
    """VERP token → address, for every address the store or the send log knows."""
    emails = ({row[0] for row in store.rows()} if store is not None else set()) | {row[1] for row in sendlog.rows()}
    return {tokens.bounce_token(secret, e): e for e in emails}


def _sent_to(msg: EmailMessage, sendlog) -> str | None:
    """The address the returned message (its Message-ID) was delivered to, per the send log."""
    original = _original_headers(msg)
    candidates = [original.get("Message-ID")] if original is not None else []
    for part in _parts(msg):  # Gmail also names it in the report's own headers
        candidates.append(part.get("X-Original-Message-ID"))
    for mid in candidates:
        if mid:
            address = sendlog.sent_to(str(mid).strip())
            if address:
                return normalise_email(address)
    return None


def _act(
    msg: EmailMessage, store, sendlog, where: Suppressions, secret: bytes, config: Config, by_token, report: Report
) -> str:
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    verp = _verp_recipient(msg, by_token)
    sent_to = None if verp else _sent_to(msg, sendlog)
    if report_type == "feedback-report":
        return _complaint(msg, verp or sent_to, where, report)
    if report_type == "delivery-status":
        blocks = _recipient_blocks(msg)
        if blocks:
            return _dsn(blocks, verp, sent_to, store, where, config, report)
    if verp:  # a bounce with an odd body: the envelope says whose it is
        text = _text_of(msg)
        hard = _SMTP_5XX.search(text) is not None
        status = _STATUS.search(text)
        return _bounce(
            verp,
            status.group(0) if status else ("5.0.0" if hard else "4.0.0"),
            hard,
            "not a delivery status notification",
            store,
            where,
            config,
            report,
        )
    request = _unsubscribe_request(msg, secret, config)
    if request is not None:
        address, group = request
        where.suppress(address, group, via="mail", detail="mailto request")
        report.add("unsubscribe", f"{address}: unsubscribed from {group} (mailto request)")
        return f"unsubscribe {address} {group}"
    if report_type == "delivery-status":
        report.add("not ours", "a delivery status notification that names no recipient; nothing changed")
        return "not ours"
    report.add("not ours")
    return "not ours"


def _dsn(
    blocks, verp: str | None, sent_to: str | None, store, where: Suppressions, config: Config, report: Report
) -> str:
    """One bounce per address of a DSN, for the address it is tied to (else reported, ignored)."""
    by_address: dict[str, tuple[bool, str, str]] = {}
    for address, action, status, diagnostic in blocks:
        if action.lower() in ("delivered", "relayed", "expanded"):
            continue
        hard = action.lower() == "failed" and status.startswith("5")
        # the envelope's token wins: forwarding rewrites recipients
        address = verp or address
        old = by_address.get(address)
        if old is None or (hard and not old[0]):
            by_address[address] = (hard, status, diagnostic)
    if not by_address:
        report.add("not ours")
        return "delivered"
    outcomes = []
    for address, (hard, status, diagnostic) in by_address.items():
        if address != verp and address != sent_to:
            report.add(
                "not ours",
                f"{address}: a bounce that is not tied to a message we sent to this address "
                "(no VERP token of ours, no Message-ID the send log has for it); ignored",
            )
            outcomes.append(f"untied {address}")
            continue
        outcomes.append(_bounce(address, status, hard, diagnostic, store, where, config, report))
    return ", ".join(outcomes)


def _bounce(
    address: str, status: str, hard: bool, diagnostic: str, store, where: Suppressions, config: Config, report: Report
) -> str:
    address = normalise_email(address)
    detail = f"{status} {diagnostic}".strip()
    kind = "hard bounce" if hard else "soft bounce"
    if hard:
        where.suppress(address, "*", status="bounced", via="mail", detail=detail)
        report.add(kind, f"{address}: {kind} ({detail}); suppressed for every list")
        return f"{kind} {address}"
    if store is None:
        report.add(
            kind,
            f"{address}: {kind} ({detail}); not counted (soft bounces are counted in the subscriber "
            "store, which this state folder does not have)",
        )
        return f"{kind} {address}"
    state = store.bounce(address, hard=False, soft_limit=config.newsletter_soft_bounce_limit, via="mail", detail=detail)
    if state == "soft 0":
        report.add(kind, f"{address}: {kind} ({detail}); not in the subscriber store, nothing recorded")
    elif state == "bounced":
        report.add(kind, f"{address}: {kind} ({detail}); suppressed for every list")
    else:
        report.add(kind, f"{address}: {kind} ({detail}); {state.split()[1]} in a row")
    return f"{kind} {address}"


def _complaint(msg: EmailMessage, address: str | None, where: Suppressions, report: Report) -> str:
    """A complaint counts for the address it is tied to; the report's own fields (Original-Rcpt-To,
    the To of the copy) are a stranger's words and never name whom to remove."""
    fields = _report_fields(msg, "message/feedback-report")
    if not address:
        named = fields.get("original-rcpt-to", "")
        report.add(
            "not ours",
            "a complaint that is not tied to a message we sent"
            + (f" (it names {parseaddr(named)[1]})" if named else "")
            + "; nothing changed",
        )
        return "complaint not tied to a message of ours"
    where.suppress(address, "*", status="complained", via="mail", detail=fields.get("feedback-type", "abuse"))
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
            found.append(
                (
                    address,
                    str(block.get("Action", "failed")).strip(),
                    status.group(0) if status else "5.0.0",
                    " ".join(str(block.get("Diagnostic-Code", "")).split()),
                )
            )
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


def _text_of(msg: EmailMessage) -> str:
    chunks = []
    for part in _parts(msg):
        if part.get_content_maintype() == "text":
            try:
                chunks.append(part.get_content())
            except (LookupError, UnicodeError):
                chunks.append(part.get_payload(decode=True).decode("latin-1"))
    return "\n".join(chunks)


def _unsubscribe_request(msg: EmailMessage, secret: bytes, config: Config) -> tuple[str, str] | None:
    """(address, list) of a valid `unsubscribe LIST ADDRESS [TOKEN]` request to our mailto."""
    ours = normalise_email(config.newsletter_unsubscribe_mailto)
    recipients = {
        normalise_email(a)
        for _, a in getaddresses([str(v) for h in ("To", "Delivered-To", "X-Original-To") for v in msg.get_all(h, [])])
    }
    if ours not in recipients:
        return None
    words = str(msg.get("Subject", "")).split()
    if len(words) < 3 or words[0].lower() != "unsubscribe":
        return None
    group, address = words[1].lower(), normalise_email(words[2])
    # Only our token ties a request to a message we sent: a From header is anyone's to write.
    token_ok = len(words) >= 4 and tokens.matches(tokens.mailto_token(secret, address, group), words[3].lower())
    return (address, group) if token_ok else None
