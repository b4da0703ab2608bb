"""Agents' availability and connections; both decide who can be assigned work.

Availability follows the connection (docs/protocol.md): the last console closing only
notes the time (a reload inside the grace period changes nothing anyone sees); the sweep
(actions/away.py) makes the agent away once the grace period has passed; a console
connecting again clears it and, if the agent asked for it, restores "online".
"""

from __future__ import annotations

from datetime import datetime

from raasel.actions.access import require_member
from raasel.actions.assignment import drain, groups_of, presence_key
from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.domain import Availability
from raasel.errors import NotFound
from raasel.lib.clock import utcnow
from raasel.realtime.rooms import agents_room
from raasel.rules import presence as rules
from raasel.storage.metadata import people
from raasel.storage.records import Membership
from raasel.storage.transaction import Tx


def presence_event(
    membership: Membership, is_connected: bool, changes: dict[str, object] | None = None
) -> Event:
    state = membership.but(**changes) if changes else membership
    payload = {
        "user_id": state.user_id,
        "availability": state.availability,
        "is_connected": is_connected,
        "is_auto_away": state.is_auto_away,
        "restores_availability": state.restores_availability,
    }
    return Event("presence:update", payload, (agents_room(state.org_id),))


async def do_set_availability(
    svc: Services,
    actor: Actor,
    availability: str | None,
    *,
    restores_availability: bool | None = None,
) -> Outcome:
    """Online agents get queued work at once; away/offline ones get no new work.

    ``restores_availability``: when the system sets the agent away (no console for the
    grace period), whether "online" comes back by itself when a console returns."""
    org_id = require_member(actor)

    async def work(conn: Tx) -> tuple[Membership, dict[str, object]]:
        membership = await people.get_membership(conn, org_id, actor.user_id)
        if membership is None or not membership.is_active:
            raise NotFound("membership not found")
        changes: dict[str, object] = {}
        if availability is not None:
            changes |= rules.chosen(membership, availability, utcnow())
        if restores_availability is not None:
            changes["restores_availability"] = restores_availability
        if changes:
            await people.update_membership(conn, org_id, actor.user_id, changes)
        return membership, changes

    membership, changes = await svc.db.write(work)
    connected = bool(await svc.ephemeral.connected([presence_key(org_id, actor.user_id)]))
    after = membership.but(**changes)
    if availability == Availability.ONLINE:
        await drain(svc, org_id, await groups_of(svc, org_id, actor.user_id))
    return Outcome(own_availability(after), [presence_event(after, connected)])


def own_availability(membership: Membership) -> dict[str, object]:
    return {
        "availability": membership.availability,
        "is_auto_away": membership.is_auto_away,
        "restores_availability": membership.restores_availability,
        "away_since": membership.away_since.isoformat() if membership.away_since else None,
    }


async def agent_connected(svc: Services, actor: Actor) -> list[Event]:
    """A console connected: if it is the agent's first, the disconnection is over."""
    assert actor.org_id is not None
    org_id = actor.org_id
    count = await svc.ephemeral.connection_opened(presence_key(org_id, actor.user_id))
    if count != 1:
        return []

    async def work(conn: Tx) -> tuple[Membership | None, dict[str, object]]:
        membership = await people.get_membership(conn, org_id, actor.user_id)
        if membership is None:
            return None, {}
        changes = rules.returned(membership)
        if membership.disconnected_at is not None or len(changes) > 1:
            await people.update_membership(conn, org_id, actor.user_id, changes)
        return membership, changes

    membership, changes = await svc.db.write(work)
    if membership is None:
        return []
    after = membership.but(**changes)
    if after.availability == Availability.ONLINE:
        await drain(svc, org_id, list(actor.group_ids))
    return [presence_event(after, True)]


async def agent_disconnected(
    svc: Services, actor: Actor, *, now: datetime | None = None
) -> list[Event]:
    """The last console closed: note when. An online agent's is not announced: a reload
    inside the grace period must not flap them (the sweep decides, actions/away.py)."""
    assert actor.org_id is not None
    count = await svc.ephemeral.connection_closed(presence_key(actor.org_id, actor.user_id))
    if count != 0:
        return []
    at = now or utcnow()
    org_id = actor.org_id

    async def work(conn: Tx) -> Membership | None:
        await people.mark_disconnected(conn, [(org_id, actor.user_id)], at)
        return await people.get_membership(conn, org_id, actor.user_id)

    membership = await svc.db.write(work)
    if membership is None or membership.availability == Availability.ONLINE:
        return []
    # Away or offline by choice: takes no work either way, nothing can flap.
    return [presence_event(membership, False)]
