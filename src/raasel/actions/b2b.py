"""Organization <-> organization conversations (SPEC 1, kind ``b2b``).

- An agent of organization A opens a conversation with organization B (a listed one:
  found in the directory), optionally one of B's groups. It is a ``conversations`` row of
  A (its partition, its messages), A's side assigned to the opening agent; its sides are
  ``org`` (A) and ``peer`` (B).
- B's side is routed by its group's policy (``choose_agent``, the support machinery);
  with nobody to take it, it waits in B's group (``peer_status`` ``queued``) and the
  first of B's agents to reply takes it.
- B may refuse requests from organizations it does not know (its setting
  ``b2b_requests``: ``known_only``): a first conversation of such an organization waits
  as a request (``requested``) that any of B's agents who see it accepts or declines.
- Each side writes internal notes only it sees; ticks mean an agent client of the
  other organization received or read it; each side closes its own side.

Every command is one unit keyed on its conversation (``Database.run``), its events
published after the commit; every lookup names the actor's organization as one of the
two sides (``access_conversation(..., as_peer=True)``; on PostgreSQL the ``peer_read``
policies of storage/b2b_ddl.py). docs/protocol.md, "Organization to organization".
"""

from __future__ import annotations

import hashlib
from typing import Any

from raasel.actions import audit
from raasel.actions.access import (
    access_conversation,
    can_agent_see,
    can_peer_see,
    is_peer_of,
    require_member,
    side_in,
)
from raasel.actions.assignment import Reachable, choose_agent, drain, reachable
from raasel.actions.b2b_views import read_b2b_view
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_events import conversation_updated
from raasel.actions.conversation_units import append, load_for
from raasel.actions.limits import check_rate
from raasel.actions.views import message_view
from raasel.domain import ConversationKind, ConversationStatus, MessageKind, Side
from raasel.errors import Conflict, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_id, new_str_id
from raasel.rules.conversations import PEER_DECLINED, PEER_REQUESTED
from raasel.storage.metadata import b2b, conversations, organizations, people
from raasel.storage.records import Conversation, DispatchGroup, Organization
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

REQUESTS_SETTING = "b2b_requests"
OPEN_TO_ALL = "open"
KNOWN_ONLY = "known_only"


def _open_key(agent_id: str, client_id: str) -> str:
    digest = hashlib.sha256(f"b2b\0{agent_id}\0{client_id}".encode()).hexdigest()
    return f"b2b:{digest[:56]}"


def refuses_unknown(org: Organization) -> bool:
    return org.settings.get(REQUESTS_SETTING) == KNOWN_ONLY


