"""Ephemeral state in Redis, shared by every node (``RAASEL_REDIS_URL``).

- Rate limits: a sliding-window log per key (a sorted set of admitted events scored by
  time, ``ephemeral.py`` has the same rule in memory), trimmed, checked and appended by
  one Lua script (atomic across nodes) on Redis's clock, expiring with the window.
- Connection presence: each node is the truth for its own sockets. It keeps its counts in
  memory and mirrors them into a hash of its own, ``presence:node:{incarnation}``, whose
  expiry a heartbeat keeps pushing back. A node that dies stops beating, so its
  connections vanish after ``presence_ttl`` seconds; a Redis that restarts empty is
  refilled by the next heartbeat. A sorted set lists the live incarnations by deadline.
- Token buckets: a hash per key (tokens, time), refilled and taken by one Lua script,
  expiring once it would be full again.
- Rotation pointers: one key per group, kept for a day.

When Redis does not answer, every call falls back to this node's own view (its
connections, an in-process rate limiter and rotation) and logs, instead of failing the
caller: a send must still be stored and acknowledged (docs/decisions.md, "Redis").
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from typing import Any

import structlog
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from raasel.lib.rates import Bucket, Rate
from raasel.storage.ephemeral import Clock, EphemeralState, MemoryEphemeralState

log = structlog.get_logger(__name__)

ROTATION_TTL_SECONDS = 24 * 3600
# After a failure, use the local fallback for this long before asking Redis again, so an
# outage costs one timeout per second rather than one per call.
RETRY_AFTER_FAILURE_SECONDS = 1.0

# The hits of one loop tick, in the order they were asked (a second hit on one key sees
# the first): KEYS their logs. ARGV[1] now in ms ("" for Redis's own clock, the same for
# every node); then per key: limit, window ms, a unique member, "1" to log an admitted
# event ("0": only ask). Returns, per key, 0 (admitted, and logged if asked) or seconds
# to wait.
_HITS = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local waits = {}
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 4
  local limit, window = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  local wait = 0
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    wait = math.ceil(((tonumber(oldest) or now) + window - now) / 1000)
    if wait < 1 then wait = 1 end
  elseif ARGV[at + 3] == '1' then
    redis.call('ZADD', key, now, ARGV[at + 2])
    redis.call('PEXPIRE', key, window)
  end
  waits[i] = wait
end
return waits
"""

# KEYS[1] the bucket (a hash: tokens, at ms). ARGV: burst, tokens per second, now in ms
# ("" for Redis's clock). The same rule as lib/rates.py's take_token. Returns 0 (taken)
# or seconds to wait.
_TAKE = """
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local burst, per_second = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(held[1]), tonumber(held[2])
if not tokens or not at then
  tokens, at = burst, now
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) / 1000 * per_second)
  at = now
end
local wait = 0
if tokens >= 1 - 1e-9 then
  tokens = math.max(tokens - 1, 0)
else
  wait = math.max(1, math.ceil((1 - tokens) / per_second - 1e-9))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / per_second * 1000) + 1000)
return wait
"""

# Shared by the presence scripts: the clock, and the live incarnations (expired ones pruned).
_LIVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function total(key)
  local sum = 0
  for _, inc in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    sum = sum + tonumber(redis.call('HGET', ARGV[3] .. inc, key) or '0')
  end
  return sum
end
"""

# KEYS[1] live set, KEYS[2] this node's hash. ARGV: incarnation, ttl ms, hash prefix,
# presence key, this node's count for it. Returns the count over every live node.
_SET_COUNT = (
    _LIVE
    + """
if tonumber(ARGV[5]) > 0 then
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
else
  redis.call('HDEL', KEYS[2], ARGV[4])
end
redis.call('PEXPIRE', KEYS[2], ttl)
return total(ARGV[4])
"""
)

# Same KEYS and first three ARGV; then the presence keys. Returns those connected anywhere.
_CONNECTED = (
    _LIVE
    + """
