"""Ephemeral state: rate-limit counters, connection presence, assignment rotation.

Losing it loses nothing that matters (the store is the truth), so it lives in memory
on one node and in Redis when several nodes share it (``redis_ephemeral.py``).
"""

from __future__ import annotations

import abc
import time
from collections import defaultdict

from raasel.lib.rates import Rate


class EphemeralState(abc.ABC):
    @abc.abstractmethod
    async def hit(self, key: str, rate: Rate) -> int:
        """Count one event under ``key``; return 0 if allowed, else seconds to wait."""

    @abc.abstractmethod
    async def connection_opened(self, user_id: str) -> int:
        """Record a connected device; return the user's connection count."""

    @abc.abstractmethod
    async def connection_closed(self, user_id: str) -> int:
        """Forget a connected device; return the user's remaining connection count."""

    @abc.abstractmethod
    async def connected(self, user_ids: list[str]) -> set[str]:
        """Which of ``user_ids`` have at least one connected device."""

    @abc.abstractmethod
    async def rotation_get(self, group_id: str) -> str | None:
        """The agent last given a conversation of ``group_id`` by round-robin."""

    @abc.abstractmethod
    async def rotation_set(self, group_id: str, user_id: str) -> None: ...

    async def check(self) -> str | None:
        """Why the back end cannot be reached (for /readyz), or None when it answers."""
        return None

    async def close(self) -> None:
        """Release connections (the Redis back end overrides this)."""
        return None


class MemoryEphemeralState(EphemeralState):
    """One node's in-process state."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._connections: defaultdict[str, int] = defaultdict(int)
        self._rotation: dict[str, str] = {}

    async def hit(self, key: str, rate: Rate) -> int:
        now = int(time.monotonic())
        window = now // rate.window_seconds
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= rate.count:
            return max(1, (window + 1) * rate.window_seconds - now)
        self._windows[key] = (start, count + 1)
        if len(self._windows) > 100_000:  # drop stale windows instead of growing forever
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return 0

    async def connection_opened(self, user_id: str) -> int:
        self._connections[user_id] += 1
        return self._connections[user_id]

    async def connection_closed(self, user_id: str) -> int:
        count = max(self._connections[user_id] - 1, 0)
        if count:
            self._connections[user_id] = count
        else:
            self._connections.pop(user_id, None)
        return count

    async def connected(self, user_ids: list[str]) -> set[str]:
        return {u for u in user_ids if self._connections.get(u, 0) > 0}

    async def rotation_get(self, group_id: str) -> str | None:
        return self._rotation.get(group_id)

    async def rotation_set(self, group_id: str, user_id: str) -> None:
        self._rotation[group_id] = user_id
