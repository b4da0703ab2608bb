"""Records of team rooms (storage/team_room_schema.py): actions never see rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from raasel.storage.records import _FromRow


@dataclass(frozen=True, slots=True)
class TeamRoom(_FromRow):
    id: str
    org_id: str
    name: str
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_position: int
    last_position_id: int
    last_message_at: datetime | None
    member_count: int
    delivered_position: int
    read_position: int
    departures: int = 0


@dataclass(frozen=True, slots=True)
class TeamRoomMember(_FromRow):
    room_id: str
    user_id: str
    org_id: str
    status: str
    delivered_position: int
    read_position: int
    added_by: str
    joined_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TeamRoomFile(_FromRow):
    id: str
    org_id: str
    room_id: str
    uploader_id: str
    content_type: str
    size: int
    sha256: str
    filename: str
    created_at: datetime
    message_position: int | None
    attached_at: datetime | None
