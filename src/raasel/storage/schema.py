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
    # The claimed ``domains`` that proved to be the organization's (DNS TXT record or a
    # .well-known file, actions/domains.py): only these are shown and searched.
    Column("verified_domains", JSON, nullable=False, default=list),
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
    # Round robin's pointer: the agent chosen last (kept with the group, inside the unit
    # that assigns, instead of in Redis: no network call inside a write unit).
    Column("last_assigned_id", ID, nullable=True),
    # Conversations of an agent away longer than this go back to the queue (None: the
    # node's RAASEL_AWAY_REQUEUE_SECONDS; 0: never).
    Column("requeue_after_seconds", Integer, nullable=True),
    # Example requests an admin wrote (any language), embedded with the description by
    # the directory's router (issue 14).
    Column("examples", JSON, nullable=False, default=list),
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
    # When the holder proved the address (a link sent to it); null for visitors and for
    # accounts made before verification existed.
    Column("email_verified_at", TS, nullable=True),
    # What a widget visitor typed in the pre-chat form: unverified, never a login.
    Column("contact_email", String(254), nullable=True),
    # The person asked for no more follow-up mails (the link in every one of them).
    Column("is_followup_muted", Boolean, nullable=False, default=False),
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
    # Availability follows the connection (actions/away.py): when the last console went
    # (cleared when one returns), since when the member is away (chosen or not), whether
    # the system set them away, and whether they want "online" back when they return.
    Column("disconnected_at", TS, nullable=True),
    Column("away_since", TS, nullable=True),
    Column("is_auto_away", Boolean, nullable=False, default=False),
    Column("restores_availability", Boolean, nullable=False, default=False),
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
    # Positions (docs/architecture.md, "Positions"): every message of the conversation
    # gets the next one, inside the unit that stores it. ``last_public_position`` is the
    # newest message the customer may see (not an internal note); ``last_position_id``
    # the id of the message at ``last_position``.
    Column("last_position", BigInteger, nullable=False, default=0),
    Column("last_public_position", BigInteger, nullable=False, default=0),
    Column("last_position_id", BigInteger, nullable=False, default=0),
    # The client id of the request that opened it: retrying an open is idempotent.
    Column("open_client_id", String(64), nullable=True),
    # The closed conversation this one continues (a customer writing again after close).
    Column("follows_id", ID, nullable=True),
    UniqueConstraint("customer_id", "open_client_id", name="uq_conversation_open"),
    Index("ix_conversations_org_status", "org_id", "status", "group_id"),
    Index("ix_conversations_customer", "customer_id", "updated_at"),
    Index("ix_conversations_assignee", "org_id", "assignee_id", "status"),
)

# One row per side of a conversation: its receipt watermarks (positions, and the ids of
# the messages at them for clients that compare ids) and two monotonic counters whose
# difference is the side's unread count: ``received`` (messages of the other side it
# should read) and ``read_count`` (how many of those lie at or below ``read_position``).
# Follow-up mail (actions/followup.py): the customer's newest position a mail already
# carried, so that one batch of unseen replies is mailed exactly once.
mail_followups = Table(
    "mail_followups",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("mailed_position", BigInteger, nullable=False),
    Column("mailed_at", TS, nullable=False),
)

conversation_sides = Table(
    "conversation_sides",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("side", String(16), primary_key=True),
    Column("delivered_position", BigInteger, nullable=False, default=0),
    Column("read_position", BigInteger, nullable=False, default=0),
    Column("delivered_up_to", BigInteger, nullable=False, default=0),
    Column("read_up_to", BigInteger, nullable=False, default=0),
    Column("received", BigInteger, nullable=False, default=0),
    Column("read_count", BigInteger, nullable=False, default=0),
)


