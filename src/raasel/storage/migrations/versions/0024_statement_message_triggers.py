"""messages checked and indexed once per insert statement, not once per row (PostgreSQL)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:00:00

The committer stores a batch's messages as one multi-row insert; its two row triggers
(the message's space, storage/tenant_ddl.py; the search rows and the first response,
storage/inbox_ddl.py) ran a plpgsql call per message, about 30 of a 46 ms batch write of
230 messages (docs/benchmarks.md). Both become statement triggers over the new rows; the
space check of updates stays a row trigger. SQLite is unchanged.
"""

from __future__ import annotations

from alembic import op

from raasel.storage import inbox_ddl, tenant_ddl

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = tenant_ddl.message_statement_key_statements()
    statements += inbox_ddl.statement_search_statements(up=True)
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = tenant_ddl.message_row_key_statements()
    statements += inbox_ddl.statement_search_statements(up=False)
    for statement in statements:
        op.execute(statement)
