"""the team inbox: view indexes, labels, canned responses, CSAT ratings, reporting
events, and the full-text indexes with their triggers (storage/inbox_ddl.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 00:00:00

Existing messages and conversations are indexed for search by this migration; the
reporting events start from it (nothing is made up for the past).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import raasel.storage.schema
from raasel.storage import inbox_ddl

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = raasel.storage.schema.UTCDateTime(timezone=True)
_ID = sa.String(length=24)


def upgrade() -> None:
    op.create_index(
        "ix_conversations_recent",
        "conversations",
        ["org_id", "status", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_waiting",
        "conversations",
        ["org_id", "status", "priority", "queued_at", "id"],
        unique=False,
    )
    op.create_table(
        "labels",
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("org_id", "name"),
    )
    op.create_table(
        "canned_responses",
        sa.Column("id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_canned_org", "canned_responses", ["org_id", "shortcut"], unique=False)
    op.create_table(
        "csat_ratings",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("assignee_id", _ID, nullable=True),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["organizations.id"]),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    op.create_index("ix_csat_org", "csat_ratings", ["org_id", "created_at"], unique=False)
    op.create_table(
        "report_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_events_org", "report_events", ["org_id", "at"], unique=False)
    op.create_index(
        "ix_report_events_conversation",
        "report_events",
        ["conversation_id", "kind"],
        unique=False,
    )
    for statement in inbox_ddl.statements(op.get_bind().dialect.name, up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in inbox_ddl.statements(op.get_bind().dialect.name, up=False):
        op.execute(statement)
    op.drop_index("ix_report_events_conversation", table_name="report_events")
    op.drop_index("ix_report_events_org", table_name="report_events")
    op.drop_table("report_events")
    op.drop_index("ix_csat_org", table_name="csat_ratings")
    op.drop_table("csat_ratings")
    op.drop_index("ix_canned_org", table_name="canned_responses")
    op.drop_table("canned_responses")
    op.drop_table("labels")
    op.drop_index("ix_conversations_waiting", table_name="conversations")
    op.drop_index("ix_conversations_recent", table_name="conversations")
