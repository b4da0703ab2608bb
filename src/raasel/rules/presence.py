"""Availability follows the connection: pure rules over a membership (no I/O).

docs/protocol.md, "Availability follows the connection". The membership keeps what the
agent chose (``availability``, ``restores_availability``) and what the connection did
(``disconnected_at``, ``is_auto_away``, ``away_since``); these functions say what a
change of either writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from raasel.domain import Availability
from raasel.storage.records import Membership


def chosen(membership: Membership, availability: str, now: datetime) -> dict[str, Any]:
    """The agent chose: that holds, and it is not automatic any more."""
    is_away = availability != Availability.ONLINE
    was_away = membership.availability != Availability.ONLINE
    since = (membership.away_since or now) if was_away else now
    return {
        "availability": availability,
        "is_auto_away": False,
        "away_since": since if is_away else None,
    }


def returned(membership: Membership) -> dict[str, Any]:
    """A console connected: the disconnection is over; an automatic "away" goes back to
    "online" only when the agent asked for that (``restores_availability``)."""
    values: dict[str, Any] = {"disconnected_at": None}
    if membership.is_auto_away and membership.restores_availability:
        values |= {"availability": Availability.ONLINE, "is_auto_away": False, "away_since": None}
    return values


def is_requeue_due(
    away_since: datetime, now: datetime, group_timeout: int | None, default_timeout: int
) -> bool:
    """Has the assignee been away longer than the group allows (0: never re-queue)?"""
    timeout = default_timeout if group_timeout is None else group_timeout
    return timeout > 0 and (now - away_since).total_seconds() >= timeout
