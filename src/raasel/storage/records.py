"""Plain records the metadata store returns: actions never see SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

_FIELD_NAMES: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def _field_names(cls: type[Any]) -> tuple[tuple[str, ...], frozenset[str]]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        ordered = tuple(f.name for f in fields(cls))
        names = _FIELD_NAMES[cls] = (ordered, frozenset(ordered))
    return names


class _FromRow:
    @classmethod
    def from_row(cls, row: Any) -> Self:
        mapping = row._mapping
        return cls(*[mapping[name] for name in _field_names(cls)[0]])

    def but(self, **changes: Any) -> Self:
        """A copy with ``changes`` (``dataclasses.replace`` without its checks: hot path)."""
        cls = type(self)
        ordered, known = _field_names(cls)
        if not known.issuperset(changes):
            raise TypeError(f"{cls.__name__} has no field {sorted(set(changes) - known)}")
        return cls(*[changes[n] if n in changes else getattr(self, n) for n in ordered])


@dataclass(frozen=True, slots=True)
class Organization(_FromRow):
    id: str
    slug: str
    name: str
    description: str
    category: str
    domains: list[str]
    tags: list[str]
    languages: list[str]
    settings: dict[str, Any]
    logo_url: str | None
    is_listed: bool
    plan: str
    created_at: datetime
    verified_domains: list[str]


@dataclass(frozen=True, slots=True)
class DispatchGroup(_FromRow):
    id: str
    org_id: str
    slug: str
    name: str
    description: str
    policy: str
    business_hours: dict[str, Any] | None
    is_default: bool
    created_at: datetime
    last_assigned_id: str | None
    requeue_after_seconds: int | None
    examples: list[str]  # example requests for the router (issue 14)


@dataclass(frozen=True, slots=True)
class User(_FromRow):
    id: str
    email: str | None
    password_hash: str | None
    display_name: str
    kind: str
    visitor_org_id: str | None
    plan: str
    created_at: datetime
    email_verified_at: datetime | None
    contact_email: str | None  # a visitor's pre-chat address (unverified)
    is_followup_muted: bool

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None


@dataclass(frozen=True, slots=True)
class Membership(_FromRow):
    org_id: str
    user_id: str
    role: str
    availability: str
    capacity: int
    is_active: bool
    last_assigned_at: datetime | None
    created_at: datetime
    disconnected_at: datetime | None
    away_since: datetime | None
    is_auto_away: bool
    restores_availability: bool


@dataclass(frozen=True, slots=True)
class Conversation(_FromRow):
    id: str
    org_id: str
    kind: str
    group_id: str | None
    customer_id: str | None
    assignee_id: str | None
    status: str
    priority: str
    subject: str
    tags: list[str]
    is_escalated: bool
    created_at: datetime
    updated_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    resolved_at: datetime | None
    first_message_id: int
    last_message_id: int | None
    last_message_at: datetime | None
    last_preview: str | None
    last_sender_id: str | None
    open_client_id: str | None
    last_position: int
    last_public_position: int
    last_position_id: int
    follows_id: str | None
    # Ticket fields (schema.py appends their columns): docs/protocol.md, "Ticket fields".
    category: str | None = None
    resolution_note: str | None = None
    # Platform support (storage/platform_schema.py): opened or escalated to the operators.
    platform_at: datetime | None = None
    platform_category: str | None = None
    platform_operator_ids: list[str] | None = None
    platform_reason: str | None = None
    # Organization <-> organization (storage/b2b_schema.py): the other organization's side.
    peer_org_id: str | None = None
    peer_group_id: str | None = None
    peer_assignee_id: str | None = None
    peer_status: str | None = None
    peer_accepted_at: datetime | None = None
    org_note_position: int | None = None
    peer_note_position: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationSide(_FromRow):
    """One side's receipts; ``unread`` is arithmetic on two monotonic counters."""

    conversation_id: str
    side: str
    delivered_position: int
    read_position: int
    delivered_up_to: int
    read_up_to: int
    received: int
    read_count: int

    @property
    def unread(self) -> int:
        return self.received - self.read_count


@dataclass(frozen=True, slots=True)
class RefreshToken(_FromRow):
    id: str
    family_id: str
    user_id: str
    org_id: str | None
    token_digest: str
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment(_FromRow):
    id: str
    org_id: str
    conversation_id: str
    uploader_id: str
    content_type: str
    size: int
    sha256: str
    filename: str
    created_at: datetime
    message_id: int | None
    is_note: bool
    attached_at: datetime | None
    uploader_side: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry(_FromRow):
    id: str
    org_id: str
    actor_id: str
    action: str
    target: str
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EmailToken(_FromRow):
    id: str
    purpose: str
    email: str
    user_id: str | None
    nonce: str
    payload: dict[str, Any]
    expires_at: datetime
    used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation(_FromRow):
    id: str
    org_id: str
    email: str
    display_name: str
    role: str
    capacity: int
    group_ids: list[str]
    invited_by: str
    nonce: str
    status: str
    expires_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutgoingMail(_FromRow):
    id: str
    template: str
    recipient: str
    subject: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DomainClaim(_FromRow):
    org_id: str
    domain: str
    token: str
    verified_at: datetime | None
    checked_at: datetime | None
    created_at: datetime
