"""Building blocks of conversation units: access inside the unit, appending a message.

Every command on a conversation is one unit run by the committer (``Database.run``):
it loads the conversation in the batch (locked on PostgreSQL), checks access and the
rules on that state, changes it, and emits its events, which the committer publishes
after COMMIT in commit order (docs/architecture.md, "The engine").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from raasel.actions.access import can_agent_see, can_peer_see, side_in, side_of
from raasel.actions.channel_window import is_channel_conversation
from raasel.actions.context import Actor, Event
from raasel.actions.views import is_named_side, message_view, preview_of, visible_position
from raasel.domain import ConversationKind, MessageKind, Role, Side
from raasel.errors import NotFound
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id
from raasel.realtime.rooms import (
    customer_rooms,
    org_side_rooms,
    peer_rooms,
    platform_rooms,
    unread_room,
)
from raasel.rules.conversations import Sender, counted_for, is_public
from raasel.storage.message_store import StoredMessage
from raasel.storage.records import Conversation
from raasel.storage.unit_batch import UnitBatch


def may_access(actor: Actor, conversation: Conversation, *, as_peer: bool = False) -> bool:
    """The tenant scope, applied to the record the unit loaded by id (answered alike
    "not found" for missing and forbidden, as ``access_conversation`` does).
    ``as_peer``: the other organization of a ``b2b`` conversation may run this command."""
    if actor.is_operator:
        return conversation.platform_at is not None
    if actor.is_member:
        if as_peer and can_peer_see(actor, conversation):
            return True
        return conversation.org_id == actor.org_id and can_agent_see(actor, conversation)
    if actor.is_visitor and conversation.org_id != actor.org_id:
        return False
    return conversation.customer_id == actor.user_id


async def load_for(
    batch: UnitBatch, actor: Actor, conversation_id: str, *, as_peer: bool = False
) -> Conversation:
    conversation = await batch.conversation(conversation_id)
    if conversation is None or not may_access(actor, conversation, as_peer=as_peer):
        raise NotFound("conversation not found")
    return conversation


def sender_of(actor: Actor, conversation: Conversation) -> Sender:
    return Sender(actor.user_id, side_in(actor, conversation), actor.has_role(Role.SUPERVISOR))


def author_of(actor: Actor) -> str | None:
    """The name a message by ``actor`` carries (``sender_name``, docs/protocol.md)."""
    return actor.display_name if is_named_side(side_of(actor)) else None


def live_message_events(
    conversation: Conversation,
    message: StoredMessage,
    previous_public: int,
    skip_sid: str | None,
    previous_by_side: dict[str, int] | None = None,
    sender_name: str | None = None,
) -> list[Event]:
    """``message:new`` to each audience with the previous position *it* can see, so a
    receiver that holds less knows it missed something (docs/protocol.md)."""
    view = message_view(message, sender_name=sender_name)
    base: dict[str, Any] = {"message": view, "conversation_id": conversation.id}
    if previous_by_side is not None:  # a b2b conversation: two organizations
        return b2b_message_events(conversation, message, base, previous_by_side, skip_sid)
    events = [
        Event(
            "message:new",
            base | {"position": message.position, "previous_position": message.position - 1},
            tuple(org_side_rooms(conversation)),
            skip_sid,
        )
    ]
    public = customer_rooms(conversation) + platform_rooms(conversation)
    if is_public(message.kind) and public:
        events.append(
            Event(
                "message:new",
                base | {"position": message.position, "previous_position": previous_public},
                tuple(public),
                skip_sid,
            )
        )
    return events


def b2b_message_events(
    conversation: Conversation,
    message: StoredMessage,
    base: dict[str, Any],
    previous: dict[str, int],
    skip_sid: str | None,
) -> list[Event]:
    """Each organization of a ``b2b`` conversation gets the public messages and its own
    notes, with the previous position *it* could see (the other side's notes are gaps
    it never sees) and its side (a console tells its own messages from the other's)."""
    audiences = ((Side.ORG, org_side_rooms(conversation)), (Side.PEER, peer_rooms(conversation)))
    return [
        Event(
            "message:new",
            base
            | {"position": message.position, "previous_position": previous[side], "side": side},
            tuple(rooms),
            skip_sid,
        )
        for side, rooms in audiences
        if is_public(message.kind) or message.sender_side == side
    ]


def side_rooms(conversation: Conversation, side: str) -> list[str]:
    """The consoles or devices of one side of ``conversation``."""
    if side == Side.PEER:
        return peer_rooms(conversation)
    if side == Side.PLATFORM:
        return platform_rooms(conversation)
    if side == Side.CUSTOMER:
        return customer_rooms(conversation)
    return org_side_rooms(conversation)


def unread_event(
    conversation: Conversation, side: str, unread: int, *, folded: bool = False
) -> Event:
    """``unread:update`` to ``side``; ``folded``: the count also rides on the side's
    ``message:new``, so only sockets that read it from ``unread:update`` alone (the
    ``~unread`` twin rooms) get this packet."""
    rooms = side_rooms(conversation, side)
    payload = {
        "conversation_id": conversation.id,
        "side": side,
        "unread": unread,
        "position": visible_position(conversation, side),
    }
    if folded:
        rooms = [unread_room(room) for room in rooms]
    return Event("unread:update", payload, tuple(rooms))


def with_unread(
    events: list[Event], conversation: Conversation, side: str, unread: int
) -> list[Event]:
    """The receiving side's new unread count on the ``message:new`` that reaches exactly
    that side (one packet per delivered message, docs/protocol.md), plus the
    ``unread:update`` for sockets without the ``message_unread`` feature. When no
    ``message:new`` has exactly that audience, ``unread:update`` goes to all of it."""
    rooms = set(side_rooms(conversation, side))
    carrier = next(
        (i for i, e in enumerate(events) if e.name == "message:new" and set(e.rooms) == rooms),
        None,
    )
    if carrier is None:
        return [*events, unread_event(conversation, side, unread)]
    count = {"side": side, "unread": unread}
    carried = replace(events[carrier], payload=events[carrier].payload | {"unread": count})
    folded = unread_event(conversation, side, unread, folded=True)
    return [*events[:carrier], carried, *events[carrier + 1 :], folded]


async def append(
    batch: UnitBatch,
    conversation: Conversation,
    *,
    sender_id: str,
    sender_side: str,
    kind: str,
    body: str,
    client_id: str | None = None,
    attachment_id: str | None = None,
    skip_sid: str | None = None,
    sender_name: str | None = None,
) -> tuple[Conversation, StoredMessage]:
    """Give the message the conversation's next position, note it on the summary and on
    the other side's counters, and emit its events. Ids grow with positions."""
    position = conversation.last_position + 1
    message_id = max(new_id(), conversation.last_position_id + 1)
    now = utcnow()
    message = StoredMessage(
        org_id=conversation.org_id,
        conversation_id=conversation.id,
        position=position,
        id=message_id,
        sender_id=sender_id,
        sender_side=sender_side,
        client_id=client_id or f"srv-{message_id}",
        kind=kind,
        body=body,
        attachment_id=attachment_id,
        created_at=now,
    )
    batch.add_message(message)
    previous_public = conversation.last_public_position
    previous_by_side = None
    changes: dict[str, Any] = {"last_position": position, "last_position_id": message_id}
    if conversation.kind == ConversationKind.B2B:
        previous_by_side = {
            str(s): visible_position(conversation, s) for s in (Side.ORG, Side.PEER)
        }
        if kind == MessageKind.NOTE:  # seen by the writing side only
            note_field = "peer_note_position" if sender_side == Side.PEER else "org_note_position"
            changes[note_field] = position
    if is_public(kind):
        # Internal notes change nothing the customer can see, not even the list order.
        changes |= {
            "last_public_position": position,
            "updated_at": now,
            "last_message_id": message_id,
            "last_message_at": now,
            "last_preview": preview_of(message),
            "last_sender_id": sender_id,
        }
    conversation = batch.put(conversation, **changes)
    events = live_message_events(
        conversation, message, previous_public, skip_sid, previous_by_side, sender_name
    )
    if sender_side == Side.ORG and is_channel_conversation(conversation):
        events = [replace(e, for_channel=True) for e in events]
    counted = counted_for(sender_side, kind, conversation.kind)
    if counted is not None:
        sides = await batch.sides(conversation.id)
        if counted in sides:
            side = batch.put_side(sides[counted], received=sides[counted].received + 1)
            events = with_unread(events, conversation, counted, side.unread)
    batch.emit(*events)
    return conversation, message
