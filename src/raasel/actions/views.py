"""The JSON shapes of the protocol (docs/protocol.md), built from records.

Ids of messages are strings: they are 64-bit and JavaScript numbers are not.
"""

from __future__ import annotations

from typing import Any

from raasel.domain import ConversationKind, MessageKind, Side
from raasel.rules.prechat import Prechat
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import (
    Conversation,
    ConversationSide,
    DispatchGroup,
    Membership,
    Organization,
    User,
)


def message_view(message: StoredMessage, *, sender_name: str | None = None) -> dict[str, Any]:
    """``sender_name``: who wrote it, as the message itself says (issue 12, item 5: after a
    transfer earlier messages keep their author's name); None for system and platform
    messages and where the author is unknown (docs/protocol.md, "Messages")."""
    return {
        "id": str(message.id),
        "conversation_id": message.conversation_id,
        "position": message.position,
        "client_id": message.client_id,
        "sender_id": message.sender_id,
        "sender_side": message.sender_side,
        "sender_name": sender_name,
        "kind": message.kind,
        "text": message.body,
        "attachment_id": message.attachment_id,
        "created_at": message.created_at.isoformat(),
    }


def is_named_side(side: str) -> bool:
    """The sides whose authors a message names: agents (of either organization of a b2b
    conversation) and customers (operators speak as
    "Platform support", system messages as nobody)."""
    return side in (Side.ORG, Side.CUSTOMER, Side.PEER)


def is_named(message: StoredMessage) -> bool:
    return is_named_side(message.sender_side) and message.kind != MessageKind.SYSTEM


def named_message_views(
    messages: list[StoredMessage], people: dict[str, User]
) -> list[dict[str, Any]]:
    """The views of ``messages``, each naming its author from ``people``."""
    return [
        message_view(
            m,
            sender_name=people[m.sender_id].display_name
            if is_named(m) and m.sender_id in people
            else None,
        )
        for m in messages
    ]


def preview_of(message: StoredMessage) -> str | None:
    """What the conversation list shows; None for messages the customer may not see."""
    if message.kind == MessageKind.NOTE:
        return None
    if message.attachment_id and not message.body:
        return "[attachment]"
    return message.body[:120]


def side_receipts(side: ConversationSide) -> dict[str, Any]:
    return {
        "delivered_up_to": str(side.delivered_up_to),
        "read_up_to": str(side.read_up_to),
        "delivered_position": side.delivered_position,
        "read_position": side.read_position,
    }


def receipts_view(sides: dict[str, ConversationSide]) -> dict[str, Any]:
    return {name: side_receipts(side) for name, side in sides.items()}


def visible_position(conversation: Conversation, side: str) -> int:
    """The newest position ``side`` may see (customers never see internal notes; each
    organization of a ``b2b`` conversation sees its own notes, not the other's)."""
    if conversation.kind == ConversationKind.B2B and side in (Side.ORG, Side.PEER):
        own = (
            conversation.org_note_position if side == Side.ORG else conversation.peer_note_position
        )
        return max(conversation.last_public_position, own or 0)
    return conversation.last_position if side == Side.ORG else conversation.last_public_position


def conversation_view(
    conversation: Conversation,
    *,
    viewer_side: str,
    people: dict[str, User],
    unread: int | None = None,
    sides: dict[str, ConversationSide] | None = None,
) -> dict[str, Any]:
    """A conversation as ``viewer_side`` may see it: customers get no internal fields."""

    def name(user_id: str | None) -> str | None:
        return people[user_id].display_name if user_id and user_id in people else None

    view: dict[str, Any] = {
        "id": conversation.id,
        "org_id": conversation.org_id,
        "kind": conversation.kind,
        "group_id": conversation.group_id,
        "status": conversation.status,
        "subject": conversation.subject,
        "customer": {"id": conversation.customer_id, "name": name(conversation.customer_id)},
        "assignee": (
            {"id": conversation.assignee_id, "name": name(conversation.assignee_id)}
            if conversation.assignee_id
            else None
        ),
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "last_message": (
            {
                "id": str(conversation.last_message_id),
                "preview": conversation.last_preview,
                "sender_id": conversation.last_sender_id,
                "at": conversation.last_message_at.isoformat()
                if conversation.last_message_at
                else None,
            }
            if conversation.last_message_id
            else None
        ),
    }
    view["last_position"] = visible_position(conversation, viewer_side)
    view["follows_id"] = conversation.follows_id
    if sides is not None and unread is None and viewer_side in sides:
        unread = sides[viewer_side].unread
    if unread is not None:
        view["unread"] = unread
    if sides is not None:
        view["receipts"] = receipts_view(sides)
    if conversation.platform_at is not None and viewer_side != Side.CUSTOMER:
        view["platform"] = {
            "at": conversation.platform_at.isoformat(),
            "category": conversation.platform_category,
            "reason": conversation.platform_reason,
            "operator_ids": conversation.platform_operator_ids or [],
        }
    if viewer_side == Side.ORG:
        view |= {
            "priority": conversation.priority,
            "tags": conversation.tags,
            "is_escalated": conversation.is_escalated,
            "queued_at": conversation.queued_at.isoformat() if conversation.queued_at else None,
            "assigned_at": conversation.assigned_at.isoformat()
            if conversation.assigned_at
            else None,
            "resolved_at": conversation.resolved_at.isoformat()
            if conversation.resolved_at
            else None,
            "category": conversation.category,
            "resolution_note": conversation.resolution_note,
        }
    return view


def org_view(org: Organization, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "description": org.description,
        "category": org.category,
        # Only the domains it proved are shown to anyone but its admins (docs/security.md):
        # claiming "acme.example" proves nothing. ``is_verified`` is the directory's badge.
        "domains": [d for d in org.domains if d in org.verified_domains],
        "is_verified": bool(set(org.domains) & set(org.verified_domains)),
        "tags": org.tags,
        "languages": org.languages,
        "logo_url": org.logo_url,
        "settings": {
            k: v
            for k, v in org.settings.items()
            if k in {"welcome_text", "theme_color", "offline_message", "business_hours", "timezone"}
        }
        | {"prechat": Prechat.of(org.settings).as_dict()},  # the widget's form, resolved
        "plan": org.plan,
    }
    if full:
        view["settings"]["embed_origins"] = org.settings.get("embed_origins", [])
        view["settings"]["b2b_requests"] = org.settings.get("b2b_requests", "open")
        view["is_listed"] = org.is_listed
        view["created_at"] = org.created_at.isoformat()
        view["claimed_domains"] = org.domains
    return view


def group_view(group: DispatchGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "org_id": group.org_id,
        "slug": group.slug,
        "name": group.name,
        "description": group.description,
        "policy": group.policy,
        "business_hours": group.business_hours,
        "requeue_after_seconds": group.requeue_after_seconds,
        "examples": group.examples,
        "is_default": group.is_default,
    }


def member_view(membership: Membership, user: User, group_ids: list[str]) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": membership.role,
        "availability": membership.availability,
        "is_auto_away": membership.is_auto_away,
        "restores_availability": membership.restores_availability,
        "away_since": membership.away_since.isoformat() if membership.away_since else None,
        "capacity": membership.capacity,
        "is_active": membership.is_active,
        "group_ids": group_ids,
    }


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "kind": user.kind,
        "plan": user.plan,
        "email_verified": user.is_verified,
    }
