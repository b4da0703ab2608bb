"""Community channels (SPEC 1, kind ``community``): an organization's moderated group
conversation of individuals (a product community, an event's attendees).

A supervisor creates a channel; individuals join it (open), ask to (approval) or follow
its invitation link (invite, and any mode); the organization's agents moderate it
(approve, remove or mute members; remove messages in community_messages.py); an
archived channel is read-only. Each command is one unit of the engine keyed on the
channel (``Database.run``): the channel row is locked (PostgreSQL), the rule checked on
what the unit read, the write and its events in the same unit, published after COMMIT.
After a membership change the member's sockets enter or leave the channel's room
(the API calls ``Connections.refresh_user_rooms``). docs/protocol.md, "Community channels".
"""

from __future__ import annotations

import secrets
from typing import Any

from raasel.actions.community_access import (
    access_channel,
    require_lead,
    require_moderator,
    require_person,
    scope_of,
)
from raasel.actions.community_events import channel_events, refresh_ticks, standing_events
from raasel.actions.community_views import channel_view, member_view
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.limits import check_rate
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.realtime.community_rooms import community_room
from raasel.rules.community import (
    ChannelStatus,
    JoinMode,
    MemberStatus,
    check_name,
    join_status,
)
from raasel.storage.community_records import CommunityChannel, CommunityMember
from raasel.storage.metadata import community as store
from raasel.storage.metadata import organizations, people
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import UnitBatch

MEMBERS_PAGE = 500


def _max(svc: Services) -> int:
    return svc.settings.group_receipts_max_members


async def do_create_channel(
    svc: Services, actor: Actor, *, name: str, description: str, join_mode: str
) -> Outcome:
    org_id = require_lead(actor)
    await check_rate(
        svc, "community_create", f"org:{org_id}", setting="outreach", what="new communities"
    )
    if join_mode not in set(JoinMode):
        raise ValidationFailed("join_mode must be open, invite or approval")
    name = check_name(name)
    now = utcnow()
    channel_id = new_str_id()

    async def unit(batch: UnitBatch) -> CommunityChannel:
        values = {
            "id": channel_id,
            "org_id": org_id,
            "name": name,
            "description": description.strip(),
            "join_mode": join_mode,
            "status": ChannelStatus.ACTIVE,
            "invite_code": secrets.token_urlsafe(24),
            "created_by": actor.user_id,
            "created_at": now,
            "updated_at": now,
            "last_position": 0,
            "last_position_id": 0,
            "last_message_at": None,
            "member_count": 0,
            "delivered_position": 0,
            "read_position": 0,
        }
        await store.insert_channel(batch.conn, values)
        channel = await store.get_channel(batch.conn, channel_id)
        assert channel is not None
        batch.emit(*channel_events(channel, _max(svc))[1:])  # the consoles only: no members
        return channel

    channel = await svc.db.run(unit, keys=[channel_id])
    return Outcome(channel_view(channel, _max(svc), is_moderator=True))


async def list_channels(svc: Services, actor: Actor) -> list[dict[str, Any]]:
    """A moderator: the organization's channels. An individual: those they are in or
    asked to join."""
    if actor.is_member:
        org_id = require_moderator(actor)
        async with svc.db.read(actor.scope) as conn:
            channels = await store.org_channels(conn, org_id)
        return [channel_view(c, _max(svc), is_moderator=True) for c in channels]
    require_person(actor)
    async with svc.db.read(scope_of(actor)) as conn:
        found = await store.channels_of_user(conn, actor.user_id)
        orgs = {
            o.id: o
            for o in await organizations.get_orgs(conn, sorted({c.org_id for c, _ in found}))
        }
    return [channel_view(c, _max(svc), member=m, org=orgs.get(c.org_id)) for c, m in found]


