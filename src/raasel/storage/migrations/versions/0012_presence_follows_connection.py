"""availability follows the connection: when an agent's last console went away, whether
the system (not the agent) set them away, whether they want it restored when they
return, and each group's re-queue timeout for conversations of agents away too long;
who muted follow-up mail, and what follow-up mail already carried (``mail_followups``)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-12 00:00:00

docs/protocol.md, "Availability follows the connection".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage.schema import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("disconnected_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("away_since", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("is_auto_away", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column(
                "restores_availability", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("memberships") as batch:
        batch.alter_column("is_auto_away", server_default=None)
        batch.alter_column("restores_availability", server_default=None)
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.add_column(sa.Column("requeue_after_seconds", sa.Integer(), nullable=True))
    # Plain ADD COLUMNs: a batch would make SQLite rebuild users under the search
    # triggers of schema 0005 (and users keeps this server default for the same reason).
    op.add_column(
        "users",
        sa.Column("is_followup_muted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "mail_followups",
        sa.Column(
            "conversation_id", sa.String(24), sa.ForeignKey("conversations.id"), primary_key=True
        ),
        sa.Column("mailed_position", sa.BigInteger(), nullable=False),
        sa.Column("mailed_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("mail_followups")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_followup_muted")
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.drop_column("requeue_after_seconds")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("restores_availability")
        batch.drop_column("is_auto_away")
        batch.drop_column("away_since")
        batch.drop_column("disconnected_at")
