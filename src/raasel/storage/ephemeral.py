"""Ephemeral state: rate-limit logs, connection presence, assignment rotation.

Losing it loses nothing that matters (the store is the truth), so it lives in memory
on one node and in Redis when several nodes share it (``redis_ephemeral.py``).

Rate limits are sliding-window logs (docs/decisions.md, "Rate limits: a sliding-window
log"): a key keeps the times of its last ``count`` admitted events, and an event is
admitted when fewer than ``count`` fall in the last ``window_seconds``, whatever the
clock's phase. Refused events are not recorded. Token buckets (``take``, lib/rates.py) allow a large
burst with a slower refill (new widget chats from one address).
"""

from __future__ import annotations

import abc
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable

from raasel.lib.rates import Bucket, BucketState, Rate, take_token

Clock = Callable[[], float]
# Past this many keys, drop the logs that have fully expired instead of growing forever.
MAX_RATE_KEYS = 100_000


def retry_after(oldest: float, window_seconds: float, now: float) -> int:
    """Whole seconds until the oldest admitted event leaves the window (at least 1)."""
    return max(1, math.ceil(oldest + window_seconds - now))


class EphemeralState(abc.ABC):
    @abc.abstractmethod
    async def hit(self, key: str, rate: Rate, *, record: bool = True) -> int:
        """Admit one event under ``key`` if fewer than ``rate.count`` were admitted in the
        last ``rate.window_seconds``: return 0, else the seconds until one is allowed.
        ``record=False`` only asks (nothing is logged): "would one be admitted now?"."""

    @abc.abstractmethod
    async def take(self, key: str, bucket: Bucket) -> int:
        """Take one token from ``key``'s bucket: 0, or the seconds until one is there."""

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
    """One node's in-process state; ``clock`` (seconds) is injectable for tests."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        # key -> (when its newest event leaves the window, times of its admitted events)
        self._logs: dict[str, tuple[float, deque[float]]] = {}
        self._prune_at = MAX_RATE_KEYS
        self._buckets: dict[str, tuple[float, BucketState]] = {}  # key -> (full at, state)
        self._buckets_prune_at = MAX_RATE_KEYS
        self._connections: defaultdict[str, int] = defaultdict(int)
        self._rotation: dict[str, str] = {}

    async def hit(self, key: str, rate: Rate, *, record: bool = True) -> int:
        now = self._clock()
        _, log = self._logs.get(key) or (now, deque[float]())
        while log and log[0] <= now - rate.window_seconds:
            log.popleft()
        if len(log) >= rate.count:
            return retry_after(log[0] if log else now, rate.window_seconds, now)
        if not record:
            return 0
        log.append(now)
        self._logs[key] = (now + rate.window_seconds, log)
        if len(self._logs) > self._prune_at:
            self._logs = {k: v for k, v in self._logs.items() if v[0] > now}
            self._prune_at = max(MAX_RATE_KEYS, 2 * len(self._logs))  # amortized O(1) a hit
        return 0

    async def take(self, key: str, bucket: Bucket) -> int:
        now = self._clock()
        held = self._buckets.get(key)
        state, wait = take_token(held[1] if held else None, bucket, now)
        full_at = state.at + (bucket.burst - state.tokens) / bucket.per_second
        self._buckets[key] = (full_at, state)
        if len(self._buckets) > self._buckets_prune_at:  # a full bucket is no bucket
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] > now}
            self._buckets_prune_at = max(MAX_RATE_KEYS, 2 * len(self._buckets))
        return wait

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