async def list_joinable(svc: Services, actor: Actor, org_id: str) -> list[dict[str, Any]]:
    """An organization's channels an individual may join or ask to (never the
    invitation-only ones), with the caller's standing in each."""
    require_person(actor)
    async with svc.db.read(CrossTenant("community: an organization's joinable channels")) as conn:
        org = await organizations.get_org(conn, org_id)
        if org is None:
            raise NotFound("organization not found")
        channels = await store.joinable_channels(conn, org_id)
        mine = {c.id: m for c, m in await store.channels_of_user(conn, actor.user_id)}
        removed = {
            c.id
            for c, _ in await store.channels_of_user(conn, actor.user_id, (MemberStatus.REMOVED,))
        }
    return [
        channel_view(c, _max(svc), member=mine.get(c.id), org=org)
        for c in channels
        if c.id not in removed
    ]


async def get_channel(svc: Services, actor: Actor, channel_id: str) -> dict[str, Any]:
    async with svc.db.read(scope_of(actor)) as conn:
        access = await access_channel(conn, actor, channel_id)
        org = await organizations.get_org(conn, access.channel.org_id)
    return channel_view(
        access.channel,
        _max(svc),
        member=access.member,
        is_moderator=access.is_moderator,
        org=org,
    )


async def do_join(
    svc: Services, actor: Actor, *, channel_id: str | None = None, code: str | None = None
) -> Outcome:
    """Join an open channel, ask to join an approval one, or follow an invitation link
    (``code``). A removed member and an unknown channel or code get "not found"."""
    require_person(actor)
    await check_rate(
        svc, "community_join", f"user:{actor.user_id}", setting="open", what="community joins"
    )
    if code is not None:
        async with svc.db.read(CrossTenant("community: an invitation link's channel")) as conn:
            found = await store.channel_by_code(conn, code)
        if found is None:
            raise NotFound("community not found")
        channel_id = found.id
    assert channel_id is not None
    wanted = channel_id

    async def unit(batch: UnitBatch) -> tuple[CommunityChannel, CommunityMember]:
        conn = batch.conn
        channel = await store.get_channel(conn, wanted, lock=True)
        if channel is None or (code is not None and channel.invite_code != code):
            raise NotFound("community not found")
        member = await store.get_member(conn, channel.id, actor.user_id)
        status = join_status(channel, member, by_invitation=code is not None)
        if member is not None and member.status == status:
            return channel, member  # already in (or already asked): nothing changes
        now = utcnow()
        joined = CommunityMember(
            channel_id=channel.id,
            user_id=actor.user_id,
            org_id=channel.org_id,
            status=status,
            is_muted=member.is_muted if member else False,
            delivered_position=channel.last_position,
            read_position=channel.last_position,
            joined_at=now,
            updated_at=now,
        )
        await store.put_member(conn, joined, is_new=member is None)
        return await _announce(svc, batch, channel, joined, was=member)

    channel, member = await svc.db.run(unit, keys=[wanted])
    return Outcome(channel_view(channel, _max(svc), member=member))


async def do_leave(svc: Services, actor: Actor, channel_id: str) -> Outcome:
    require_person(actor)

    async def unit(batch: UnitBatch) -> None:
        access = await access_channel(batch.conn, actor, channel_id, lock=True)
        assert access.member is not None
        left = access.member.but(status=MemberStatus.LEFT, updated_at=utcnow())
        await store.put_member(batch.conn, left, is_new=False)
        await _announce(svc, batch, access.channel, left, was=access.member)

    await svc.db.run(unit, keys=[channel_id])
    return Outcome({"channel_id": channel_id, "status": MemberStatus.LEFT})


