"""A real SMTP server for the tests (aiosmtpd, on loopback): every test node sends its
mail here, and tests read the mails a person would get.

One server per test process, started on first use; ``RunningServer`` points its nodes
at it (``RAASEL_SMTP_*``) unless a test gives other settings.
"""

from __future__ import annotations

import asyncio
import atexit
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https://\S+#token=([0-9]+\.[A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    message: EmailMessage

    @property
    def token(self) -> str:
        """The token of the one link the mail carries."""
        found = LINK.findall(self.body)
        assert len(found) == 1, self.body
        return str(found[0])

    @property
    def link(self) -> str:
        found = re.findall(r"https://\S+#token=\S+", self.body)
        assert len(found) == 1, self.body
        return str(found[0])


def parse(raw: bytes) -> Mail:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return Mail(str(message["To"]).lower(), str(message["Subject"]), text, message)


def mail_from_file(path: Path) -> Mail:
    """A mail a node without SMTP wrote to its var/outbox."""
    return parse(path.read_bytes())


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = parse(envelope.content)
        for rcpt in envelope.rcpt_tos:
            self.box.deliver(Mail(rcpt.lower(), mail.subject, mail.body, mail.message))
        return "250 OK"


class Mailbox:
    """Every mail the SMTP server received, searchable by recipient."""

    def __init__(self, port: int | None = None) -> None:
        self._mails: list[Mail] = []
        self._lock = threading.Lock()
        if port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
        self.port = port
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def env(self) -> dict[str, str]:
        return {
            "RAASEL_SMTP_HOST": "127.0.0.1",
            "RAASEL_SMTP_PORT": str(self.port),
            "RAASEL_SMTP_SECURITY": "none",
            "RAASEL_SMTP_FROM": "Raasel tests <no-reply@raasel.test>",
        }

    def deliver(self, mail: Mail) -> None:
        with self._lock:
            self._mails.append(mail)

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self._mails if m.to == address.lower()]

    async def wait_for(
        self, address: str, subject: str = "", *, count: int = 1, within: float = 10
    ) -> Mail:
        """The newest of at least ``count`` mails to ``address`` whose subject holds
        ``subject``."""
        deadline = time.monotonic() + within
        while True:
            found = [m for m in self.to(address) if subject in m.subject]
            if len(found) >= count:
                return found[-1]
            if time.monotonic() > deadline:
                seen = [m.subject for m in self.to(address)]
                raise AssertionError(f"no mail {subject!r} to {address} in {within}s: {seen}")
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        self.controller.stop()


_shared: Mailbox | None = None


def shared_mailbox() -> Mailbox:
    global _shared
    if _shared is None:
        _shared = Mailbox()
        atexit.register(_shared.stop)
    return _shared
