"""A team room member's console follows their membership across nodes (docs/protocol.md,
"Team rooms"): added through node 1, their console on node 2 enters the room and hears
its messages; removed through node 1, it leaves it and hears no more. Two real nodes
share a database and a private Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.multinode.conftest import Nodes, SpawnCluster
from tests.support.clients import SocketClient, World, unique

pytestmark = pytest.mark.timeout(150)
ATTEMPTS = 20  # the control message crosses Redis: each attempt waits for it a little


@pytest.fixture
async def pair(spawn_cluster: SpawnCluster) -> AsyncIterator[tuple[Nodes, World, World]]:
    cluster = spawn_cluster(2)
    one, two = World(cluster.nodes[0]), World(cluster.nodes[1])
    yield cluster, one, two
    await one.close()
    await two.close()


async def send(socket: SocketClient, room_id: str) -> str:
    ack = await socket.emit(
        "room:send", {"room_id": room_id, "client_id": unique("r"), "text": unique("hi ")}
    )
    assert ack["ok"], ack
    return str(ack["message"]["id"])


async def test_room_membership_follows_adds_and_removals_on_the_other_node(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    tenant = await one.tenant(agents=2)
    ana, ben = tenant.agents
    rid = (await ana.api.post("/api/v1/rooms", {"name": "Billing"}, expect=201))["id"]
    ana_socket = await one.socket(ana)
    ben_socket = await two.socket(ben)  # connected before being added: on the other node

    await ana.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": ben.user_id})  # node 1
    for _ in range(ATTEMPTS):
        sent = await send(ana_socket, rid)
        try:
            await ben_socket.wait_for(
                "room:message", lambda d, m=sent: d["message"]["id"] == m, within=1
            )
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("node 2's console never entered the room")

    await ana.api.call("DELETE", f"/api/v1/rooms/{rid}/members/{ben.user_id}", expect=200)
    await ben_socket.wait_for("room:membership", lambda d: d["status"] == "removed")
    for attempt in range(ATTEMPTS):
        sent = await send(ana_socket, rid)
        # A barrier to Ben's console sent after the message: once it arrived, the
        # message would have.
        availability = "away" if attempt % 2 == 0 else "online"
        before = len(ben_socket.received("presence:update"))
        ack = await ben_socket.emit("presence:set", {"availability": availability})
        assert ack["ok"], ack
        await ben_socket.wait_for(
            "presence:update",
            lambda _, n=before: len(ben_socket.received("presence:update")) > n,
            within=10,
        )
        if not ben_socket.received("room:message", lambda d, m=sent: d["message"]["id"] == m):
            break
    else:
        raise AssertionError("node 2's console never left the room")
