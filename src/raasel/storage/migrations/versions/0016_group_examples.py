"""example requests per dispatch group (issue 14): a few requests an admin writes, in any
language, embedded with the group's description by the directory's router

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 19:00:00

docs/decisions.md, "The router, second generation".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.add_column(
            sa.Column("examples", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.alter_column("examples", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("dispatch_groups") as batch:
        batch.drop_column("examples")
