"""The mail outbox: mails waiting to be delivered, claimed one at a time by a node."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import OutgoingMail
from raasel.storage.schema import mail_outbox as t


async def insert_mail(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def due(conn: AsyncConnection, now: datetime, limit: int) -> list[OutgoingMail]:
    query = (
        select(t)
        .where(t.c.status == "pending", t.c.next_attempt_at <= now)
        .order_by(t.c.next_attempt_at, t.c.id)
        .limit(limit)
    )
    return [OutgoingMail.from_row(r) for r in (await conn.execute(query)).all()]


async def claim(
    conn: AsyncConnection, mail: OutgoingMail, now: datetime, lease_until: datetime
) -> bool:
    """Take the mail for one delivery attempt; False if another node took it first. Until
    ``lease_until`` nobody else tries (a node that dies mid-send hands it on then)."""
    result = await conn.execute(
        update(t)
        .where(
            t.c.id == mail.id,
            t.c.status == "pending",
            t.c.attempts == mail.attempts,
            t.c.next_attempt_at <= now,
        )
        .values(attempts=mail.attempts + 1, next_attempt_at=lease_until)
    )
    return result.rowcount == 1


async def mark_sent(conn: AsyncConnection, mail_id: str, when: datetime) -> None:
    """Delivered: the body (its links act as passwords) is not kept."""
    await conn.execute(
        update(t)
        .where(t.c.id == mail_id)
        .values(status="sent", sent_at=when, body="", last_error=None)
    )


async def mark_failed(
    conn: AsyncConnection, mail_id: str, error: str, retry_at: datetime | None
) -> None:
    """A failed attempt: retried at ``retry_at``, or given up (None, after many)."""
    values: dict[str, Any] = {"last_error": error[:200]}
    if retry_at is None:
        values |= {"status": "failed", "body": ""}
    else:
        values["next_attempt_at"] = retry_at
    await conn.execute(update(t).where(t.c.id == mail_id).values(**values))


async def get_mail(conn: AsyncConnection, mail_id: str) -> OutgoingMail | None:
    row = (await conn.execute(select(t).where(t.c.id == mail_id))).first()
    return OutgoingMail.from_row(row) if row else None