def _message_fields() -> list[Column[Any]]:
    """What a stored message holds besides its key (the messages table and the outbox)."""
    return [
        Column("id", BigInteger, nullable=False),
        Column("sender_id", ID, nullable=False),
        Column("sender_side", String(16), nullable=False),
        Column("client_id", String(64), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("body", Text, nullable=False),
        Column("attachment_id", ID, nullable=True),
        Column("created_at", TS, nullable=False),
    ]


# The SQL message store. Every read names one partition (org, conversation, bucket of
# positions), exactly as the Cassandra store does; the unique key backs the engine's
# idempotency check (a retry with the same client id gets the stored copy).
messages = Table(
    "messages",
    metadata,
    Column("org_id", ID, primary_key=True),
    Column("conversation_id", ID, primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    *_message_fields(),
    UniqueConstraint(
        "org_id", "conversation_id", "sender_id", "client_id", name="uq_message_client"
    ),
    Index("ix_messages_id", "conversation_id", "id"),
)

# With a message store outside the metadata database (Cassandra), a unit writes its
# messages here in the same commit as the conversation's summary (a transactional
# outbox); they are copied to the store after the commit and deleted once stored, and
# on start-up whatever a crash left here is copied again. Readers merge these rows.
message_outbox = Table(
    "message_outbox",
    metadata,
    Column("conversation_id", ID, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("org_id", ID, nullable=False),
    *_message_fields(),
)

# With a message store outside the metadata database: which position a sender's client
# id was stored at, so the engine's idempotency check stays inside the unit.
message_client_ids = Table(
    "message_client_ids",
    metadata,
    Column("conversation_id", ID, primary_key=True),
    Column("sender_id", ID, primary_key=True),
    Column("client_id", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("created_at", TS, nullable=False),
)

# An attachment is seen by exactly those who may see the message that carries it (an
# internal note's: the organization's side only); until a message carries it, by its
# uploader only. Ids are random (not snowflakes): they cannot be guessed.
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
    Column("message_id", BigInteger, nullable=True),
    Column("is_note", Boolean, nullable=False, default=False),
    Column("attached_at", TS, nullable=True),
    # The uploader's side (``org``, ``peer``, ``customer``...): a b2b note's file is seen by
    # the side that wrote the note only. Null on files uploaded before it was kept.
    Column("uploader_side", String(16), nullable=True),
    Index("ix_attachments_org", "org_id"),
    Index("ix_attachments_uploader", "uploader_id"),
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
    # The directory's fingerprint: the newest entry of the actions that change it.
    Index("ix_audit_action", "action", "id"),
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

# Links sent by mail that prove the holder reads the address: email verification (the
# pending registration's password hash and name wait in ``payload`` until then) and
# password resets. A link is ``id.mac`` (lib/signing.py): signed with the node's secret
# over the row's random nonce; single use (``used_at``) and expiring.
email_tokens = Table(
    "email_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("purpose", String(24), nullable=False),
    Column("email", String(254), nullable=False),
    Column("user_id", ID, ForeignKey("users.id"), nullable=True),
    Column("nonce", String(64), nullable=False),
    Column("payload", JSON, nullable=False, default=dict),
    Column("expires_at", TS, nullable=False),
    Column("used_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_email_tokens_email", "email", "purpose"),
)

# An organization's invitation to an address: the account (existing or made on
# acceptance) joins only when the holder of the address accepts it.
invitations = Table(
    "invitations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("display_name", String(120), nullable=False),
    Column("role", String(16), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("group_ids", JSON, nullable=False, default=list),
    Column("invited_by", ID, nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending | accepted | revoked
    Column("expires_at", TS, nullable=False),
    Column("accepted_at", TS, nullable=True),
    Column("accepted_by", ID, nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_invitations_org", "org_id", "status"),
    Index("ix_invitations_email", "email"),
)

# Mails to send (mail/outbox.py): written in the transaction that caused them, delivered
# after the commit, retried until the server took them. The body (it holds the link) is
# blanked once delivered.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("template", String(40), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS, nullable=False),
    Column("sent_at", TS, nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_mail_outbox_due", "status", "next_attempt_at"),
)

# A domain an organization claims, with the token that proves it (a DNS TXT record or a
# file at https://DOMAIN/.well-known/raasel-verification.txt).
domain_claims = Table(
    "domain_claims",
    metadata,
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("domain", String(253), primary_key=True),
    Column("token", String(64), nullable=False),
    Column("verified_at", TS, nullable=True),
    Column("checked_at", TS, nullable=True),
    Column("created_at", TS, nullable=False),
)

# ----- the team inbox (docs/architecture.md, "The team inbox") ---------------------------

# The views page by (status, updated_at) and by (status, priority, queued_at): keyset
# pages read one index range per status (or priority), whatever the number of
# conversations (storage/metadata/inbox.py).
Index(
    "ix_conversations_recent",
    conversations.c.org_id,
    conversations.c.status,
    conversations.c.updated_at,
    conversations.c.id,
)
Index(
    "ix_conversations_waiting",
    conversations.c.org_id,
    conversations.c.status,
    conversations.c.priority,
    conversations.c.queued_at,
    conversations.c.id,
)

# An organization's labels: the names agents pick from, with a colour. A conversation's
# labels are its ``tags``.
labels = Table(
    "labels",
    metadata,
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("color", String(7), nullable=False),
    Column("description", String(200), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
)

# Canned responses: organization-wide (``owner_id`` null) or one agent's own; inserted
# with ``/shortcut`` in the composer, ``{{customer.name}}``-style variables filled then.
canned_responses = Table(
    "canned_responses",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("owner_id", ID, ForeignKey("users.id"), nullable=True),
    Column("shortcut", String(32), nullable=False),
    Column("title", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_canned_org", "org_id", "shortcut"),
)

# A customer's rating of a resolved conversation: once (the key), credited to the
# assignee and group the conversation had then.
csat_ratings = Table(
    "csat_ratings",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("assignee_id", ID, nullable=True),
    Column("group_id", ID, nullable=True),
    Column("rating", Integer, nullable=False),
    Column("comment", String(1000), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Index("ix_csat_org", "org_id", "created_at"),
)

# Raw reporting events, written by database triggers in the very transaction of the unit
# that caused them (storage/inbox_ddl.py): opened, assigned (``started_at`` = queued),
# first_response (``started_at`` = opened), resolved (``started_at`` = opened). Reports
# are arithmetic on these rows, never recomputed from messages.
report_events = Table(
    "report_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_id", ID, nullable=False),
    Column("conversation_id", ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("group_id", ID, nullable=True),
    Column("agent_id", ID, nullable=True),
    Column("started_at", TS, nullable=True),
    Column("at", TS, nullable=False),
    Index("ix_report_events_org", "org_id", "at"),
    Index("ix_report_events_conversation", "conversation_id", "kind"),
)

# ----- conversation kinds (docs/protocol.md, "Outreach") ---------------------------------

# An individual's standing with one organization that writes to them first (outreach):
# muted (no notifications on their devices) or blocked (the organization can neither
# start a conversation with them nor write into the ones it started). The row is also
# the lock both commands take (an upsert), so a block and a new outreach never pass
# each other, on PostgreSQL across nodes too.
org_contacts = Table(
    "org_contacts",
    metadata,
    Column("user_id", ID, ForeignKey("users.id"), primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("is_muted", Boolean, nullable=False, default=False),
    Column("is_blocked", Boolean, nullable=False, default=False),
    Column("updated_at", TS, nullable=False),
)

# Ticket fields (docs/protocol.md, "Ticket fields") on support, outreach (and later b2b)
# conversations, beside status, priority and subject: the organization-defined category
# and the note an agent leaves when resolving. Appended here to keep the table's
# definition above untouched.
conversations.append_column(Column("category", String(40), nullable=True))
conversations.append_column(Column("resolution_note", String(1000), nullable=True))

# The direct space's tables (docs/e2e.md) share this metadata.
from raasel.storage import community_schema as _community_schema  # noqa: E402, F401
from raasel.storage import direct_schema as _direct_schema  # noqa: E402, F401
from raasel.storage import team_room_schema as _team_room_schema  # noqa: E402, F401

# Social channels (docs/channels.md). Each organization's data key, wrapped (AES-256-GCM)
# by the node's key-encryption key; every version kept until no secret uses it.
org_data_keys = Table(
    "org_data_keys",
    metadata,
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kek_id", String(32), nullable=False),
    Column("wrapped", Text, nullable=False),
    Column("created_at", TS, nullable=False),
)

# A WhatsApp number, a Facebook Page or an Instagram account of an organization. The
# token, app secret and verify token are stored sealed with the organization's data key
# (``key_version``), never in clear and never shown after saving.
channels = Table(
    "channels",
    metadata,
    Column("id", ID, primary_key=True),
    Column("org_id", ID, ForeignKey("organizations.id"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("name", String(120), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("business_account_id", String(64), nullable=True),
    Column("group_id", ID, ForeignKey("dispatch_groups.id"), nullable=True),
    Column("key_version", Integer, nullable=False),
    Column("access_token_sealed", Text, nullable=False),
    Column("app_secret_sealed", Text, nullable=False),
    Column("verify_token_sealed", Text, nullable=False),
    Column("throughput_per_second", Integer, nullable=False, default=20),
    Column("status", String(16), nullable=False),  # active | token_expired | disabled
    Column("last_error", String(300), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("platform", "external_id", name="uq_channel_account"),
    Index("ix_channels_org", "org_id"),
)

# Who wrote to an organization from a platform: the customer (a ``visitor`` user of the
# organization) behind a WhatsApp wa_id or BSUID, a Messenger PSID, an Instagram IGSID.
channel_contacts = Table(
    "channel_contacts",
    metadata,
    Column("org_id", ID, ForeignKey("organizations.id"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("alt_id", String(128), nullable=True),  # WhatsApp: the BSUID beside the wa_id
    Column("user_id", ID, ForeignKey("users.id"), nullable=False),
    Column("name", String(120), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Index("ix_channel_contacts_alt", "org_id", "platform", "alt_id"),
)

# A support conversation whose customer lives on a platform: written in the unit that
# opens it. ``sent_position`` is the outbound watermark: every public message of the
# organization's side up to it went to the provider (or failed for good).
channel_conversations = Table(
    "channel_conversations",
    metadata,
    Column("conversation_id", ID, ForeignKey("conversations.id"), primary_key=True),
    Column("channel_id", ID, ForeignKey("channels.id"), nullable=False),
    Column("org_id", ID, nullable=False),
    Column("contact_id", String(128), nullable=False),
    Column("last_inbound_at", TS, nullable=False),
    Column("sent_position", BigInteger, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_error", String(300), nullable=True),
    Index("ix_channel_conversations_contact", "channel_id", "contact_id"),
)

# Every inbound provider message id once per channel (at-least-once webhooks), with the
# position it got and the provider id it replied to.
channel_inbound = Table(
    "channel_inbound",
    metadata,
    Column("channel_id", ID, primary_key=True),
    Column("provider_message_id", String(255), primary_key=True),
    Column("conversation_id", ID, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("reply_to", String(255), nullable=True),
    Column("created_at", TS, nullable=False),
    # The provider's own time of the message (its webhook's timestamp), beside the
    # server's time on the message; positions, not these, order a conversation.
    Column("provider_sent_at", TS, nullable=True),
)

# What went out for a message of the organization's side: its provider id (status
# webhooks name it), a template to send instead of text, and how it ended.
channel_outbound = Table(
    "channel_outbound",
    metadata,
    Column("conversation_id", ID, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("channel_id", ID, nullable=False),
    Column("provider_message_id", String(255), nullable=True),
    Column("template", JSON, nullable=True),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("error", String(300), nullable=True),
    Column("sent_at", TS, nullable=True),
    # A reply the platform takes as two messages (a file, then its text): the text's id.
    Column("provider_extra_id", String(255), nullable=True),
    UniqueConstraint("channel_id", "provider_message_id", name="uq_channel_outbound_provider"),
    Index("ix_channel_outbound_extra", "channel_id", "provider_extra_id"),
)

# Webhook deliveries, stored before the 200 and processed after it (a durable queue):
# a node killed after answering loses nothing. The same body twice (a replay) is kept
# once; the body is blanked once processed.
channel_webhooks = Table(
    "channel_webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", ID, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", TS, nullable=False),
    Column("claimed_by", Integer, nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("received_at", TS, nullable=False),
    Column("processed_at", TS, nullable=True),
    # The contacts whose messages it carries, one per line: a delivery waits while an
    # earlier one of the same contact is in flight (on any node), so each contact's
    # messages are appended in the order they arrived.
    Column("contact_keys", Text, nullable=True),
    UniqueConstraint("channel_id", "body_sha256", name="uq_channel_webhook_body"),
    Index("ix_channel_webhooks_due", "status", "next_attempt_at"),
)

# The node's operators and the conversations opened or escalated to them.
# Organization <-> organization conversations: the other organization's side.
from raasel.storage import b2b_schema as _b2b_schema  # noqa: E402, F401
from raasel.storage import platform_schema as _platform_schema  # noqa: E402, F401
