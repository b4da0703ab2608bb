"""Team rooms (SPEC 1, kind ``team``): named group conversations of one organization's
members ("billing team"), never visible to customers (docs/protocol.md, "Team rooms").

Who may do what is rules/team_rooms.py. Each command is one unit of the engine keyed on
the room (``Database.run``): the room row is locked (PostgreSQL), the rule checked on
what the unit read, the write and its events in the same unit, published after COMMIT.
After a membership change the member's console sockets enter or leave the room's socket
room (the API calls ``Connections.refresh_user_rooms``). The group machinery (ticks,
positions, sync) is shared with community channels (rules/group_receipts.py,
actions/group_messages.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.limits import check_rate
from raasel.actions.team_room_access import access_room, require_org_member
from raasel.actions.team_room_events import (
    refresh_room_ticks,
    room_updated_event,
    standing_events,
)
from raasel.actions.team_room_views import room_member_view, room_view
from raasel.errors import Forbidden, NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.realtime.team_rooms import team_room
from raasel.rules.team_rooms import (
    MAX_INITIAL_MEMBERS,
    RoomMemberStatus,
    RoomStatus,
    check_active,
    check_may_manage,
    check_name,
    is_lead,
)
from raasel.storage.metadata import people
from raasel.storage.metadata import team_rooms as store
from raasel.storage.team_room_records import TeamRoom, TeamRoomMember
from raasel.storage.unit_batch import UnitBatch


def _max(svc: Services) -> int:
    return svc.settings.group_receipts_max_members


async def do_create_room(
    svc: Services, actor: Actor, *, name: str, member_ids: list[str]
) -> Outcome:
    """Any member of the organization creates a room; they and ``member_ids`` (active
    members of the same organization, else ``not_found``) are in it."""
    if not actor.is_member or actor.is_operator:
        raise Forbidden("team rooms are for an organization's members")
    org_id = require_org_member(actor)
    await check_rate(
        svc, "team_room_create", f"org:{org_id}", setting="outreach", what="new team rooms"
    )
    name = check_name(name)
    wanted = list(dict.fromkeys([actor.user_id, *member_ids]))
    if len(wanted) > MAX_INITIAL_MEMBERS:
        raise ValidationFailed(f"at most {MAX_INITIAL_MEMBERS} members at once")
    now = utcnow()
    room_id = new_str_id()

    async def unit(batch: UnitBatch) -> tuple[TeamRoom, TeamRoomMember]:
        conn = batch.conn
        for user_id in wanted:
            await _check_teammate(conn, org_id, user_id)
        room = TeamRoom(
            id=room_id,
            org_id=org_id,
            name=name,
            status=RoomStatus.ACTIVE,
            created_by=actor.user_id,
            created_at=now,
            updated_at=now,
            last_position=0,
            last_position_id=0,
            last_message_at=None,
            member_count=0,
            delivered_position=0,
            read_position=0,
        )
        await store.insert_room(conn, room)
        for user_id in wanted:
            room = await _set_standing(
                svc, batch, room, user_id, RoomMemberStatus.MEMBER, by=actor.user_id
            )
        return room, await _member(batch, room, actor.user_id)

    room, mine = await svc.db.run(unit, keys=[room_id])
    return Outcome(room_view(room, _max(svc), member=mine))


async def list_rooms(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """The rooms the caller is in, with their standing (unread) in each."""
    org_id = require_org_member(actor)
    async with svc.db.read(actor.scope) as conn:
        found = await store.rooms_of_member(conn, org_id, actor.user_id)
    return [room_view(r, _max(svc), member=m) for r, m in found]


async def list_org_rooms(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """A lead's overview: every room of the organization, also those they are not in
    (``membership`` only on those they are in), to join or manage; anyone else:
    ``forbidden``. Names and counts only: the messages stay the members'."""
    org_id = require_org_member(actor)
    if not is_lead(actor.role):
        raise Forbidden("only supervisors, admins and owners see every team room")
    async with svc.db.read(actor.scope) as conn:
        found = await store.rooms_of_org(conn, org_id, actor.user_id)
    return [room_view(r, _max(svc), member=m) for r, m in found]


async def get_room(svc: Services, actor: Actor, room_id: str) -> dict[str, Any]:
    async with svc.db.read(actor.scope) as conn:
        access = await access_room(conn, actor, room_id, manage=True)
    return room_view(access.room, _max(svc), member=access.member)


async def list_members(svc: Services, actor: Actor, room_id: str) -> list[dict[str, Any]]:
    async with svc.db.read(actor.scope) as conn:
        access = await access_room(conn, actor, room_id, manage=True)
        found = await store.members(conn, access.room.org_id, access.room.id)
        users = await people.get_users(conn, [m.user_id for m in found])
    return [room_member_view(m, users.get(m.user_id)) for m in found]


async def do_add_member(svc: Services, actor: Actor, room_id: str, user_id: str) -> Outcome:
    """A member (or a lead) adds a teammate; someone removed earlier may be added back."""

    async def unit(batch: UnitBatch) -> TeamRoomMember:
        access = await access_room(batch.conn, actor, room_id, lock=True, manage=True)
        check_active(access.room)
        await _check_teammate(batch.conn, access.room.org_id, user_id)
        await _set_standing(
            svc, batch, access.room, user_id, RoomMemberStatus.MEMBER, by=actor.user_id
        )
        return await _member(batch, access.room, user_id)

    member = await svc.db.run(unit, keys=[room_id])
    return Outcome({"room_id": room_id, "member": await _member_view(svc, actor, member)})


