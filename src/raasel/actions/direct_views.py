"""What clients see of direct conversations and their envelopes (docs/protocol.md)."""

from __future__ import annotations

import json
from typing import Any

from raasel.storage.direct_records import DirectConversation, DirectMember
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import User

DIRECT_SPACE = "direct"  # the message store's partition space for direct chats (never an org id)
ENVELOPE_KIND = "envelope"
DIRECT_SIDE = "direct"  # ``sender_side`` of a stored envelope message


def envelope_body(sender_device_id: int, envelopes: list[dict[str, Any]]) -> str:
    """A send's stored ``body``: the sending device and every envelope (ciphertext)."""
    return json.dumps(
        {"sender_device_id": sender_device_id, "envelopes": envelopes}, separators=(",", ":")
    )


def message_view(
    message: StoredMessage, *, device: tuple[str, int] | None = None
) -> dict[str, Any]:
    """``device`` (user, device id): only the envelopes addressed to it."""
    body = json.loads(message.body)
    envelopes = body["envelopes"]
    if device is not None:
        envelopes = [e for e in envelopes if (e["user_id"], e["device_id"]) == device]
    return {
        "id": str(message.id),
        "conversation_id": message.conversation_id,
        "position": message.position,
        "client_id": message.client_id,
        "sender_id": message.sender_id,
        "sender_device_id": body["sender_device_id"],
        "kind": ENVELOPE_KIND,
        "envelopes": envelopes,
        "created_at": message.created_at.isoformat(),
    }


def member_view(member: DirectMember, user: User | None, handle: str | None) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "handle": handle,
        "display_name": user.display_name if user else "",
        "delivered_position": member.delivered_position,
        "read_position": member.read_position,
    }


def conversation_view(
    conversation: DirectConversation,
    viewer_id: str,
    members: dict[str, DirectMember],
    users: dict[str, User],
    handles: dict[str, str],
    blocked: set[str],
) -> dict[str, Any]:
    """``blocked``: the user ids the viewer blocked."""
    mine = members.get(viewer_id)
    return {
        "id": conversation.id,
        "kind": "direct",
        "status": conversation.status,
        "requested_by": conversation.requested_by,
        "members": [
            member_view(members[m], users.get(m), handles.get(m))
            for m in conversation.members
            if m in members
        ],
        "last_position": conversation.last_position,
        "unread": mine.unread if mine else 0,
        "is_blocked": conversation.other(viewer_id) in blocked,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "last_message_at": (
            conversation.last_message_at.isoformat() if conversation.last_message_at else None
        ),
    }


def receipt_payload(conversation_id: str, member: DirectMember) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "user_id": member.user_id,
        "delivered_position": member.delivered_position,
        "read_position": member.read_position,
    }
