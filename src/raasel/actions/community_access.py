"""Who acts on a community channel, and how: moderator, member, or nobody ("not found").

Moderators are the organization's agents (any role); creating and archiving channels
takes a supervisor. Members are individuals with an account. Everyone else, another
organization's agents included, gets "not found" for every channel, as for a missing one.
Individuals' reads run as the owner behind this membership check (CrossTenant); the
organization's reads under its tenant scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions.context import Actor
from raasel.domain import Role, UserKind
from raasel.errors import Forbidden, NotFound
from raasel.rules.community import check_is_member
from raasel.storage.community_records import CommunityChannel, CommunityMember
from raasel.storage.metadata import community as store
from raasel.storage.tenancy import CrossTenant, ReadScope

MEMBER_SCOPE = CrossTenant("community channels: an individual's reads, behind the member check")


@dataclass(frozen=True, slots=True)
class Access:
    channel: CommunityChannel
    member: CommunityMember | None  # None: a moderator

    @property
    def is_moderator(self) -> bool:
        return self.member is None


def require_person(actor: Actor) -> None:
    if actor.is_member or actor.kind != UserKind.PERSON:
        raise Forbidden("community channels are joined by individuals with an account")


def require_moderator(actor: Actor) -> str:
    if not actor.is_member or actor.org_id is None:
        raise NotFound("community not found")
    return actor.org_id


def require_lead(actor: Actor) -> str:
    org_id = require_moderator(actor)
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("requires the supervisor role")
    return org_id


def scope_of(actor: Actor) -> ReadScope:
    return actor.scope if actor.is_member else MEMBER_SCOPE


async def access_channel(
    conn: AsyncConnection, actor: Actor, channel_id: str, *, lock: bool = False
) -> Access:
    """The channel as the actor may act on it: its organization's agent moderates it,
    a member takes part; anyone else gets "not found"."""
    if actor.is_member:
        channel = await store.get_channel(conn, channel_id, org_id=actor.org_id, lock=lock)
        if channel is None:
            raise NotFound("community not found")
        return Access(channel, None)
    if actor.kind != UserKind.PERSON:
        raise NotFound("community not found")
    member = await store.get_member(conn, channel_id, actor.user_id)
    check_is_member(member)
    channel = await store.get_channel(conn, channel_id, lock=lock)
    if channel is None:
        raise NotFound("community not found")
    return Access(channel, member)
