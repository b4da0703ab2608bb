"""row-level security on PostgreSQL: the reader role, a policy on every tenant table, and
composite tenant keys (storage/tenant_ddl.py, docs/security.md "Row-level security")

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:00:00

PostgreSQL only; SQLite has no row-level security and keeps its schema. The inbox
search's full-text match steps become functions (the GIN index is not used for ``@@``
under a policy). The composite
keys read each referencing table once to validate it (``messages`` is the big one: a
sequential scan with an index probe per row); a row already attached to another
organization's conversation, group or member makes the migration fail with the
constraint's name, and nothing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from raasel.storage import tenant_ddl

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in tenant_ddl.role_statements():
        op.execute(statement)
    present = _tables()
    for table, using in tenant_ddl.TENANT_POLICIES.items():
        if table in present:  # a table of a later migration gets its policy there
            for statement in tenant_ddl.policy_statements(table, using):
                op.execute(statement)
    for statement in tenant_ddl.search_statements():
        op.execute(statement)
    for statement in tenant_ddl.key_statements():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in tenant_ddl.drop_key_statements() + tenant_ddl.drop_search_statements():
        op.execute(statement)
    present = _tables()
    for table in tenant_ddl.TENANT_POLICIES:
        if table in present:
            for statement in tenant_ddl.drop_policy_statements(table):
                op.execute(statement)
