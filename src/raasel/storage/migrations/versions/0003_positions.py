"""positions: messages keyed by per-conversation position; receipts and unread on positions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:00:00

Existing messages get positions in id order; watermarks become the position of the
newest message at or below the old id watermark; unread becomes two counters.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)


def _message_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.String(length=24), nullable=False),
        sa.Column("sender_side", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attachment_id", sa.String(length=24), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.add_column(sa.Column("last_assigned_id", sa.String(length=24), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        for name in ("last_position", "last_public_position", "last_position_id"):
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))

    op.create_table(
        "messages_v3",
        sa.Column("org_id", sa.String(length=24), nullable=False),
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        *_message_columns(),
        sa.PrimaryKeyConstraint("org_id", "conversation_id", "bucket", "position"),
        sa.UniqueConstraint(
            "org_id", "conversation_id", "sender_id", "client_id", name="uq_message_client_v3"
        ),
    )
    op.execute(
        "INSERT INTO messages_v3 (org_id, conversation_id, bucket, position, id, sender_id,"
        " sender_side, client_id, kind, body, attachment_id, created_at)"
        " SELECT org_id, conversation_id, rn / 1024, rn, id, sender_id, sender_side,"
        " client_id, kind, body, attachment_id, created_at FROM (SELECT m.*, ROW_NUMBER()"
        " OVER (PARTITION BY conversation_id ORDER BY id) AS rn FROM messages m) numbered"
    )
    op.drop_table("messages")
    op.rename_table("messages_v3", "messages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE messages RENAME CONSTRAINT uq_message_client_v3 TO uq_message_client"
        )
        op.execute("ALTER TABLE messages RENAME CONSTRAINT messages_v3_pkey TO messages_pkey")
    else:  # SQLite cannot rename a constraint: rebuild the table with the final name
        with op.batch_alter_table(
            "messages",
            recreate="always",
            table_args=(
                sa.UniqueConstraint(
                    "org_id", "conversation_id", "sender_id", "client_id", name="uq_message_client"
                ),
            ),
        ) as batch:
            batch.drop_constraint("uq_message_client_v3", type_="unique")
    op.create_index("ix_messages_id", "messages", ["conversation_id", "id"], unique=False)

    op.execute(
        "UPDATE conversations SET"
        " last_position = COALESCE((SELECT MAX(m.position) FROM messages m"
        "   WHERE m.conversation_id = conversations.id), 0),"
        " last_public_position = COALESCE((SELECT MAX(m.position) FROM messages m"
        "   WHERE m.conversation_id = conversations.id AND m.kind <> 'note'), 0),"
        " last_position_id = COALESCE((SELECT m.id FROM messages m"
        "   WHERE m.conversation_id = conversations.id ORDER BY m.position DESC LIMIT 1), 0)"
    )

    with op.batch_alter_table("conversation_sides") as batch:
        for name in ("delivered_position", "read_position", "received", "read_count"):
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE conversation_sides SET"
        " delivered_position = COALESCE((SELECT MAX(m.position) FROM messages m"
        "   WHERE m.conversation_id = conversation_sides.conversation_id"
        "   AND m.id <= conversation_sides.delivered_up_to), 0),"
        " read_position = COALESCE((SELECT MAX(m.position) FROM messages m"
        "   WHERE m.conversation_id = conversation_sides.conversation_id"
        "   AND m.id <= conversation_sides.read_up_to), 0)"
    )
    op.execute(
        "UPDATE conversation_sides SET"
        " received = (SELECT COUNT(*) FROM messages m"
        "   WHERE m.conversation_id = conversation_sides.conversation_id"
        "   AND m.kind = 'text' AND m.sender_side <> conversation_sides.side),"
        " read_count = (SELECT COUNT(*) FROM messages m"
        "   WHERE m.conversation_id = conversation_sides.conversation_id"
        "   AND m.kind = 'text' AND m.sender_side <> conversation_sides.side"
        "   AND m.position <= conversation_sides.read_position)"
    )
    with op.batch_alter_table("conversation_sides") as batch:
        batch.drop_column("unread")
    # server defaults were only for the existing rows; the code always writes these
    with op.batch_alter_table("conversations") as batch:
        for name in ("last_position", "last_public_position", "last_position_id"):
            batch.alter_column(name, server_default=None)
    with op.batch_alter_table("conversation_sides") as batch:
        for name in ("delivered_position", "read_position", "received", "read_count"):
            batch.alter_column(name, server_default=None)

    op.create_table(
        "message_outbox",
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("org_id", sa.String(length=24), nullable=False),
        *_message_columns(),
        sa.PrimaryKeyConstraint("conversation_id", "position"),
    )
    op.create_table(
        "message_client_ids",
        sa.Column("conversation_id", sa.String(length=24), nullable=False),
        sa.Column("sender_id", sa.String(length=24), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "sender_id", "client_id"),
    )


def downgrade() -> None:
    raise NotImplementedError("positions cannot be undone; restore a backup instead")
