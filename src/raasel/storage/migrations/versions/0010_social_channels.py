"""social channels: WhatsApp numbers, Facebook Pages and Instagram accounts, their
contacts and conversations, the webhook queue, and organizations' data keys

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)


def upgrade() -> None:
    op.create_table(
        "org_data_keys",
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("org_id", "version"),
    )
    op.create_table(
        "channels",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("business_account_id", sa.String(length=64), nullable=True),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=False),
        sa.Column("app_secret_sealed", sa.Text(), nullable=False),
        sa.Column("verify_token_sealed", sa.Text(), nullable=False),
        sa.Column("throughput_per_second", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["dispatch_groups.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "external_id", name="uq_channel_account"),
    )
    op.create_index("ix_channels_org", "channels", ["org_id"], unique=False)
    op.create_table(
        "channel_contacts",
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("alt_id", sa.String(length=128), nullable=True),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("org_id", "platform", "external_id"),
    )
    op.create_index(
        "ix_channel_contacts_alt",
        "channel_contacts",
        ["org_id", "platform", "alt_id"],
        unique=False,
    )
    op.create_table(
        "channel_conversations",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("contact_id", sa.String(length=128), nullable=False),
        sa.Column("last_inbound_at", _TS, nullable=False),
        sa.Column("sent_position", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index(
        "ix_channel_conversations_contact",
        "channel_conversations",
        ["channel_id", "contact_id"],
        unique=False,
    )
    op.create_table(
        "channel_inbound",
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("provider_message_id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("reply_to", sa.String(length=255), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "provider_message_id"),
    )
    op.create_table(
        "channel_outbound",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("template", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", "position"),
        sa.UniqueConstraint(
            "channel_id", "provider_message_id", name="uq_channel_outbound_provider"
        ),
    )
    op.create_table(
        "channel_webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("processed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "body_sha256", name="uq_channel_webhook_body"),
    )
    op.create_index(
        "ix_channel_webhooks_due",
        "channel_webhooks",
        ["status", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_channel_webhooks_due", table_name="channel_webhooks")
    op.drop_table("channel_webhooks")
    op.drop_table("channel_outbound")
    op.drop_table("channel_inbound")
    op.drop_index("ix_channel_conversations_contact", table_name="channel_conversations")
    op.drop_table("channel_conversations")
    op.drop_index("ix_channel_contacts_alt", table_name="channel_contacts")
    op.drop_table("channel_contacts")
    op.drop_index("ix_channels_org", table_name="channels")
    op.drop_table("channels")
    op.drop_table("org_data_keys")
