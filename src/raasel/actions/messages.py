"""Sending messages, reading history, resyncing after a reconnect (SPEC 2.4, 2.5).

The life of a message (docs/architecture.md): validate -> append to the message
store (durable, idempotent by the sender's client id) -> note it on the
conversation (last message, unread) -> answer the sender (one tick) -> publish.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import access_conversation, side_of
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.limits import check_rate
from raasel.actions.views import message_view, preview_of
from raasel.domain import ConversationStatus, MessageKind, Role, Side
from raasel.errors import Conflict, Forbidden, NotFound, RaaselError, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.cursors import InvalidCursor, decode_cursor, encode_cursor
from raasel.lib.ids import lowest_id_at_ms, new_id
from raasel.realtime.rooms import conversation_rooms, customer_rooms, org_side_rooms
from raasel.storage.message_store import Partition, StoredMessage
from raasel.storage.metadata import attachments, conversations
from raasel.storage.records import Conversation

SYNC_PAGE = 200


def _unread_sides(sender_side: str, kind: str) -> list[str]:
    """Whose unread count a new message raises: the other side's, for what it can see."""
    if kind in (MessageKind.NOTE, MessageKind.SYSTEM):
        return []
    return [Side.ORG] if sender_side == Side.CUSTOMER else [Side.CUSTOMER]


def _unread_events(conversation: Conversation, unread: dict[str, int]) -> list[Event]:
    events = []
    for side, count in unread.items():
        rooms = (
            customer_rooms(conversation) if side == Side.CUSTOMER else org_side_rooms(conversation)
        )
        payload = {"conversation_id": conversation.id, "side": side, "unread": count}
        events.append(Event("unread:update", payload, tuple(rooms)))
    return events


async def append_message(
    svc: Services,
    conversation: Conversation,
    *,
    sender_id: str,
    sender_side: str,
    kind: str,
    body: str,
    client_id: str | None = None,
    attachment_id: str | None = None,
    skip_sid: str | None = None,
) -> Outcome:
    """Store a message durably and note it on its conversation; return it and its events."""
    message_id = new_id()
    draft = StoredMessage(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        id=message_id,
        sender_id=sender_id,
        sender_side=sender_side,
        client_id=client_id or f"srv-{message_id}",
        kind=kind,
        body=body,
        attachment_id=attachment_id,
        created_at=utcnow(),
    )
    unread_sides = _unread_sides(sender_side, kind)

    async def note(conn: AsyncConnection, stored: StoredMessage) -> dict[str, int]:
        return await conversations.record_message(
            conn,
            conversation.id,
            message_id=stored.id,
            at=stored.created_at,
            preview=preview_of(stored),
            sender_id=sender_id,
            unread_sides=unread_sides,
        )

    stored, unread = await svc.messages.append_and_record(draft, svc.db, note)
    if unread is None:  # a retry: the first attempt stored and announced it
        return Outcome(message_view(stored))
    view = message_view(stored)
    rooms = conversation_rooms(conversation, include_customer=kind != MessageKind.NOTE)
    events = [Event("message:new", {"message": view}, tuple(rooms), skip_sid)]
    return Outcome(view, events + _unread_events(conversation, unread))


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
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        if attachment_id is not None:
            attachment = await attachments.get_attachment(conn, attachment_id)
            if attachment is None or attachment.conversation_id != conversation.id:
                raise NotFound("attachment not found")
    if not text.strip() and attachment_id is None:
        raise ValidationFailed("a message needs text or an attachment")
    side = side_of(actor)
    if kind == MessageKind.NOTE and side != Side.ORG:
        raise Forbidden("only agents write internal notes")
    if kind not in (MessageKind.TEXT, MessageKind.NOTE):
        raise ValidationFailed("clients send text or note messages")
    is_reopening = side == Side.CUSTOMER and conversation.status == ConversationStatus.RESOLVED
    refusal: RaaselError | None = None
    try:
        _check_may_send(actor, conversation, side, kind)
    except (Conflict, Forbidden) as exc:
        refusal = exc
    if refusal is not None or is_reopening:
        # A retry of a message stored before the conversation changed gets its copy back
        # and changes nothing. Looked up only on these rare paths: appending is idempotent
        # by itself, and a send is cheaper without a read it rarely needs. (Never while
        # holding a connection: the store may need one from the same pool.)
        existing = await svc.messages.find_by_client_id(
            conversation.org_id, conversation.id, actor.user_id, client_id
        )
        if existing is not None:
            return Outcome(message_view(existing))
        if refusal is not None:
            raise refusal
    events: list[Event] = []
    if is_reopening:
        # Imported here: lifecycle imports this module (append_message).
        from raasel.actions.lifecycle import reopen

        reopened = await reopen(svc, actor, conversation)
        conversation, events = reopened.result, reopened.events
    outcome = await append_message(
        svc,
        conversation,
        sender_id=actor.user_id,
        sender_side=side,
        kind=kind,
        body=text,
        client_id=client_id,
        attachment_id=attachment_id,
        skip_sid=sid,
    )
    outcome.events = events + outcome.events
    return outcome


