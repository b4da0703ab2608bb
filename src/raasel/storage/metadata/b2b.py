"""Organization <-> organization conversations: the lookups of both sides."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Conversation
from raasel.storage.schema import conversations as c


async def find_opened(conn: AsyncConnection, org_id: str, open_key: str) -> Conversation | None:
    """The b2b conversation an agent's client id opened (its idempotency key)."""
    query = select(c).where(c.c.org_id == org_id, c.c.kind == "b2b", c.c.open_client_id == open_key)
    row = (await conn.execute(query)).first()
    return Conversation.from_row(row) if row else None


async def is_known(conn: AsyncConnection, opener_id: str, peer_id: str) -> bool:
    """Whether ``peer_id`` knows ``opener_id``: it accepted one of its conversations, or
    opened one with it itself."""
    accepted = and_(
        c.c.org_id == opener_id, c.c.peer_org_id == peer_id, c.c.peer_accepted_at.is_not(None)
    )
    asked = and_(c.c.org_id == peer_id, c.c.peer_org_id == opener_id)
    query = select(c.c.id).where(c.c.kind == "b2b", or_(accepted, asked)).limit(1)
    return (await conn.execute(query)).first() is not None


async def list_of_org(conn: AsyncConnection, org_id: str, limit: int) -> list[Conversation]:
    """Both directions: those the organization opened and those opened with it."""
    query = (
        select(c)
        .where(c.c.kind == "b2b", or_(c.c.org_id == org_id, c.c.peer_org_id == org_id))
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]
