"""A real SMTP server (aiosmtpd) in its own process that stores every message it receives in a
spool folder *before* it replies, so that tests count what the server stored — not what it
said — and can `kill -9` it at any moment.

    python spool_smtp.py PORT SPOOL [--drop-after-store N] [--reply-delay S] [--ready FILE]

- `--drop-after-store N`: every Nth message is stored, then the connection is closed
  without a reply (the client cannot know the message was taken).
- `--reply-delay S`: every message is stored, then the reply waits S seconds.
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
    def __init__(self, spool: Path, drop_every: int, reply_delay: float) -> None:
        self.spool = spool
        self.drop_every = drop_every
        self.reply_delay = reply_delay
        self.count = 0

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
    args = parser.parse_args()
    args.spool.mkdir(parents=True, exist_ok=True)
    controller = Controller(SpoolHandler(args.spool, args.drop_after_store, args.reply_delay),
                            hostname="127.0.0.1", port=args.port, decode_data=False)
    controller.start()
    if args.ready:
        args.ready.write_text("ready")
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