async def do_open_b2b(
    svc: Services,
    actor: Actor,
    *,
    peer_org_id: str,
    peer_group_id: str | None,
    subject: str,
    text: str,
    client_id: str,
) -> Outcome:
    """Open a conversation with another organization with its first message: one unit.
    A retry with the same ``client_id`` returns the conversation opened the first time."""
    opener_id = require_member(actor)
    if peer_org_id == opener_id:
        raise ValidationFailed("an organization does not open b2b conversations with itself")
    await check_rate(svc, "open", f"user:{actor.user_id}")
    key = _open_key(actor.user_id, client_id)
    online = await reachable(svc, peer_org_id)

    async def unit(batch: UnitBatch) -> tuple[Conversation, dict[str, Any] | None]:
        conn = batch.conn
        existing = await b2b.find_opened(conn, opener_id, key)
        if existing is not None:
            return existing, None
        peer = await organizations.get_org(conn, peer_org_id)
        if peer is None or not peer.is_listed:  # only the directory's organizations
            raise NotFound("organization not found")
        peer_group = await _peer_group(conn, peer_org_id, peer_group_id)
        own_group = await _own_group(conn, actor, opener_id)
        is_request = refuses_unknown(peer) and not await b2b.is_known(conn, opener_id, peer.id)
        now = utcnow()
        conversation_id = new_str_id()
        await conversations.insert_conversation(
            conn,
            {
                "id": conversation_id,
                "org_id": opener_id,
                "kind": ConversationKind.B2B,
                "group_id": own_group.id if own_group else None,
                "customer_id": None,
                "assignee_id": actor.user_id,
                "status": ConversationStatus.ACTIVE,
                "priority": "normal",
                "subject": subject or text[:80],
                "tags": [],
                "is_escalated": False,
                "created_at": now,
                "updated_at": now,
                "queued_at": None,
                "assigned_at": now,
                "first_message_id": new_id(),
                "open_client_id": key,
                "last_position": 0,
                "last_public_position": 0,
                "last_position_id": 0,
                "peer_org_id": peer.id,
                "peer_group_id": peer_group.id if peer_group else None,
                "peer_status": PEER_REQUESTED if is_request else ConversationStatus.QUEUED,
                "peer_accepted_at": None if is_request else now,
                "org_note_position": 0,
                "peer_note_position": 0,
            },
            sides=(Side.ORG, Side.PEER),
        )
        created = await batch.conversation(conversation_id)
        assert created is not None
        created, first = await append(
            batch,
            created,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
        )
        if not is_request:
            created = await route_peer(batch, created, online)
        await batch.flush()
        await audit.record(
            conn,
            opener_id,
            actor.user_id,
            "b2b.open",
            conversation_id,
            {"peer_org_id": peer.id, "subject": created.subject, "is_request": is_request},
        )
        batch.emit(*await conversation_updated(batch, created))
        return created, message_view(first)

    conversation, first_view = await svc.db.run(unit)
    if first_view is None:  # a retry: the first message is at position 1
        stored = await svc.message_log.at(
            conversation.org_id, conversation.id, 1, scope=actor.scope
        )
        first_view = message_view(stored) if stored is not None else None
    return Outcome(
        {"conversation": await get_b2b(svc, actor, conversation.id), "message": first_view}
    )


async def _peer_group(conn: Tx, peer_org_id: str, group_id: str | None) -> DispatchGroup | None:
    if group_id is None:
        return await organizations.default_group(conn, peer_org_id)
    group = await organizations.get_group(conn, peer_org_id, group_id)
    if group is None:
        raise NotFound("group not found")
    return group


async def _own_group(conn: Tx, actor: Actor, org_id: str) -> DispatchGroup | None:
    """The opener's first group (its consoles see the conversation), else the default."""
    for group_id in actor.group_ids:
        group = await organizations.get_group(conn, org_id, group_id)
        if group is not None:
            return group
    return await organizations.default_group(conn, org_id)


async def route_peer(
    batch: UnitBatch, conversation: Conversation, online: Reachable
) -> Conversation:
    """The peer's group policy picks one of its agents (as for a customer's
    conversation); with none, it waits in the group for the first agent who replies."""
    peer_id = conversation.peer_org_id
    group_id = conversation.peer_group_id
    assert peer_id is not None
    agent_id = None
    if group_id is not None and online.org_id == peer_id:
        agent_id = await choose_agent(batch.conn, peer_id, group_id, online)
    if agent_id is None:
        return batch.put(conversation, peer_status=ConversationStatus.QUEUED)
    now = utcnow()
    after = batch.put(
        conversation, peer_assignee_id=agent_id, peer_status=ConversationStatus.ACTIVE
    )
    await people.update_membership(batch.conn, peer_id, agent_id, {"last_assigned_at": now})
    if group_id is not None:
        await organizations.update_group(
            batch.conn, peer_id, group_id, {"last_assigned_id": agent_id}
        )
    names = await people.get_users(batch.conn, [agent_id])
    name = names[agent_id].display_name if agent_id in names else "An agent"
    after, _ = await append(
        batch,
        after,
        sender_id=agent_id,
        sender_side=Side.PEER,
        kind=MessageKind.SYSTEM,
        body=f"{name} joined the conversation",
    )
    return after


