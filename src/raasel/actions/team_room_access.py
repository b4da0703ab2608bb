"""Who acts on a team room: a member of it, a lead managing it, or nobody ("not found").

Every lookup is under the caller's organization (the room's ``org_id`` in the WHERE
clause, and the tenant scope of the read): another organization's room, a customer, a
visitor and a removed member all get "not found", as for a room that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor
from raasel.errors import NotFound
from raasel.rules.team_rooms import ROOM_NOT_FOUND, RoomMemberStatus, is_lead
from raasel.storage.metadata import team_rooms as store
from raasel.storage.team_room_records import TeamRoom, TeamRoomMember


@dataclass(frozen=True, slots=True)
class RoomAccess:
    room: TeamRoom
    member: TeamRoomMember | None  # None: a lead who manages it without being in it


def require_org_member(actor: Actor) -> str:
    if not actor.is_member or actor.org_id is None or actor.is_operator:
        raise NotFound(ROOM_NOT_FOUND)
    return actor.org_id


async def access_room(
    conn: AsyncConnection,
    actor: Actor,
    room_id: str,
    *,
    lock: bool = False,
    manage: bool = False,
) -> RoomAccess:
    """The room as ``actor`` may act on it: a member takes part; with ``manage`` a lead
    of the organization who is not in it may also act (members, archive)."""
    org_id = require_org_member(actor)
    room = await store.get_room(conn, org_id, room_id, lock=lock)
    if room is None:
        raise NotFound(ROOM_NOT_FOUND)
    member = await store.get_member(conn, org_id, room.id, actor.user_id)
    if member is not None and member.status == RoomMemberStatus.MEMBER:
        return RoomAccess(room, member)
    if manage and is_lead(actor.role):
        return RoomAccess(room, None)
    raise NotFound(ROOM_NOT_FOUND)
