"""Direct conversations, their members' watermarks, and blocks (the direct space)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.direct_records import DirectConversation, DirectMember
from raasel.storage.direct_schema import direct_blocks as db_
from raasel.storage.direct_schema import direct_conversations as dc
from raasel.storage.direct_schema import direct_members as dm


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


async def get(
    conn: AsyncConnection, conversation_id: str, *, lock: bool = False
) -> DirectConversation | None:
    """One conversation; ``lock``: ``FOR UPDATE`` on PostgreSQL (SQLite ignores it and has
    one writer), so two nodes' commands on it serialize."""
    query = select(dc).where(dc.c.id == conversation_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return DirectConversation.from_row(row) if row else None


async def of_pair(conn: AsyncConnection, a: str, b: str) -> DirectConversation | None:
    low, high = pair(a, b)
    row = (
        await conn.execute(select(dc).where(dc.c.user_low == low, dc.c.user_high == high))
    ).first()
    return DirectConversation.from_row(row) if row else None


async def insert(conn: AsyncConnection, values: dict[str, Any], members: list[str]) -> None:
    await conn.execute(dc.insert().values(**values))
    await conn.execute(
        dm.insert(),
        [
            {
                "conversation_id": values["id"],
                "user_id": m,
                "delivered_position": 0,
                "read_position": 0,
                "unread_positions": [],
            }
            for m in members
        ],
    )


async def update_conversation(
    conn: AsyncConnection, conversation_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(update(dc).where(dc.c.id == conversation_id).values(**values))


async def members(conn: AsyncConnection, conversation_id: str) -> dict[str, DirectMember]:
    rows = (await conn.execute(select(dm).where(dm.c.conversation_id == conversation_id))).all()
    return {r.user_id: DirectMember.from_row(r) for r in rows}


async def members_of_many(
    conn: AsyncConnection, conversation_ids: list[str]
) -> dict[str, dict[str, DirectMember]]:
    found: dict[str, dict[str, DirectMember]] = {i: {} for i in conversation_ids}
    if conversation_ids:
        rows = (
            await conn.execute(select(dm).where(dm.c.conversation_id.in_(conversation_ids)))
        ).all()
        for r in rows:
            found[r.conversation_id][r.user_id] = DirectMember.from_row(r)
    return found


async def update_member(conn: AsyncConnection, member: DirectMember) -> None:
    await conn.execute(
        update(dm)
        .where(dm.c.conversation_id == member.conversation_id, dm.c.user_id == member.user_id)
        .values(
            delivered_position=member.delivered_position,
            read_position=member.read_position,
            unread_positions=list(member.unread_positions),
        )
    )


async def list_for(conn: AsyncConnection, user_id: str, limit: int) -> list[DirectConversation]:
    query = (
        select(dc)
        .where(or_(dc.c.user_low == user_id, dc.c.user_high == user_id))
        .order_by(dc.c.updated_at.desc(), dc.c.id.desc())
        .limit(limit)
    )
    return [DirectConversation.from_row(r) for r in (await conn.execute(query)).all()]


async def peers_of(conn: AsyncConnection, user_id: str) -> list[str]:
    """Everyone who shares a direct conversation with ``user_id``."""
    rows = (
        await conn.execute(
            select(dc.c.user_low, dc.c.user_high).where(
                or_(dc.c.user_low == user_id, dc.c.user_high == user_id)
            )
        )
    ).all()
    return sorted({r.user_high if r.user_low == user_id else r.user_low for r in rows})


async def is_blocked(conn: AsyncConnection, blocker_id: str, blocked_id: str) -> bool:
    row = (
        await conn.execute(
            select(db_.c.blocker_id).where(
                db_.c.blocker_id == blocker_id, db_.c.blocked_id == blocked_id
            )
        )
    ).first()
    return row is not None


async def blocks_between(conn: AsyncConnection, a: str, b: str) -> set[tuple[str, str]]:
    """The (blocker, blocked) rows between the two, either way."""
    rows = (
        await conn.execute(
            select(db_.c.blocker_id, db_.c.blocked_id).where(
                or_(
                    and_(db_.c.blocker_id == a, db_.c.blocked_id == b),
                    and_(db_.c.blocker_id == b, db_.c.blocked_id == a),
                )
            )
        )
    ).all()
    return {(r.blocker_id, r.blocked_id) for r in rows}


async def blocked_by(conn: AsyncConnection, blocker_id: str) -> list[str]:
    rows = (
        await conn.execute(
            select(db_.c.blocked_id)
            .where(db_.c.blocker_id == blocker_id)
            .order_by(db_.c.blocked_id)
        )
    ).all()
    return [str(r.blocked_id) for r in rows]


async def add_block(conn: AsyncConnection, values: dict[str, Any]) -> None:
    if not await is_blocked(conn, values["blocker_id"], values["blocked_id"]):
        await conn.execute(db_.insert().values(**values))


async def remove_block(conn: AsyncConnection, blocker_id: str, blocked_id: str) -> None:
    await conn.execute(
        delete(db_).where(db_.c.blocker_id == blocker_id, db_.c.blocked_id == blocked_id)
    )
