"""Who handles a conversation: routing policies, claims, transfers (SPEC 2.2).

Policies per dispatch group:
- ``round_robin``: the next online agent under capacity after the last one chosen;
- ``least_busy``: the fewest active conversations, ties to the least recently assigned;
- ``manual``: nobody is chosen; agents claim from the queue, first claim wins.
An agent is eligible when active, set "online", connected, and under capacity.
Assignments are conditional updates (``WHERE status = 'queued'``), so two claims of
one conversation cannot both win. On PostgreSQL, where several nodes write at once,
routing also locks the group's memberships (loads are counted one router at a time)
and drains the queue with ``SKIP LOCKED`` (docs/decisions.md, "Assignment state").
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import access_conversation, access_group, require_member
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.conversation_events import conversation_updated, queue_events
from raasel.actions.messages import append_message
from raasel.actions.views import conversation_view
from raasel.domain import Availability, ConversationStatus, MessageKind, Role, RoutingPolicy, Side
from raasel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Conversation, Membership

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def presence_key(org_id: str, user_id: str) -> str:
    """Connections are counted per agent per organization (a person may be both)."""
    return f"{org_id}:{user_id}"


async def eligible_agents(
    conn: AsyncConnection, svc: Services, org_id: str, group_id: str
) -> list[tuple[Membership, int]]:
    """Agents of the group who may take one more conversation now, with their load."""
    members = [
        m
        for m in await people.group_members_of(conn, group_id, lock=True)
        if m.availability == Availability.ONLINE
    ]
    connected = await svc.ephemeral.connected([presence_key(org_id, m.user_id) for m in members])
    members = [m for m in members if presence_key(org_id, m.user_id) in connected]
    loads = await conversations.active_counts(conn, org_id, [m.user_id for m in members])
    return [(m, loads[m.user_id]) for m in members if loads[m.user_id] < m.capacity]


async def choose_agent(
    conn: AsyncConnection, svc: Services, org_id: str, group_id: str
) -> str | None:
    group = await organizations.get_group(conn, org_id, group_id)
    if group is None or group.policy == RoutingPolicy.MANUAL:
        return None
    eligible = await eligible_agents(conn, svc, org_id, group_id)
    if not eligible:
        return None
    if group.policy == RoutingPolicy.LEAST_BUSY:
        best = min(eligible, key=lambda e: (e[1], e[0].last_assigned_at or _EPOCH, e[0].user_id))
        return best[0].user_id
    ids = sorted(m.user_id for m, _ in eligible)
    last = await svc.ephemeral.rotation_get(group_id)
    return next((i for i in ids if last is None or i > last), ids[0])


async def assign(
    conn: AsyncConnection,
    svc: Services,
    conversation: Conversation,
    agent_id: str,
    *,
    expected: list[str],
) -> Conversation | None:
    """Make ``agent_id`` the assignee if the conversation is still in ``expected``."""
    now = utcnow()
    moved = await conversations.update_conversation(
        conn,
        conversation.org_id,
        conversation.id,
        {
            "assignee_id": agent_id,
            "status": ConversationStatus.ACTIVE,
            "assigned_at": now,
            "updated_at": now,
        },
        expected_status=expected,
    )
    if not moved:
        return None
    await people.update_membership(conn, conversation.org_id, agent_id, {"last_assigned_at": now})
    if conversation.group_id:
        await svc.ephemeral.rotation_set(conversation.group_id, agent_id)
    return await conversations.find_conversation(conn, conversation.id, org_id=conversation.org_id)


async def drain_group(
    conn: AsyncConnection, svc: Services, org_id: str, group_id: str
) -> list[tuple[Conversation, Conversation]]:
    """Assign queued conversations in arrival order while someone is eligible."""
    assigned = []
    for queued in await conversations.queued_in_group(conn, org_id, group_id, claim=True):
        agent_id = await choose_agent(conn, svc, org_id, group_id)
        if agent_id is None:
            break
        after = await assign(conn, svc, queued, agent_id, expected=[ConversationStatus.QUEUED])
        if after is not None:
            assigned.append((queued, after))
    return assigned


async def announce_assignments(
    svc: Services, assigned: list[tuple[Conversation, Conversation]]
) -> list[Event]:
    """System messages ("Alice joined") for assignments that have committed."""
    events: list[Event] = []
    async with svc.db.read() as conn:
        names = await people.get_users(conn, [a.assignee_id for _, a in assigned if a.assignee_id])
    for _, after in assigned:
        name = names[after.assignee_id].display_name if after.assignee_id in names else "An agent"
        outcome = await append_message(
            svc,
            after,
            sender_id=after.assignee_id or "system",
            sender_side=Side.ORG,
            kind=MessageKind.SYSTEM,
            body=f"{name} joined the conversation",
        )
        events += outcome.events
    return events


async def drain_and_announce(svc: Services, org_id: str, group_ids: list[str]) -> list[Event]:
    """Hand queued conversations of these groups to eligible agents; return the events."""

    async def work(
        conn: AsyncConnection,
    ) -> tuple[list[tuple[Conversation, Conversation]], list[Event]]:
        assigned, events = [], []
        for group_id in group_ids:
            done = await drain_group(conn, svc, org_id, group_id)
            if done:
                assigned += done
                events += await queue_events(conn, org_id, group_id)
        for before, after in assigned:
            events = await conversation_updated(conn, after, before) + events
        return assigned, events

    assigned, events = await svc.db.write(work)
    return events + await announce_assignments(svc, assigned)


async def _org_view(conn: AsyncConnection, conversation: Conversation) -> dict[str, object]:
    ids = [i for i in (conversation.customer_id, conversation.assignee_id) if i]
    return conversation_view(
        conversation, viewer_side=Side.ORG, people=await people.get_users(conn, ids)
    )


async def do_claim(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """An agent takes a queued conversation; the first claim wins."""
    require_member(actor)

    async def work(
        conn: AsyncConnection,
    ) -> tuple[Conversation, Conversation, list[Event], dict[str, object]]:
        before = await access_conversation(conn, actor, conversation_id)
        after = await assign(conn, svc, before, actor.user_id, expected=[ConversationStatus.QUEUED])
        if after is None:
            raise Conflict("the conversation is not waiting in the queue", code="already_assigned")
        events = await conversation_updated(conn, after, before)
        events += await queue_events(conn, after.org_id, after.group_id)
        return before, after, events, await _org_view(conn, after)

    before, after, events, view = await svc.db.write(work)
    return Outcome(view, events + await announce_assignments(svc, [(before, after)]))


async def _require_agent(conn: AsyncConnection, org_id: str, user_id: str) -> Membership:
    membership = await people.get_membership(conn, org_id, user_id)
    if membership is None or not membership.is_active:
        raise NotFound("agent not found")
    return membership


async def do_assign(svc: Services, actor: Actor, conversation_id: str, agent_id: str) -> Outcome:
    """A supervisor (or above) gives an open conversation to a chosen agent."""
    require_member(actor)
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("requires the supervisor role")
    return await _reassign(svc, actor, conversation_id, agent_id=agent_id, group_id=None)


async def do_transfer(
    svc: Services, actor: Actor, conversation_id: str, *, agent_id: str | None, group_id: str | None
) -> Outcome:
    """The assignee (or a lead) hands over to another agent, or back to a group's queue."""
    require_member(actor)
    if (agent_id is None) == (group_id is None):
        raise ValidationFailed("transfer to exactly one of agent_id or group_id")
    return await _reassign(svc, actor, conversation_id, agent_id=agent_id, group_id=group_id)


