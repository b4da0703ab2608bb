"""Events of team rooms and who receives them (docs/protocol.md, "Team rooms").

Everything about a room goes to its room (every member's console sockets, realtime/
team_rooms.py) in one emit; a member's own standing also to their consoles
(``agent:{org}:{user}``), the only way an added member hears of a room their sockets
are not in yet. Never to the organization's other agents, never to a customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Event
from raasel.actions.team_room_views import room_member_view, room_view
from raasel.realtime.rooms import agent_room
from raasel.realtime.team_rooms import team_room
from raasel.rules.group_receipts import moved_ticks, receipts_tracked, receipts_view
from raasel.rules.team_rooms import RoomMemberStatus
from raasel.storage.metadata import team_rooms as store
from raasel.storage.records import User
from raasel.storage.team_room_records import TeamRoom, TeamRoomMember


def audience(room: TeamRoom) -> tuple[str, ...]:
    """Every event to the room carries ``members_version`` (its departures so far): a
    node that has seen fewer re-checks its sockets in the room before delivering, so a
    member removed before the event never receives it (realtime/connections.py)."""
    return (team_room(room.id),)


def room_message_event(room: TeamRoom, view: dict[str, Any], skip_sid: str | None) -> Event:
    payload = {
        "room_id": room.id,
        "org_id": room.org_id,
        "message": view,
        "position": view["position"],
        "previous_position": view["position"] - 1,
        "members_version": room.departures,
    }
    return Event("room:message", payload, audience(room), skip_sid)


def room_receipt_event(room: TeamRoom, max_members: int) -> Event:
    payload = {
        "room_id": room.id,
        **receipts_view(room, max_members),
        "members_version": room.departures,
    }
    return Event("room:receipt", payload, audience(room))


def room_updated_event(room: TeamRoom, max_members: int) -> Event:
    payload = {"room": room_view(room, max_members), "members_version": room.departures}
    return Event("room:updated", payload, audience(room))


def standing_events(
    room: TeamRoom, member: TeamRoomMember, user: User | None, max_members: int
) -> list[Event]:
    """``room:membership`` to the member's consoles (a removed member learns only that,
    nothing of the room), ``room:member`` to the room."""
    is_in = member.status == RoomMemberStatus.MEMBER
    mine = {
        "room_id": room.id,
        "room": room_view(room, max_members, member=member) if is_in else None,
        "status": member.status,
    }
    return [
        Event("room:membership", mine, (agent_room(room.org_id, member.user_id),)),
        Event(
            "room:member",
            {
                "room_id": room.id,
                "member": room_member_view(member, user),
                "member_count": room.member_count,
                "members_version": room.departures,
            },
            audience(room),
        ),
    ]


async def refresh_room_ticks(
    conn: AsyncConnection, room: TeamRoom, max_members: int
) -> tuple[TeamRoom, list[Event]]:
    """Recompute the group's ticks after a watermark or the membership moved."""
    if not receipts_tracked(room.member_count, max_members):
        return room, []
    changes = moved_ticks(room, *await store.watermarks(conn, room))
    if not changes:
        return room, []
    await store.update_room(conn, room, changes)
    room = room.but(**changes)
    return room, [room_receipt_event(room, max_members)]
