"""Events of community channels and who receives them (docs/protocol.md).

One emit per event to the channel's room (every member's sockets, realtime/
community_rooms.py) and the organization's consoles (its moderators): never one emit
per member. A member's own standing goes to their devices only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.community_views import channel_view, member_view, receipts_view
from raasel.actions.context import Event
from raasel.realtime.community_rooms import community_room
from raasel.realtime.rooms import agents_room, user_room
from raasel.rules.community import MemberStatus
from raasel.rules.group_receipts import moved_ticks, receipts_tracked
from raasel.storage.community_records import CommunityChannel, CommunityMember
from raasel.storage.metadata import community as store
from raasel.storage.records import User


def audience(channel: CommunityChannel) -> tuple[str, ...]:
    """Events to the channel's room carry ``members_version`` (team_room_events.py)."""
    return (community_room(channel.id), agents_room(channel.org_id))


def message_event(channel: CommunityChannel, view: dict[str, Any], skip_sid: str | None) -> Event:
    payload = {
        "channel_id": channel.id,
        "message": view,
        "position": view["position"],
        "previous_position": view["position"] - 1,
        "members_version": channel.departures,
    }
    return Event("community:message", payload, audience(channel), skip_sid)


def receipt_event(channel: CommunityChannel, max_members: int) -> Event:
    payload = {
        "channel_id": channel.id,
        **receipts_view(channel, max_members),
        "members_version": channel.departures,
    }
    return Event("community:receipt", payload, audience(channel))


def channel_events(channel: CommunityChannel, max_members: int) -> list[Event]:
    """``community:updated``: the members' view to the room, the moderators' (with the
    invitation code) to the consoles."""
    return [
        Event(
            "community:updated",
            {"channel": channel_view(channel, max_members), "members_version": channel.departures},
            (community_room(channel.id),),
        ),
        Event(
            "community:updated",
            {"channel": channel_view(channel, max_members, is_moderator=True)},
            (agents_room(channel.org_id),),
        ),
    ]


def standing_events(
    channel: CommunityChannel, member: CommunityMember, user: User | None, max_members: int
) -> list[Event]:
    """``community:membership`` to the individual's devices (a removed member learns
    only that, nothing of the channel), ``community:member`` to the moderators."""
    if member.status in (MemberStatus.MEMBER, MemberStatus.PENDING):
        mine: dict[str, Any] = {
            "channel_id": channel.id,
            "channel": channel_view(channel, max_members, member=member),
        }
    else:
        mine = {"channel_id": channel.id, "channel": None}
    mine["status"] = member.status
    mine["is_muted"] = member.is_muted
    return [
        Event("community:membership", mine, (user_room(member.user_id),)),
        Event(
            "community:member",
            {
                "channel_id": channel.id,
                "member": member_view(member, user),
                "member_count": channel.member_count,
            },
            (agents_room(channel.org_id),),
        ),
    ]


async def refresh_ticks(
    conn: AsyncConnection, channel: CommunityChannel, max_members: int
) -> tuple[CommunityChannel, list[Event]]:
    """Recompute the group's ticks (the members' minimum watermarks) after a member's
    watermark moved or the membership changed; store and announce them if they moved."""
    if not receipts_tracked(channel.member_count, max_members):
        return channel, []
    changes = moved_ticks(channel, *await store.watermarks(conn, channel.id))
    if not changes:
        return channel, []
    await store.update_channel(conn, channel.id, changes)
    channel = channel.but(**changes)
    return channel, [receipt_event(channel, max_members)]
