"""Sending messages, reading history, resyncing after a reconnect (SPEC 2.4, 2.5).

A send is one unit (docs/architecture.md, "The life of one message"): inside the
committer's transaction it loads the conversation, checks access, idempotency and the
rules on that state, reopens a resolved conversation if a customer writes, gives the
message the next position, and emits its events; the ack follows the commit.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.access import access_conversation, side_in, side_of
from raasel.actions.assignment import Reachable, reachable
from raasel.actions.b2b_sides import before_b2b_send, notes_for
from raasel.actions.channel_window import check_reply_window, is_channel_conversation
from raasel.actions.contacts import check_org_may_write
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_units import append, author_of, load_for, sender_of
from raasel.actions.lifecycle import reopen_in_unit
from raasel.actions.limits import check_rate
from raasel.actions.views import (
    is_named,
    message_view,
    named_message_views,
    receipts_view,
    visible_position,
)
from raasel.domain import ConversationKind, MessageKind, Side
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.cursors import InvalidCursor, decode_cursor, encode_cursor
from raasel.rules.conversations import check_client_kind, check_may_send, reopens
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import attachments, conversations, people
from raasel.storage.records import Conversation
from raasel.storage.unit_batch import Sent, UnitBatch

SYNC_PAGE = 200


class _NeedsRouting(Exception):
    """The send reopens its conversation: run it again as a unit that may route."""

    def __init__(self, org_id: str) -> None:
        self.org_id = org_id


async def do_send_message(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    client_id: str,
    text: str,
    kind: str = MessageKind.TEXT,
    attachment_id: str | None = None,
    sid: str | None = None,
) -> Outcome:
    """Send a text or (agents only) an internal note; a retry returns the first copy."""
    await check_rate(svc, "send", f"user:{actor.user_id}")
    check_client_kind(kind, side_of(actor))
    if not text.strip() and attachment_id is None:
        raise ValidationFailed("a message needs text or an attachment")
    ref = (conversation_id, actor.user_id, client_id)

    async def unit(batch: UnitBatch, online: Reachable | None) -> StoredMessage | Sent:
        conversation = await load_for(batch, actor, conversation_id, as_peer=True)
        side = side_in(actor, conversation)
        sender = sender_of(actor, conversation)
        sent = await batch.find_sent(ref)
        if sent is not None:  # a retry: the first attempt stored and announced it
            return sent
        attachment = None
        if attachment_id is not None:
            # Only the uploader's own file, not yet carried by a message: a file is seen by
            # exactly those who may see its one message (docs/security.md, "Files").
            attachment = await attachments.get_attachment(batch.conn, attachment_id)
            if (
                attachment is None
                or attachment.conversation_id != conversation.id
                or attachment.uploader_id != actor.user_id
                or attachment.message_id is not None
            ):
                raise NotFound("attachment not found")
        check_may_send(conversation, sender, kind)
        await check_org_may_write(batch, conversation, side, kind)
        if is_channel_conversation(conversation) and side == Side.ORG:
            await check_reply_window(batch.conn, conversation, kind, attachment, text)
        if reopens(conversation, sender, kind):
            if online is None:
                raise _NeedsRouting(conversation.org_id)
            conversation = await reopen_in_unit(batch, actor, conversation, online)
        if conversation.kind == ConversationKind.B2B:
            conversation = await before_b2b_send(batch, conversation, sender, kind)
        _, message = await append(
            batch,
            conversation,
            sender_id=actor.user_id,
            sender_side=side,
            kind=kind,
            body=text,
            client_id=client_id,
            attachment_id=attachment_id,
            skip_sid=sid,
            sender_name=author_of(actor),
        )
        if attachment_id is not None:  # last: nothing after it in the unit can fail
            await attachments.attach_to_message(
                batch.conn,
                attachment_id,
                message.id,
                is_note=kind == MessageKind.NOTE,
                when=message.created_at,
            )
        return message

    try:
        stored = await svc.db.run(
            lambda batch: unit(batch, None), keys=[conversation_id], client_refs=[ref], fresh=False
        )
    except _NeedsRouting as signal:
        online = await reachable(svc, signal.org_id)
        stored = await svc.db.run(
            lambda batch: unit(batch, online), keys=[conversation_id], client_refs=[ref]
        )
    if isinstance(stored, Sent):
        stored = await _sent_message(svc, actor, conversation_id, stored)
    return Outcome(message_view(stored, sender_name=author_of(actor)))


async def named_views(svc: Services, actor: Actor, messages: list[StoredMessage]) -> list[Any]:
    """The views of ``messages``, each with its author's name (one read for the page)."""
    ids = sorted({m.sender_id for m in messages if is_named(m)})
    if not ids:
        return named_message_views(messages, {})
    async with svc.db.read(actor.scope) as conn:
        return named_message_views(messages, await people.get_users(conn, ids))


