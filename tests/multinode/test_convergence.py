"""Every client ends with the same sequence, on two nodes under churn (issue 8).

Two nodes share the database and a private Redis. Clients on both nodes (a customer's
two devices, the assigned agent, a supervisor) write into the same conversations at once
while random clients drop and come back. Each client keeps what it received the way the
protocol says (live ``message:new``, a ``sync`` from its newest position whenever
``previous_position`` shows a gap, and after every reconnect). At the end, before any
final sync, every client holds every message of its audience with no gap and no
duplicate, in position order, identical to the server's history, and every acknowledged
message is in it exactly once. Then node 1 is SIGKILLed mid-burst: nothing acknowledged
is lost.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from raasel.storage.cassandra_session import CassandraOptions
from tests.api.test_cassandra_node import cassandra_env
from tests.multinode.conftest import SpawnCluster
from tests.multinode.test_two_nodes import Cluster
from tests.support.cassandra import drop_keyspace
from tests.support.clients import Person, SocketClient, World, unique

pytestmark = pytest.mark.timeout(240)

MESSAGES_EACH = 12


@pytest.fixture(params=["sql", "cassandra"])
def cluster(request: pytest.FixtureRequest, spawn_cluster: SpawnCluster) -> Iterator[Cluster]:
    """Two nodes on one database and one private Redis; messages in the SQL database, or
    in Cassandra (through the outbox) with the metadata in the SQL database."""
    env: dict[str, str] = {}
    keyspace: CassandraOptions | None = None
    if request.param == "cassandra":
        base: CassandraOptions = request.getfixturevalue("cassandra")
        keyspace = replace(base, keyspace=f"{base.keyspace}_pair")
        env = cassandra_env(keyspace)
    nodes = spawn_cluster(2, env)
    try:
        yield Cluster(nodes.redis, nodes.nodes[0], nodes.nodes[1])
    finally:
        if keyspace is not None:
            drop_keyspace(keyspace)


@pytest.fixture
async def worlds(cluster: Cluster) -> AsyncIterator[tuple[World, World]]:
    pair = World(cluster.one), World(cluster.two)
    yield pair
    for world in pair:
        await world.close()


@dataclass
class Holder:
    """One client's copy of the conversations, kept by the protocol's rules."""

    name: str
    world: World
    person: Person
    sees_notes: bool
    socket: SocketClient | None = None
    held: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    seen_events: int = 0
    syncs: int = 0

    def newest(self, cid: str) -> int:
        """The newest position held with nothing missing below it."""
        positions = self.held.get(cid, {})
        expected = 0
        for position in sorted(positions):
            if position != expected + 1 and not self._skippable(cid, expected, position):
                break
            expected = position
        return expected

    def _skippable(self, cid: str, below: int, position: int) -> bool:
        # A customer never sees notes: a skip is fine when the server said so.
        return not self.sees_notes and self.held[cid][position].get("_previous") == below

    async def connect(self) -> None:
        self.socket = await self.world.socket(self.person)
        self.seen_events = 0

    async def sync(self, cid: str) -> None:
        assert self.socket is not None
        while True:
            after = self.newest(cid)
            ack = await self.socket.emit(
                "sync", {"conversations": [{"conversation_id": cid, "after_position": after}]}
            )
            assert ack["ok"], ack
            result = ack["conversations"][0]
            self.syncs += 1
            previous = after
            for message in result["messages"]:
                self.held.setdefault(cid, {})[message["position"]] = message | {
                    "_previous": previous
                }
                previous = message["position"]
            if not result["has_more"]:
                return

    async def follow(self, cids: list[str]) -> None:
        """Apply the live events received so far; sync where one shows a gap."""
        assert self.socket is not None
        events = self.socket.events[self.seen_events :]
        self.seen_events += len(events)
        for name, data in events:
            if name != "message:new" or data["conversation_id"] not in cids:
                continue
            cid = data["conversation_id"]
            if data["previous_position"] > self.newest(cid):
                await self.sync(cid)
            message = data["message"]
            self.held.setdefault(cid, {})[message["position"]] = message | {
                "_previous": data["previous_position"]
            }


async def _scene(pair: tuple[World, World]) -> tuple[list[Holder], list[str], Person]:
    on_one, on_two = pair
    tenant = await on_two.tenant(policy="round_robin", agents=1, capacity=10)
    customer = await on_one.individual("Dana")
    agent_socket = await on_two.socket(tenant.agents[0])
    assert (await agent_socket.emit("presence:set", {"availability": "online"}))["ok"]
    cids = []
    for i in range(3):
        opened = await customer.open_conversation(tenant, text=f"question {i}", group="support")
        cids.append(opened["conversation"]["id"])
    await agent_socket.close()
    holders = [
        Holder("customer on node 1", on_one, customer, sees_notes=False),
        Holder("customer on node 2", on_two, customer, sees_notes=False),
        Holder("agent on node 2", on_two, tenant.agents[0], sees_notes=True),
        Holder("supervisor on node 1", on_one, tenant.supervisor, sees_notes=True),
    ]
    for holder in holders:
        await holder.connect()
        for cid in cids:
            await holder.sync(cid)
    return holders, cids, customer


async def _write(holder: Holder, cids: list[str], acked: dict[str, str], seed: int) -> None:
    """Send into every conversation; sometimes drop the connection and come back."""
    rng = random.Random(seed)
    for n in range(MESSAGES_EACH):
        for cid in cids:
            assert holder.socket is not None
            kind = "note" if holder.sees_notes and rng.random() < 0.2 else "text"
            client_id = unique("c")
            for _attempt in range(20):  # retried with the same client id until acknowledged
                try:
                    ack = await holder.socket.emit(
                        "message:send",
                        {
                            "conversation_id": cid,
                            "client_id": client_id,
                            "text": f"{holder.name} #{n}",
                            "kind": kind,
                        },
                    )
                except Exception:  # the connection dropped under the call
                    await holder.socket.close()
                    await holder.connect()
                    continue
                if ack["ok"]:
                    message = ack["message"]  # the sender gets no message:new of its own
                    acked[message["id"]] = cid
                    holder.held.setdefault(cid, {})[message["position"]] = message
                    break
                assert ack["error"]["code"] == "busy", ack
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"{holder.name}: a send was never acknowledged")
        await holder.follow(cids)
        if rng.random() < 0.25:  # churn: drop, miss some traffic, come back and resync
            assert holder.socket is not None
            await holder.socket.close()
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            await holder.connect()
            for cid in cids:
                await holder.sync(cid)


async def _settle(holders: list[Holder], cids: list[str]) -> None:
    await asyncio.sleep(1.0)  # the last live events arrive
    for holder in holders:
        await holder.follow(cids)


async def _server_history(holder: Holder, cid: str) -> list[dict[str, Any]]:
    api = holder.world.api(holder.person.token)  # on the node the holder is on now
    page = await api.get(f"/api/v1/conversations/{cid}/messages?limit=100")
    messages: list[dict[str, Any]] = page["messages"]
    while page["has_more"]:
        page = await api.get(
            f"/api/v1/conversations/{cid}/messages?limit=100&before={page['next_before']}"
        )
        messages = page["messages"] + messages
    return messages


async def test_every_client_converges_on_the_same_sequence_across_two_nodes(
    cluster: Cluster,
    worlds: tuple[World, World],
) -> None:
    holders, cids, _ = await _scene(worlds)
    acked: dict[str, str] = {}
    await asyncio.gather(*(_write(h, cids, acked, seed) for seed, h in enumerate(holders)))
    await _settle(holders, cids)
    for holder in holders:
        for cid in cids:
            truth = await _server_history(holder, cid)
            positions = [m["position"] for m in truth]
            if holder.sees_notes:
                assert positions == list(range(1, len(truth) + 1)), "positions are dense"
            held = [holder.held[cid][p] for p in sorted(holder.held.get(cid, {}))]
            assert [m["id"] for m in held] == [m["id"] for m in truth], (
                f"{holder.name} holds a different sequence of {cid}"
            )
            assert len({m["id"] for m in held}) == len(held), "a message held twice"
    everything = {m["id"] for cid in cids for m in await _server_history(holders[2], cid)}
    assert set(acked) <= everything, "an acknowledged message is missing"

    # Node 1 dies in the middle of a burst; its clients move to node 2.
    burst: dict[str, str] = {}
    on_two = holders[1].world

    async def agent_burst() -> None:
        await _write(holders[2], cids, burst, 99)

    writer = asyncio.create_task(agent_burst())
    await asyncio.sleep(0.3)
    cluster.one.kill()
    await writer
    for holder in holders:
        if holder.world is not on_two:
            holder.world = on_two
            await holder.connect()
            for cid in cids:
                await holder.sync(cid)
    await _settle(holders, cids)
    everything = {m["id"] for cid in cids for m in await _server_history(holders[2], cid)}
    assert set(burst) <= everything, "an acknowledged message was lost with node 1"
    for holder in holders:
        for cid in cids:
            truth = await _server_history(holder, cid)
            held = [holder.held[cid][p] for p in sorted(holder.held.get(cid, {}))]
            assert [m["id"] for m in held] == [m["id"] for m in truth], holder.name
