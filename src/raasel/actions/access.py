"""Tenant-scoped lookups: the organization is in the WHERE clause, never checked after.

Missing and forbidden answer alike ("not found"), so nobody can probe another
tenant's ids (the Chatwoot rule, docs/decisions.md).
"""

from __future__ import annotations

from raasel.actions.context import Actor
from raasel.domain import ConversationKind, Role, Side
from raasel.errors import Forbidden, NotFound
from raasel.storage.metadata import conversations, organizations, platform
from raasel.storage.records import Conversation, DispatchGroup
from raasel.storage.transaction import Tx


def side_of(actor: Actor) -> str:
    if actor.is_operator:
        return Side.PLATFORM
    return Side.ORG if actor.is_member else Side.CUSTOMER


def is_peer_of(actor: Actor, conversation: Conversation) -> bool:
    """The actor acts for the *other* organization of a ``b2b`` conversation."""
    return (
        actor.is_member
        and conversation.kind == ConversationKind.B2B
        and conversation.peer_org_id is not None
        and conversation.peer_org_id == actor.org_id
    )


def side_in(actor: Actor, conversation: Conversation) -> str:
    """The side the actor speaks for in this conversation (``peer``: the other
    organization of a ``b2b`` conversation)."""
    return Side.PEER if is_peer_of(actor, conversation) else side_of(actor)


def can_peer_see(actor: Actor, conversation: Conversation) -> bool:
    """The peer organization's consoles: its leads, its assignee, its group's agents
    (every agent of it while the conversation is in none of its groups)."""
    return is_peer_of(actor, conversation) and (
        actor.has_role(Role.SUPERVISOR)
        or conversation.peer_assignee_id == actor.user_id
        or conversation.peer_group_id is None
        or conversation.peer_group_id in actor.group_ids
    )


def can_agent_see(actor: Actor, conversation: Conversation) -> bool:
    """Leads see every conversation of their organization; agents their groups', their
    own, and those in no group ("Unassigned": no team with members could take them, so
    every agent sees them, docs/protocol.md)."""
    return (
        actor.has_role(Role.SUPERVISOR)
        or conversation.assignee_id == actor.user_id
        or (conversation.group_id is None and conversation.kind == ConversationKind.SUPPORT)
        or conversation.group_id in actor.group_ids
    )


async def access_conversation(
    conn: Tx, actor: Actor, conversation_id: str, *, as_peer: bool = False
) -> Conversation:
    """``as_peer``: the command also serves the other organization of a ``b2b``
    conversation (sending, history, sync, receipts, typing: docs/protocol.md); every
    other command reaches only the conversations of the actor's own partition."""
    if actor.is_operator:  # only what was opened or escalated to the platform
        found = await platform.find_platform_conversation(conn, conversation_id)
        if found is not None:
            return found
    elif actor.is_member:
        assert actor.org_id is not None
        found = await conversations.find_conversation(conn, conversation_id, org_id=actor.org_id)
        if found is not None and can_agent_see(actor, found):
            return found
        if as_peer:
            found = await conversations.find_conversation(
                conn, conversation_id, peer_org_id=actor.org_id
            )
            if found is not None and can_peer_see(actor, found):
                return found
    else:
        found = await conversations.find_conversation(
            conn, conversation_id, customer_id=actor.user_id
        )
        if found is not None:
            return found
    raise NotFound("conversation not found")


def require_role(actor: Actor, org_id: str, minimum: Role) -> None:
    """The actor must act for ``org_id`` with at least ``minimum``; else "not found"."""
    if actor.org_id != org_id or not actor.is_member:
        raise NotFound("organization not found")
    if not actor.has_role(minimum):
        raise Forbidden(f"requires the {minimum} role")


def require_member(actor: Actor) -> str:
    if not actor.is_member or actor.org_id is None:
        raise Forbidden("only an organization's agents may do this")
    return actor.org_id


async def access_group(conn: Tx, org_id: str, group_id: str) -> DispatchGroup:
    group = await organizations.get_group(conn, org_id, group_id)
    if group is None:
        raise NotFound("group not found")
    return group