async def _sent_message(
    svc: Services, actor: Actor, conversation_id: str, sent: Sent
) -> StoredMessage:
    if sent.message is not None:
        return sent.message
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id, as_peer=True)
    found = await svc.message_log.at(
        conversation.org_id, conversation.id, sent.position, scope=actor.scope
    )
    if found is None:
        raise RuntimeError(f"message at position {sent.position} is missing")
    return found


async def list_history(
    svc: Services, actor: Actor, conversation_id: str, *, before: str | None, limit: int
) -> dict[str, Any]:
    """One page of history, oldest first, and the cursor of the page before it."""
    await check_rate(svc, "sync", f"user:{actor.user_id}", what="history and sync requests")
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id, as_peer=True)
    side = side_in(actor, conversation)
    top = visible_position(conversation, side) + 1
    key = svc.settings.resolved_secret_key
    try:
        # A cursor past the newest message is the newest page.
        upper = min(decode_cursor(key, conversation.id, before), top) if before else top
    except InvalidCursor as exc:
        raise ValidationFailed("invalid history cursor", code="invalid_cursor") from exc
    page = await svc.message_log.history(
        conversation.org_id,
        conversation.id,
        before=upper,
        limit=limit + 1,
        include_notes=notes_for(conversation, side),
        scope=actor.scope,
    )
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "messages": await named_views(svc, actor, list(reversed(page))),
        "has_more": has_more,
        "next_before": (
            encode_cursor(key, conversation.id, page[-1].position) if has_more and page else None
        ),
    }


async def sync_conversation(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    after_position: int | None = None,
    after_id: int | None = None,
    limit: int = SYNC_PAGE,
) -> dict[str, Any]:
    """Everything after a position (or, for old clients, a message id) the actor may see,
    oldest first, at most ``limit`` at a time (``has_more`` then says so)."""
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id, as_peer=True)
        sides = await conversations.get_sides(conn, conversation.id)
    side = side_in(actor, conversation)
    last = visible_position(conversation, side)
    after = await _start(svc, actor, conversation, after_position, after_id)
    if limit > 0:
        messages = await svc.message_log.after(
            conversation.org_id,
            conversation.id,
            after=after,
            up_to=last,
            limit=limit + 1,
            include_notes=notes_for(conversation, side),
            scope=actor.scope,
        )
        has_more = len(messages) > limit
        messages = messages[:limit]
    else:  # the ack's budget is spent: the client asks again for this one
        messages, has_more = [], after < last
    mine = sides.get(side)
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "messages": await named_views(svc, actor, messages),
        "has_more": has_more,
        "last_position": last,
        "unread": mine.unread if mine else 0,
        "receipts": receipts_view(sides),
    }


async def _start(
    svc: Services,
    actor: Actor,
    conversation: Conversation,
    after_position: int | None,
    after_id: int | None,
) -> int:
    if after_position is not None:
        return max(after_position, 0)
    if not after_id:
        return 0
    if after_id >= conversation.last_position_id:  # at or past the newest message
        return conversation.last_position
    return await svc.message_log.position_of_id(
        conversation.org_id,
        conversation.id,
        after_id,
        conversation.last_position,
        scope=actor.scope,
    )
