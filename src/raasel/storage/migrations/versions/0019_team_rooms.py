"""team rooms: named group conversations of one organization's members, and their
members' watermarks (storage/team_room_schema.py); group conversations' messages keyed
to their space

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 17:00:00

New tables, each with its row-level-security policy on PostgreSQL (the organization's
rows only: no customer ever reads them) and tenant keys: a room's member is a member of
the room's organization (``memberships (org_id, user_id)``). The messages' space check
of 0018 learns the group conversations: a message of an organization belongs to one of
its conversations, community channels or team rooms (0018 knew conversations only, so a
community channel's message failed on PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema
from raasel.storage import tenant_ddl

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)
_TABLES = ("team_rooms", "team_room_members")


def upgrade() -> None:
    op.create_table(
        "team_rooms",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
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
    )
    op.create_index("ix_team_rooms_org", "team_rooms", ["org_id"])
    op.create_table(
        "team_room_members",
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("delivered_position", sa.BigInteger(), nullable=False),
        sa.Column("read_position", sa.BigInteger(), nullable=False),
        sa.Column("added_by", _ID, nullable=False),
        sa.Column("joined_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["team_rooms.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("room_id", "user_id"),
    )
    op.create_index(
        "ix_team_room_members_user", "team_room_members", ["org_id", "user_id", "status"]
    )
    op.create_index("ix_team_room_members_room", "team_room_members", ["room_id", "status"])
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = [tenant_ddl.message_key_function()]
    for table in _TABLES:
        statements += tenant_ddl.policy_statements(table, tenant_ddl.TENANT_POLICIES[table])
    statements += [
        f"CREATE UNIQUE INDEX {name} ON {table} ({columns})"
        for name, (table, columns) in tenant_ddl.TEAM_ROOM_UNIQUE_KEYS.items()
    ]
    statements += tenant_ddl.key_statements(tenant_ddl.TEAM_ROOM_TENANT_KEYS)
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        statements = tenant_ddl.drop_key_statements(
            tenant_ddl.TEAM_ROOM_TENANT_KEYS, with_unique_keys=False
        )
        statements += [f"DROP INDEX IF EXISTS {n}" for n in tenant_ddl.TEAM_ROOM_UNIQUE_KEYS]
        for table in _TABLES:
            statements += tenant_ddl.drop_policy_statements(table)
        statements.append(tenant_ddl.message_key_function(("conversations",)))
        for statement in statements:
            op.execute(statement)
    op.drop_index("ix_team_room_members_room", table_name="team_room_members")
    op.drop_index("ix_team_room_members_user", table_name="team_room_members")
    op.drop_table("team_room_members")
    op.drop_index("ix_team_rooms_org", table_name="team_rooms")
    op.drop_table("team_rooms")
