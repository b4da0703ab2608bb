"""Delivery and read receipts as watermarks on positions (SPEC 2.3, rules/receipts.py).

Each side of a conversation has ``delivered_position`` and ``read_position``. The sender's
ticks follow the *other* side's watermarks: two ticks once delivered, blue once read. For
the organization's side any console receiving a message counts as delivered, but only the
assignee reading it counts as read. A receipt is one unit that needs no database state
beyond its conversation: a receipt that moves nothing writes nothing, and receipts of one
conversation in a batch are written once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from raasel.actions.access import access_conversation, side_in, side_of
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.conversation_units import load_for, unread_event
from raasel.actions.limits import check_rate
from raasel.actions.views import receipts_view
from raasel.domain import ConversationKind, MessageKind, Role, Side
from raasel.realtime.rooms import conversation_rooms
from raasel.rules.receipts import Marker, clamp, mark_counts
from raasel.storage.records import Conversation
from raasel.storage.unit_batch import UnitBatch

UNREAD_SCAN_LIMIT = 500
_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class _Tail:
    """What lies between a watermark and the conversation's end, read before the unit:
    valid while the conversation's last position is still ``last``."""

    last: int
    position: int
    message_id: int
    countable: int  # messages of the other side in (position, last] that ``side`` reads


class _NeedsTail(Exception):
    def __init__(self, conversation: Conversation, position: int | None, message_id: int | None):
        self.conversation = conversation
        self.position = position
        self.message_id = message_id


async def do_mark(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    field: str,
    up_to_position: int | None = None,
    up_to_id: int | None = None,
) -> Outcome:
    """Advance the caller's side's ``delivered``/``read`` watermark; never moves back.

    The watermark is clamped to the conversation's last position, so no client can mark
    messages that do not exist yet. ``up_to_id`` is for clients that name a message id.
    Bounded per account (``receipt_rate``): each one that moves reaches both sides.
    """
    await check_rate(svc, "receipt", f"user:{actor.user_id}", what="receipts")
    marker = Marker(side_of(actor), actor.user_id, actor.has_role(Role.SUPERVISOR))
    tail: _Tail | None = None
    for _ in range(_ATTEMPTS):
        unit = functools.partial(
            _mark,
            actor=actor,
            conversation_id=conversation_id,
            marker=marker,
            field=field,
            tail=tail,
            up_to_position=up_to_position,
            up_to_id=up_to_id,
        )
        try:
            return Outcome(await svc.db.run(unit, keys=[conversation_id], fresh=False))
        except _NeedsTail as signal:
            tail = await _read_tail(svc, actor, signal)
    raise RuntimeError("the conversation kept moving while a receipt was computed")


async def _read_tail(svc: Services, actor: Actor, signal: _NeedsTail) -> _Tail:
    conversation = signal.conversation
    side = side_in(actor, conversation)
    last = conversation.last_position
    position = signal.position
    if position is None and (signal.message_id or 0) >= conversation.last_position_id:
        position = last
    if position is None:
        async with svc.db.read(actor.scope) as conn:
            await access_conversation(conn, actor, conversation.id, as_peer=True)
        position = await svc.message_log.position_of_id(
            conversation.org_id, conversation.id, signal.message_id or 0, last, scope=actor.scope
        )
    position = clamp(position, last)
    later = await svc.message_log.after(
        conversation.org_id,
        conversation.id,
        after=max(position - 1, 0),
        up_to=last,
        limit=UNREAD_SCAN_LIMIT,
        include_notes=True,
        scope=actor.scope,
    )
    at = next((m for m in later if m.position == position), None)
    countable = sum(
        1
        for m in later
        if m.position > position and m.sender_side != side and m.kind == MessageKind.TEXT
    )
    return _Tail(last, position, at.id if at else 0, countable)


def _target(
    conversation: Conversation,
    tail: _Tail | None,
    up_to_position: int | None,
    up_to_id: int | None,
) -> tuple[int, int, int]:
    """The watermark's position, the id of the message there, and how many messages the
    side should read lie after it. Past the end needs no read; below it, the tail read
    before the unit, while it still describes the conversation (else ``_NeedsTail``)."""
    last = conversation.last_position
    if up_to_position is not None and clamp(up_to_position, last) == last:
        return last, conversation.last_position_id, 0
    if (
        up_to_position is None
        and up_to_id is not None
        and up_to_id >= conversation.last_position_id
    ):
        return last, conversation.last_position_id, 0
    position = clamp(up_to_position, last) if up_to_position is not None else None
    if tail is None or tail.last != last:
        raise _NeedsTail(conversation, position, up_to_id)
    return tail.position, tail.message_id, tail.countable


async def _mark(
    batch: UnitBatch,
    *,
    actor: Actor,
    conversation_id: str,
    marker: Marker,
    field: str,
    tail: _Tail | None,
    up_to_position: int | None,
    up_to_id: int | None,
) -> dict[str, Any]:
    conversation = await load_for(batch, actor, conversation_id, as_peer=True)
    side = side_in(actor, conversation)
    sides = await batch.sides(conversation.id)
    mine = sides.get(side)
    result: dict[str, Any] = {"conversation_id": conversation.id, "counted": False}
    is_b2b = conversation.kind == ConversationKind.B2B
    assignee = conversation.peer_assignee_id if side == Side.PEER else conversation.assignee_id
    marked = replace(marker, side=side)
    if mine is None or not mark_counts(side, marked, assignee, field=field, is_b2b=is_b2b):
        return result
    position, message_id, countable_after = _target(conversation, tail, up_to_position, up_to_id)
    changes: dict[str, int] = {}
    if position > mine.delivered_position:
        changes |= {"delivered_position": position, "delivered_up_to": message_id}
    if field == "read" and position > mine.read_position:
        changes |= {
            "read_position": position,
            "read_up_to": message_id,
            "read_count": max(mine.read_count, mine.received - countable_after),
        }
    if not changes:
        return result | {"receipts": receipts_view(sides), "unread": mine.unread}
    updated = batch.put_side(mine, **changes)
    sides[side] = updated
    receipts = receipts_view(sides)
    batch.emit(
        Event(
            "receipt:update",
            {"conversation_id": conversation.id, "side": side, **receipts[side]},
            tuple(conversation_rooms(conversation)),
        )
    )
    if "read_count" in changes and updated.unread != mine.unread:
        batch.emit(unread_event(conversation, side, updated.unread))
    return result | {"counted": True, "receipts": receipts, "unread": updated.unread}