async def do_remove_member(svc: Services, actor: Actor, room_id: str, user_id: str) -> Outcome:
    """The room's creator or a lead removes a member (oneself: that is leaving)."""
    if user_id == actor.user_id:
        return await do_leave(svc, actor, room_id)

    async def unit(batch: UnitBatch) -> tuple[TeamRoomMember, int]:
        access = await access_room(batch.conn, actor, room_id, lock=True, manage=True)
        check_may_manage(access.room, actor.user_id, actor.role)
        member = await store.get_member(batch.conn, access.room.org_id, room_id, user_id)
        if member is None or member.status != RoomMemberStatus.MEMBER:
            raise NotFound("member not found")
        await _set_standing(
            svc, batch, access.room, user_id, RoomMemberStatus.REMOVED, by=actor.user_id
        )
        return await _member(batch, access.room, user_id), access.room.last_position

    member, position = await svc.db.run(unit, keys=[room_id])
    view = await _member_view(svc, actor, member)
    # ``position``: the room's last message when the removal committed; no later one
    # reaches the removed member (realtime/room_screen.py).
    return Outcome({"room_id": room_id, "member": view, "position": position})


async def do_leave(svc: Services, actor: Actor, room_id: str) -> Outcome:
    """A member leaves (also an archived room, which they keep out of their list)."""

    async def unit(batch: UnitBatch) -> None:
        access = await access_room(batch.conn, actor, room_id, lock=True)
        await _set_standing(
            svc, batch, access.room, actor.user_id, RoomMemberStatus.LEFT, by=actor.user_id
        )

    await svc.db.run(unit, keys=[room_id])
    return Outcome({"room_id": room_id, "status": RoomMemberStatus.LEFT})


async def do_archive(svc: Services, actor: Actor, room_id: str) -> Outcome:
    """Archive a room: read-only from then on (its members keep reading it)."""

    async def unit(batch: UnitBatch) -> TeamRoom:
        access = await access_room(batch.conn, actor, room_id, lock=True, manage=True)
        room = access.room
        check_may_manage(room, actor.user_id, actor.role)
        if room.status == RoomStatus.ARCHIVED:
            return room
        changes = {"status": RoomStatus.ARCHIVED, "updated_at": utcnow()}
        await store.update_room(batch.conn, room, changes)
        room = room.but(**changes)
        batch.emit(room_updated_event(room, _max(svc)))
        return room

    room = await svc.db.run(unit, keys=[room_id])
    return Outcome(room_view(room, _max(svc)))


async def rooms_of_agent(svc: Services, actor: Actor) -> list[str]:
    """The team rooms a console socket of ``actor`` joins: those of the rooms they are a
    member of in the organization the socket acts for (realtime/connections.py asks on
    connect and on ``refresh_user_rooms``)."""
    if not actor.is_member or actor.org_id is None:
        return []
    async with svc.db.read(actor.scope) as conn:
        ids = await store.member_room_ids(conn, actor.org_id, actor.user_id)
    return [team_room(i) for i in ids]


async def _check_teammate(conn: AsyncConnection, org_id: str, user_id: str) -> None:
    membership = await people.get_membership(conn, org_id, user_id)
    if membership is None or not membership.is_active:
        raise NotFound("member not found")


async def _member(batch: UnitBatch, room: TeamRoom, user_id: str) -> TeamRoomMember:
    member = await store.get_member(batch.conn, room.org_id, room.id, user_id)
    assert member is not None
    return member


async def _member_view(svc: Services, actor: Actor, member: TeamRoomMember) -> dict[str, Any]:
    async with svc.db.read(actor.scope) as conn:
        users = await people.get_users(conn, [member.user_id])
    return room_member_view(member, users.get(member.user_id))


async def _set_standing(
    svc: Services,
    batch: UnitBatch,
    room: TeamRoom,
    user_id: str,
    status: RoomMemberStatus,
    *,
    by: str,
) -> TeamRoom:
    """Store ``user_id``'s standing in the room, count it, recompute the group's ticks
    and emit the standing; the room with its new count."""
    conn = batch.conn
    was = await store.get_member(conn, room.org_id, room.id, user_id)
    if was is not None and was.status == status:
        return room  # already so: nothing changes, nobody is told
    now = utcnow()
    if status == RoomMemberStatus.MEMBER:  # (re)joins at the last position
        member = TeamRoomMember(
            room_id=room.id,
            user_id=user_id,
            org_id=room.org_id,
            status=status,
            delivered_position=room.last_position,
            read_position=room.last_position,
            added_by=by,
            joined_at=now,
            updated_at=now,
        )
    else:
        assert was is not None
        member = was.but(status=status, updated_at=now)
    await store.put_member(conn, member, is_new=was is None)
    counted_before = was is not None and was.status == RoomMemberStatus.MEMBER
    counted_now = status == RoomMemberStatus.MEMBER
    if counted_before != counted_now:
        count = room.member_count + (1 if counted_now else -1)
        changes = {"member_count": count}
        if counted_before:  # a departure: nodes re-check their sockets at the next event
            changes["departures"] = room.departures + 1
        await store.update_room(conn, room, changes)
        room = room.but(**changes)
        room, ticks = await refresh_room_ticks(conn, room, _max(svc))
        batch.emit(*ticks)
    user = (await people.get_users(conn, [user_id])).get(user_id)
    batch.emit(*standing_events(room, member, user, _max(svc)))
    return room
