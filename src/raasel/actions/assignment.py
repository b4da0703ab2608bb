"""Who handles a conversation: routing policies, claims, transfers (SPEC 2.2).

Policies per dispatch group:
- ``round_robin``: the next online agent under capacity after the last one chosen;
- ``least_busy``: the fewest active conversations, ties to the least recently assigned;
- ``manual``: nobody is chosen; agents claim from the queue, first claim wins.
An agent is eligible when active, set "online", connected, and under capacity.

Every assignment runs inside a unit (``Database.run``) keyed on its conversation, so a
claim, a transfer and a customer's reopening message on one conversation run one after
another, each on the state the previous one left. Which agents are connected is read
from the ephemeral state *before* the unit (``Reachable``): no network call inside a
write. On PostgreSQL the group's memberships are locked while loads are counted and
queues are drained with ``SKIP LOCKED`` (docs/decisions.md, "Assignment state").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from raasel.actions import audit, followup
from raasel.actions.access import access_group, require_member
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.conversation_events import conversation_updated, org_view, queue_events
from raasel.actions.conversation_units import append, load_for
from raasel.actions.mail import mail_committed
from raasel.domain import Availability, ConversationStatus, MessageKind, Role, RoutingPolicy, Side
from raasel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.rules.conversations import OPEN_STATUSES
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Conversation, Membership
from raasel.storage.tenancy import TenantScope
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def presence_key(org_id: str, user_id: str) -> str:
    """Connections are counted per agent per organization (a person may be both)."""
    return f"{org_id}:{user_id}"


@dataclass(frozen=True, slots=True)
class Reachable:
    """The organization's agents with a connected console, read before the unit."""

    org_id: str
    user_ids: frozenset[str]


async def reachable(svc: Services, org_id: str) -> Reachable:
    async with svc.db.read(TenantScope(org_id=org_id)) as conn:
        members = await people.active_member_ids(conn, org_id)
    keys = {presence_key(org_id, user_id): user_id for user_id in members}
    connected = await svc.ephemeral.connected(list(keys))
    return Reachable(org_id, frozenset(keys[k] for k in connected if k in keys))


async def eligible_agents(
    conn: Tx, org_id: str, group_id: str, online: Reachable
) -> list[tuple[Membership, int]]:
    """Agents of the group who may take one more conversation now, with their load."""
    members = [
        m
        for m in await people.group_members_of(conn, group_id, lock=True)
        if m.availability == Availability.ONLINE and m.user_id in online.user_ids
    ]
    loads = await conversations.active_counts(conn, org_id, [m.user_id for m in members])
    return [(m, loads[m.user_id]) for m in members if loads[m.user_id] < m.capacity]


async def choose_agent(conn: Tx, org_id: str, group_id: str, online: Reachable) -> str | None:
    group = await organizations.get_group(conn, org_id, group_id)
    if group is None or group.policy == RoutingPolicy.MANUAL:
        return None
    eligible = await eligible_agents(conn, org_id, group_id, online)
    if not eligible:
        return None
    if group.policy == RoutingPolicy.LEAST_BUSY:
        best = min(eligible, key=lambda e: (e[1], e[0].last_assigned_at or _EPOCH, e[0].user_id))
        return best[0].user_id
    ids = sorted(m.user_id for m, _ in eligible)
    last = group.last_assigned_id
    return next((i for i in ids if last is None or i > last), ids[0])


async def assign(batch: UnitBatch, conversation: Conversation, agent_id: str) -> Conversation:
    """Make ``agent_id`` the assignee (the caller checked the state), and say so."""
    now = utcnow()
    after = batch.put(
        conversation,
        assignee_id=agent_id,
        status=ConversationStatus.ACTIVE,
        assigned_at=now,
        updated_at=now,
    )
    await people.update_membership(
        batch.conn, conversation.org_id, agent_id, {"last_assigned_at": now}
    )
    if conversation.group_id:
        await organizations.update_group(
            batch.conn, conversation.org_id, conversation.group_id, {"last_assigned_id": agent_id}
        )
    names = await people.get_users(batch.conn, [agent_id])
    name = names[agent_id].display_name if agent_id in names else "An agent"
    after, _ = await append(
        batch,
        after,
        sender_id=agent_id,
        sender_side=Side.ORG,
        kind=MessageKind.SYSTEM,
        body=f"{name} joined the conversation",
    )
    await batch.flush()  # the next agent's load counts this one
    return after


async def route(batch: UnitBatch, conversation: Conversation, online: Reachable) -> Conversation:
    """Assign a queued conversation if its group's policy finds someone."""
    if conversation.status != ConversationStatus.QUEUED or conversation.group_id is None:
        return conversation
    await batch.flush()
    agent = await choose_agent(batch.conn, conversation.org_id, conversation.group_id, online)
    return conversation if agent is None else await assign(batch, conversation, agent)


async def drain_group(
    batch: UnitBatch, org_id: str, group_id: str, online: Reachable
) -> list[tuple[Conversation, Conversation]]:
    """Assign queued conversations in arrival order while someone is eligible."""
    await batch.flush()
    assigned = []
    for queued in await conversations.queued_in_group(batch.conn, org_id, group_id, claim=True):
        agent_id = await choose_agent(batch.conn, org_id, group_id, online)
        if agent_id is None:
            break
        current = await batch.conversation(queued.id)
        if current is None or current.status != ConversationStatus.QUEUED:
            continue
        assigned.append((current, await assign(batch, current, agent_id)))
    return assigned