async def _reassign(
    svc: Services, actor: Actor, conversation_id: str, *, agent_id: str | None, group_id: str | None
) -> Outcome:
    async def work(
        conn: AsyncConnection,
    ) -> tuple[Conversation, Conversation, list[Event], dict[str, object], str]:
        before = await access_conversation(conn, actor, conversation_id)
        if before.status not in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE):
            raise Conflict("only open conversations can be transferred", code="not_open")
        if before.assignee_id != actor.user_id and not actor.has_role(Role.SUPERVISOR):
            raise Forbidden("only the assignee or a supervisor can transfer", code="not_assigned")
        now = utcnow()
        if agent_id is not None:
            await _require_agent(conn, before.org_id, agent_id)
            values = {
                "assignee_id": agent_id,
                "status": ConversationStatus.ACTIVE,
                "assigned_at": now,
            }
            target = (await people.get_users(conn, [agent_id]))[agent_id].display_name
        else:
            assert group_id is not None
            group = await access_group(conn, before.org_id, group_id)
            values = {
                "group_id": group.id,
                "assignee_id": None,
                "status": ConversationStatus.QUEUED,
                "queued_at": now,
            }
            target = group.name
        await conversations.update_conversation(
            conn, before.org_id, before.id, values | {"updated_at": now}
        )
        after = await conversations.find_conversation(conn, before.id, org_id=before.org_id)
        assert after is not None
        if group_id is not None:
            agent = await choose_agent(conn, svc, after.org_id, group_id)
            if agent is not None:
                after = (
                    await assign(conn, svc, after, agent, expected=[ConversationStatus.QUEUED])
                    or after
                )
        events = await conversation_updated(conn, after, before)
        for gid in {before.group_id, after.group_id}:
            events += await queue_events(conn, after.org_id, gid)
        return before, after, events, await _org_view(conn, after), target

    before, after, events, view, target = await svc.db.write(work)
    note = await append_message(
        svc,
        after,
        sender_id=actor.user_id,
        sender_side=Side.ORG,
        kind=MessageKind.SYSTEM,
        body=f"{actor.display_name} transferred the conversation to {target}",
    )
    events += note.events
    if before.assignee_id and before.assignee_id != after.assignee_id:
        events += await drain_and_announce(
            svc, before.org_id, list(await groups_of(svc, before.org_id, before.assignee_id))
        )
    return Outcome(view, events)


async def groups_of(svc: Services, org_id: str, user_id: str) -> list[str]:
    async with svc.db.read() as conn:
        return await people.group_ids_of_member(conn, org_id, user_id)
