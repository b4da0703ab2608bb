"""Delivery to group conversations' rooms as of each event's membership (docs/decisions.md,
"The removal window of group conversations").

A removed member's sockets leave a team room's or a community channel's socket room
after the removal commits: the REST handler moves them on its node, other nodes hear of
it over Redis. A message committed in between must not reach them. So every event to such
a room carries ``members_version``, the departures the room had counted when the event
was written (a departure and a send are units on the same room: one is before the other).
Before this node delivers an event to a room, the screen compares: if the event counts
more departures than this node has checked its sockets against, it reads which of its
sockets' users are members now (``members_among``, one read per departure and node, not
per event) and takes the others out of the room first. A socket that entered the room
since the last read (its rooms were read before a departure, maybe) is checked at the
next event alike. Should the read fail, the sockets in question miss the event (they
resync by position), never the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from raasel.actions.context import Actor

log = structlog.get_logger(__name__)

# room -> (departures now, the user ids among the actors who are members now)
MembersAmong = Callable[[str, list[Actor]], Awaitable[tuple[int, set[str]]]]
ActorOf = Callable[[str], Actor | None]
Drop = Callable[[str, str], Awaitable[None]]  # (sid, room): take the socket out


class RoomScreen:
    def __init__(self, members_among: MembersAmong, actor_of: ActorOf, drop: Drop) -> None:
        self._members_among = members_among
        self._actor_of = actor_of
        self._drop = drop
        self._holders: dict[str, set[str]] = {}  # room -> this node's sids in it
        self._unchecked: dict[str, set[str]] = {}  # room -> sids entered since the last read
        self._checked: dict[str, int] = {}  # room -> departures its holders were checked at
        self._locks: dict[str, asyncio.Lock] = {}

    def entered(self, sid: str, room: str) -> None:
        self._holders.setdefault(room, set()).add(sid)
        self._unchecked.setdefault(room, set()).add(sid)

    def left(self, sid: str, room: str) -> None:
        holders = self._holders.get(room)
        if holders is None:
            return
        holders.discard(sid)
        self._unchecked.get(room, set()).discard(sid)
        if not holders:  # the node left the room: forget what it knew of it
            for known in (self._holders, self._unchecked, self._checked):
                known.pop(room, None)
            if room in self._locks and not self._locks[room].locked():
                del self._locks[room]

    async def screen(self, rooms: Iterable[str], payload: Any) -> list[str]:
        """Before an event to ``rooms`` is delivered here: take departed members' sockets
        out of them; the sids that must miss it anyway (their check failed)."""
        version = payload.get("members_version") if isinstance(payload, dict) else None
        refused: list[str] = []
        for room in rooms:
            if room in self._holders and self._is_due(room, version):
                lock = self._locks.setdefault(room, asyncio.Lock())
                async with lock:
                    if room in self._holders and self._is_due(room, version):
                        refused += await self._check(room, version)
        return refused

    def _is_due(self, room: str, version: Any) -> bool:
        if bool(self._unchecked.get(room)):
            return True
        return isinstance(version, int) and version > self._checked.get(room, -1)

    async def _check(self, room: str, version: Any) -> list[str]:
        everyone = isinstance(version, int) and version > self._checked.get(room, -1)
        sids = set(self._holders[room]) if everyone else set(self._unchecked.get(room, ()))
        actors = {sid: a for sid in sids if (a := self._actor_of(sid)) is not None}
        try:
            departures, members = await self._members_among(room, list(actors.values()))
        except Exception:
            log.exception("room membership check failed", room=room)
            return sorted(sids)
        self._unchecked.get(room, set()).difference_update(sids)
        for sid, actor in actors.items():
            if actor.user_id not in members:
                await self._drop(sid, room)
        if everyone and room in self._holders:
            self._checked[room] = max(self._checked.get(room, -1), departures)
        return []
