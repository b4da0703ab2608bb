"""The presence sweep: availability follows the connection (docs/protocol.md).

Every node runs it every ``presence_sweep_seconds``; it is safe on several nodes at once:
- an online agent with no console anywhere (the ephemeral state counts every node's)
  gets ``disconnected_at`` noted (also when a node died and never saw the disconnect);
- once ``presence_grace_seconds`` have passed with no console back, they become away
  (``is_auto_away``); the UPDATE re-checks ``disconnected_at`` itself, so a console
  that returned meanwhile wins;
- conversations assigned to an agent away longer than their group's
  ``requeue_after_seconds`` go back to the group's queue and are routed again by its
  policy: one unit per conversation, with a system message both sides see.

Time is a parameter (``now``): tests call ``sweep`` with the time they want.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from raasel.actions import followup, offline
from raasel.actions.assignment import Reachable, drain, presence_key, reachable, route
from raasel.actions.context import Event, Services
from raasel.actions.conversation_events import conversation_updated, queue_events
from raasel.actions.conversation_units import append
from raasel.actions.presence import presence_event
from raasel.domain import Availability, ConversationStatus, MessageKind, Side
from raasel.lib.clock import utcnow
from raasel.rules.presence import is_requeue_due
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Membership
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

_SWEEP = CrossTenant("the node's sweep of every organization's presence and queues")

log = structlog.get_logger(__name__)

Publish = Callable[[list[Event]], Awaitable[None]]


async def sweep(
    svc: Services, *, now: datetime | None = None, since: datetime | None = None
) -> list[Event]:
    """One round: returns the presence events to publish (the units publish their own
    after their commits). ``since``: the previous round (teams that opened in between
    get their queues routed)."""
    now = now or utcnow()
    events = await sweep_presence(svc, now)
    await requeue_abandoned(svc, now)
    await route_opened_teams(
        svc, since or now - timedelta(seconds=svc.settings.presence_sweep_seconds), now
    )
    await followup.mail_unseen_replies(svc, now)
    return events


async def route_opened_teams(svc: Services, since: datetime, now: datetime) -> int:
    """Teams whose business hours began since the last round: route what waited."""
    async with svc.db.read(_SWEEP) as conn:
        waiting = await conversations.groups_with_queue(conn)
        org_ids = sorted({org_id for org_id, _ in waiting})
        orgs = {o.id: o for o in await organizations.get_orgs(conn, org_ids)} if org_ids else {}
        groups = (
            {g.id: g for g in await organizations.list_groups(conn, org_ids)} if org_ids else {}
        )
    opened = [
        (org_id, group_id)
        for org_id, group_id in waiting
        if org_id in orgs
        and group_id in groups
        and offline.opened_between(orgs[org_id], groups[group_id], since, now)
    ]
    for org_id, group_id in opened:
        await drain(svc, org_id, [group_id])
    return len(opened)


async def sweep_presence(svc: Services, now: datetime) -> list[Event]:
    async with svc.db.read(_SWEEP) as conn:
        online = await people.online_memberships(conn)
    if not online:
        return []
    by_key = {presence_key(m.org_id, m.user_id): m for m in online}
    connected = await svc.ephemeral.connected(list(by_key))
    cutoff = now - timedelta(seconds=svc.settings.presence_grace_seconds)
    unnoted: list[tuple[str, str]] = []
    back: list[Membership] = []
    due: list[Membership] = []
    for key, m in by_key.items():
        if key in connected:
            if m.disconnected_at is not None:  # a late disconnect note, or a node's restart
                back.append(m)
        elif m.disconnected_at is None:
            unnoted.append((m.org_id, m.user_id))
        elif m.disconnected_at <= cutoff:
            due.append(m)
    if not (unnoted or back or due):
        return []

    async def work(conn: Tx) -> list[Membership]:
        await people.mark_disconnected(conn, unnoted, now)
        for m in back:
            await people.clear_disconnected(conn, m.org_id, m.user_id, m.disconnected_at)
        return [m for m in due if await people.mark_auto_away(conn, m.org_id, m.user_id, cutoff)]

    went = await svc.db.write(work)
    if went:
        log.info("agents set away: no console", count=len(went))
    away = {"availability": Availability.AWAY, "is_auto_away": True}
    return [presence_event(m, False, away | {"away_since": m.disconnected_at}) for m in went]


async def requeue_abandoned(svc: Services, now: datetime) -> int:
    """Re-queue (and re-route) what agents away too long still hold; returns how many."""
    async with svc.db.read(_SWEEP) as conn:
        held = await conversations.assigned_to_away(conn)
        orgs = sorted({org_id for _, org_id, _, _ in held})
        groups = {g.id: g for g in await organizations.list_groups(conn, orgs)} if orgs else {}
    default = svc.settings.away_requeue_seconds
    due = [
        (cid, org_id)
        for cid, org_id, gid, since in held
        if is_requeue_due(
            since, now, groups[gid].requeue_after_seconds if gid in groups else None, default
        )
    ]
    online = {org_id: await reachable(svc, org_id) for org_id in sorted({o for _, o in due})}
    moved = await asyncio.gather(*(requeue(svc, cid, online[org], now) for cid, org in due))
    return sum(moved)


async def requeue(svc: Services, conversation_id: str, online: Reachable, now: datetime) -> bool:
    """One unit: back to the queue if its assignee is still away past the timeout."""
    default = svc.settings.away_requeue_seconds

    async def unit(batch: UnitBatch) -> bool:
        before = await batch.conversation(conversation_id)
        if before is None or before.status != ConversationStatus.ACTIVE or not before.assignee_id:
            return False
        agent_id = before.assignee_id
        membership = await people.get_membership(batch.conn, before.org_id, agent_id)
        if (
            membership is None
            or membership.availability == Availability.ONLINE
            or membership.away_since is None
        ):
            return False
        group = (
            await organizations.get_group(batch.conn, before.org_id, before.group_id)
            if before.group_id
            else None
        )
        timeout = group.requeue_after_seconds if group else None
        if not is_requeue_due(membership.away_since, now, timeout, default):
            return False
        after = batch.put(
            before,
            status=ConversationStatus.QUEUED,
            assignee_id=None,
            queued_at=now,
            updated_at=now,
        )
        name = (await people.get_users(batch.conn, [agent_id])).get(agent_id)
        where = f"the {group.name} queue" if group else "the queue"
        after, _ = await append(
            batch,
            after,
            sender_id=agent_id,
            sender_side=Side.ORG,
            kind=MessageKind.SYSTEM,
            body=f"{name.display_name if name else 'The agent'} is away: "
            f"the conversation is back in {where}",
        )
        after = await route(batch, after, online)
        await batch.flush()
        batch.emit(*await conversation_updated(batch, after, before))
        batch.emit(*await queue_events(batch.conn, after.org_id, after.group_id))
        return True

    return await svc.db.run(unit, keys=[conversation_id])


async def run_presence_sweep(svc: Services, publish_events: Publish) -> None:
    """The node's sweep task, forever (cancelled at shutdown)."""
    since = utcnow()
    while True:
        await asyncio.sleep(svc.settings.presence_sweep_seconds)
        now = utcnow()
        try:
            await publish_events(await sweep(svc, now=now, since=since))
            since = now
        except Exception:  # the database or Redis is away: the next round retries
            log.exception("presence sweep failed")
