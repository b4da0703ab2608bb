"""billing events: each payment-provider event id processed once

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_events",
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=True),
        sa.Column("subject_id", sa.String(length=24), nullable=True),
        sa.Column("plan", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column(
            "event_created", raasel.storage.schema.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("processed_at", raasel.storage.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(
        "ix_billing_events_subject",
        "billing_events",
        ["subject_kind", "subject_id", "event_created"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_billing_events_subject", table_name="billing_events")
    op.drop_table("billing_events")
