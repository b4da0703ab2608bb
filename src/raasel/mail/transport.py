"""How a queued mail leaves the node: an SMTP server (aiosmtplib), or, on the embedded
default without one, a file under ``var/outbox`` that the operator can read.

Neither logs the body or the subject (they hold links that act as passwords).
"""

from __future__ import annotations

import asyncio
import os
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib

from raasel.config import Settings
from raasel.storage.records import OutgoingMail


def build_message(mail: OutgoingMail, sender: str, domain: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    # The outbox id: a mail sent again after a crash is recognisably the same one.
    message["Message-ID"] = make_msgid(idstring=mail.id, domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


class MailTransport(Protocol):
    name: str

    async def send(self, mail: OutgoingMail) -> None:
        """Hand the mail over, or raise: the outbox keeps it and retries."""


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, mail: OutgoingMail) -> None:
        s = self.settings
        await aiosmtplib.send(
            build_message(mail, s.resolved_smtp_from, s.public_host),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=s.smtp_timeout_seconds,
        )


class DirectoryTransport:
    """One ``.eml`` file per mail, readable by the operator only (0600 in a 0700 folder)."""

    name = "file"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root: Path = settings.outbox_dir

    def path_of(self, mail: OutgoingMail) -> Path:
        return self.root / f"{mail.created_at:%Y%m%dT%H%M%S}-{mail.id}.eml"

    async def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, self.settings.resolved_smtp_from, self.settings.public_host)
        await asyncio.to_thread(self._write, self.path_of(mail), bytes(message))

    def _write(self, path: Path, data: bytes) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)


def build_transport(settings: Settings) -> MailTransport:
    """SMTP when ``RAASEL_SMTP_HOST`` is set, else files under ``var/outbox``."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return DirectoryTransport(settings)
