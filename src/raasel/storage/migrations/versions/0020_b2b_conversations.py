"""organization <-> organization conversations: the peer's side on conversations, its
row-level security policy and tenant keys (storage/b2b_schema.py, storage/b2b_ddl.py)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage import b2b_ddl, tenant_ddl
from raasel.storage.schema import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


_ID = sa.String(length=24)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite: its triggers name the table).
    add = op.add_column
    # Their keys are PostgreSQL's composite tenant keys (storage/b2b_ddl.py, below).
    add("conversations", sa.Column("peer_org_id", _ID, nullable=True))
    add("conversations", sa.Column("peer_group_id", _ID, nullable=True))
    add("conversations", sa.Column("peer_assignee_id", _ID, nullable=True))
    add("conversations", sa.Column("peer_status", sa.String(length=16), nullable=True))
    add("conversations", sa.Column("peer_accepted_at", UTCDateTime(), nullable=True))
    add("conversations", sa.Column("org_note_position", sa.Integer(), nullable=True))
    add("conversations", sa.Column("peer_note_position", sa.Integer(), nullable=True))
    op.create_index(
        "ix_conversations_peer", "conversations", ["peer_org_id", "peer_status", "updated_at"]
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, using in b2b_ddl.PEER_POLICIES.items():
        for statement in b2b_ddl.policy_statements(table, using):
            op.execute(statement)
    for statement in tenant_ddl.key_statements(b2b_ddl.PEER_KEYS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in tenant_ddl.drop_key_statements(b2b_ddl.PEER_KEYS, with_unique_keys=False):
            op.execute(statement)
        for table in b2b_ddl.PEER_POLICIES:
            for statement in b2b_ddl.drop_policy_statements(table):
                op.execute(statement)
    op.drop_index("ix_conversations_peer", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        for column in (
            "peer_note_position",
            "org_note_position",
            "peer_accepted_at",
            "peer_status",
            "peer_assignee_id",
            "peer_group_id",
            "peer_org_id",
        ):
            batch.drop_column(column)
