"""Tables of team rooms (SPEC 1, kind ``team``; docs/protocol.md, "Team rooms").

A team room is a named group conversation of one organization's members (a "billing
team"), never visible to customers. Its positions are assigned here exactly as for the
organization's other conversations; its messages are in the message store under the
organization (``org_id``) and the room's id. Members keep delivered/read watermarks
(while the room is small enough for per-member receipts); the room keeps their minimum,
the group's ticks, like community channels (storage/community_schema.py).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table

from raasel.storage.schema import ID, TS, metadata

team_rooms = Table(
    "team_rooms",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("status", String(16), nullable=False),  # active | archived
    Column("created_by", ID, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("last_position", BigInteger, nullable=False, default=0),
    Column("last_position_id", BigInteger, nullable=False, default=0),
    Column("last_message_at", TS, nullable=True),
    Column("member_count", Integer, nullable=False, default=0),
    # The group's ticks: the minimum of the members' watermarks (while tracked).
    Column("delivered_position", BigInteger, nullable=False, default=0),
    Column("read_position", BigInteger, nullable=False, default=0),
    # Departures so far (removed or left): a live event carries it, and a node that has
    # not yet seen as many re-checks its sockets before delivering (realtime/
    # connections.py, ``screen``; docs/decisions.md, "Removal window").
    Column("departures", BigInteger, nullable=False, default=0, server_default="0"),
    Index("ix_team_rooms_org", "org_id"),
)

team_room_members = Table(
    "team_room_members",
    metadata,
    Column("room_id", ID, ForeignKey("team_rooms.id"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("status", String(16), nullable=False),  # member | removed | left
    Column("delivered_position", BigInteger, nullable=False, default=0),
    Column("read_position", BigInteger, nullable=False, default=0),
    Column("added_by", ID, nullable=False),
    Column("joined_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_team_room_members_user", "org_id", "user_id", "status"),
    Index("ix_team_room_members_room", "room_id", "status"),
)

# Files of team rooms (docs/protocol.md, "Team rooms"): uploaded by a member into one
# room, theirs alone until a message of that room carries it (``message_position``),
# from then on seen by the room's members only. The bytes are in the attachments
# directory, like support conversations' files (storage/attachment_files.py).
team_room_files = Table(
    "team_room_files",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("room_id", ID, ForeignKey("team_rooms.id"), nullable=False),
    Column("uploader_id", ID, ForeignKey("users.id"), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("message_position", BigInteger, nullable=True),
    Column("attached_at", TS, nullable=True),
    Index("ix_team_room_files_room", "org_id", "room_id"),
)
