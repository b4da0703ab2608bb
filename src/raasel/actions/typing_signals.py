"""Who is told that someone is typing (SPEC 2.3).

The customer's typing goes to the organization's consoles; an agent's reply typing
goes to the customer and to fellow agents; an agent typing an internal note is shown
to agents only, never to the customer.
"""

from __future__ import annotations

from raasel.actions.access import access_conversation, side_of
from raasel.actions.context import Actor, Event, Services
from raasel.actions.limits import check_rate
from raasel.domain import Side
from raasel.errors import Forbidden
from raasel.realtime.rooms import conversation_rooms, org_side_rooms


async def typing_event(
    svc: Services, actor: Actor, conversation_id: str, *, is_typing: bool, is_note: bool, ttl: float
) -> Event:
    # Each indicator reaches every console of the conversation: bounded per account.
    await check_rate(svc, "typing", f"user:{actor.user_id}", what="typing signals")
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id)
    side = side_of(actor)
    if is_note and side != Side.ORG:
        raise Forbidden("only agents write internal notes")
    rooms = org_side_rooms(conversation) if is_note else conversation_rooms(conversation)
    payload = {
        "conversation_id": conversation.id,
        "user_id": actor.user_id,
        "name": actor.display_name,
        "side": side,
        "is_typing": is_typing,
        "is_note": is_note,
        "expires_in": ttl if is_typing else 0,
    }
    return Event("typing", payload, tuple(rooms))
