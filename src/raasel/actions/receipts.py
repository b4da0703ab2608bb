"""Delivery and read receipts as watermarks (SPEC 2.3).

Each side of a conversation has ``delivered_up_to`` and ``read_up_to``. The sender's
ticks follow the *other* side's watermarks: two ticks once delivered, blue once read.
For the organization's side, any agent's console receiving a message counts as
delivered, but only the assignee reading it counts as read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import access_conversation, side_of
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.views import receipts_view
from raasel.domain import MessageKind, Role, Side
from raasel.realtime.rooms import conversation_rooms, customer_rooms, org_side_rooms
from raasel.storage.message_store import Partition
from raasel.storage.metadata import conversations
from raasel.storage.records import Conversation

UNREAD_SCAN_LIMIT = 500


async def _unread_after(svc: Services, conversation: Conversation, side: str, up_to: int) -> int:
    """Messages of the other side after ``up_to`` that ``side`` can see (bounded scan)."""
    if conversation.last_message_id is not None and up_to >= conversation.last_message_id:
        return 0
    later = await svc.messages.after(
        Partition(conversation.org_id, conversation.id, conversation.first_message_id),
        after_id=up_to,
        newest_id=conversation.last_message_id or up_to,
        limit=UNREAD_SCAN_LIMIT,
        include_notes=False,
    )
    return sum(1 for m in later if m.sender_side != side and m.kind == MessageKind.TEXT)


async def do_mark(
    svc: Services, actor: Actor, conversation_id: str, *, field: str, up_to: int
) -> Outcome:
    """Advance the caller's side's ``delivered``/``read`` watermark; never moves back.

    ``up_to`` is clamped to the conversation's newest message, so no client can mark
    messages that do not exist yet.
    """
    async with svc.db.read() as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
    side = side_of(actor)
    up_to = min(up_to, conversation.last_message_id or 0)
    counts = (
        field == "delivered_up_to"
        or side == Side.CUSTOMER
        or (
            conversation.assignee_id == actor.user_id
            or (conversation.assignee_id is None and actor.has_role(Role.SUPERVISOR))
        )
    )
    if not counts or up_to <= 0:
        return Outcome({"conversation_id": conversation.id, "counted": False})
    unread = await _unread_after(svc, conversation, side, up_to) if field == "read_up_to" else None

    async def work(conn: AsyncConnection) -> tuple[bool, dict[str, Any], int]:
        moved = await conversations.advance_watermark(conn, conversation.id, side, field, up_to)
        if moved and unread is not None:
            await conversations.set_unread(conn, conversation.id, side, unread)
        sides = await conversations.get_sides(conn, conversation.id)
        return moved, receipts_view(sides), sides[side].unread

    moved, receipts, unread_now = await svc.db.write(work)
    result = {
        "conversation_id": conversation.id,
        "counted": moved,
        "receipts": receipts,
        "unread": unread_now,
    }
    if not moved:
        return Outcome(result)
    events = [
        Event(
            "receipt:update",
            {"conversation_id": conversation.id, "side": side, **receipts[side]},
            tuple(conversation_rooms(conversation)),
        )
    ]
    if field == "read_up_to":
        rooms = (
            customer_rooms(conversation) if side == Side.CUSTOMER else org_side_rooms(conversation)
        )
        events.append(
            Event(
                "unread:update",
                {"conversation_id": conversation.id, "side": side, "unread": unread_now},
                tuple(rooms),
            )
        )
    return Outcome(result, events)
