"""Which node holds sockets in which room, kept in Redis for the fan-out (redis_fanout.py).

Keys, under one hash tag so a cluster keeps them in one slot as the scripts need:

- ``{p}{fanout}:room:<room>``      set of node incarnations with a socket in the room;
- ``{p}{fanout}:node:<inc>:rooms`` set of the rooms an incarnation registered, so that
  a dead node can be erased from every room it was in;
- ``{p}{fanout}:live``             sorted set of live incarnations by deadline, pushed
  back by each node's heartbeat; any node's heartbeat erases the incarnations past it.

Channels: ``{p}fanout:node:<inc>`` (the events for one node) and ``{p}fanout:control``
(revocations, heard by every node). An incarnation is a random id per process start,
so a restarted node never inherits a dead one's entries. docs/decisions.md, "Fan-out".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# One script call for consecutive events: for each, look its rooms' nodes up and ring each
# other node's channel. KEYS: every event's room sets, in order. ARGV: own incarnation,
# node channel prefix, then per event its number of rooms and its payload. Returns nodes
# rung.
PUBLISH = """
local sent, key = 0, 1
for i = 3, #ARGV, 2 do
  local count = tonumber(ARGV[i])
  local nodes = redis.call('SUNION', unpack(KEYS, key, key + count - 1))
  key = key + count
  for _, node in ipairs(nodes) do
    if node ~= ARGV[1] then
      redis.call('PUBLISH', ARGV[2] .. node, ARGV[i + 1])
      sent = sent + 1
    end
  end
end
return sent
"""

_FORGET = """
local function forget(base, inc)
  local own = base .. 'node:' .. inc .. ':rooms'
  for _, room in ipairs(redis.call('SMEMBERS', own)) do
    redis.call('SREM', base .. 'room:' .. room, inc)
  end
  redis.call('DEL', own)
end
"""

# KEYS[1] live set. ARGV: own incarnation, ttl ms, key base. Erases dead incarnations;
# returns 1 if this incarnation was known and alive (0: Redis lost it, register again).
HEARTBEAT = (
    _FORGET
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
if known and tonumber(known) < now then known = false end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
for _, inc in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  forget(ARGV[3], inc)
  redis.call('ZREM', KEYS[1], inc)
end
if known then return 1 end
return 0
"""
)

# KEYS[1] live set. ARGV: own incarnation, key base, then every room this node holds:
# replaces whatever Redis remembers of this node with exactly those rooms.
RESET = (
    _FORGET
    + """
forget(ARGV[2], ARGV[1])
local own = ARGV[2] .. 'node:' .. ARGV[1] .. ':rooms'
for i = 3, #ARGV do
  redis.call('SADD', ARGV[2] .. 'room:' .. ARGV[i], ARGV[1])
  redis.call('SADD', own, ARGV[i])
end
return #ARGV - 2
"""
)

# KEYS[1] live set. ARGV: own incarnation, key base. A node leaving cleanly.
LEAVE = (
    _FORGET
    + """
forget(ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
)

SCRIPTS = (PUBLISH, HEARTBEAT, RESET, LEAVE)


def sha(script: str) -> str:
    """The script's id for EVALSHA (SHA-1 is what Redis names scripts by)."""
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class RoomDirectory:
    """Builds the directory's commands for one node; the caller runs them in a pipeline."""

    prefix: str
    incarnation: str

    @property
    def base(self) -> str:
        return f"{self.prefix}{{fanout}}:"

    @property
    def live(self) -> str:
        return f"{self.base}live"

    @property
    def own_channel(self) -> str:
        return self.node_channel(self.incarnation)

    @property
    def control_channel(self) -> str:
        return f"{self.prefix}fanout:control"

    def node_channel(self, incarnation: str) -> str:
        return f"{self.prefix}fanout:node:{incarnation}"

    def room_key(self, room: str) -> str:
        return f"{self.base}room:{room}"

    def own_rooms_key(self) -> str:
        return f"{self.base}node:{self.incarnation}:rooms"

    def publish(self, pipe: Any, events: Sequence[tuple[Sequence[str], str]]) -> None:
        """One script call for consecutive events (rooms, payload): each is published, in
        order, to every other node in its rooms' sets (one call, not one per event: most
        of a call's cost is redis-py's, per command, docs/benchmarks.md)."""
        keys: list[str] = []
        args: list[Any] = [self.incarnation, f"{self.prefix}fanout:node:"]
        for rooms, payload in events:
            keys += [self.room_key(r) for r in rooms]
            args += [len(rooms), payload]
        pipe.evalsha(sha(PUBLISH), len(keys), *keys, *args)

    def join(self, pipe: Any, room: str) -> None:
        pipe.sadd(self.room_key(room), self.incarnation)
        pipe.sadd(self.own_rooms_key(), room)

    def leave(self, pipe: Any, room: str) -> None:
        pipe.srem(self.room_key(room), self.incarnation)
        pipe.srem(self.own_rooms_key(), room)

    def heartbeat(self, pipe: Any, ttl_ms: int) -> None:
        pipe.evalsha(sha(HEARTBEAT), 1, self.live, self.incarnation, ttl_ms, self.base)

    def reset(self, pipe: Any, rooms: Iterable[str]) -> None:
        pipe.evalsha(sha(RESET), 1, self.live, self.incarnation, self.base, *rooms)

    def leave_all(self, pipe: Any) -> None:
        pipe.evalsha(sha(LEAVE), 1, self.live, self.incarnation, self.base)

    @staticmethod
    def load_scripts(pipe: Any) -> None:
        for script in SCRIPTS:
            pipe.script_load(script)
