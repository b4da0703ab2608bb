"""b2b attachments: the uploader's side on attachments (a b2b note's file is its side's
only) and the peer organization's read policy on the files of its b2b conversations
(actions/attachments.py, storage/b2b_ddl.py)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage import b2b_ddl

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attachments", sa.Column("uploader_side", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, using in b2b_ddl.PEER_FILE_POLICIES.items():
        for statement in b2b_ddl.policy_statements(table, using):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in b2b_ddl.PEER_FILE_POLICIES:
            for statement in b2b_ddl.drop_policy_statements(table):
                op.execute(statement)
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("uploader_side")
