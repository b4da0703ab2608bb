"""CSAT: after resolve the customer may rate the conversation 1 to 5 with a comment, once.

The rating is one unit keyed on the conversation: its state (resolved or closed, the
customer's own) is checked where the rating is written, and the rating is credited to
the assignee and group the conversation has then. ``csat:new`` goes to the leads and
to the credited agent only (realtime/rooms.py), never to other customers.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.access import access_conversation
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.conversation_units import load_for
from raasel.domain import ConversationStatus
from raasel.errors import Conflict, Forbidden, NotFound
from raasel.lib.clock import utcnow
from raasel.realtime.rooms import agent_room, leads_room
from raasel.storage.metadata import csat
from raasel.storage.metadata.csat import Rating
from raasel.storage.transaction import UniqueViolation
from raasel.storage.unit_batch import UnitBatch

RATEABLE = (ConversationStatus.RESOLVED, ConversationStatus.CLOSED)


def rating_view(rating: Rating) -> dict[str, Any]:
    return {
        "conversation_id": rating.conversation_id,
        "rating": rating.rating,
        "comment": rating.comment,
        "assignee_id": rating.assignee_id,
        "group_id": rating.group_id,
        "created_at": rating.created_at.isoformat(),
    }


async def do_rate(
    svc: Services, actor: Actor, conversation_id: str, *, rating: int, comment: str
) -> Outcome:
    if actor.is_member:
        raise Forbidden("only the customer rates a conversation")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conversation = await load_for(batch, actor, conversation_id)
        if conversation.status not in RATEABLE:
            raise Conflict("a conversation is rated once it is resolved", code="not_resolved")
        record = Rating(
            conversation_id=conversation.id,
            org_id=conversation.org_id,
            customer_id=actor.user_id,
            assignee_id=conversation.assignee_id,
            group_id=conversation.group_id,
            rating=rating,
            comment=comment,
            created_at=utcnow(),
        )
        try:
            async with batch.conn.begin_nested():
                await csat.insert_rating(batch.conn, record)
        except UniqueViolation as exc:
            raise Conflict("this conversation was rated already", code="already_rated") from exc
        view = rating_view(record)
        rooms = [leads_room(conversation.org_id)]
        if conversation.assignee_id:
            rooms.append(agent_room(conversation.org_id, conversation.assignee_id))
        batch.emit(Event("csat:new", {"rating": view}, tuple(rooms)))
        return view

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def get_rating(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    """The conversation's rating, to its customer and to agents who may see it."""
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
        found = await csat.get_rating(conn, conversation.org_id, conversation.id)
    if found is None:
        raise NotFound("not rated")
    return rating_view(found)
