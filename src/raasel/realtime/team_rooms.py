"""The room of a team room: every socket of its members (realtime/rooms.py names the
others). A member's console sockets enter it on connect and when they are added, and
leave it when they leave or are removed (realtime/connections.py,
``refresh_user_rooms``). Customers' sockets never enter it."""

from __future__ import annotations

TEAM_PREFIX = "team:"


def team_room(room_id: str) -> str:
    return f"{TEAM_PREFIX}{room_id}"
