"""The platform's queries: its operators, and the conversations opened or escalated to it.

Every conversation query here has ``platform_at IS NOT NULL`` in its WHERE clause: an
operator's lookup cannot name any other conversation of a tenant (and on PostgreSQL the
``platform_read`` policy holds the reader to the same rows, storage/platform_ddl.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.platform_schema import platform_operators as o
from raasel.storage.records import Conversation
from raasel.storage.schema import conversations as c


async def is_operator(conn: AsyncConnection, user_id: str) -> bool:
    row = (await conn.execute(select(o.c.user_id).where(o.c.user_id == user_id))).first()
    return row is not None


async def insert_operator(conn: AsyncConnection, user_id: str, now: datetime) -> bool:
    """Register ``user_id`` as an operator; False if it is one already."""
    if await is_operator(conn, user_id):
        return False
    await conn.execute(o.insert().values(user_id=user_id, created_at=now))
    return True


async def find_platform_conversation(
    conn: AsyncConnection, conversation_id: str
) -> Conversation | None:
    query = select(c).where(c.c.id == conversation_id, c.c.platform_at.is_not(None))
    row = (await conn.execute(query)).first()
    return Conversation.from_row(row) if row else None


async def list_platform_conversations(
    conn: AsyncConnection, *, statuses: list[str], limit: int
) -> list[Conversation]:
    """Opened or escalated to the platform, newest activity first, every organization."""
    query = (
        select(c)
        .where(c.c.platform_at.is_not(None), c.c.status.in_(statuses))
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]


async def find_opened(conn: AsyncConnection, org_id: str, open_key: str) -> Conversation | None:
    """The platform conversation an admin's client id opened (its idempotency key)."""
    query = select(c).where(
        c.c.org_id == org_id, c.c.kind == "platform", c.c.open_client_id == open_key
    )
    row = (await conn.execute(query)).first()
    return Conversation.from_row(row) if row else None


async def list_of_org(conn: AsyncConnection, org_id: str, limit: int) -> list[Conversation]:
    """One organization's conversations with the platform (opened or escalated)."""
    query = (
        select(c)
        .where(c.c.org_id == org_id, c.c.platform_at.is_not(None))
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]
