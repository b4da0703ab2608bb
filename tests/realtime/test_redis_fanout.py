"""The cross-node fan-out against a real, private redis-server, with nodes in-process.

Each ``Node`` is a python-socketio server with the Redis manager and fake sockets (the
manager's own bookkeeping, no transport): what a socket would be sent is recorded.
A spy subscribed to every node channel counts what crosses Redis, so the tests assert
exactly which nodes hear an event, not only that the right sockets got it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import socketio
from redis import asyncio as aioredis

from raasel.actions.context import Event
from raasel.realtime.bus import EventBus
from raasel.realtime.redis_fanout import RedisFanout
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.timeout(60)

PREFIX = "t:"


class Node:
    """One node: a Socket.IO server whose sockets are bookkeeping only."""

    def __init__(self, url: str, ttl: float = 30.0) -> None:
        self.manager = RedisFanout(url, prefix=PREFIX, node_ttl=ttl, timeout=0.5)
        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=self.manager)
        self.bus = EventBus(self.sio)
        self.sent: list[tuple[str, str, Any]] = []  # (sid, event, data)
        self._sid_of: dict[str, str] = {}

        async def record(eio_sid: str, pkt: Any) -> None:
            payload = pkt.data
            name, data = json.loads(payload[payload.index("[") :])
            self.sent.append((self._sid_of[eio_sid], name, data))

        self.sio._send_eio_packet = record  # type: ignore[method-assign]
        self.manager.start()

    async def socket(self, *rooms: str) -> str:
        eio_sid = uuid.uuid4().hex
        sid = await self.manager.connect(eio_sid, "/")
        self._sid_of[eio_sid] = sid
        for room in rooms:
            await self.sio.enter_room(sid, room)
        await self.manager.flush()
        return str(sid)

    async def wait_subscribed(self) -> None:
        for _ in range(100):
            if self.manager.is_subscribed:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the node did not subscribe")

    def got(self, event: str) -> list[tuple[str, Any]]:
        return [(sid, data) for sid, name, data in self.sent if name == event]

    async def close(self) -> None:
        await self.manager.close()


class Spy:
    """Counts every message published on any node channel."""

    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.pubsub = self.redis.pubsub()
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pubsub.psubscribe(f"{PREFIX}fanout:node:*")
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] == "pmessage":
                channel = message["channel"].decode()
                self.messages.append((channel.rsplit(":", 1)[1], json.loads(message["data"])))

    def to(self, node: Node) -> list[dict[str, Any]]:
        return [m for inc, m in self.messages if inc == node.manager.incarnation]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await self._task
        await self.pubsub.aclose()
        await self.redis.aclose()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.kill()


@pytest.fixture
async def spy(redis_server: RedisServer) -> AsyncIterator[Spy]:
    watcher = Spy(redis_server.url)
    await watcher.start()
    yield watcher
    await watcher.close()


@pytest.fixture
async def nodes(redis_server: RedisServer) -> AsyncIterator[list[Node]]:
    made = [Node(redis_server.url) for _ in range(3)]
    for node in made:
        await node.wait_subscribed()
    yield made
    for node in made:
        await node.close()


async def settle(*conditions: Any, within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if all(c() for c in conditions):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def test_an_event_rings_only_the_nodes_that_hold_its_rooms(
    nodes: list[Node], spy: Spy
) -> None:
    a, b, c = nodes
    local = await a.socket("user:1")
    remote = await b.socket("user:1", "group:9")
    elsewhere = await c.socket("user:2")

    await a.bus.publish([Event("message:new", {"n": 1}, ("user:1",))])
    await settle(lambda: b.got("message:new"))
    assert a.got("message:new") == [(local, {"n": 1})], "delivered in-process"
    assert b.got("message:new") == [(remote, {"n": 1})]
    assert c.got("message:new") == [] and elsewhere
    await asyncio.sleep(0.2)
    assert len(spy.to(b)) == 1, "one message for the node holding the room"
    assert spy.to(c) == [] and spy.to(a) == [], "nothing for nodes without members"

    # An event for rooms held only here never reaches Redis's channels.
    await a.socket("agent:5:6")
    await a.bus.publish([Event("typing", {"n": 2}, ("agent:5:6",))])
    await asyncio.sleep(0.2)
    assert len(spy.messages) == 1

    # Several rooms on one node: one message, and the socket gets the event once.
    await a.bus.publish([Event("queue:updated", {"n": 3}, ("user:1", "group:9"))])
    await settle(lambda: b.got("queue:updated"))
    await asyncio.sleep(0.1)
    assert b.got("queue:updated") == [(remote, {"n": 3})]
    assert len(spy.to(b)) == 2


async def test_skip_sid_and_leaving_a_room(nodes: list[Node], spy: Spy) -> None:
    a, b, _ = nodes
    sender = await a.socket("user:7")
    other = await b.socket("user:7")
    await a.bus.publish([Event("typing", {"n": 1}, ("user:7",), skip_sid=sender)])
    await settle(lambda: b.got("typing"))
    assert a.got("typing") == [] and b.got("typing") == [(other, {"n": 1})]

    await b.sio.leave_room(other, "user:7")
    await b.manager.flush()
    await a.bus.publish([Event("typing", {"n": 2}, ("user:7",))])
    await asyncio.sleep(0.3)
    assert len(spy.to(b)) == 1, "a node that left the room is not rung again"

    # A disconnect leaves every room of the socket.
    again = await b.socket("user:8")
    await b.manager.disconnect(again, "/")
    await b.manager.flush()
    await a.bus.publish([Event("typing", {"n": 3}, ("user:8",))])
    await asyncio.sleep(0.3)
    assert len(spy.to(b)) == 1


async def test_one_publishers_events_arrive_in_publish_order(nodes: list[Node]) -> None:
    a, b, c = nodes
    await b.socket("conv:1")
    await c.socket("conv:1")
    # Concurrent publishers on one node, as the committer's callbacks would be.
    calls = [
        a.bus.publish([Event("message:new", {"n": 2 * i}, ("conv:1",))])
        if i % 2
        else a.bus.publish(
            [
                Event("message:new", {"n": 2 * i}, ("conv:1",)),
                Event("message:new", {"n": 2 * i + 1}, ("conv:1",)),
            ]
        )
        for i in range(200)
    ]
    tasks = [asyncio.create_task(call) for call in calls]
    await asyncio.gather(*tasks)
    expected = [n for i in range(200) for n in ((2 * i,) if i % 2 else (2 * i, 2 * i + 1))]
    for node in (b, c):
        await settle(lambda node=node: len(node.got("message:new")) == len(expected))
        assert [d["n"] for _, d in node.got("message:new")] == expected


async def test_events_sent_in_one_script_call_each_ring_their_own_rooms_nodes(
    nodes: list[Node], spy: Spy
) -> None:
    """Consecutive events go to Redis in one script call (room_directory.PUBLISH); each
    still rings exactly the nodes of its own rooms, in order."""
    a, b, c = nodes
    on_b = await b.socket("room:x")
    on_c = await c.socket("room:y")
    await a.bus.publish(
        [
            Event("message:new", {"n": 1}, ("room:x",)),
            Event("message:new", {"n": 2}, ("room:y",)),
            Event("message:new", {"n": 3}, ("room:x", "room:y")),
            Event("message:new", {"n": 4}, ("room:nobody",)),
        ]
    )
    await settle(lambda: len(b.got("message:new")) == 2, lambda: len(c.got("message:new")) == 2)
    await asyncio.sleep(0.1)
    assert b.got("message:new") == [(on_b, {"n": 1}), (on_b, {"n": 3})]
    assert c.got("message:new") == [(on_c, {"n": 2}), (on_c, {"n": 3})]
    assert len(spy.to(b)) == 2 and len(spy.to(c)) == 2 and spy.to(a) == []


async def test_a_dead_node_is_erased_from_the_directory(redis_server: RedisServer) -> None:
    a, b = Node(redis_server.url, ttl=1.0), Node(redis_server.url, ttl=1.0)
    redis = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        await a.wait_subscribed()
        await b.wait_subscribed()
        await b.socket("user:3")
        room = f"{PREFIX}{{fanout}}:room:user:3"
        assert await redis.smembers(room) == {b.manager.incarnation}
        # SIGKILL-like: stop b's tasks without its clean leave.
        for task in b.manager._tasks:
            task.cancel()
        await settle(lambda: all(t.done() for t in b.manager._tasks))
        for _ in range(100):
            if not await redis.exists(room):
                break
            await asyncio.sleep(0.05)
        assert not await redis.exists(room), "a's heartbeat erased the dead node"
        assert not await redis.exists(f"{PREFIX}{{fanout}}:node:{b.manager.incarnation}:rooms")
        b.manager._tasks = []
    finally:
        await redis.aclose()
        await a.close()
        await b.close()


async def test_a_clean_stop_leaves_the_directory(redis_server: RedisServer) -> None:
    node = Node(redis_server.url)
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        await node.wait_subscribed()
        await node.socket("user:4", "group:4")
        assert await redis.exists(f"{PREFIX}{{fanout}}:room:user:4")
        await node.close()
        assert await redis.keys(f"{PREFIX}*") == []
    finally:
        await redis.aclose()


async def test_redis_down_keeps_local_delivery_and_recovers(redis_server: RedisServer) -> None:
    a, b = Node(redis_server.url), Node(redis_server.url)
    try:
        await a.wait_subscribed()
        await b.wait_subscribed()
        here = await a.socket("user:5")
        there = await b.socket("user:5")

        redis_server.kill()
        await a.bus.publish([Event("message:new", {"n": 1}, ("user:5",))])
        assert a.got("message:new") == [(here, {"n": 1})], "local delivery without Redis"

        # Back empty: b registers its rooms again when it resubscribes (within ~5 s).
        redis_server.start()
        for attempt in range(40):
            await a.bus.publish([Event("message:new", {"n": 100 + attempt}, ("user:5",))])
            await asyncio.sleep(0.25)
            if b.got("message:new"):
                break
        assert b.got("message:new"), "fan-out did not come back after Redis returned"
        assert b.got("message:new")[0][0] == there
        assert attempt * 0.25 < 8
    finally:
        await a.close()
        await b.close()


async def test_control_messages_reach_every_other_node(nodes: list[Node]) -> None:
    heard: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:

        async def on_message(message: dict[str, Any], name: str = node.manager.incarnation) -> None:
            heard.setdefault(name, []).append(message)

        node.manager.listen_control(on_message, lambda: None)
    a, b, c = nodes
    a.manager.broadcast_control({"k": "session", "session_id": "s1", "why": "logged_out"})
    await settle(lambda: len(heard) == 2)
    assert a.manager.incarnation not in heard, "the sender applies its own change itself"
    for node in (b, c):
        (message,) = heard[node.manager.incarnation]
        assert message["session_id"] == "s1" and message["o"] == a.manager.incarnation
