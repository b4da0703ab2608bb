"""platform support: the node's operators, conversations opened or escalated to them,
and the operators' narrow row-level security policy (storage/platform_schema.py,
storage/platform_ddl.py)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage import platform_ddl
from raasel.storage.schema import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_operators",
        sa.Column("user_id", sa.String(length=24), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("platform_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("platform_category", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("platform_operator_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("platform_reason", sa.String(length=500), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, using in platform_ddl.PLATFORM_POLICIES.items():
        for statement in platform_ddl.policy_statements(table, using):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in platform_ddl.PLATFORM_POLICIES:
            for statement in platform_ddl.drop_policy_statements(table):
                op.execute(statement)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("platform_reason")
        batch.drop_column("platform_operator_ids")
        batch.drop_column("platform_category")
        batch.drop_column("platform_at")
    op.drop_table("platform_operators")
