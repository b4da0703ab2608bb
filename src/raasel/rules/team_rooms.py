"""Rules of team rooms, pure (docs/protocol.md, "Team rooms"; docs/decisions.md).

Any member of an organization may create a room (they are in it from the start) and
add teammates to a room they are in; a member may leave. Removing someone else and
archiving take the room's creator or a supervisor (or admin, owner) of the
organization: a lead manages every room of the organization, also one they are not in,
but reads and writes only the rooms they are in. An archived room is read-only.
"""

from __future__ import annotations

from enum import StrEnum

from raasel.domain import ROLE_RANK, Role
from raasel.errors import Forbidden, NotFound, ValidationFailed
from raasel.storage.team_room_records import TeamRoom, TeamRoomMember


class RoomStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"  # read-only


class RoomMemberStatus(StrEnum):
    MEMBER = "member"
    REMOVED = "removed"
    LEFT = "left"


# A non-member (a removed one, one who left, another organization's agent, a customer)
# gets "not found": nobody learns whether a room exists, nor that they were removed.
ROOM_NOT_FOUND = "room not found"
MAX_INITIAL_MEMBERS = 50


def is_lead(role: str | None) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role.SUPERVISOR]


def check_is_member(member: TeamRoomMember | None) -> TeamRoomMember:
    if member is None or member.status != RoomMemberStatus.MEMBER:
        raise NotFound(ROOM_NOT_FOUND)
    return member


def check_active(room: TeamRoom) -> None:
    if room.status != RoomStatus.ACTIVE:
        raise Forbidden("this room is archived and read-only", code="archived")


def check_may_manage(room: TeamRoom, user_id: str, role: str | None) -> None:
    """Remove someone else, archive: the room's creator or a lead."""
    if room.created_by != user_id and not is_lead(role):
        raise Forbidden("only the room's creator or a supervisor may do this")


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed("a room needs a name")
    return cleaned
