"""Files of team rooms (storage/team_room_schema.py, ``team_room_files``).

Every lookup names the organization and the room in its WHERE clause: a file id of
another room or organization finds nothing, as a missing one.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.team_room_records import TeamRoomFile
from raasel.storage.team_room_schema import team_room_files as f


async def insert_file(conn: AsyncConnection, file: TeamRoomFile) -> None:
    await conn.execute(f.insert().values(**asdict(file)))


async def get_file(
    conn: AsyncConnection, org_id: str, room_id: str, file_id: str
) -> TeamRoomFile | None:
    query = select(f).where(f.c.org_id == org_id, f.c.room_id == room_id, f.c.id == file_id)
    row = (await conn.execute(query)).first()
    return TeamRoomFile.from_row(row) if row else None


async def attach(
    conn: AsyncConnection, file: TeamRoomFile, position: int, *, when: datetime
) -> None:
    """The message at ``position`` carries the file: the room's members see it now."""
    await conn.execute(
        update(f)
        .where(f.c.org_id == file.org_id, f.c.id == file.id, f.c.message_position.is_(None))
        .values(message_position=position, attached_at=when)
    )


async def stored_bytes(conn: AsyncConnection, *, org_id: str) -> int:
    """What the organization's team rooms' files take (part of its storage quota)."""
    query = select(func.coalesce(func.sum(f.c.size), 0)).where(f.c.org_id == org_id)
    return int((await conn.execute(query)).scalar_one())


async def unattached_before(conn: AsyncConnection, when: datetime, limit: int) -> list[str]:
    query = (
        select(f.c.id)
        .where(f.c.message_position.is_(None), f.c.created_at < when)
        .order_by(f.c.created_at)
        .limit(limit)
    )
    return [row[0] for row in (await conn.execute(query)).all()]


async def delete_unattached(conn: AsyncConnection, file_ids: list[str]) -> list[str]:
    if not file_ids:
        return []
    still = select(f.c.id).where(f.c.id.in_(file_ids), f.c.message_position.is_(None))
    gone = [row[0] for row in (await conn.execute(still)).all()]
    if gone:
        await conn.execute(delete(f).where(f.c.id.in_(gone), f.c.message_position.is_(None)))
    return gone
