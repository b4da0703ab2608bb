"""Tables of community channels (SPEC 1, kind ``community``; docs/protocol.md,
"Community channels").

A channel is an organization's moderated group conversation of individuals. Its
positions are assigned here exactly as for the organization's other conversations; its
messages are in the message store under the organization (``org_id``) and the channel's
id. Each member's delivered/read watermarks are kept while the channel is small enough
for per-member receipts (``RAASEL_GROUP_RECEIPTS_MAX_MEMBERS``); the channel keeps their
minimum, the group's ticks.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from raasel.storage.schema import ID, TS, metadata

community_channels = Table(
    "community_channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("description", String(500), nullable=False, default=""),
    Column("join_mode", String(16), nullable=False),  # open | invite | approval
    Column("status", String(16), nullable=False),  # active | archived
    # The invitation link's code (random, unique on the node); a new one revokes the old.
    Column("invite_code", String(48), nullable=False, unique=True),
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
    # Departures so far (storage/team_room_schema.py says why).
    Column("departures", BigInteger, nullable=False, default=0, server_default="0"),
    Index("ix_community_channels_org", "org_id"),
)

community_members = Table(
    "community_members",
    metadata,
    Column("channel_id", ID, ForeignKey("community_channels.id"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("status", String(16), nullable=False),  # member | pending | removed | left
    Column("is_muted", Boolean, nullable=False, default=False),
    Column("delivered_position", BigInteger, nullable=False, default=0),
    Column("read_position", BigInteger, nullable=False, default=0),
    Column("joined_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_community_members_user", "user_id", "status"),
    Index("ix_community_members_channel", "channel_id", "status"),
)

# Messages a moderator removed: their text is never served again (the removal itself is
# a system message at a later position, so a member who was away learns of it on sync).
community_removals = Table(
    "community_removals",
    metadata,
    Column("channel_id", ID, ForeignKey("community_channels.id"), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("removed_by", ID, nullable=False),
    Column("removed_at", TS, nullable=False),
)
