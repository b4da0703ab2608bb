"""direct chats: handles, the key directory (devices, one-time prekeys), direct
conversations, their members' watermarks, blocks (storage/direct_schema.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:30:00

New tables only; none has an organization column (the ``direct`` space, docs/e2e.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)
_KEY = sa.String(length=64)
_SIG = sa.String(length=100)


def upgrade() -> None:
    op.create_table(
        "direct_handles",
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("handle"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "direct_devices",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("identity_key", _KEY, nullable=False),
        sa.Column("signed_prekey_id", sa.Integer(), nullable=False),
        sa.Column("signed_prekey", _KEY, nullable=False),
        sa.Column("signed_prekey_signature", _SIG, nullable=False),
        sa.Column("previous_signed_prekey_id", sa.Integer(), nullable=True),
        sa.Column("previous_signed_prekey", _KEY, nullable=True),
        sa.Column("previous_signed_prekey_signature", _SIG, nullable=True),
        sa.Column("previous_retired_at", _TS, nullable=True),
        sa.Column("kyber_prekey", sa.JSON(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "device_id"),
    )
    op.create_table(
        "direct_one_time_prekeys",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("device_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("public_key", _KEY, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "device_id", "key_id"),
    )
    op.create_table(
        "direct_conversations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_low", _ID, nullable=False),
        sa.Column("user_high", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", _ID, nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("last_position_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("last_message_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["user_low"], ["users.id"]),
        sa.ForeignKeyConstraint(["user_high"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_low", "user_high", name="uq_direct_pair"),
    )
    op.create_index("ix_direct_conversations_high", "direct_conversations", ["user_high"])
    op.create_table(
        "direct_members",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("delivered_position", sa.BigInteger(), nullable=False),
        sa.Column("read_position", sa.BigInteger(), nullable=False),
        sa.Column("unread_positions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["direct_conversations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("conversation_id", "user_id"),
    )
    op.create_index("ix_direct_members_user", "direct_members", ["user_id"])
    op.create_table(
        "direct_blocks",
        sa.Column("blocker_id", _ID, nullable=False),
        sa.Column("blocked_id", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["blocker_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["blocked_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id"),
    )
    op.create_index("ix_direct_blocks_blocked", "direct_blocks", ["blocked_id"])


def downgrade() -> None:
    op.drop_index("ix_direct_blocks_blocked", table_name="direct_blocks")
    op.drop_table("direct_blocks")
    op.drop_index("ix_direct_members_user", table_name="direct_members")
    op.drop_table("direct_members")
    op.drop_index("ix_direct_conversations_high", table_name="direct_conversations")
    op.drop_table("direct_conversations")
    op.drop_table("direct_one_time_prekeys")
    op.drop_table("direct_devices")
    op.drop_table("direct_handles")
