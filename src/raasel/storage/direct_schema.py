"""Tables of individuals' direct conversations and their key directory (docs/e2e.md).

None has an organization column: this is the ``direct`` space of SPEC 1, which no
organization's query can name. Keys are kept exactly as they travel (base64 of
libsignal's serialisation); the server never holds a private key or a plaintext.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from raasel.storage.schema import ID, TS, metadata

KEY = String(64)  # base64 of a 33-byte public key (44 characters)
SIGNATURE = String(100)  # base64 of a 64-byte XEdDSA signature (88 characters)

# The user name an individual chooses, lowercased, unique on the node.
direct_handles = Table(
    "direct_handles",
    metadata,
    Column("handle", String(32), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
)

# One row per device of an individual: its public identity, its current signed prekey,
# the previous one (kept for a grace period, never handed out), and a place for a Kyber
# prekey (stored as uploaded; not used until clients speak PQXDH).
direct_devices = Table(
    "direct_devices",
    metadata,
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("device_id", BigInteger, primary_key=True),
    Column("registration_id", Integer, nullable=False),
    Column("identity_key", KEY, nullable=False),
    Column("signed_prekey_id", Integer, nullable=False),
    Column("signed_prekey", KEY, nullable=False),
    Column("signed_prekey_signature", SIGNATURE, nullable=False),
    Column("previous_signed_prekey_id", Integer, nullable=True),
    Column("previous_signed_prekey", KEY, nullable=True),
    Column("previous_signed_prekey_signature", SIGNATURE, nullable=True),
    Column("previous_retired_at", TS, nullable=True),
    Column("kyber_prekey", JSON, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# The one-time prekey pool of each device. A claim deletes the row it hands out in the
# claim's own transaction (DELETE ... RETURNING): a key is handed out at most once.
direct_one_time_prekeys = Table(
    "direct_one_time_prekeys",
    metadata,
    Column("user_id", ID, primary_key=True),
    Column("device_id", BigInteger, primary_key=True),
    Column("key_id", Integer, primary_key=True),
    Column("public_key", KEY, nullable=False),
)

# A direct conversation between two individuals (``user_low`` < ``user_high`` as
# strings, so a pair has one row). Its messages are in the message store's ``direct``
# space; positions are assigned here exactly as for an organization's conversations.
direct_conversations = Table(
    "direct_conversations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_low", ID, ForeignKey("users.id"), nullable=False),
    Column("user_high", ID, ForeignKey("users.id"), nullable=False),
    Column("status", String(16), nullable=False),  # request | accepted | declined
    Column("requested_by", ID, nullable=False),
    Column("last_position", BigInteger, nullable=False, default=0),
    Column("last_position_id", BigInteger, nullable=False, default=0),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("last_message_at", TS, nullable=True),
    UniqueConstraint("user_low", "user_high", name="uq_direct_pair"),
    Index("ix_direct_conversations_high", "user_high"),
)

# Each member's watermarks, and the positions of the other member's messages above its
# read watermark (its unread count; at most ``UNREAD_KEPT`` are kept).
direct_members = Table(
    "direct_members",
    metadata,
    Column("conversation_id", ID, ForeignKey("direct_conversations.id"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("delivered_position", BigInteger, nullable=False, default=0),
    Column("read_position", BigInteger, nullable=False, default=0),
    Column("unread_positions", JSON, nullable=False, default=list),
    Index("ix_direct_members_user", "user_id"),
)

direct_blocks = Table(
    "direct_blocks",
    metadata,
    Column("blocker_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("blocked_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("created_at", TS, nullable=False),
    Index("ix_direct_blocks_blocked", "blocked_id"),
)
