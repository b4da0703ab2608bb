"""ticket fields: a conversation's category (from the organization's list) and the
resolution note left on resolve, docs/protocol.md "Ticket fields"

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no table rebuild, the triggers stay.
    op.add_column("conversations", sa.Column("category", sa.String(length=40), nullable=True))
    op.add_column(
        "conversations", sa.Column("resolution_note", sa.String(length=1000), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("resolution_note")
        batch.drop_column("category")
