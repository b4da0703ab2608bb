"""Who may use direct chats, and loading a direct conversation through its members.

Only an individual's own session: a member's (agent's) or a visitor's session is
refused on every direct route and event, whatever ids it sends (SPEC 1: no organization
reaches the direct space). A conversation is found only through its members: for anyone
else it is "not found", as missing ones are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Event
from raasel.actions.direct_views import conversation_view
from raasel.errors import Forbidden, NotFound
from raasel.realtime.rooms import user_room
from raasel.storage.direct_records import DirectConversation
from raasel.storage.metadata import direct_conversations as store
from raasel.storage.metadata import direct_keys, people


def require_individual(actor: Actor) -> None:
    if actor.is_member or actor.is_visitor or actor.org_id is not None:
        raise Forbidden("direct chats are for individuals' own sessions")


async def member_conversation(
    conn: AsyncConnection, actor: Actor, conversation_id: str, *, lock: bool = False
) -> DirectConversation:
    conversation = await store.get(conn, conversation_id, lock=lock)
    if conversation is None or not conversation.has_member(actor.user_id):
        raise NotFound("conversation not found")
    return conversation


async def views_for(
    conn: AsyncConnection, conversations: list[DirectConversation], viewer_id: str
) -> list[dict[str, Any]]:
    """Views of several conversations in four statements, whatever their number."""
    if not conversations:
        return []
    members = await store.members_of_many(conn, [c.id for c in conversations])
    people_ids = sorted({m for c in conversations for m in c.members})
    users = await people.get_users(conn, people_ids)
    handles = await direct_keys.handles_of(conn, people_ids)
    blocked = set(await store.blocked_by(conn, viewer_id))
    return [
        conversation_view(c, viewer_id, members[c.id], users, handles, blocked)
        for c in conversations
    ]


async def conversation_events(
    conn: AsyncConnection, conversation: DirectConversation
) -> list[Event]:
    """``direct:conversation`` to each member, with that member's own view."""
    events = []
    for member in conversation.members:
        (view,) = await views_for(conn, [conversation], member)
        events.append(Event("direct:conversation", {"conversation": view}, (user_room(member),)))
    return events
