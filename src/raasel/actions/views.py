"""The JSON shapes of the protocol (docs/protocol.md), built from records.

Ids of messages are strings: they are 64-bit and JavaScript numbers are not.
"""

from __future__ import annotations

from typing import Any

from raasel.domain import MessageKind, Side
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import (
    Conversation,
    ConversationSide,
    DispatchGroup,
    Membership,
    Organization,
    User,
)


def message_view(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "conversation_id": message.conversation_id,
        "client_id": message.client_id,
        "sender_id": message.sender_id,
        "sender_side": message.sender_side,
        "kind": message.kind,
        "text": message.body,
        "attachment_id": message.attachment_id,
        "created_at": message.created_at.isoformat(),
    }


def preview_of(message: StoredMessage) -> str | None:
    """What the conversation list shows; None for messages the customer may not see."""
    if message.kind == MessageKind.NOTE:
        return None
    if message.attachment_id and not message.body:
        return "[attachment]"
    return message.body[:120]


def receipts_view(sides: dict[str, ConversationSide]) -> dict[str, Any]:
    return {
        name: {"delivered_up_to": str(side.delivered_up_to), "read_up_to": str(side.read_up_to)}
        for name, side in sides.items()
    }


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
    if unread is not None:
        view["unread"] = unread
    if sides is not None:
        view["receipts"] = receipts_view(sides)
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
        }
    return view


def org_view(org: Organization, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "description": org.description,
        "category": org.category,
        "domains": org.domains,
        "tags": org.tags,
        "languages": org.languages,
        "logo_url": org.logo_url,
        "settings": {
            k: v
            for k, v in org.settings.items()
            if k in {"welcome_text", "theme_color", "offline_message", "business_hours"}
        },
        "plan": org.plan,
    }
    if full:
        view["is_listed"] = org.is_listed
        view["created_at"] = org.created_at.isoformat()
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
        "is_default": group.is_default,
    }


def member_view(membership: Membership, user: User, group_ids: list[str]) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": membership.role,
        "availability": membership.availability,
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
    }
