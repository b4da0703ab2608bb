"""Agents' availability and connections; both decide who can be assigned work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.access import require_member
from raasel.actions.assignment import drain_and_announce, groups_of, presence_key
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.domain import Availability
from raasel.realtime.rooms import agents_room
from raasel.storage.metadata import people


def _presence_event(org_id: str, user_id: str, availability: str, is_connected: bool) -> Event:
    payload = {"user_id": user_id, "availability": availability, "is_connected": is_connected}
    return Event("presence:update", payload, (agents_room(org_id),))


async def _availability(svc: Services, org_id: str, user_id: str) -> str:
    async with svc.db.read() as conn:
        membership = await people.get_membership(conn, org_id, user_id)
    return membership.availability if membership else Availability.OFFLINE


async def do_set_availability(svc: Services, actor: Actor, availability: str) -> Outcome:
    """Online agents get queued work at once; away/offline ones get no new work."""
    org_id = require_member(actor)

    async def work(conn: AsyncConnection) -> None:
        await people.update_membership(conn, org_id, actor.user_id, {"availability": availability})

    await svc.db.write(work)
    connected = bool(await svc.ephemeral.connected([presence_key(org_id, actor.user_id)]))
    events = [_presence_event(org_id, actor.user_id, availability, connected)]
    if availability == Availability.ONLINE:
        events += await drain_and_announce(svc, org_id, await groups_of(svc, org_id, actor.user_id))
    return Outcome({"availability": availability}, events)


async def agent_connected(svc: Services, actor: Actor) -> list[Event]:
    """A console connected: if it is the agent's first, they may now take work."""
    assert actor.org_id is not None
    count = await svc.ephemeral.connection_opened(presence_key(actor.org_id, actor.user_id))
    if count != 1:
        return []
    availability = await _availability(svc, actor.org_id, actor.user_id)
    events = [_presence_event(actor.org_id, actor.user_id, availability, True)]
    if availability == Availability.ONLINE:
        events += await drain_and_announce(svc, actor.org_id, list(actor.group_ids))
    return events


async def agent_disconnected(svc: Services, actor: Actor) -> list[Event]:
    """The last console closed: no new work. Assigned conversations stay (docs/protocol.md)."""
    assert actor.org_id is not None
    count = await svc.ephemeral.connection_closed(presence_key(actor.org_id, actor.user_id))
    if count != 0:
        return []
    availability = await _availability(svc, actor.org_id, actor.user_id)
    return [_presence_event(actor.org_id, actor.user_id, availability, False)]
