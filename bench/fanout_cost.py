"""What broadcasting every event to every node costs a node that has no recipient for it.

With python-socketio's Redis manager each node receives every emit of the cluster and
looks its rooms up locally. This measures that per-event work on a node without the
event's recipients (JSON decode + room lookup), the cost a per-conversation channel
scheme would save, and one Redis PUBLISH round trip for scale:

    python -m bench.fanout_cost [--events 20000] [--redis redis://127.0.0.1:6379/0]

Results: docs/decisions.md ("Redis").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import socketio
from redis import asyncio as aioredis

from raasel.realtime.redis_fanout import RedisFanout

PAYLOAD = {
    "message": {
        "id": "7301234567890123456",
        "conversation_id": "7301234567890000001",
        "sender": {"id": "7301234567890000002", "name": "Chris", "side": "customer"},
        "kind": "text",
        "text": "x" * 200,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
}
ROOMS = ["leads:1", "group:2", "agent:1:3", "user:4"]


async def foreign_event_cost(events: int) -> float:
    """Microseconds one node spends on an event none of its sockets should receive."""
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=RedisFanout("redis://", "bench"))
    manager = sio.manager
    manager.set_server(sio)
    wire = json.dumps(
        {
            "method": "emit",
            "event": "message:new",
            "data": [PAYLOAD],
            "binary": False,
            "namespace": "/",
            "room": ROOMS,
            "skip_sid": None,
            "callback": None,
            "host_id": "elsewhere",
        }
    )
    started = time.perf_counter()
    for _ in range(events):
        await manager._handle_emit(json.loads(wire))
    return (time.perf_counter() - started) / events * 1e6


async def publish_cost(url: str, events: int) -> float:
    redis = aioredis.Redis.from_url(url)
    wire = json.dumps({"method": "emit", "data": [PAYLOAD], "room": ROOMS})
    started = time.perf_counter()
    for _ in range(events):
        await redis.publish("raasel-bench", wire)
    await redis.aclose()
    return (time.perf_counter() - started) / events * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    foreign = await foreign_event_cost(args.events)
    publish = await publish_cost(args.redis, min(args.events, 5000))
    print(f"foreign event on a node without recipients: {foreign:.1f} us")
    print(f"one PUBLISH round trip (sequential): {publish:.1f} us")


if __name__ == "__main__":
    asyncio.run(main())
