"""group conversations count their departures: a live event of a team room or a community
channel carries the count, so a node whose sockets may still hold a departed member
re-checks them before delivering (realtime/connections.py, ``screen``)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 19:40:00

docs/decisions.md, "The removal window of group conversations".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_TABLES = ("team_rooms", "community_channels")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table, sa.Column("departures", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("departures")
