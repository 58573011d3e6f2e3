"""A real SMTP server (aiosmtpd) on 127.0.0.1 whose behaviour tests can script."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    rcpt: list[str]
    data: bytes
    mail_from: str = ""

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class ScriptedHandler:
    """Records accepted messages. Scripts: per-recipient reply codes for RCPT (used in order),
    dropping the connection at the Nth MAIL command, and a delay per message."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    drop_at_mail: set[int] = field(default_factory=set)
    drop_after_data: set[int] = field(default_factory=set)
    delay: float = 0.0
    mails: int = 0
    datas: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.mails in self.drop_at_mail:
            server.transport.close()
            return "421 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        script = self.rcpt_replies.get(address.lower())
        if script:
            return script.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.datas in self.drop_after_data:
            server.transport.close()  # the message was received but never accepted
            return "421 closing"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received.append(
                Received(
                    list(envelope.rcpt_tos), envelope.original_content or envelope.content, envelope.mail_from or ""
                )
            )
        return "250 Message accepted for delivery"

    def counts(self) -> Counter:
        return Counter(r.lower() for m in self.received for r in m.rcpt)


class SMTPServer:
    def __init__(self, handler: ScriptedHandler | None = None) -> None:
        self.handler = handler or ScriptedHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, decode_data=False, data_size_limit=10 * 1024 * 1024
        )

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.handler.received) < count and time.monotonic() < deadline:
            time.sleep(0.005)
