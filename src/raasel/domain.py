"""The vocabulary of the product (SPEC section 1): roles, kinds and states as enums."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


ROLE_RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class UserKind(StrEnum):
    PERSON = "person"
    VISITOR = "visitor"


class Plan(StrEnum):
    FREE = "free"
    PLUS = "plus"
    PROMOTED = "promoted"


class ConversationKind(StrEnum):
    SUPPORT = "support"
    OUTREACH = "outreach"
    B2B = "b2b"
    DIRECT = "direct"
    PLATFORM = "platform"  # an organization <-> the node's operators
    TEAM = "team"  # a team room: one organization's members only (actions/team_rooms.py)


class ConversationStatus(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (ConversationStatus.QUEUED, ConversationStatus.ACTIVE)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class RoutingPolicy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"
    MANUAL = "manual"


class MessageKind(StrEnum):
    TEXT = "text"
    NOTE = "note"  # internal note: agents only, never shown to the individual
    SYSTEM = "system"
    CIPHERTEXT = "ciphertext"


class Side(StrEnum):
    """Which side of a support conversation a participant speaks for."""

    CUSTOMER = "customer"
    ORG = "org"
    PLATFORM = "platform"  # the node's operators (platform support)
    PEER = "peer"  # the other organization of a ``b2b`` conversation (actions/b2b.py)
