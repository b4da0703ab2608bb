"""The room of a community channel: every socket of its members (realtime/rooms.py
names the others). One emit to it serves every member, whatever their number; a
member's sockets enter it on connect and on joining, and leave it when they are removed
or leave (realtime/connections.py, ``refresh_user_rooms``)."""

from __future__ import annotations

COMMUNITY_PREFIX = "community:"


def community_room(channel_id: str) -> str:
    return f"{COMMUNITY_PREFIX}{channel_id}"
