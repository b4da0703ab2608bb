"""Receipts of group conversations (community channels, team rooms), pure.

WhatsApp's rule as arithmetic on positions: each member keeps delivered/read watermarks;
the group's ticks are their minimum. Two ticks at position *p* once every member's
devices received it (the minimum delivered watermark reached *p*), blue once every
member read it. Above a member count no per-member receipts are kept.
"""

from __future__ import annotations

from typing import Any, Protocol

from raasel.errors import ValidationFailed


class Watermarks(Protocol):
    @property
    def delivered_position(self) -> int: ...

    @property
    def read_position(self) -> int: ...


class GroupTicks(Watermarks, Protocol):
    """A group conversation's row: its last position, member count and ticks."""

    @property
    def last_position(self) -> int: ...

    @property
    def member_count(self) -> int: ...


def receipts_tracked(member_count: int, max_members: int) -> bool:
    """Per-member receipts only up to ``max_members`` members (WhatsApp's rule of thumb:
    beyond, every message would cost a row per member and a tick nobody can reach)."""
    return member_count <= max_members


def advance(member: Watermarks, field: str, up_to: int, last: int) -> dict[str, int]:
    """The watermark changes a receipt makes: forward only, never past the last
    position; reading implies delivery."""
    if field not in ("delivered", "read"):
        raise ValidationFailed("field must be delivered or read")
    position = max(0, min(up_to, last))
    changes: dict[str, int] = {}
    if position > member.delivered_position:
        changes["delivered_position"] = position
    if field == "read" and position > member.read_position:
        changes["read_position"] = position
    return changes


def moved_ticks(
    group: GroupTicks, lowest_delivered: int | None, lowest_read: int | None
) -> dict[str, int]:
    """The group's new ticks from its members' lowest watermarks (None: no members),
    or nothing when they did not move. Ticks never go back (a member joins at the last
    position; a group that grew past the limit and shrank again may hold older ones)."""
    last = group.last_position
    delivered = max(
        last if lowest_delivered is None else lowest_delivered, group.delivered_position
    )
    read = max(last if lowest_read is None else lowest_read, group.read_position)
    if (delivered, read) == (group.delivered_position, group.read_position):
        return {}
    return {"delivered_position": delivered, "read_position": read}


def receipts_view(group: GroupTicks, max_members: int) -> dict[str, Any]:
    """The group's ticks as clients see them, or ``tracked: false`` above the limit."""
    if not receipts_tracked(group.member_count, max_members):
        return {
            "tracked": False,
            "max_members": max_members,
            "delivered_position": None,
            "read_position": None,
        }
    return {
        "tracked": True,
        "max_members": max_members,
        "delivered_position": group.delivered_position,
        "read_position": group.read_position,
    }
