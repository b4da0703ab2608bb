"""Relational schema of the metadata store (and of the SQL message store).

Alembic migrations under ``migrations/versions`` create exactly these tables; a test
compares the two so they cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


metadata = MetaData()

ID = String(24)
TS = UTCDateTime()

organizations = Table(
    "organizations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("category", String(64), nullable=False, default=""),
    Column("domains", JSON, nullable=False, default=list),
    Column("tags", JSON, nullable=False, default=list),
    Column("languages", JSON, nullable=False, default=list),
    Column("settings", JSON, nullable=False, default=dict),
    Column("logo_url", String(500), nullable=True),
    Column("is_listed", Boolean, nullable=False, default=True),
    Column("plan", String(16), nullable=False, default="free"),
    Column("created_at", TS, nullable=False),
)

dispatch_groups = Table(
    "dispatch_groups",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("name", String(120), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("policy", String(16), nullable=False),
    Column("business_hours", JSON, nullable=True),
    Column("is_default", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("org_id", "slug"),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=True, unique=True),
    Column("password_hash", String(200), nullable=True),
    Column("display_name", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("visitor_org_id", ID, ForeignKey("organizations.id"), nullable=True),
    Column("plan", String(16), nullable=False, default="free"),
    Column("created_at", TS, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("availability", String(16), nullable=False, default="offline"),
    Column("capacity", Integer, nullable=False, default=5),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("last_assigned_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_memberships_user", "user_id"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", ID, ForeignKey("dispatch_groups.id"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Index("ix_group_members_user", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("family_id", ID, nullable=False, index=True),
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("org_id", ID, nullable=True),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS, nullable=True),
    Column("revoked_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("group_id", ID, ForeignKey("dispatch_groups.id"), nullable=True),
    Column("customer_id", ID, ForeignKey("users.id"), nullable=True),
    Column("assignee_id", ID, ForeignKey("users.id"), nullable=True),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False, default="normal"),
    Column("subject", String(200), nullable=False, default=""),
    Column("tags", JSON, nullable=False, default=list),
    Column("is_escalated", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("queued_at", TS, nullable=True),
    Column("assigned_at", TS, nullable=True),
    Column("resolved_at", TS, nullable=True),
    Column("first_message_id", BigInteger, nullable=False),
    Column("last_message_id", BigInteger, nullable=True),
    Column("last_message_at", TS, nullable=True),
    Column("last_preview", String(200), nullable=True),
    Column("last_sender_id", ID, nullable=True),
    # The client id of the request that opened it: retrying an open is idempotent.
    Column("open_client_id", String(64), nullable=True),
    UniqueConstraint("customer_id", "open_client_id", name="uq_conversation_open"),
    Index("ix_conversations_org_status", "org_id", "status", "group_id"),
    Index("ix_conversations_customer", "customer_id", "updated_at"),
    Index("ix_conversations_assignee", "org_id", "assignee_id", "status"),
)

# One row per side of a conversation: its receipt watermarks and unread count.
conversation_sides = Table(
    "conversation_sides",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("side", String(16), primary_key=True),
    Column("delivered_up_to", BigInteger, nullable=False, default=0),
    Column("read_up_to", BigInteger, nullable=False, default=0),
    Column("unread", Integer, nullable=False, default=0),
)

# The SQL message store. Every read names one partition (org, conversation, bucket),
# exactly as the Cassandra store will; the unique key makes retries idempotent.
messages = Table(
    "messages",
    metadata,
    Column("org_id", ID, primary_key=True),
    Column("conversation_id", ID, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("id", BigInteger, primary_key=True),
    Column("sender_id", ID, nullable=False),
    Column("sender_side", String(16), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("attachment_id", ID, nullable=True),
    Column("created_at", TS, nullable=False),
    UniqueConstraint(
        "org_id", "conversation_id", "sender_id", "client_id", name="uq_message_client"
    ),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, nullable=False),
    Column("conversation_id", ID, ForeignKey("conversations.id"), nullable=False),
    Column("uploader_id", ID, ForeignKey("users.id"), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("created_at", TS, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(120), nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
    Column("created_at", TS, nullable=False),
    Index("ix_audit_org", "org_id", "id"),
)

# Billing webhook events (Stripe-style), each processed once: the id is the key. The
# subject's newest applied event wins, so a late-delivered older event changes nothing.
billing_events = Table(
    "billing_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("subject_kind", String(16), nullable=True),  # "org" | "user"
    Column("subject_id", ID, nullable=True),
    Column("plan", String(16), nullable=True),
    Column("outcome", String(32), nullable=False),  # applied | ignored | stale | unknown_subject
    Column("event_created", TS, nullable=False),
    Column("processed_at", TS, nullable=False),
    Index("ix_billing_events_subject", "subject_kind", "subject_id", "event_created"),
)
