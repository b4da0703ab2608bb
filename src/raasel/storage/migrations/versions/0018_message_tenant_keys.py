"""tenant keys for the message tables and the channel tables (storage/tenant_ddl.py,
docs/security.md "Row-level security")

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 19:00:00

PostgreSQL only. ``messages`` and ``message_outbox`` hold an organization's messages and
the direct chats' (``org_id = 'direct'``): a constraint trigger checks that each row's
conversation is in its own space (the organization's ``(org_id, id)``, or a direct
chat), no organization may be called ``direct``, and the read policy gives the direct
space a rule of its own (the caller's direct chats). Rows already stored are checked
first (a full read of both tables; a row outside its space fails the migration by name,
nothing changed). Channel conversations and channels get composite keys to their
organization's conversation and group.
"""

from __future__ import annotations

from alembic import op

from raasel.storage import tenant_ddl

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The policy 0013 made, for the downgrade.
_PREVIOUS_POLICY = f"{tenant_ddl.OF_ORG} OR {tenant_ddl.MY_CONVERSATIONS}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = tenant_ddl.message_key_statements()
    statements += tenant_ddl.key_statements(tenant_ddl.CHANNEL_TENANT_KEYS)
    for table in tenant_ddl.MESSAGE_SPACE_TABLES:
        statements += tenant_ddl.policy_statements(table, tenant_ddl.TENANT_POLICIES[table])
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = tenant_ddl.drop_message_key_statements()
    statements += tenant_ddl.drop_key_statements(
        tenant_ddl.CHANNEL_TENANT_KEYS, with_unique_keys=False
    )
    for table in tenant_ddl.MESSAGE_SPACE_TABLES:
        statements += tenant_ddl.policy_statements(table, _PREVIOUS_POLICY)
    for statement in statements:
        op.execute(statement)