def _check_may_send(actor: Actor, conversation: Conversation, side: str, kind: str) -> None:
    """Closed conversations take only notes; agents reply once the conversation is theirs."""
    if conversation.status == ConversationStatus.CLOSED and kind != MessageKind.NOTE:
        raise Conflict("the conversation is closed", code="conversation_closed")
    is_reply = side == Side.ORG and kind == MessageKind.TEXT
    if (
        is_reply
        and conversation.assignee_id != actor.user_id
        and not actor.has_role(Role.SUPERVISOR)
    ):
        raise Forbidden("claim the conversation before replying", code="not_assigned")


def _partition(conversation: Conversation) -> Partition:
    return Partition(conversation.org_id, conversation.id, conversation.first_message_id)


def _newest_possible_id() -> int:
    """An id above any message stored so far (ids of later messages may still be lower
    on another node whose clock lags, hence the margin)."""
    return lowest_id_at_ms(int(utcnow().timestamp() * 1000) + 5_000)


async def list_history(
    svc: Services, actor: Actor, conversation_id: str, *, before: str | None, limit: int
) -> dict[str, Any]:
    """One page of history, oldest first, and the cursor of the page before it."""
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
    newest_id = _newest_possible_id()
    try:
        # A cursor past the newest message is the newest page; unclamped, it would walk
        # empty buckets up to its (client-chosen) time or overflow the id column.
        before_id = min(decode_cursor(before), newest_id + 1) if before else None
    except InvalidCursor as exc:
        raise ValidationFailed("invalid history cursor") from exc
    page = await svc.messages.history(
        _partition(conversation),
        before_id=before_id,
        newest_id=newest_id,
        limit=limit + 1,
        include_notes=side_of(actor) == Side.ORG,
    )
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "messages": [message_view(m) for m in reversed(page)],
        "has_more": has_more,
        "next_before": encode_cursor(page[-1].id) if has_more and page else None,
    }


async def sync_conversation(
    svc: Services, actor: Actor, conversation_id: str, after_id: int
) -> dict[str, Any]:
    """Everything after ``after_id`` the actor may see, oldest first, one page at a time."""
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        sides = await conversations.get_sides(conn, conversation.id)
    messages = await svc.messages.after(
        _partition(conversation),
        after_id=after_id,
        newest_id=_newest_possible_id(),
        limit=SYNC_PAGE + 1,
        include_notes=side_of(actor) == Side.ORG,
    )
    has_more = len(messages) > SYNC_PAGE
    messages = messages[:SYNC_PAGE]
    mine = sides.get(side_of(actor))
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "messages": [message_view(m) for m in messages],
        "has_more": has_more,
        "unread": mine.unread if mine else 0,
        "receipts": {
            name: {"delivered_up_to": str(s.delivered_up_to), "read_up_to": str(s.read_up_to)}
            for name, s in sides.items()
        },
    }
