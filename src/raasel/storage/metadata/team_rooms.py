"""Team rooms and their members (storage/team_room_schema.py).

Every lookup names the organization in its WHERE clause: a room id of another
organization finds nothing, as a missing one.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.team_room_records import TeamRoom, TeamRoomMember
from raasel.storage.team_room_schema import team_room_members as tm
from raasel.storage.team_room_schema import team_rooms as tr

MEMBER = "member"


async def insert_room(conn: AsyncConnection, room: TeamRoom) -> None:
    await conn.execute(tr.insert().values(**asdict(room)))


async def get_room(
    conn: AsyncConnection, org_id: str, room_id: str, *, lock: bool = False
) -> TeamRoom | None:
    """One room of ``org_id``; ``lock``: ``FOR UPDATE`` on PostgreSQL (SQLite has one
    writer), so two nodes' commands on it serialize."""
    query = select(tr).where(tr.c.org_id == org_id, tr.c.id == room_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return TeamRoom.from_row(row) if row else None


async def update_room(conn: AsyncConnection, room: TeamRoom, values: dict[str, Any]) -> None:
    await conn.execute(
        update(tr).where(tr.c.org_id == room.org_id, tr.c.id == room.id).values(**values)
    )


async def rooms_of_member(
    conn: AsyncConnection, org_id: str, user_id: str
) -> list[tuple[TeamRoom, TeamRoomMember]]:
    query = (
        select(tr, tm)
        .join(tm, tm.c.room_id == tr.c.id)
        .where(tm.c.org_id == org_id, tm.c.user_id == user_id, tm.c.status == MEMBER)
        .order_by(tr.c.created_at, tr.c.id)
    )
    rows = (await conn.execute(query)).all()
    return [(TeamRoom.from_row(r), _member_of(r)) for r in rows]


async def rooms_of_org(
    conn: AsyncConnection, org_id: str, user_id: str
) -> list[tuple[TeamRoom, TeamRoomMember | None]]:
    """Every room of ``org_id`` (a lead's overview), each with ``user_id``'s standing in
    it when they are a member, in one statement."""
    mine = tm.c.user_id == user_id
    query = (
        select(tr, tm)
        .outerjoin(tm, (tm.c.room_id == tr.c.id) & mine & (tm.c.status == MEMBER))
        .where(tr.c.org_id == org_id)
        .order_by(tr.c.created_at, tr.c.id)
    )
    rows = (await conn.execute(query)).all()
    return [
        (TeamRoom.from_row(r), _member_of(r) if r._mapping[tm.c.user_id] is not None else None)
        for r in rows
    ]


def _member_of(row: Any) -> TeamRoomMember:
    m = row._mapping
    return TeamRoomMember(*[m[tm.c[name]] for name in TeamRoomMember.__dataclass_fields__])


async def member_room_ids(conn: AsyncConnection, org_id: str, user_id: str) -> list[str]:
    query = select(tm.c.room_id).where(
        tm.c.org_id == org_id, tm.c.user_id == user_id, tm.c.status == MEMBER
    )
    return [str(r.room_id) for r in (await conn.execute(query)).all()]


async def get_member(
    conn: AsyncConnection, org_id: str, room_id: str, user_id: str
) -> TeamRoomMember | None:
    query = select(tm).where(
        tm.c.org_id == org_id, tm.c.room_id == room_id, tm.c.user_id == user_id
    )
    row = (await conn.execute(query)).first()
    return TeamRoomMember.from_row(row) if row else None


async def put_member(conn: AsyncConnection, member: TeamRoomMember, *, is_new: bool) -> None:
    values = asdict(member)
    if is_new:
        await conn.execute(tm.insert().values(**values))
        return
    await conn.execute(
        update(tm)
        .where(
            tm.c.org_id == member.org_id,
            tm.c.room_id == member.room_id,
            tm.c.user_id == member.user_id,
        )
        .values(**values)
    )


async def members(conn: AsyncConnection, org_id: str, room_id: str) -> list[TeamRoomMember]:
    query = (
        select(tm)
        .where(tm.c.org_id == org_id, tm.c.room_id == room_id, tm.c.status == MEMBER)
        .order_by(tm.c.joined_at, tm.c.user_id)
    )
    return [TeamRoomMember.from_row(r) for r in (await conn.execute(query)).all()]


async def watermarks(conn: AsyncConnection, room: TeamRoom) -> tuple[int | None, int | None]:
    """The minimum of the members' delivered and read watermarks (None: no members)."""
    query = select(func.min(tm.c.delivered_position), func.min(tm.c.read_position)).where(
        tm.c.org_id == room.org_id, tm.c.room_id == room.id, tm.c.status == MEMBER
    )
    row = (await conn.execute(query)).one()
    return (
        int(row[0]) if row[0] is not None else None,
        int(row[1]) if row[1] is not None else None,
    )


async def members_among(
    conn: AsyncConnection, org_id: str, room_id: str, user_ids: list[str]
) -> tuple[int, set[str]]:
    """The room's departures so far and which of ``user_ids`` are its members now (a
    node re-checks its sockets in the room with it: realtime/connections.py)."""
    departures = (
        await conn.execute(select(tr.c.departures).where(tr.c.org_id == org_id, tr.c.id == room_id))
    ).scalar()
    found: set[str] = set()
    for start in range(0, len(user_ids), 500):
        query = select(tm.c.user_id).where(
            tm.c.org_id == org_id,
            tm.c.room_id == room_id,
            tm.c.status == MEMBER,
            tm.c.user_id.in_(user_ids[start : start + 500]),
        )
        found.update(str(r.user_id) for r in (await conn.execute(query)).all())
    return int(departures or 0), found