local found = {}
for i = 4, #ARGV do
  if total(ARGV[i]) > 0 then found[#found + 1] = ARGV[i] end
end
return found
"""
)

# Same KEYS and first three ARGV; then key, count pairs: rewrites this node's whole hash.
_HEARTBEAT = (
    _LIVE
    + """
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
"""
)


class RedisEphemeralState(EphemeralState):
    """Rate limits, presence and rotation shared by all nodes through one Redis."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "raasel:",
        presence_ttl: float = 30.0,
        timeout: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        """``clock`` (seconds) replaces Redis's own clock for rate limits, for tests."""
        # A blocking pool: under a burst, commands wait (up to ``timeout``) for one of
        # the connections instead of failing with MaxConnectionsError (seen in the
        # two-node benchmark with the default pool).
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=timeout,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            decode_responses=True,
        )
        self._redis: aioredis.Redis = aioredis.Redis.from_pool(pool)  # closes the pool with it
        self._prefix = prefix
        # The hash tag keeps every presence key in one cluster slot, as the scripts need.
        self._presence = f"{prefix}{{presence}}:"
        self._incarnation = uuid.uuid4().hex
        self._ttl_ms = max(int(presence_ttl * 1000), 1000)
        self._local: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._heartbeat: asyncio.Task[None] | None = None
        self._is_registered = False  # has this node written presence (and so beats)?
        self._clock = clock
        self._fallback = MemoryEphemeralState(clock or time.monotonic)
        self._down_until = 0.0
        self._hits = self._redis.register_script(_HITS)
        # Rate-limit hits asked in one loop tick, sent as one script call (a send's hit
        # was one round trip of its own: 14% of a busy node's CPU, docs/benchmarks.md).
        self._pending_hits: list[tuple[str, Rate, bool, asyncio.Future[int]]] = []
        self._hit_tasks: set[asyncio.Task[None]] = set()
        self._take = self._redis.register_script(_TAKE)
        self._set_count = self._redis.register_script(_SET_COUNT)
        self._connected = self._redis.register_script(_CONNECTED)
        self._beat = self._redis.register_script(_HEARTBEAT)

    # -- failure handling ---------------------------------------------------------------

    def _is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, operation: str, exc: BaseException) -> None:
        if not self._is_down():
            log.warning("redis unavailable", operation=operation, error=type(exc).__name__)
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS

    async def check(self) -> str | None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            return type(exc).__name__
        return None

    # -- rate limits ----------------------------------------------------------------------

    async def hit(self, key: str, rate: Rate, *, record: bool = True) -> int:
        if self._is_down():
            return await self._fallback.hit(key, rate, record=record)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if not self._pending_hits:
            asyncio.get_running_loop().call_soon(self._send_hits)
        self._pending_hits.append((key, rate, record, future))
        return await future

    def _send_hits(self) -> None:
        hits, self._pending_hits = self._pending_hits, []
        task = asyncio.create_task(self._run_hits(hits))
        self._hit_tasks.add(task)
        task.add_done_callback(self._hit_tasks.discard)

    async def _run_hits(self, hits: list[tuple[str, Rate, bool, asyncio.Future[int]]]) -> None:
        """One script call for the tick's hits; each falls back to this node's own view
        when Redis does not answer."""
        now_ms = "" if self._clock is None else int(self._clock() * 1000)
        args: list[Any] = [now_ms]
        for _, rate, record, _ in hits:
            args += [rate.count, rate.window_seconds * 1000, uuid.uuid4().hex, int(record)]
        try:
            # One hash tag: a cluster keeps every log in one slot, as one script needs.
            keys = [f"{self._prefix}{{rate-log}}:{key}" for key, *_ in hits]
            waits: list[Any] = await self._hits(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._failed("hit", exc)
            for key, rate, record, future in hits:
                if not future.done():
                    future.set_result(await self._fallback.hit(key, rate, record=record))
            return
        except BaseException:  # cancelled (the node stops): so are the hits it carried
            for *_, future in hits:
                future.cancel()
            raise
        for (*_, future), wait in zip(hits, waits, strict=True):
            if not future.done():
                future.set_result(int(wait))

    async def take(self, key: str, bucket: Bucket) -> int:
        if not self._is_down():
            try:
                now_ms = "" if self._clock is None else int(self._clock() * 1000)
                wait = await self._take(
                    keys=[f"{self._prefix}bucket:{key}"],
                    args=[bucket.burst, repr(bucket.per_second), now_ms],
                )
                return int(wait)
            except (RedisError, OSError) as exc:
                self._failed("take", exc)
        return await self._fallback.take(key, bucket)

    # -- presence -------------------------------------------------------------------------

    def _presence_keys(self) -> list[str]:
        return [f"{self._presence}live", f"{self._presence}node:{self._incarnation}"]

    def _presence_args(self) -> list[Any]:
        return [self._incarnation, self._ttl_ms, f"{self._presence}node:"]

    async def _publish_count(self, user_id: str) -> int:
        local = self._local[user_id]
        if local <= 0:
            del self._local[user_id]
        self._ensure_heartbeat()
        if self._is_down():
            return max(local, 0)
        try:
            async with self._lock:  # keeps this node's writes for one key in order
                total = await self._set_count(
                    keys=self._presence_keys(),
                    args=[*self._presence_args(), user_id, self._local[user_id]],
                )
            return int(total)
        except (RedisError, OSError) as exc:
            self._failed("presence", exc)
            return max(local, 0)

    async def connection_opened(self, user_id: str) -> int:
        self._local[user_id] += 1
        return await self._publish_count(user_id)

    async def connection_closed(self, user_id: str) -> int:
        self._local[user_id] -= 1
        return await self._publish_count(user_id)

    async def connected(self, user_ids: list[str]) -> set[str]:
        here = {u for u in user_ids if self._local[u] > 0}
        if not user_ids or self._is_down():
            return here
        try:
            found = await self._connected(
                keys=self._presence_keys(), args=[*self._presence_args(), *user_ids]
            )
        except (RedisError, OSError) as exc:
            self._failed("presence", exc)
            return here
        return here | set(found)

    def _ensure_heartbeat(self) -> None:
        self._is_registered = True
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeat_loop())

    async def _heartbeat_loop(self) -> None:
        """Every third of the TTL, rewrite this node's counts and push its expiry back."""
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                await self.beat()
            except (RedisError, OSError) as exc:
                self._failed("heartbeat", exc)

    async def beat(self) -> None:
        """One heartbeat (the loop calls it; tests call it to skip the wait)."""
        pairs = [item for key, n in self._local.items() if n > 0 for item in (key, n)]
        async with self._lock:
            await self._beat(keys=self._presence_keys(), args=[*self._presence_args(), *pairs])

    def stop_heartbeat(self) -> None:
        """Stop beating without cleaning up: what a killed node looks like to the others."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None

    # -- rotation -------------------------------------------------------------------------

    async def rotation_get(self, group_id: str) -> str | None:
        if not self._is_down():
            try:
                value = await self._redis.get(f"{self._prefix}rotation:{group_id}")
                return str(value) if value is not None else None
            except (RedisError, OSError) as exc:
                self._failed("rotation", exc)
        return await self._fallback.rotation_get(group_id)

    async def rotation_set(self, group_id: str, user_id: str) -> None:
        await self._fallback.rotation_set(group_id, user_id)
        if self._is_down():
            return
        try:
            await self._redis.set(
                f"{self._prefix}rotation:{group_id}", user_id, ex=ROTATION_TTL_SECONDS
            )
        except (RedisError, OSError) as exc:
            self._failed("rotation", exc)

    async def close(self) -> None:
        """A clean stop: this node's connections leave the shared view at once."""
        self.stop_heartbeat()
        if self._hit_tasks:  # hits already sent get their answers before the client closes
            await asyncio.gather(*self._hit_tasks, return_exceptions=True)
        if not self._is_registered:
            await self._redis.aclose()
            return
        with contextlib.suppress(RedisError, OSError):
            live, mine = self._presence_keys()
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(live, self._incarnation)
                pipe.delete(mine)
                await pipe.execute()
        await self._redis.aclose()
