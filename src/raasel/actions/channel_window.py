"""The customer-service window, checked inside the unit that stores an agent's reply.

A conversation that came from a social channel was opened with a client id only the
channel worker makes (``CLIENT_PREFIX``: clients may not send ``~``), so every other
conversation pays nothing for this check.
"""

from __future__ import annotations

import hashlib

from raasel.channels.media import MediaRefused, media_plan
from raasel.channels.window import refusal, window_at
from raasel.domain import MessageKind
from raasel.errors import Conflict, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.storage.metadata import channels as store
from raasel.storage.records import Attachment, Conversation
from raasel.storage.transaction import Tx

CLIENT_PREFIX = "ch~"


def channel_client_id(channel_id: str, provider_message_id: str, part: str = "") -> str:
    """The engine's idempotency key for one provider message (64 characters at most)."""
    digest = hashlib.sha256(f"{channel_id}\n{provider_message_id}\n{part}".encode()).hexdigest()
    return CLIENT_PREFIX + digest[:40]


def is_channel_conversation(conversation: Conversation) -> bool:
    return (conversation.open_client_id or "").startswith(CLIENT_PREFIX)


async def check_reply_window(
    conn: Tx,
    conversation: Conversation,
    kind: str,
    attachment: Attachment | None = None,
    text: str = "",
) -> None:
    """Refuse a reply the platform would refuse (a ``Conflict`` the console shows as it
    is): outside the window, to a disconnected channel, or with a file the platform does
    not take (type or size); internal notes never leave Raasel and pass."""
    if kind != MessageKind.TEXT:
        return
    link = await store.channel_conversation(conn, conversation.id, org_id=conversation.org_id)
    if link is None:
        return
    channel = await store.get_channel(conn, link.channel_id, org_id=conversation.org_id)
    if channel is None:
        return
    if channel.status == "deleted":
        raise Conflict(
            "This conversation's channel was disconnected: replies can no longer reach the "
            "customer. Write an internal note instead.",
            code="channel_deleted",
        )
    window = window_at(channel.platform, link.last_inbound_at, utcnow())
    if not window.allows_free_text:
        raise Conflict(refusal(channel.platform, window), code="outside_window")
    if attachment is not None:
        try:
            media_plan(
                channel.platform, attachment.content_type, attachment.size, has_text=bool(text)
            )
        except MediaRefused as exc:
            raise ValidationFailed(str(exc), code="channel_media_refused") from exc
