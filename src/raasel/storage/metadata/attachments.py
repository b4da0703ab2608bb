"""Attachment metadata (the bytes live in the attachment files store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Attachment
from raasel.storage.schema import attachments as t


async def insert_attachment(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def get_attachment(conn: AsyncConnection, attachment_id: str) -> Attachment | None:
    row = (await conn.execute(select(t).where(t.c.id == attachment_id))).first()
    return Attachment.from_row(row) if row else None


async def attach_to_message(
    conn: AsyncConnection, attachment_id: str, message_id: int, *, is_note: bool, when: datetime
) -> None:
    """The message that carries the file decides who sees it from now on."""
    await conn.execute(
        update(t)
        .where(t.c.id == attachment_id, t.c.message_id.is_(None))
        .values(message_id=message_id, is_note=is_note, attached_at=when)
    )


async def stored_bytes(conn: AsyncConnection, *, org_id: str) -> int:
    """What an organization's files take (its storage quota)."""
    query = select(func.coalesce(func.sum(t.c.size), 0)).where(t.c.org_id == org_id)
    return int((await conn.execute(query)).scalar_one())


async def uploaded_bytes(conn: AsyncConnection, *, uploader_id: str) -> int:
    """What one person uploaded and is still kept (a customer's upload budget)."""
    query = select(func.coalesce(func.sum(t.c.size), 0)).where(t.c.uploader_id == uploader_id)
    return int((await conn.execute(query)).scalar_one())


async def unattached_before(conn: AsyncConnection, when: datetime, limit: int) -> list[str]:
    """Uploads no message carried by ``when`` (retention: they are deleted)."""
    query = (
        select(t.c.id)
        .where(t.c.message_id.is_(None), t.c.created_at < when)
        .order_by(t.c.created_at)
        .limit(limit)
    )
    return [row[0] for row in (await conn.execute(query)).all()]


async def delete_unattached(conn: AsyncConnection, attachment_ids: list[str]) -> list[str]:
    """Delete those still unattached; returns the ids deleted."""
    if not attachment_ids:
        return []
    still = select(t.c.id).where(t.c.id.in_(attachment_ids), t.c.message_id.is_(None))
    gone = [row[0] for row in (await conn.execute(still)).all()]
    if gone:
        await conn.execute(delete(t).where(t.c.id.in_(gone), t.c.message_id.is_(None)))
    return gone
