"""Publishes committed events to Socket.IO rooms (in-process, or through Redis: redis_fanout)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog

from raasel.actions.context import Event
from raasel.observability import EVENTS_PUBLISHED

log = structlog.get_logger(__name__)


class EventBus:
    def __init__(self, sio: Any) -> None:
        self._sio = sio

    async def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            if not event.rooms:
                continue
            try:
                await self._sio.emit(
                    event.name, event.payload, to=list(event.rooms), skip_sid=event.skip_sid
                )
                EVENTS_PUBLISHED.labels(event.name).inc()
            except Exception:  # a lost fan-out must not fail the (already stored) action
                log.exception("event publish failed", event=event.name)
