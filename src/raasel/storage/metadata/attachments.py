"""Attachment metadata (the bytes live in the attachment files store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Attachment
from raasel.storage.schema import attachments as t


async def insert_attachment(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(t.insert().values(**values))


async def get_attachment(conn: AsyncConnection, attachment_id: str) -> Attachment | None:
    row = (await conn.execute(select(t).where(t.c.id == attachment_id))).first()
    return Attachment.from_row(row) if row else None
