"""Typing indicators that expire by themselves when a client vanishes.

Each "typing:start" schedules a "stopped typing" after the TTL unless refreshed;
a disconnect stops all of that socket's typing at once. The timer lives on the node
that holds the typist's socket, the only one that knows when it is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

from raasel.actions.context import Event

Publish = Callable[[list[Event]], Awaitable[None]]


class TypingTimers:
    def __init__(self, publish: Publish, ttl: float) -> None:
        self._publish = publish
        self._ttl = ttl
        self._timers: dict[tuple[str, str], tuple[asyncio.TimerHandle, Event]] = {}

    @property
    def ttl(self) -> float:
        return self._ttl

    def started(self, sid: str, conversation_id: str, event: Event) -> None:
        """Remember ``event`` (a typing start) and schedule its stop."""
        key = (sid, conversation_id)
        self._cancel(key)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self._ttl, self._expire, key)
        self._timers[key] = (handle, event)

    def stopped(self, sid: str, conversation_id: str) -> None:
        self._cancel((sid, conversation_id))

    async def disconnected(self, sid: str) -> None:
        keys = [k for k in self._timers if k[0] == sid]
        stops = [self._stop_event(self._timers[k][1]) for k in keys]
        for key in keys:
            self._cancel(key)
        if stops:
            await self._publish(stops)

    def _cancel(self, key: tuple[str, str]) -> None:
        entry = self._timers.pop(key, None)
        if entry is not None:
            entry[0].cancel()

    def _expire(self, key: tuple[str, str]) -> None:
        entry = self._timers.pop(key, None)
        if entry is not None:
            task = asyncio.ensure_future(self._publish([self._stop_event(entry[1])]))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    @staticmethod
    def _stop_event(start: Event) -> Event:
        return replace(start, payload=start.payload | {"is_typing": False, "expires_in": 0})
