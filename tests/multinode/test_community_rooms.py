"""A community member's sockets follow their membership across nodes (docs/decisions.md,
"Community channels"): joined through node 1, their socket on node 2 enters the
channel's room and hears its messages; removed through node 1, it leaves it and hears
no more. Two real nodes share a database and a private Redis."""

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


async def send(socket: SocketClient, channel_id: str) -> str:
    ack = await socket.emit(
        "community:send",
        {"channel_id": channel_id, "client_id": unique("c"), "text": unique("hello ")},
    )
    assert ack["ok"], ack
    return str(ack["message"]["id"])


async def test_room_membership_follows_joins_and_removals_on_the_other_node(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    tenant = await one.tenant(agents=1)
    pat, sam = await one.individual("Pat"), await one.individual("Sam")
    cid = (await tenant.supervisor.api.post("/api/v1/community", {"name": "Fans"}, expect=201))[
        "id"
    ]
    await sam.api.post(f"/api/v1/community/{cid}/join")
    sam_socket = await one.socket(sam)
    pat_socket = await two.socket(pat)  # connected before joining: on the other node

    await pat.api.post(f"/api/v1/community/{cid}/join")  # through node 1
    for _ in range(ATTEMPTS):
        sent = await send(sam_socket, cid)
        try:
            await pat_socket.wait_for(
                "community:message", lambda d, m=sent: d["message"]["id"] == m, within=1
            )
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("node 2's socket never entered the channel's room")

    await tenant.agents[0].api.post(f"/api/v1/community/{cid}/members/{pat.user_id}/remove")
    await pat_socket.wait_for("community:membership", lambda d: d["status"] == "removed")
    for attempt in range(ATTEMPTS):
        sent = await send(sam_socket, cid)
        # A barrier to Pat sent after the message: once it arrived, the message would have.
        await pat.api.put(f"/api/v1/contacts/{tenant.org_id}", {"is_muted": attempt % 2 == 0})
        await pat_socket.wait_for(
            "contact:updated",
            lambda _, a=attempt: len(pat_socket.received("contact:updated")) > a,
            within=10,
        )
        if not pat_socket.received("community:message", lambda d, m=sent: d["message"]["id"] == m):
            break
    else:
        raise AssertionError("node 2's socket never left the channel's room")
