"""Publishes committed events to Socket.IO rooms (in-process, or across nodes: redis_fanout).

Order: the events of one ``publish`` call, and of successive awaited calls, reach every
recipient (on this node or another) in call order: each emit fixes its place
synchronously, before its first await (redis_fanout.py queues the remote copy and
schedules the local sends then). The committer's one after-commit task awaits each
batch's ``publish`` before the next, so a conversation's events go out in commit order.
Emits run one after another in the caller's task: a task per event cost more than the
emit itself (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from raasel.actions.context import Event
from raasel.observability import EVENTS_PUBLISHED

log = structlog.get_logger(__name__)

# Before an event to these rooms is delivered on this node: the sids that must miss it
# (realtime/room_screen.py takes departed members out of group rooms first).
Screen = Callable[[Iterable[str], Any], Awaitable[list[str]]]


class EventBus:
    def __init__(self, sio: Any, screen: Screen | None = None) -> None:
        self._sio = sio
        self._screen = screen

    async def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            if not event.rooms:
                continue
            try:
                skip: str | list[str] | None = event.skip_sid
                if self._screen is not None:
                    refused = await self._screen(event.rooms, event.payload)
                    if refused:
                        skip = [*refused, *([event.skip_sid] if event.skip_sid else [])]
                await self._sio.emit(event.name, event.payload, to=list(event.rooms), skip_sid=skip)
                _published(event.name).inc()
            except Exception:  # a lost fan-out must not fail the (already stored) action
                log.exception("event publish failed", event=event.name)


@functools.cache
def _published(name: str) -> Any:
    """The counter child per event name, looked up once (``labels`` costs per call)."""
    return EVENTS_PUBLISHED.labels(name)
