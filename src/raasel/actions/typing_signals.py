"""Who is told that someone is typing (SPEC 2.3).

The customer's typing goes to the organization's consoles; an agent's reply typing
goes to the customer and to fellow agents; an agent typing an internal note is shown
to agents only, never to the customer.
"""

from __future__ import annotations

from raasel.actions.access import access_conversation, side_in
from raasel.actions.context import Actor, Event, Services
from raasel.actions.limits import check_rate
from raasel.domain import Side
from raasel.errors import Forbidden
from raasel.realtime.rooms import conversation_rooms, org_side_rooms, peer_rooms


async def typing_event(
    svc: Services, actor: Actor, conversation_id: str, *, is_typing: bool, is_note: bool, ttl: float
) -> Event:
    # Each indicator reaches every console of the conversation: bounded per account.
    await check_rate(svc, "typing", f"user:{actor.user_id}", what="typing signals")
    async with svc.db.read(actor.scope) as conn:
        conversation = await access_conversation(conn, actor, conversation_id, as_peer=True)
    side = side_in(actor, conversation)
    if is_note and side not in (Side.ORG, Side.PEER):
        raise Forbidden("only agents write internal notes")
    if is_note:  # a note's typing stays on the writer's side (b2b: each organization's)
        rooms = peer_rooms(conversation) if side == Side.PEER else org_side_rooms(conversation)
    else:
        rooms = conversation_rooms(conversation)
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
