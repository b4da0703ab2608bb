"""Rules of community channels, pure (docs/protocol.md, "Community channels").

Who may join how, who may write, and the group's ticks as arithmetic on positions:
two ticks once every member's devices received a message (the minimum of the members'
delivered watermarks reached its position), blue once every member read it.
"""

from __future__ import annotations

from enum import StrEnum

from raasel.errors import Forbidden, NotFound, ValidationFailed
from raasel.rules.group_receipts import advance, receipts_tracked
from raasel.storage.community_records import CommunityChannel, CommunityMember

__all__ = ["advance", "receipts_tracked"]  # the group receipts' rules, shared


class JoinMode(StrEnum):
    OPEN = "open"  # anyone who finds it joins
    INVITE = "invite"  # only through the invitation link
    APPROVAL = "approval"  # anyone asks; a moderator approves


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"  # read-only


class MemberStatus(StrEnum):
    MEMBER = "member"
    PENDING = "pending"  # asked to join an approval channel
    REMOVED = "removed"  # by a moderator: may not come back by themselves
    LEFT = "left"


# A removed member, a member who left and an outsider all get "not found": nobody learns
# whether a channel exists, nor that they were removed from one.
_NOT_FOUND = "community not found"


def join_status(
    channel: CommunityChannel, member: CommunityMember | None, *, by_invitation: bool
) -> MemberStatus:
    """What a join request makes of the caller; raises when they may not join."""
    if member is not None and member.status == MemberStatus.REMOVED:
        raise NotFound(_NOT_FOUND)
    if channel.status != ChannelStatus.ACTIVE:
        raise Forbidden("this community is archived", code="archived")
    if member is not None and member.status == MemberStatus.MEMBER:
        return MemberStatus.MEMBER
    if by_invitation or channel.join_mode == JoinMode.OPEN:
        return MemberStatus.MEMBER
    if channel.join_mode == JoinMode.APPROVAL:
        return MemberStatus.PENDING
    raise NotFound(_NOT_FOUND)  # invitation-only, asked without the link


def check_is_member(member: CommunityMember | None) -> CommunityMember:
    if member is None or member.status != MemberStatus.MEMBER:
        raise NotFound(_NOT_FOUND)
    return member


def check_may_write(channel: CommunityChannel, member: CommunityMember | None) -> None:
    """An active channel; a member who is not muted (moderators pass ``None``)."""
    if channel.status != ChannelStatus.ACTIVE:
        raise Forbidden("this community is archived and read-only", code="archived")
    if member is not None and member.is_muted:
        raise Forbidden("a moderator muted you in this community", code="muted")


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed("a community needs a name")
    return cleaned
