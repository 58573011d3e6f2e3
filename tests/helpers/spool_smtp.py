"""A real SMTP server (aiosmtpd) in its own process that stores every message it receives in a
spool folder *before* it replies, so that tests count what the server stored — not what it
said — and can `kill -9` it at any moment.

    python spool_smtp.py PORT SPOOL [--drop-after-store N] [--reply-delay S] [--ready FILE]

- `--drop-after-store N`: every Nth message is stored, then the connection is closed
  without a reply (the client cannot know the message was taken).
- `--reply-delay S`: every message is stored, then the reply waits S seconds.
- `--never-reply`: every message is stored, and no reply ever comes (the connection stays open).
- `--password P`: AUTH is required (user `news`); any other password gets 535 5.7.8.
- `--starttls-cert CERT --starttls-key KEY`: STARTTLS is required, with that certificate (one
  the client does not trust makes TLS fail).
- `--relay-denied`: every RCPT gets `554 5.7.1 <rcpt>: Relay access denied`.
- `--refuse ADDR` (repeatable): RCPT ADDR gets `552 5.2.2 mailbox full` (permanent, not a dead address).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class SpoolHandler:
    def __init__(
        self, spool: Path, drop_every: int, reply_delay: float, relay_denied: bool = False, refuse: tuple[str, ...] = ()
    ) -> None:
        self.refuse = {a.lower() for a in refuse}
        self.spool = spool
        self.drop_every = drop_every
        self.reply_delay = reply_delay
        self.relay_denied = relay_denied
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.relay_denied:
            return f"554 5.7.1 <{address}>: Relay access denied"
        if address.lower() in self.refuse:
            return f"552 5.2.2 <{address}>: mailbox full"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        for rcpt in envelope.rcpt_tos:
            name = f"{rcpt.lower()}.{uuid.uuid4().hex}.eml"
            tmp = self.spool / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(envelope.original_content or envelope.content)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.spool / name)
        if self.drop_every and self.count % self.drop_every == 0:
            server.transport.close()
            return "421 closing"
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 stored"


def stored(spool: Path) -> dict[str, int]:
    """Recipient → how many messages the spool holds for them."""
    counts: dict[str, int] = {}
    for path in spool.glob("*.eml"):
        rcpt = path.name.rsplit(".", 2)[0]
        counts[rcpt] = counts.get(rcpt, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("spool", type=Path)
    parser.add_argument("--drop-after-store", type=int, default=0)
    parser.add_argument("--reply-delay", type=float, default=0.0)
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--never-reply", action="store_true")
    parser.add_argument("--password")
    parser.add_argument("--starttls-cert")
    parser.add_argument("--starttls-key")
    parser.add_argument("--relay-denied", action="store_true")
    parser.add_argument("--refuse", action="append", default=[])
    args = parser.parse_args()
    args.spool.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if args.password is not None:
        from aiosmtpd.smtp import AuthResult

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login, auth_data.password) == (b"news", args.password.encode())
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.starttls_cert))
    if args.starttls_cert:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls_cert, args.starttls_key)
        options.update(tls_context=context, require_starttls=True)
    delay = 10**6 if args.never_reply else args.reply_delay
    controller = Controller(
        SpoolHandler(args.spool, args.drop_after_store, delay, args.relay_denied, tuple(args.refuse)),
        hostname="127.0.0.1",
        port=args.port,
        decode_data=False,
        server_hostname="127.0.0.1",
        **options,
    )
    controller.start()
    if args.ready:
        args.ready.write_text("ready")
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
