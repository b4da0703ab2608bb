"""a widget visitor's contact address, from the organization's pre-chat form; the audit
log indexed by action (the directory's fingerprint skips conversation entries)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 00:00:00

``users.contact_email`` is what a visitor typed in the pre-chat form: unverified, not
unique, never a login (``users.email`` stays the accounts' proved address).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
    op.create_index("ix_audit_action", "audit_log", ["action", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_action", table_name="audit_log")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("contact_email")
