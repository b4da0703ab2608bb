"""outreach: an individual's standing with an organization that writes to them first
(muted, blocked), docs/protocol.md "Outreach"

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:30:00

Outreach conversations are ``conversations`` rows of kind ``outreach``: no column
changes there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)


def upgrade() -> None:
    op.create_table(
        "org_contacts",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("is_muted", sa.Boolean(), nullable=False),
        sa.Column("is_blocked", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "org_id"),
    )


def downgrade() -> None:
    op.drop_table("org_contacts")
