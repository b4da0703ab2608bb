"""Who is connected to this node, as whom, in which rooms; and revocation on every node.

The registry owns sid -> actor and the rooms an actor joins. Authority changes reach
every node as a small control message (``Revocation``, through redis_fanout.py; with no
Redis this node is the only one), and each node drops or re-rooms its matching sockets:

- a session ended (logout, a refresh token replayed): its sockets are told
  ``session:ended`` and disconnected, no database read needed;
- a membership changed (role, groups, deactivation): each node holding that member's
  sockets reloads the actor once per session; a changed role or groups moves the socket
  to its new rooms (``session:updated``), an ended membership drops it.

A socket's session is also re-checked when its access token expires and every
``recheck_seconds`` after: a session that ended while a control message was lost (Redis
down) is dropped then. After the control channel is (re)subscribed every socket is
re-checked, spread over a few seconds. docs/protocol.md, "Socket.IO connection".
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import structlog

from raasel.actions.context import Actor
from raasel.domain import Role
from raasel.realtime.room_screen import MembersAmong, RoomScreen
from raasel.realtime.rooms import (
    agent_room,
    agents_room,
    group_room,
    leads_room,
    operators_room,
    unread_room,
    user_room,
)

log = structlog.get_logger(__name__)

SWEEP_SECONDS = 0.5  # how often due re-checks run
RETRY_SECONDS = 10.0  # after a failed re-check (database unreachable), try again then
RESUBSCRIBE_SPREAD_SECONDS = 5.0
MAX_CONCURRENT_CHECKS = 8

Reason = Literal["logged_out", "revoked", "membership_ended", "session_ended"]
Reload = Callable[[Actor], Awaitable[Actor | None]]
# Rooms a socket joins beyond ``rooms_of`` that depend on stored membership (community
# channels', team rooms'): asked on connect and when ``refresh_user_rooms`` names the user.
ExtraRooms = Callable[[Actor], Awaitable[list[str]]]


def rooms_of(actor: Actor) -> list[str]:
    """The rooms a socket of ``actor`` joins (realtime/rooms.py names them)."""
    if actor.is_operator:  # the platform team's consoles, nothing of any organization
        return [operators_room()]
    if not actor.is_member or actor.org_id is None:
        return [user_room(actor.user_id)]
    rooms = [agent_room(actor.org_id, actor.user_id), agents_room(actor.org_id)]
    rooms += [group_room(g) for g in actor.group_ids]
    if actor.has_role(Role.SUPERVISOR):
        rooms.append(leads_room(actor.org_id))
    return rooms


@dataclass(frozen=True, slots=True)
class Revocation:
    """A change of authority, as it crosses Redis: ids only, never a token."""

    kind: Literal["session", "member"]
    reason: Reason
    session_id: str = ""
    org_id: str = ""
    user_id: str = ""

    @classmethod
    def session(cls, session_id: str, reason: Reason) -> Revocation:
        return cls("session", reason, session_id=session_id)

    @classmethod
    def member(cls, org_id: str, user_id: str) -> Revocation:
        return cls("member", "membership_ended", org_id=org_id, user_id=user_id)

    def matches(self, actor: Actor) -> bool:
        if self.kind == "session":
            return actor.session_id == self.session_id
        return actor.is_member and actor.org_id == self.org_id and actor.user_id == self.user_id

    def to_wire(self) -> dict[str, Any]:
        ids = {"session_id": self.session_id, "org_id": self.org_id, "user_id": self.user_id}
        return {"k": self.kind, "why": self.reason} | {k: v for k, v in ids.items() if v}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Revocation | None:
        kind, reason = data.get("k"), data.get("why")
        ids = {k: data.get(k, "") for k in ("session_id", "org_id", "user_id")}
        if not all(isinstance(v, str) for v in ids.values()):
            return None
        if kind == "session" and ids["session_id"] and reason in ("logged_out", "revoked"):
            return cls.session(ids["session_id"], reason)
        if kind == "member" and ids["org_id"] and ids["user_id"]:
            return cls.member(ids["org_id"], ids["user_id"])
        return None


class ControlLink(Protocol):
    """What the registry needs of the fan-out to reach the other nodes."""

    def broadcast_control(self, message: dict[str, Any]) -> None: ...

    def listen_control(
        self,
        on_message: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
        on_resubscribed: Callable[[], None],
    ) -> None: ...

    async def flush(self) -> None: ...


class Connections:
    """This node's sockets and their actors; see the module docstring."""

    def __init__(
        self,
        sio: Any,
        *,
        reload: Reload,
        recheck_seconds: float,
        link: ControlLink | None = None,
        extra_rooms: ExtraRooms | None = None,
        members_among: MembersAmong | None = None,
    ) -> None:
        self._sio = sio
        self._reload = reload
        self._recheck_seconds = max(recheck_seconds, 1.0)
        self._link = link
        self._extra_rooms = extra_rooms
        self._extra: dict[str, set[str]] = {}  # sid -> the extra rooms it is in
        # Extra rooms are delivered to as of each event's membership (room_screen.py).
        self.rooms_screen: RoomScreen | None = None
        if members_among is not None:
            self.rooms_screen = RoomScreen(members_among, self.actor_of, self._leave_extra)
        self._actors: dict[str, Actor] = {}
        self._unread_twins: set[str] = set()  # sids that read counts from unread:update only
        self._dropping: set[str] = set()  # told to go; their events are refused meanwhile
        self._due: dict[str, float] = {}  # sid -> epoch seconds of its next session check
        self._heap: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._sweeper: asyncio.Task[None] | None = None
        self._checks = asyncio.Semaphore(MAX_CONCURRENT_CHECKS)
        self._session_locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, its users
        self._background: set[asyncio.Task[Any]] = set()
        if link is not None:
            link.listen_control(self._on_control, self.recheck_all)

    def actor_of(self, sid: str) -> Actor | None:
        return None if sid in self._dropping else self._actors.get(sid)

    def __len__(self) -> int:
        return len(self._actors)

    # -- connect and disconnect -----------------------------------------------------------

    async def attach(self, sid: str, actor: Actor, *, unread_on_message: bool = False) -> None:
        """Register an authenticated socket and put it in its rooms.

        ``unread_on_message``: the client declared the ``message_unread`` feature (it
        reads the receiving side's count from ``message:new``); without it the socket
        also joins each room's ``~unread`` twin (realtime/rooms.py).
        Returns once the other nodes can reach it (the room directory took the rooms),
        or at once when Redis is down."""
        self._actors[sid] = actor
        if not unread_on_message:
            self._unread_twins.add(sid)
        for room in self._rooms(sid, actor):
            await self._sio.enter_room(sid, room)
        if self._extra_rooms is not None:
            extra = set(await self._extra_rooms(actor))
            self._extra[sid] = extra
            for room in sorted(extra):
                await self._sio.enter_room(sid, room)
                if self.rooms_screen is not None:
                    self.rooms_screen.entered(sid, room)
        if self._link is not None:
            await self._link.flush()
        expires = actor.token_expires_at
        when = expires.timestamp() if expires else time.time() + self._recheck_seconds
        self._schedule(sid, when)

    def _rooms(self, sid: str, actor: Actor) -> list[str]:
        rooms = rooms_of(actor)
        if sid in self._unread_twins:
            return rooms + [unread_room(room) for room in rooms]
        return rooms

    def detach(self, sid: str) -> Actor | None:
        self._due.pop(sid, None)
        self._unread_twins.discard(sid)
        for room in self._extra.pop(sid, ()):
            if self.rooms_screen is not None:
                self.rooms_screen.left(sid, room)
        return self._actors.pop(sid, None)

    async def screen(self, rooms: Iterable[str], payload: Any) -> list[str]:
        """Before an event to ``rooms`` is delivered on this node: departed members'
        sockets leave them; the sids that must miss it anyway (room_screen.py)."""
        if self.rooms_screen is None:
            return []
        return await self.rooms_screen.screen(rooms, payload)

    async def _leave_extra(self, sid: str, room: str) -> None:
        await self._sio.leave_room(sid, room)
        self._extra.get(sid, set()).discard(room)
        if self.rooms_screen is not None:
            self.rooms_screen.left(sid, room)

    async def close(self) -> None:
        tasks = [t for t in (self._sweeper, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._sweeper = None

    # -- revocation -----------------------------------------------------------------------

    async def revoke(self, revocation: Revocation) -> int:
        """Apply ``revocation`` here and send it to every other node; returns the number
        of this node's sockets it touched."""
        if self._link is not None:
            self._link.broadcast_control(revocation.to_wire())
        return await self.apply(revocation)

    async def apply(self, revocation: Revocation) -> int:
        sids = [sid for sid, actor in self._actors.items() if revocation.matches(actor)]
        if not sids:
            return 0
        if revocation.kind == "session":
            await self._drop(sids, revocation.reason)
        else:
            await self._recheck(sids, reason=revocation.reason, is_periodic=False)
        return len(sids)

    async def refresh_user_rooms(self, user_id: str) -> None:
        """A user's stored memberships changed (joined, removed from a community or a
        team room): their sockets on every node enter and leave the extra rooms to match."""
        if self._link is not None:
            self._link.broadcast_control({"k": "rooms", "user_id": user_id})
        await self._refresh_rooms(user_id)

    async def _refresh_rooms(self, user_id: str) -> None:
        if self._extra_rooms is None:
            return
        sids = [sid for sid, actor in self._actors.items() if actor.user_id == user_id]
        # One lookup per identity the user's sockets act as (an individual; a member of
        # each organization they are connected for): their stored rooms differ.
        wanted_of: dict[tuple[str | None, bool], set[str]] = {}
        for sid in sids:
            actor = self._actors.get(sid)
            if actor is None:
                continue
            key = (actor.org_id, actor.is_member)
            if key not in wanted_of:
                wanted_of[key] = set(await self._extra_rooms(actor))
            actor = self._actors.get(sid)
            if actor is None:
                continue
            wanted = wanted_of[(actor.org_id, actor.is_member)]
            held = self._extra.get(sid, set())
            for room in sorted(held - wanted):
                await self._sio.leave_room(sid, room)
                if self.rooms_screen is not None:
                    self.rooms_screen.left(sid, room)
            for room in sorted(wanted - held):
                await self._sio.enter_room(sid, room)
                if self.rooms_screen is not None:
                    self.rooms_screen.entered(sid, room)
            self._extra[sid] = set(wanted)
        if sids and self._link is not None:
            await self._link.flush()

    async def _on_control(self, message: dict[str, Any]) -> None:
        if message.get("k") == "rooms":
            user_id = message.get("user_id")
            if isinstance(user_id, str) and user_id:
                try:
                    await self._refresh_rooms(user_id)
                except Exception:
                    log.exception("room refresh failed")
            return
        revocation = Revocation.from_wire(message)
        if revocation is None:
            log.warning("unknown control message", kind=message.get("k"))
            return
        try:
            await self.apply(revocation)
        except Exception:
            log.exception("revocation failed", kind=revocation.kind)

    def recheck_all(self) -> None:
        """Re-check every socket soon, spread out (control messages may have been lost)."""
        now = time.time()
        for sid in list(self._actors):
            self._schedule(sid, now + random.uniform(0, RESUBSCRIBE_SPREAD_SECONDS))  # noqa: S311

    async def _drop(self, sids: Iterable[str], reason: Reason) -> None:
        """Tell each socket why, then disconnect it (the disconnect handler detaches it)."""
        for sid in sids:
            if sid not in self._actors or sid in self._dropping:
                continue
            self._dropping.add(sid)
            try:
                with contextlib.suppress(Exception):
                    await self._sio.emit(
                        "session:ended", {"reason": reason}, to=sid, ignore_queue=True
                    )
                await self._sio.disconnect(sid)
            finally:
                self._dropping.discard(sid)
                self.detach(sid)  # in case the disconnect handler did not run

    async def _recheck(self, sids: list[str], *, reason: Reason, is_periodic: bool) -> None:
        """Reload each session of ``sids`` once; drop, re-room or keep its sockets."""
        by_session: dict[str, list[str]] = defaultdict(list)
        for sid in sids:
            if sid in self._actors:
                by_session[self._actors[sid].session_id].append(sid)
        for session_id, group in by_session.items():
            # One check of a session at a time: a later read always lands last.
            lock, users = self._session_locks.get(session_id, (asyncio.Lock(), 0))
            self._session_locks[session_id] = (lock, users + 1)
            try:
                async with lock:
                    await self._recheck_session(group, reason=reason, is_periodic=is_periodic)
            finally:
                lock, users = self._session_locks[session_id]
                if users <= 1:
                    del self._session_locks[session_id]
                else:
                    self._session_locks[session_id] = (lock, users - 1)

    async def _recheck_session(
        self, group: list[str], *, reason: Reason, is_periodic: bool
    ) -> None:
        live = [sid for sid in group if sid in self._actors]
        if not live:
            return
        try:
            async with self._checks:
                fresh = await self._reload(self._actors[live[0]])
        except Exception:
            log.exception("session re-check failed")
            for sid in live:
                self._schedule(sid, time.time() + RETRY_SECONDS)
            return
        live = [sid for sid in live if sid in self._actors]
        if fresh is None:
            await self._drop(live, reason)
            return
        for sid in live:
            await self._move(sid, fresh)
            if is_periodic:
                self._schedule(sid, time.time() + self._recheck_seconds)

    async def _move(self, sid: str, fresh: Actor) -> None:
        old = self._actors[sid]
        fresh = replace(fresh, token_expires_at=old.token_expires_at)
        self._actors[sid] = fresh
        before, after = set(self._rooms(sid, old)), self._rooms(sid, fresh)
        if before == set(after) and (old.role, old.group_ids) == (fresh.role, fresh.group_ids):
            return
        for room in before - set(after):
            await self._sio.leave_room(sid, room)
        for room in after:
            if room not in before:
                await self._sio.enter_room(sid, room)
        if self._link is not None:
            await self._link.flush()
        update = {"org_id": fresh.org_id, "role": fresh.role, "group_ids": list(fresh.group_ids)}
        await self._sio.emit("session:updated", update, to=sid, ignore_queue=True)

    # -- session checks at token expiry -----------------------------------------------------

    def _schedule(self, sid: str, when: float) -> None:
        if sid not in self._actors:
            return
        current = self._due.get(sid)
        if current is not None and current <= when and current > time.time():
            return  # an earlier check is already due
        self._due[sid] = when
        heapq.heappush(self._heap, (when, next(self._order), sid))
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="session-checks")

    async def _sweep(self) -> None:
        while self._heap:
            await asyncio.sleep(SWEEP_SECONDS)
            now = time.time()
            due: list[str] = []
            while self._heap and self._heap[0][0] <= now:
                when, _, sid = heapq.heappop(self._heap)
                if self._due.get(sid) == when:
                    del self._due[sid]
                    due.append(sid)
            if due:
                task = asyncio.create_task(
                    self._recheck(due, reason="session_ended", is_periodic=True)
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)
