"""Follow-up mail: conversations with replies the customer has not seen, and what mail
already carried (``mail_followups``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.schema import conversation_sides as s
from raasel.storage.schema import conversations as c
from raasel.storage.schema import mail_followups as f
from raasel.storage.schema import org_contacts as oc
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
    """Support and outreach conversations whose newest public message is the
    organization's, older than ``before``, past what the customer read and what mail
    already carried, of a customer with an address who did not mute follow-ups; an
    outreach conversation not if the customer muted (or blocked) its organization."""
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
            c.c.kind.in_(("support", "outreach")),
            or_(c.c.kind == "support", ~exists(_muted_contact())),
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


def _muted_contact() -> Any:
    """The customer muted or blocked the conversation's organization (org_contacts)."""
    return select(oc.c.user_id).where(
        oc.c.user_id == c.c.customer_id,
        oc.c.org_id == c.c.org_id,
        or_(oc.c.is_muted.is_(True), oc.c.is_blocked.is_(True)),
    )


async def outreach_positions(
    conn: AsyncConnection, org_id: str, customer_id: str
) -> list[tuple[str, int]]:
    """The outreach conversations ``org_id`` started with ``customer_id`` and their last
    public positions (an unmute marks them mailed up to there)."""
    query = select(c.c.id, c.c.last_public_position).where(
        c.c.org_id == org_id, c.c.customer_id == customer_id, c.c.kind == "outreach"
    )
    return [(str(r.id), int(r.last_public_position)) for r in (await conn.execute(query)).all()]


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
