"""conversation activity for the audit log: transfers between agents, closes and reopens
recorded as reporting events too (storage/inbox_ddl.py)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-11 00:00:00

Schema 0005's triggers record opened, assigned (from the queue), first response and
resolved; the audit log also tells who handed a conversation to whom, who closed it and
who reopened it. No table changes: new trigger branches only.
"""

from __future__ import annotations

from alembic import op

from raasel.storage import inbox_ddl

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in inbox_ddl.activity_statements(op.get_bind().dialect.name, up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in inbox_ddl.activity_statements(op.get_bind().dialect.name, up=False):
        op.execute(statement)