async def do_moderate_member(
    svc: Services,
    actor: Actor,
    channel_id: str,
    user_id: str,
    *,
    action: str,
    is_muted: bool | None = None,
) -> Outcome:
    """A moderator approves a pending member, removes a member, or (un)mutes one."""
    require_moderator(actor)

    async def unit(batch: UnitBatch) -> tuple[CommunityMember, int]:
        conn = batch.conn
        access = await access_channel(conn, actor, channel_id, lock=True)
        channel = access.channel
        member = await store.get_member(conn, channel.id, user_id)
        if member is None or member.status in (MemberStatus.LEFT, MemberStatus.REMOVED):
            raise NotFound("member not found")
        now = utcnow()
        if action == "approve":
            if member.status != MemberStatus.PENDING:
                return member, channel.last_position
            changed = member.but(
                status=MemberStatus.MEMBER,
                delivered_position=channel.last_position,
                read_position=channel.last_position,
                updated_at=now,
            )
        elif action == "remove":
            changed = member.but(status=MemberStatus.REMOVED, updated_at=now)
        elif action == "mute":
            if member.status != MemberStatus.MEMBER:
                raise NotFound("member not found")
            changed = member.but(is_muted=bool(is_muted), updated_at=now)
        else:
            raise ValidationFailed("unknown moderation action")
        await store.put_member(conn, changed, is_new=False)
        await _announce(svc, batch, channel, changed, was=member)
        return changed, channel.last_position

    changed, position = await svc.db.run(unit, keys=[channel_id])
    # ``position``: the channel's last message when the change committed; after a
    # removal no later one reaches the member (realtime/room_screen.py).
    result = {"channel_id": channel_id, "member": member_view(changed, None)}
    return Outcome(result | {"position": position})


async def do_archive(svc: Services, actor: Actor, channel_id: str) -> Outcome:
    """Archive a channel: read-only from then on (members keep reading it)."""
    require_moderator(actor)

    async def unit(batch: UnitBatch) -> CommunityChannel:
        access = await access_channel(batch.conn, actor, channel_id, lock=True)
        require_lead(actor)  # after the lookup: another organization's gets "not found"
        channel = access.channel
        if channel.status == ChannelStatus.ARCHIVED:
            return channel
        changes = {"status": ChannelStatus.ARCHIVED, "updated_at": utcnow()}
        await store.update_channel(batch.conn, channel.id, changes)
        channel = channel.but(**changes)
        batch.emit(*channel_events(channel, _max(svc)))
        return channel

    channel = await svc.db.run(unit, keys=[channel_id])
    return Outcome(channel_view(channel, _max(svc), is_moderator=True))


async def list_members(
    svc: Services, actor: Actor, channel_id: str, *, status: str
) -> list[dict[str, Any]]:
    require_moderator(actor)
    if status not in (MemberStatus.MEMBER, MemberStatus.PENDING, MemberStatus.REMOVED):
        raise ValidationFailed("status must be member, pending or removed")
    async with svc.db.read(actor.scope) as conn:
        access = await access_channel(conn, actor, channel_id)
        found = await store.members(conn, access.channel.id, (status,), MEMBERS_PAGE)
        users = await people.get_users(conn, [m.user_id for m in found])
    return [member_view(m, users.get(m.user_id)) for m in found]


async def rooms_of_person(svc: Services, actor: Actor) -> list[str]:
    """The community rooms a socket of ``actor`` joins: those of the channels they are a
    member of (realtime/connections.py asks on connect and on ``refresh_user_rooms``)."""
    if actor.is_member or actor.kind != "person":
        return []
    async with svc.db.read(CrossTenant("community: a connecting member's rooms")) as conn:
        ids = await store.member_channel_ids(conn, actor.user_id)
    return [community_room(i) for i in ids]


async def _announce(
    svc: Services,
    batch: UnitBatch,
    channel: CommunityChannel,
    member: CommunityMember,
    *,
    was: CommunityMember | None,
) -> tuple[CommunityChannel, CommunityMember]:
    """Count the membership change on the channel, recompute the group's ticks, and emit
    the member's standing and the channel's new count."""
    conn = batch.conn
    counted_before = was is not None and was.status == MemberStatus.MEMBER
    counted_now = member.status == MemberStatus.MEMBER
    if counted_before != counted_now:
        count = channel.member_count + (1 if counted_now else -1)
        changes = {"member_count": count}
        if counted_before:  # a departure: nodes re-check their sockets at the next event
            changes["departures"] = channel.departures + 1
        await store.update_channel(conn, channel.id, changes)
        channel = channel.but(**changes)
        channel, ticks = await refresh_ticks(conn, channel, _max(svc))
        batch.emit(*ticks)
    user = (await people.get_users(conn, [member.user_id])).get(member.user_id)
    batch.emit(*standing_events(channel, member, user, _max(svc)))
    return channel, member
