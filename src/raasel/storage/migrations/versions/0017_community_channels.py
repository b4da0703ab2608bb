"""community channels: an organization's moderated group conversations of individuals,
their members' watermarks, removed messages (storage/community_schema.py)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 19:00:00

New tables only, each with its row-level-security policy on PostgreSQL
(storage/tenant_ddl.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema
from raasel.storage import tenant_ddl

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)
_TABLES = ("community_channels", "community_members", "community_removals")


def upgrade() -> None:
    op.create_table(
        "community_channels",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("join_mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("invite_code", sa.String(length=48), nullable=False),
        sa.Column("created_by", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("last_position_id", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", _TS, nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("delivered_position", sa.BigInteger(), nullable=False),
        sa.Column("read_position", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_code"),
    )
    op.create_index("ix_community_channels_org", "community_channels", ["org_id"])
    op.create_table(
        "community_members",
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_muted", sa.Boolean(), nullable=False),
        sa.Column("delivered_position", sa.BigInteger(), nullable=False),
        sa.Column("read_position", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["community_channels.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("channel_id", "user_id"),
    )
    op.create_index("ix_community_members_user", "community_members", ["user_id", "status"])
    op.create_index("ix_community_members_channel", "community_members", ["channel_id", "status"])
    op.create_table(
        "community_removals",
        sa.Column("channel_id", _ID, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("removed_by", _ID, nullable=False),
        sa.Column("removed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["community_channels.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("channel_id", "position"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            for statement in tenant_ddl.policy_statements(table, tenant_ddl.TENANT_POLICIES[table]):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            for statement in tenant_ddl.drop_policy_statements(table):
                op.execute(statement)
    op.drop_table("community_removals")
    op.drop_index("ix_community_members_channel", table_name="community_members")
    op.drop_index("ix_community_members_user", table_name="community_members")
    op.drop_table("community_members")
    op.drop_index("ix_community_channels_org", table_name="community_channels")
    op.drop_table("community_channels")