async def _decide(svc: Services, actor: Actor, conversation_id: str, *, accept: bool) -> Outcome:
    """The peer's answer to a request: accepted, its side is routed; declined, the
    conversation is over for both sides."""
    require_member(actor)
    online = await reachable(svc, actor.org_id or "")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        before = await load_for(batch, actor, conversation_id, as_peer=True)
        if not is_peer_of(actor, before):
            raise NotFound("conversation not found")
        if before.peer_status != PEER_REQUESTED:
            raise Conflict("this conversation is not a request", code="invalid_state")
        org = await organizations.get_org(batch.conn, actor.org_id or "")
        org_name = org.name if org else "The organization"
        now = utcnow()
        if accept:
            after = batch.put(
                before, peer_status=ConversationStatus.QUEUED, peer_accepted_at=now, updated_at=now
            )
            body = f"{org_name} accepted the conversation"
        else:
            after = batch.put(
                before, peer_status=PEER_DECLINED, status=ConversationStatus.CLOSED, updated_at=now
            )
            body = f"{org_name} declined the conversation"
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=Side.PEER,
            kind=MessageKind.SYSTEM,
            body=body,
        )
        if accept:
            after = await route_peer(batch, after, online)
        await batch.flush()
        await audit.record(
            batch.conn,
            actor.org_id or "",
            actor.user_id,
            "b2b.accept" if accept else "b2b.decline",
            after.id,
            {"org_id": after.org_id, "subject": after.subject},
        )
        batch.emit(*await conversation_updated(batch, after, before))
        return await read_b2b_view(batch.conn, after, Side.PEER, await batch.sides(after.id))

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def do_accept(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    return await _decide(svc, actor, conversation_id, accept=True)


async def do_decline(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    return await _decide(svc, actor, conversation_id, accept=False)


async def do_close_side(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """Either organization closes its own side: its consoles are done with it; the other
    side may still write (which gives it back to the closed side's consoles). The side's
    agent has one conversation less (routing load): its group's queue is drained after."""
    org_id = require_member(actor)
    freed: list[str] = []

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        freed.clear()  # a batch retried runs its units again
        before = await load_for(batch, actor, conversation_id, as_peer=True)
        if before.kind != ConversationKind.B2B:
            raise NotFound("conversation not found")
        side = side_in(actor, before)
        own = before.peer_status if side == Side.PEER else before.status
        if own in (PEER_REQUESTED, PEER_DECLINED):
            raise Conflict("accept or decline the request first", code="invalid_state")
        if own == ConversationStatus.CLOSED:
            return await read_b2b_view(batch.conn, before, side, await batch.sides(before.id))
        field = "peer_status" if side == Side.PEER else "status"
        group_id = before.peer_group_id if side == Side.PEER else before.group_id
        if own == ConversationStatus.ACTIVE and group_id is not None:
            freed.append(group_id)
        now = utcnow()
        after = batch.put(before, **{field: ConversationStatus.CLOSED}, updated_at=now)
        org = await organizations.get_org(batch.conn, actor.org_id or "")
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=side,
            kind=MessageKind.SYSTEM,
            body=f"{actor.display_name} ({org.name if org else 'organization'}) closed their side",
        )
        await batch.flush()
        await audit.record(
            batch.conn, actor.org_id or "", actor.user_id, "b2b.close", after.id, {"side": side}
        )
        batch.emit(*await conversation_updated(batch, after, before))
        return await read_b2b_view(batch.conn, after, side, await batch.sides(after.id))

    view = await svc.db.run(unit, keys=[conversation_id])
    await drain(svc, org_id, freed)
    return Outcome(view)


def _may_see(actor: Actor, conversation: Conversation) -> bool:
    if is_peer_of(actor, conversation):
        return can_peer_see(actor, conversation)
    return conversation.org_id == actor.org_id and can_agent_see(actor, conversation)


async def list_b2b(svc: Services, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The actor's organization's b2b conversations, both directions, each seen from
    its side (requests waiting for it included: ``status`` ``requested``)."""
    org_id = require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        found = [c for c in await b2b.list_of_org(conn, org_id, limit) if _may_see(actor, c)]
        return [
            await read_b2b_view(
                conn, c, side_in(actor, c), await conversations.get_sides(conn, c.id)
            )
            for c in found
        ]


async def get_b2b(svc: Services, actor: Actor, conversation_id: str) -> dict[str, Any]:
    require_member(actor)
    async with svc.db.read(actor.scope) as conn:
        found = await access_conversation(conn, actor, conversation_id, as_peer=True)
        if found.kind != ConversationKind.B2B:
            raise NotFound("conversation not found")
        sides = await conversations.get_sides(conn, found.id)
        return await read_b2b_view(conn, found, side_in(actor, found), sides)
