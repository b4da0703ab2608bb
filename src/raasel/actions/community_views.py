"""What clients see of community channels, members and messages (docs/protocol.md)."""

from __future__ import annotations

import json
from typing import Any

from raasel.actions.views import message_view
from raasel.rules.group_receipts import receipts_view
from raasel.storage.community_records import CommunityChannel, CommunityMember
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import Organization, User

__all__ = ["receipts_view"]


def membership_view(channel: CommunityChannel, member: CommunityMember) -> dict[str, Any]:
    return {
        "status": member.status,
        "is_muted": member.is_muted,
        "delivered_position": member.delivered_position,
        "read_position": member.read_position,
        "unread": max(channel.last_position - member.read_position, 0)
        if member.status == "member"
        else 0,
    }


def channel_view(
    channel: CommunityChannel,
    max_members: int,
    *,
    member: CommunityMember | None = None,
    is_moderator: bool = False,
    org: Organization | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": channel.id,
        "kind": "community",
        "org_id": channel.org_id,
        "name": channel.name,
        "description": channel.description,
        "join_mode": channel.join_mode,
        "status": channel.status,
        "member_count": channel.member_count,
        "last_position": channel.last_position,
        "created_at": channel.created_at.isoformat(),
        "last_message_at": channel.last_message_at.isoformat() if channel.last_message_at else None,
        "receipts": receipts_view(channel, max_members),
    }
    if org is not None:
        view["organization"] = {"id": org.id, "name": org.name, "slug": org.slug}
    if member is not None:
        view["membership"] = membership_view(channel, member)
    if is_moderator:
        view["invite_code"] = channel.invite_code
    return view


def member_view(member: CommunityMember, user: User | None) -> dict[str, Any]:
    return {
        "user_id": member.user_id,
        "display_name": user.display_name if user else "",
        "status": member.status,
        "is_muted": member.is_muted,
        "joined_at": member.joined_at.isoformat(),
    }


def removal_body(position: int) -> str:
    return json.dumps({"removed_position": position})


def community_message_view(
    message: StoredMessage, *, sender_name: str, is_removed: bool = False
) -> dict[str, Any]:
    """A message as every member sees it; a removed one without its text, and the
    system message of a removal naming the position it removed."""
    view = message_view(message) | {"channel_id": message.conversation_id}
    del view["conversation_id"]
    view["sender_name"] = sender_name
    view["is_removed"] = is_removed
    if is_removed:
        view["text"] = ""
        view["attachment_id"] = None
    if message.kind == "system":
        try:
            view["removed_position"] = int(json.loads(message.body)["removed_position"])
        except (ValueError, KeyError, TypeError):
            view["removed_position"] = None
        view["text"] = ""
    return view
