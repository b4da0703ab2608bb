"""Follow-up mail: conversations with replies the customer has not seen, and what mail
already carried (``mail_followups``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.schema import conversation_sides as s
from raasel.storage.schema import conversations as c
from raasel.storage.schema import mail_followups as f
from raasel.storage.schema import users as u


@dataclass(frozen=True, slots=True)
class Unseen:
    conversation_id: str
    org_id: str
    customer_id: str
    read_position: int
    mailed_position: int
    last_public_position: int


async def unseen_replies(conn: AsyncConnection, before: datetime, limit: int) -> list[Unseen]:
    """Support conversations whose newest public message is the organization's, older
    than ``before``, past what the customer read and what mail already carried, of a
    customer with an address who did not mute follow-ups."""
    mailed = func.coalesce(f.c.mailed_position, 0)
    has_address = or_(
        and_(u.c.kind == "person", u.c.email.is_not(None), u.c.email_verified_at.is_not(None)),
        u.c.contact_email.is_not(None),
    )
    query = (
        select(
            c.c.id,
            c.c.org_id,
            c.c.customer_id,
            s.c.read_position,
            mailed.label("mailed"),
            c.c.last_public_position,
        )
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == "customer"))
        .join(u, u.c.id == c.c.customer_id)
        .outerjoin(f, f.c.conversation_id == c.c.id)
        .where(
            c.c.kind == "support",
            c.c.last_sender_id != c.c.customer_id,
            c.c.last_message_at <= before,
            c.c.last_public_position > s.c.read_position,
            c.c.last_public_position > mailed,
            u.c.is_followup_muted.is_(False),
            has_address,
        )
        .order_by(c.c.last_message_at)
        .limit(limit)
    )
    return [
        Unseen(r.id, r.org_id, r.customer_id, r.read_position, r.mailed, r.last_public_position)
        for r in (await conn.execute(query)).all()
    ]


async def mailed_position(conn: AsyncConnection, conversation_id: str) -> int:
    query = select(f.c.mailed_position).where(f.c.conversation_id == conversation_id)
    return int((await conn.execute(query)).scalar() or 0)


async def set_mailed(
    conn: AsyncConnection, conversation_id: str, position: int, at: datetime
) -> None:
    result = await conn.execute(
        update(f)
        .where(f.c.conversation_id == conversation_id)
        .values(mailed_position=position, mailed_at=at)
    )
    if not result.rowcount:
        await conn.execute(
            f.insert().values(
                conversation_id=conversation_id, mailed_position=position, mailed_at=at
            )
        )
