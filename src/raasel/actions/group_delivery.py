"""Which of a group conversation's sockets on this node may still receive its events
(docs/decisions.md, "The removal window of group conversations").

A removal commits before the removed member's sockets leave the room's socket room (the
REST handler moves them after the unit, and other nodes hear of it over Redis). Every
event to a team room or a community channel carries the departures counted when it was
written; a node that has seen fewer asks here, before delivering, which of its sockets'
users are members now, and drops the others from the room (realtime/connections.py,
``Connections.screen``). A departure committed before the event is in what this reads.
"""

from __future__ import annotations

from raasel.actions.context import Actor, Services
from raasel.realtime.community_rooms import COMMUNITY_PREFIX
from raasel.realtime.team_rooms import TEAM_PREFIX
from raasel.storage.metadata import community as community_store
from raasel.storage.metadata import team_rooms as team_store
from raasel.storage.tenancy import CrossTenant, TenantScope


async def members_among(svc: Services, room: str, actors: list[Actor]) -> tuple[int, set[str]]:
    """``room``'s departures so far and the user ids of ``actors`` who are its members
    now; a socket room of neither kind answers (0, everyone)."""
    user_ids = sorted({a.user_id for a in actors})
    if room.startswith(TEAM_PREFIX):
        room_id = room.removeprefix(TEAM_PREFIX)
        departures, found = 0, set[str]()
        # Only consoles of the room's organization enter it: each org answers for its own.
        for org_id in sorted({a.org_id for a in actors if a.is_member and a.org_id}):
            ids = [a.user_id for a in actors if a.org_id == org_id and a.is_member]
            async with svc.db.read(TenantScope(org_id=org_id)) as conn:
                seen, members = await team_store.members_among(conn, org_id, room_id, ids)
            departures, found = max(departures, seen), found | members
        return departures, found
    if room.startswith(COMMUNITY_PREFIX):
        channel_id = room.removeprefix(COMMUNITY_PREFIX)
        ids = [a.user_id for a in actors if not a.is_member]
        reason = CrossTenant("community: which of a node's sockets are still members")
        async with svc.db.read(reason) as conn:
            return await community_store.members_among(conn, channel_id, ids)
    return 0, set(user_ids)