async def drain(svc: Services, org_id: str, group_ids: list[str]) -> None:
    """Hand queued conversations of these groups to eligible agents (one unit)."""
    if not group_ids:
        return
    online = await reachable(svc, org_id)

    async def unit(batch: UnitBatch) -> None:
        for group_id in group_ids:
            done = await drain_group(batch, org_id, group_id, online)
            if done:
                await batch.flush()
                for before, after in done:
                    batch.emit(*await conversation_updated(batch, after, before))
                batch.emit(*await queue_events(batch.conn, org_id, group_id))

    await svc.db.run(unit)


async def do_claim(svc: Services, actor: Actor, conversation_id: str) -> Outcome:
    """An agent takes a queued conversation; the first claim wins."""
    require_member(actor)

    async def unit(batch: UnitBatch) -> dict[str, object]:
        before = await load_for(batch, actor, conversation_id)
        if before.status != ConversationStatus.QUEUED:
            raise Conflict("the conversation is not waiting in the queue", code="already_assigned")
        after = await assign(batch, before, actor.user_id)
        await audit.record_conversation(batch.conn, actor, "claim", before, after)
        batch.emit(*await conversation_updated(batch, after, before))
        batch.emit(*await queue_events(batch.conn, after.org_id, after.group_id))
        return await org_view(batch, after)

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


async def _require_agent(conn: Tx, org_id: str, user_id: str) -> Membership:
    membership = await people.get_membership(conn, org_id, user_id)
    if membership is None or not membership.is_active:
        raise NotFound("agent not found")
    return membership


async def do_assign(svc: Services, actor: Actor, conversation_id: str, agent_id: str) -> Outcome:
    """A supervisor (or above) gives an open conversation to a chosen agent."""
    require_member(actor)
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("requires the supervisor role")
    return await _reassign(
        svc, actor, conversation_id, agent_id=agent_id, group_id=None, action="assign"
    )


async def do_transfer(
    svc: Services, actor: Actor, conversation_id: str, *, agent_id: str | None, group_id: str | None
) -> Outcome:
    """The assignee (or a lead) hands over to another agent, or back to a group's queue."""
    require_member(actor)
    if (agent_id is None) == (group_id is None):
        raise ValidationFailed("transfer to exactly one of agent_id or group_id")
    return await _reassign(
        svc, actor, conversation_id, agent_id=agent_id, group_id=group_id, action="transfer"
    )


async def _reassign(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    agent_id: str | None,
    group_id: str | None,
    action: str,
) -> Outcome:
    assert actor.org_id is not None
    online = await reachable(svc, actor.org_id)

    async def unit(batch: UnitBatch) -> dict[str, object]:
        before = await load_for(batch, actor, conversation_id)
        if before.status not in OPEN_STATUSES:
            raise Conflict("only open conversations can be transferred", code="not_open")
        if before.assignee_id != actor.user_id and not actor.has_role(Role.SUPERVISOR):
            raise Forbidden("only the assignee or a supervisor can transfer", code="not_assigned")
        now = utcnow()
        if agent_id is not None:
            membership = await _require_agent(batch.conn, before.org_id, agent_id)
            after = batch.put(
                before,
                assignee_id=agent_id,
                status=ConversationStatus.ACTIVE,
                assigned_at=now,
                updated_at=now,
            )
            agent = (await people.get_users(batch.conn, [agent_id]))[agent_id]
            target = agent.display_name
            is_away = (
                membership.availability != Availability.ONLINE or agent_id not in online.user_ids
            )
            if is_away and agent_id != actor.user_id:
                org = await organizations.get_org(batch.conn, before.org_id)
                if org is not None:
                    await followup.assigned_mail(
                        batch.conn,
                        svc,
                        agent=agent,
                        org=org,
                        by=actor.display_name,
                        subject=before.subject,
                    )
                    mailed.append(agent_id)
        else:
            assert group_id is not None
            group = await access_group(batch.conn, before.org_id, group_id)
            if not await organizations.group_has_members(batch.conn, before.org_id, group.id):
                raise Conflict(
                    "nobody is in this group: its queue would never be seen",
                    code="group_has_no_members",
                )
            after = batch.put(
                before,
                group_id=group.id,
                assignee_id=None,
                status=ConversationStatus.QUEUED,
                queued_at=now,
                updated_at=now,
            )
            target = group.name
        after, _ = await append(
            batch,
            after,
            sender_id=actor.user_id,
            sender_side=Side.ORG,
            kind=MessageKind.SYSTEM,
            body=f"{actor.display_name} transferred the conversation to {target}",
        )
        if group_id is not None:
            after = await route(batch, after, online)
        if before.assignee_id and before.assignee_id != after.assignee_id:
            # The previous assignee has one conversation fewer: their queues may move.
            await batch.flush()
            for gid in await people.group_ids_of_member(
                batch.conn, before.org_id, before.assignee_id
            ):
                for moved_before, moved_after in await drain_group(
                    batch, before.org_id, gid, online
                ):
                    batch.emit(*await conversation_updated(batch, moved_after, moved_before))
        await batch.flush()
        to = "agent" if agent_id is not None else "group"
        await audit.record_conversation(batch.conn, actor, action, before, after, to=to)
        batch.emit(*await conversation_updated(batch, after, before))
        for gid in sorted({g for g in (before.group_id, after.group_id) if g}):
            batch.emit(*await queue_events(batch.conn, after.org_id, gid))
        return await org_view(batch, after)

    mailed: list[str] = []
    outcome = Outcome(await svc.db.run(unit, keys=[conversation_id]))
    if mailed:
        mail_committed(svc)
    return outcome


async def groups_of(svc: Services, org_id: str, user_id: str) -> list[str]:
    async with svc.db.read(TenantScope(org_id=org_id)) as conn:
        return await people.group_ids_of_member(conn, org_id, user_id)
