"""Delivers the mail outbox: after each commit that queued a mail (``wake``), and every
few seconds for retries and for mails another node queued.

Each attempt claims its row first (``storage/metadata/mail.py: claim``), so two nodes
never send one mail twice; a failure is retried with a growing delay (5 s, 15 s, 45 s
... at most an hour apart) and after ``MAX_ATTEMPTS`` the mail is marked ``failed`` and
logged as an error: never dropped silently. Logs name the mail's id, template and the
recipient's domain, never its subject or body.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from raasel.lib.clock import utcnow
from raasel.mail.transport import MailTransport
from raasel.storage.database import Database
from raasel.storage.metadata import mail as mail_store
from raasel.storage.records import OutgoingMail
from raasel.storage.tenancy import CrossTenant

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 10
LEASE = timedelta(seconds=60)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 5 * 3 ** max(attempts - 1, 0)))


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


class MailOutbox:
    def __init__(
        self, db: Database, transport: MailTransport, *, poll_seconds: float = 5.0
    ) -> None:
        self.db = db
        self.transport = transport
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def wake(self) -> None:
        """A mail was committed: deliver now (starts the worker on first use)."""
        self._wake.set()
        self.start()

    def start(self) -> None:
        if self._closed:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="mail-outbox")

    async def close(self) -> None:
        """Stop the worker. The flag as well as the cancel: a cancel can be lost (Python
        3.11's ``wait_for`` swallows one that lands as its awaited call completes, seen in
        an SMTP send), and the worker then stops at the top of its loop."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._closed:
            self._wake.clear()
            try:
                await self.deliver_due()
            except Exception:  # the database is away: try again at the next tick
                log.exception("mail outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def deliver_due(self, limit: int = 50) -> int:
        """Try every due mail once; return how many were delivered."""
        now = utcnow()
        async with self.db.read(CrossTenant("mail delivery, for every tenant")) as conn:
            due = await mail_store.due(conn, now, limit)
        delivered = 0
        for mail in due:
            delivered += await self._attempt(mail)
        return delivered

    async def _attempt(self, mail: OutgoingMail) -> int:
        now = utcnow()
        if not await self.db.write(lambda c: mail_store.claim(c, mail, now, now + LEASE)):
            return 0
        attempts = mail.attempts + 1
        where = {"mail_id": mail.id, "template": mail.template, "to": _domain(mail.recipient)}
        try:
            await self.transport.send(mail)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
            retry_at = utcnow() + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
            await self.db.write(lambda c: mail_store.mark_failed(c, mail.id, error, retry_at))
            if retry_at is None:
                log.error("mail given up", attempts=attempts, error=type(exc).__name__, **where)
            else:
                log.warning(
                    "mail not delivered; will retry",
                    attempts=attempts,
                    error=type(exc).__name__,
                    **where,
                )
            return 0
        await self.db.write(lambda c: mail_store.mark_sent(c, mail.id, utcnow()))
        path = getattr(self.transport, "path_of", None)
        if path is not None:
            log.warning(
                "mail written to the outbox folder (no SMTP server)", file=str(path(mail)), **where
            )
        else:
            log.info("mail sent", transport=self.transport.name, **where)
        return 1
