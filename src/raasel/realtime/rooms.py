"""Room names: who receives what. One place, so an audience is never guessed twice.

- ``user:{id}``            every device of an individual or visitor;
- ``agent:{org}:{id}``     every console of one agent, in one organization;
- ``group:{id}``           consoles of the agents in a dispatch group (queue, messages);
- ``leads:{org}``          consoles of supervisors, admins and owners of an organization;
- ``agents:{org}``         every console of an organization (presence);
- ``platform:operators``   every console of the node's operators (platform support):
                           only conversations opened or escalated to the platform;
- ``{room}~unread``        the sockets of ``{room}`` that read unread counts from
                           ``unread:update`` only (they did not declare the
                           ``message_unread`` feature at connect): a count that rides on
                           ``message:new`` is sent to them again on its own.
"""

from __future__ import annotations

from raasel.storage.records import Conversation


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def agent_room(org_id: str, user_id: str) -> str:
    return f"agent:{org_id}:{user_id}"


def group_room(group_id: str) -> str:
    return f"group:{group_id}"


def leads_room(org_id: str) -> str:
    return f"leads:{org_id}"


def agents_room(org_id: str) -> str:
    return f"agents:{org_id}"


def operators_room() -> str:
    return "platform:operators"


def unread_room(room: str) -> str:
    """The twin of ``room`` joined by sockets without the ``message_unread`` feature."""
    return f"{room}~unread"


def platform_rooms(conversation: Conversation) -> list[str]:
    """The operators' consoles, once the conversation is opened or escalated to them
    (they see what the customer sees: never internal notes)."""
    return [operators_room()] if conversation.platform_at is not None else []


def org_side_rooms(conversation: Conversation) -> list[str]:
    """The consoles that may see a conversation: its group (every console of the
    organization when it has none: "Unassigned"), the leads and its assignee."""
    rooms = [leads_room(conversation.org_id)]
    if conversation.group_id:
        rooms.append(group_room(conversation.group_id))
    elif conversation.kind == "support":
        rooms.append(agents_room(conversation.org_id))
    if conversation.assignee_id:
        rooms.append(agent_room(conversation.org_id, conversation.assignee_id))
    return rooms


def peer_rooms(conversation: Conversation) -> list[str]:
    """The other organization's consoles of a ``b2b`` conversation: its leads, its group
    (every console of it while in none of its groups) and its assignee."""
    peer = conversation.peer_org_id
    if conversation.kind != "b2b" or peer is None:
        return []
    rooms = [leads_room(peer)]
    rooms.append(
        group_room(conversation.peer_group_id) if conversation.peer_group_id else agents_room(peer)
    )
    if conversation.peer_assignee_id:
        rooms.append(agent_room(peer, conversation.peer_assignee_id))
    return rooms


def customer_rooms(conversation: Conversation) -> list[str]:
    return [user_room(conversation.customer_id)] if conversation.customer_id else []


def conversation_rooms(conversation: Conversation, *, include_customer: bool = True) -> list[str]:
    rooms = org_side_rooms(conversation)
    if not include_customer:
        return rooms
    return (
        rooms
        + customer_rooms(conversation)
        + platform_rooms(conversation)
        + peer_rooms(conversation)
    )
