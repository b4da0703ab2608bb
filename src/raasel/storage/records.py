"""Plain records the metadata store returns: actions never see SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self


class _FromRow:
    @classmethod
    def from_row(cls, row: Any) -> Self:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


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


@dataclass(frozen=True, slots=True)
class ConversationSide(_FromRow):
    conversation_id: str
    side: str
    delivered_up_to: int
    read_up_to: int
    unread: int


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


@dataclass(frozen=True, slots=True)
class AuditEntry(_FromRow):
    id: str
    org_id: str
    actor_id: str
    action: str
    target: str
    details: dict[str, Any]
    created_at: datetime
