"""Receipt watermarks as arithmetic on positions (SPEC 2.3, docs/protocol.md).

A side's ``delivered_position`` and ``read_position`` only move forward and never past
the conversation's last position; reading implies delivery. Its unread count is
``received - read_count``: ``received`` grows by one with each message the side should
read, ``read_count`` is how many of those lie at or below ``read_position``.
"""

from __future__ import annotations

from dataclasses import dataclass

from raasel.domain import Side


@dataclass(frozen=True, slots=True)
class Marker:
    """Whose receipt this is, as far as the rules care."""

    side: str
    user_id: str
    is_lead: bool


def mark_counts(
    side: str, marker: Marker, assignee_id: str | None, *, field: str, is_b2b: bool = False
) -> bool:
    """Any console's delivery counts for the organization; only the assignee's reading
    (a lead's, while nobody is assigned) does. The customer's always counts, and any
    operator's for the platform (the team answers together). Between two organizations
    (``b2b``) any agent client of a side received or read it for that side."""
    if field == "delivered" or is_b2b or side in (Side.CUSTOMER, Side.PLATFORM, Side.PEER):
        return True
    return assignee_id == marker.user_id or (assignee_id is None and marker.is_lead)


def clamp(position: int, last_position: int) -> int:
    return max(0, min(position, last_position))
