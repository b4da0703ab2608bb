"""What members see of team rooms, their members and messages (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from raasel.actions.views import message_view
from raasel.rules.group_receipts import receipts_view
from raasel.rules.team_rooms import RoomMemberStatus
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import User
from raasel.storage.team_room_records import TeamRoom, TeamRoomMember


def room_membership_view(room: TeamRoom, member: TeamRoomMember) -> dict[str, Any]:
    is_in = member.status == RoomMemberStatus.MEMBER
    return {
        "status": member.status,
        "delivered_position": member.delivered_position,
        "read_position": member.read_position,
        "unread": max(room.last_position - member.read_position, 0) if is_in else 0,
    }


def room_view(
    room: TeamRoom, max_members: int, *, member: TeamRoomMember | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": room.id,
        "kind": "team",
        "org_id": room.org_id,
        "name": room.name,
        "status": room.status,
        "created_by": room.created_by,
        "member_count": room.member_count,
        "last_position": room.last_position,
        "created_at": room.created_at.isoformat(),
        "last_message_at": room.last_message_at.isoformat() if room.last_message_at else None,
        "receipts": receipts_view(room, max_members),
    }
    if member is not None:
        view["membership"] = room_membership_view(room, member)
    return view


def room_member_view(member: TeamRoomMember, user: User | None) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "display_name": user.display_name if user else "",
        "status": member.status,
        "added_by": member.added_by,
        "joined_at": member.joined_at.isoformat(),
    }


def room_message_view(message: StoredMessage, *, sender_name: str) -> dict[str, Any]:
    view = message_view(message) | {"room_id": message.conversation_id}
    del view["conversation_id"]  # ``attachment_id``: a file of the room (team_room_files)
    view["sender_name"] = sender_name
    return view
