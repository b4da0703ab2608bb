"""Community channels, their members and removed messages (storage/community_schema.py).

Every lookup names the organization or the member in its WHERE clause.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.community_records import CommunityChannel, CommunityMember
from raasel.storage.community_schema import community_channels as cc
from raasel.storage.community_schema import community_members as cm
from raasel.storage.community_schema import community_removals as cr

MEMBER = "member"
PENDING = "pending"


async def insert_channel(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(cc.insert().values(**values))


async def get_channel(
    conn: AsyncConnection, channel_id: str, *, org_id: str | None = None, lock: bool = False
) -> CommunityChannel | None:
    """One channel (of ``org_id`` when given); ``lock``: ``FOR UPDATE`` on PostgreSQL
    (SQLite has one writer), so two nodes' commands on it serialize."""
    query = select(cc).where(cc.c.id == channel_id)
    if org_id is not None:
        query = query.where(cc.c.org_id == org_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return CommunityChannel.from_row(row) if row else None


async def channel_by_code(conn: AsyncConnection, code: str) -> CommunityChannel | None:
    row = (await conn.execute(select(cc).where(cc.c.invite_code == code))).first()
    return CommunityChannel.from_row(row) if row else None


async def update_channel(conn: AsyncConnection, channel_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(cc).where(cc.c.id == channel_id).values(**values))


async def org_channels(conn: AsyncConnection, org_id: str) -> list[CommunityChannel]:
    rows = (
        await conn.execute(select(cc).where(cc.c.org_id == org_id).order_by(cc.c.created_at))
    ).all()
    return [CommunityChannel.from_row(r) for r in rows]


async def joinable_channels(conn: AsyncConnection, org_id: str) -> list[CommunityChannel]:
    """The organization's active channels anyone may ask to join (not invitation-only)."""
    query = (
        select(cc)
        .where(
            cc.c.org_id == org_id,
            cc.c.status == "active",
            cc.c.join_mode.in_(("open", "approval")),
        )
        .order_by(cc.c.created_at)
    )
    return [CommunityChannel.from_row(r) for r in (await conn.execute(query)).all()]


async def channels_of_user(
    conn: AsyncConnection, user_id: str, statuses: tuple[str, ...] = (MEMBER, PENDING)
) -> list[tuple[CommunityChannel, CommunityMember]]:
    query = (
        select(cc, cm)
        .join(cm, cm.c.channel_id == cc.c.id)
        .where(cm.c.user_id == user_id, cm.c.status.in_(statuses))
        .order_by(cc.c.created_at)
    )
    rows = (await conn.execute(query)).all()
    return [(CommunityChannel.from_row(r), _member_of(r)) for r in rows]


def _member_of(row: Any) -> CommunityMember:
    m = row._mapping
    return CommunityMember(
        channel_id=m[cm.c.channel_id],
        user_id=m[cm.c.user_id],
        org_id=m[cm.c.org_id],
        status=m[cm.c.status],
        is_muted=m[cm.c.is_muted],
        delivered_position=m[cm.c.delivered_position],
        read_position=m[cm.c.read_position],
        joined_at=m[cm.c.joined_at],
        updated_at=m[cm.c.updated_at],
    )


async def member_channel_ids(conn: AsyncConnection, user_id: str) -> list[str]:
    query = select(cm.c.channel_id).where(cm.c.user_id == user_id, cm.c.status == MEMBER)
    return [str(r.channel_id) for r in (await conn.execute(query)).all()]


async def get_member(
    conn: AsyncConnection, channel_id: str, user_id: str
) -> CommunityMember | None:
    query = select(cm).where(cm.c.channel_id == channel_id, cm.c.user_id == user_id)
    row = (await conn.execute(query)).first()
    return CommunityMember.from_row(row) if row else None


async def put_member(conn: AsyncConnection, member: CommunityMember, *, is_new: bool) -> None:
    values = {
        "channel_id": member.channel_id,
        "user_id": member.user_id,
        "org_id": member.org_id,
        "status": member.status,
        "is_muted": member.is_muted,
        "delivered_position": member.delivered_position,
        "read_position": member.read_position,
        "joined_at": member.joined_at,
        "updated_at": member.updated_at,
    }
    if is_new:
        await conn.execute(cm.insert().values(**values))
    else:
        await conn.execute(
            update(cm)
            .where(cm.c.channel_id == member.channel_id, cm.c.user_id == member.user_id)
            .values(**values)
        )


async def add_members(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Many members at once (the benchmark's 5,000-member channel)."""
    if rows:
        await conn.execute(cm.insert(), rows)


async def members(
    conn: AsyncConnection, channel_id: str, statuses: tuple[str, ...], limit: int
) -> list[CommunityMember]:
    query = (
        select(cm)
        .where(cm.c.channel_id == channel_id, cm.c.status.in_(statuses))
        .order_by(cm.c.joined_at, cm.c.user_id)
        .limit(limit)
    )
    return [CommunityMember.from_row(r) for r in (await conn.execute(query)).all()]


async def count_members(conn: AsyncConnection, channel_id: str) -> int:
    query = select(func.count()).where(cm.c.channel_id == channel_id, cm.c.status == MEMBER)
    return int((await conn.execute(query)).scalar_one())


async def watermarks(conn: AsyncConnection, channel_id: str) -> tuple[int | None, int | None]:
    """The minimum of the members' delivered and read watermarks (None: no members)."""
    query = select(func.min(cm.c.delivered_position), func.min(cm.c.read_position)).where(
        cm.c.channel_id == channel_id, cm.c.status == MEMBER
    )
    row = (await conn.execute(query)).one()
    return (
        int(row[0]) if row[0] is not None else None,
        int(row[1]) if row[1] is not None else None,
    )


async def add_removal(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(cr.insert().values(**values))


async def removed_positions(
    conn: AsyncConnection, channel_id: str, low: int, high: int
) -> set[int]:
    query = select(cr.c.position).where(
        cr.c.channel_id == channel_id, cr.c.position >= low, cr.c.position <= high
    )
    return {int(r.position) for r in (await conn.execute(query)).all()}


async def members_among(
    conn: AsyncConnection, channel_id: str, user_ids: list[str]
) -> tuple[int, set[str]]:
    """The channel's departures so far and which of ``user_ids`` are its members now."""
    departures = (await conn.execute(select(cc.c.departures).where(cc.c.id == channel_id))).scalar()
    found: set[str] = set()
    for start in range(0, len(user_ids), 500):
        query = select(cm.c.user_id).where(
            cm.c.channel_id == channel_id,
            cm.c.status == MEMBER,
            cm.c.user_id.in_(user_ids[start : start + 500]),
        )
        found.update(str(r.user_id) for r in (await conn.execute(query)).all())
    return int(departures or 0), found
