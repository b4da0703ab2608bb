"""Two nodes sharing one database and one Redis, as in the scale-out stack (SPEC 3).

An individual on node 1 and an agent on node 2 hold a whole conversation: assignment
(node 1 sees the agent connected on node 2 through Redis), typing, messages and ticks
across nodes. Redis is then killed and restarted mid-conversation (sends keep being
acknowledged, live fan-out comes back), and node 1 is SIGKILLed: the individual
reconnects to node 2 and resyncs with nothing lost or doubled.

The nodes share an SQLite file (WAL; two processes on one machine), or a PostgreSQL
database when ``RAASEL_TEST_DATABASE=postgresql``. Redis is a private ``redis-server``
on a free port, so that killing it disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from tests.support.clients import SocketClient, World, unique
from tests.support.databases import create_postgres_database, nodes_use_postgres, sqlite_url
from tests.support.redis_server import RedisServer
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(150)


@dataclass
class Cluster:
    redis: RedisServer
    one: RunningServer
    two: RunningServer


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    redis = RedisServer()
    redis.start()
    shared = tmp_path / "shared"
    shared.mkdir()
    database = create_postgres_database() if nodes_use_postgres() else sqlite_url(shared)
    common = {
        "RAASEL_REDIS_URL": redis.url,
        "RAASEL_DATABASE_URL": database,
        "RAASEL_ATTACHMENTS_DIR": str(shared / "attachments"),
        "RAASEL_PRESENCE_TTL_SECONDS": "3",
    }
    one = RunningServer(tmp_path / "node1", common | {"RAASEL_NODE_ID": "1"})
    two = RunningServer(tmp_path / "node2", common | {"RAASEL_NODE_ID": "2"})
    try:
        one.start()  # migrates the shared database before the second node starts
        two.start()
        yield Cluster(redis, one, two)
    finally:
        for node in (one, two):
            node.stop()
        redis.kill()


@pytest.fixture
async def worlds(cluster: Cluster) -> AsyncIterator[tuple[World, World]]:
    pair = World(cluster.one), World(cluster.two)
    yield pair
    for world in pair:
        await world.close()


async def readiness(node: RunningServer) -> dict[str, Any]:
    async with httpx.AsyncClient(verify=node.ssl_context(), timeout=5) as http:
        answer: dict[str, Any] = (await http.get(f"{node.url}/readyz")).json()
        return answer


async def send(sock: SocketClient, cid: str, text: str, client_id: str | None = None) -> str:
    ack = await sock.emit(
        "message:send",
        {"conversation_id": cid, "client_id": client_id or unique("m"), "text": text},
    )
    assert ack["ok"], ack
    return str(ack["message"]["id"])


async def test_a_conversation_across_two_nodes_survives_redis_and_node_loss(
    cluster: Cluster, worlds: tuple[World, World]
) -> None:
    on_one, on_two = worlds
    tenant = await on_two.tenant(policy="round_robin", agents=1)
    customer = await on_one.individual("Chris")
    agent = await on_two.socket(tenant.agents[0])
    assert (await agent.emit("presence:set", {"availability": "online"}))["ok"]
    customer_socket = await on_one.socket(customer)

    # What crosses Redis is JSON (no pickle anywhere data leaves the process), on the
    # channels of the nodes that hold the event's rooms.
    spy = aioredis.Redis.from_url(cluster.redis.url)
    channel = spy.pubsub()
    await channel.psubscribe("raasel:fanout:node:*")

    # Assignment across nodes: node 1 sees the agent connected on node 2.
    opened = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": tenant.org_id,
            "group_id": tenant.groups["support"]["id"],
            "text": "My order never came",
            "client_id": unique("o"),
        },
        expect=201,
    )
    cid = opened["conversation"]["id"]
    assert opened["conversation"]["status"] == "active", "the agent on node 2 was eligible"
    first_id = opened["message"]["id"]
    await agent.wait_for("conversation:updated", lambda d: d["conversation"]["id"] == cid)
    await customer_socket.wait_for("message:new", lambda d: d["message"]["kind"] == "system")

    published = None
    for _ in range(10):  # the first read returns the subscription's confirmation
        published = await channel.get_message(ignore_subscribe_messages=True, timeout=1)
        if published is not None:
            break
    assert published is not None and published["type"] == "pmessage"
    assert isinstance(json.loads(published["data"])["e"], str)
    await channel.aclose()
    await spy.aclose()

    # Typing from node 1 reaches node 2, and node 1's timer stops it.
    assert (await customer_socket.emit("typing:start", {"conversation_id": cid}))["ok"]
    await agent.wait_for("typing", lambda d: d["is_typing"] and d["user_id"] == customer.user_id)
    await agent.wait_for("typing", lambda d: not d["is_typing"], within=5)

    # Messages and ticks both ways.
    asked = await send(customer_socket, cid, "Order 1234")
    await agent.wait_for("message:new", lambda d: d["message"]["id"] == asked)
    await agent.emit("receipt:delivered", {"conversation_id": cid, "up_to": asked})
    await customer_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "org" and d["delivered_up_to"] == asked
    )
    await agent.emit("receipt:read", {"conversation_id": cid, "up_to": asked})
    await customer_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "org" and d["read_up_to"] == asked
    )
    answer = await send(agent, cid, "Looking into it")
    await customer_socket.wait_for("message:new", lambda d: d["message"]["id"] == answer)
    await customer_socket.emit("receipt:read", {"conversation_id": cid, "up_to": answer})
    await agent.wait_for(
        "receipt:update", lambda d: d["side"] == "customer" and d["read_up_to"] == answer
    )

    # Redis dies: sends are still stored and acknowledged; readiness says "degraded".
    cluster.redis.kill()
    outage = [(unique("x"), f"during outage {i}") for i in range(3)]
    outage_ids = [await send(customer_socket, cid, text, client_id) for client_id, text in outage]
    degraded = await readiness(cluster.one)
    assert degraded["status"] == "degraded" and degraded["redis"], degraded

    # Redis is back (empty): live fan-out to node 2 resumes within a few seconds.
    cluster.redis.start()
    recovered_id = None
    for attempt in range(40):
        sent = await send(customer_socket, cid, f"after outage {attempt}")
        try:
            await agent.wait_for("message:new", lambda d, s=sent: d["message"]["id"] == s, 0.5)
        except AssertionError:
            continue
        recovered_id = sent
        break
    assert recovered_id is not None, "live fan-out did not recover after Redis came back"
    assert await readiness(cluster.one) == {"status": "ok"}

    # Node 1 is SIGKILLed while the agent keeps writing; the customer moves to node 2.
    cluster.one.kill()
    missed = [await send(agent, cid, f"while you were away {i}") for i in range(3)]
    moved = await on_two.socket(customer)
    synced = await moved.emit("sync", {"conversations": [{"conversation_id": cid, "after": "0"}]})
    assert synced["ok"], synced
    messages = synced["conversations"][0]["messages"]
    ids = [m["id"] for m in messages]
    assert len(ids) == len(set(ids)), "a message was doubled"
    assert ids == sorted(ids, key=int), "resync is in order"
    acked = [first_id, asked, answer, *outage_ids, recovered_id, *missed]
    assert not set(acked) - set(ids), "an acknowledged message was lost"
    texts = [m["text"] for m in messages]
    for _, text in outage:
        assert texts.count(text) == 1

    # A retry through the other node is still the same message.
    client_id, text = outage[0]
    assert await send(moved, cid, text, client_id) == outage_ids[0]
    await asyncio.sleep(0)
