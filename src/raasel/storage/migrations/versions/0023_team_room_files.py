"""team rooms' files: uploaded into one room, seen by its members only once a message
carries them (storage/team_room_schema.py, ``team_room_files``)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 20:00:00

On PostgreSQL: the organization's rows only (no customer clause), and the tenant key
``(org_id, room_id)`` to the room: a file cannot be put in another organization's room.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema
from raasel.storage import tenant_ddl

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)


def upgrade() -> None:
    op.create_table(
        "team_room_files",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("uploader_id", _ID, nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("message_position", sa.BigInteger(), nullable=True),
        sa.Column("attached_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["team_rooms.id"]),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_team_room_files_room", "team_room_files", ["org_id", "room_id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    statements = tenant_ddl.policy_statements(
        "team_room_files", tenant_ddl.TENANT_POLICIES["team_room_files"]
    )
    statements += [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) REFERENCES {target}"
        for name, (table, columns, target) in tenant_ddl.TEAM_ROOM_FILE_KEYS.items()
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("team_room_files")
