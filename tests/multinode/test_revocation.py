"""Sockets follow authority across nodes, and each node hears only its own events.

Two real nodes share a database and a private Redis. A change of authority made through
node 1 (logout, a replayed refresh token, deactivation, a role or group change) reaches
the sockets held by node 2 within a second: they are told why (``session:ended``) and
dropped, or moved to their new rooms (``session:updated``). A control message lost with
Redis is made up for at the token's expiry. And a node that holds no socket in a
conversation's rooms gets nothing of it on its Redis channel.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from redis import asyncio as aioredis

from tests.api.test_auth import refused_at_connect
from tests.multinode.conftest import Nodes, SpawnCluster
from tests.support.clients import Person, SocketClient, Tenant, World, unique

pytestmark = pytest.mark.timeout(150)

WITHIN = 1.0  # seconds a revocation may take to reach the other node's sockets


@pytest.fixture
async def pair(spawn_cluster: SpawnCluster) -> AsyncIterator[tuple[Nodes, World, World]]:
    cluster = spawn_cluster(2)
    one, two = World(cluster.nodes[0]), World(cluster.nodes[1])
    yield cluster, one, two
    await one.close()
    await two.close()


async def dropped_within(sock: SocketClient, seconds: float) -> float:
    """Seconds until ``sock`` was disconnected by the server (fails after ``seconds``)."""
    began = time.monotonic()
    while sock.sio.connected:
        if time.monotonic() - began > seconds:
            raise AssertionError(f"still connected after {seconds} s; saw {sock.events}")
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def still_connected(sock: SocketClient, seconds: float) -> None:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        assert sock.sio.connected, f"dropped; saw {sock.events}"
        await asyncio.sleep(0.05)


async def open_in(customer: Person, tenant: Tenant, group: str) -> str:
    opened = await customer.open_conversation(tenant, group=group, text=f"about {group}")
    return str(opened["conversation"]["id"])


async def test_logout_on_one_node_drops_the_session_on_the_other(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    person = await one.individual()
    laptop = await two.socket(person)
    other_session = await one.login(person.email)
    phone = await two.socket(other_session)

    await person.api.post("/api/v1/auth/logout", expect=204)
    assert await dropped_within(laptop, WITHIN) < WITHIN
    assert laptop.received("session:ended") == [{"reason": "logged_out"}]
    await still_connected(phone, 0.3)
    assert phone.received("session:ended") == []


async def test_a_replayed_refresh_token_drops_the_session_on_the_other_node(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    person = await one.individual()
    device = await two.socket(person)
    first = person.session["refresh_token"]
    await one.anonymous.post("/api/v1/auth/refresh", {"refresh_token": first})
    replay = await one.anonymous.post("/api/v1/auth/refresh", {"refresh_token": first}, expect=401)
    assert replay["error"]["code"] == "token_reused"
    await dropped_within(device, WITHIN)
    assert device.received("session:ended") == [{"reason": "revoked"}]


async def test_deactivation_on_one_node_drops_the_console_on_the_other(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    tenant = await one.tenant(agents=1)
    agent = tenant.agents[0]
    console = await two.socket(agent)
    colleague = await two.socket(tenant.supervisor)

    await tenant.owner.api.patch(
        f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}", {"is_active": False}
    )
    await dropped_within(console, WITHIN)
    assert console.received("session:ended") == [{"reason": "membership_ended"}]
    await still_connected(colleague, 0.3)
    # Its token is refused from now on, on either node.
    for world in (one, two):
        refused = await refused_at_connect(world.server, {"token": agent.token})
        assert refused["code"] == "invalid_token"


async def test_a_role_or_group_change_on_one_node_moves_the_console_on_the_other(
    pair: tuple[Nodes, World, World],
) -> None:
    _, one, two = pair
    tenant = await one.tenant(agents=1)
    agent = tenant.agents[0]
    customer = await one.individual()
    console = await two.socket(agent)
    member = f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}"
    billing = tenant.groups["billing"]["id"]

    def heard(cid: str) -> bool:
        updates = console.received("conversation:updated")
        return any(d["conversation"]["id"] == cid for d in updates)

    before = await open_in(customer, tenant, "billing")
    await asyncio.sleep(0.5)
    assert not heard(before), "an agent outside billing sees nothing of it"

    # Promoted to supervisor: the console joins the leads' room, without reconnecting.
    await tenant.owner.api.patch(member, {"role": "supervisor"})
    update = await console.wait_for("session:updated", within=WITHIN)
    assert update["role"] == "supervisor" and update["org_id"] == tenant.org_id
    promoted = await open_in(customer, tenant, "billing")
    await console.wait_for(
        "conversation:updated", lambda d: d["conversation"]["id"] == promoted, within=5
    )

    # Demoted again: out of the leads' room.
    await tenant.owner.api.patch(member, {"role": "agent"})
    await console.wait_for("session:updated", lambda d: d["role"] == "agent", within=WITHIN)
    demoted = await open_in(customer, tenant, "billing")
    await asyncio.sleep(0.5)
    assert not heard(demoted)

    # Put in the billing group: into that group's room.
    await tenant.owner.api.patch(member, {"group_ids": [billing]})
    await console.wait_for("session:updated", lambda d: d["group_ids"] == [billing], within=WITHIN)
    grouped = await open_in(customer, tenant, "billing")
    await console.wait_for(
        "conversation:updated", lambda d: d["conversation"]["id"] == grouped, within=5
    )
    assert console.sio.connected and console.received("session:ended") == []


async def test_a_session_that_ended_unheard_is_dropped_at_token_expiry(
    spawn_cluster: SpawnCluster,
) -> None:
    cluster = spawn_cluster(2, {"RAASEL_ACCESS_TOKEN_TTL_SECONDS": "5"})
    one, two = World(cluster.nodes[0]), World(cluster.nodes[1])
    try:
        leaving = await one.individual()
        staying = await one.individual()
        gone = await two.socket(leaving)
        kept = await two.socket(staying)

        # Redis dies: node 1's revocation cannot reach node 2.
        cluster.redis.kill()
        await leaving.api.post("/api/v1/auth/logout", expect=204)
        await still_connected(gone, 0.5)

        # At the token's expiry node 2 re-checks the session and drops the socket...
        expires = jwt.decode(leaving.token, options={"verify_signature": False})["exp"]
        await dropped_within(gone, max(0.0, expires - time.time()) + 2.0)
        assert gone.received("session:ended") == [{"reason": "session_ended"}]
        assert time.time() >= expires - 0.05, "dropped at expiry, not before"
        # ...and keeps the one whose session is still live, past its expiry.
        expires = jwt.decode(staying.token, options={"verify_signature": False})["exp"]
        await asyncio.sleep(max(0.0, expires - time.time()))
        await still_connected(kept, 2.0)
    finally:
        await one.close()
        await two.close()


class ChannelSpy:
    """Every message published on any node's fan-out channel, by channel."""

    def __init__(self, url: str) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.pubsub = self.redis.pubsub()
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pubsub.psubscribe("raasel:fanout:node:*")
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] == "pmessage":
                self.messages.append((message["channel"].decode(), json.loads(message["data"])))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await self.task
        await self.pubsub.aclose()
        await self.redis.aclose()


async def test_a_node_without_members_in_a_conversation_hears_nothing_of_it(
    pair: tuple[Nodes, World, World],
) -> None:
    cluster, one, two = pair
    tenant = await one.tenant(policy="manual", agents=1)
    agent = tenant.agents[0]
    customer = await one.individual()
    bystander = await two.socket(await two.individual())  # node 2 holds sockets, not these
    console = await one.socket(agent)
    device = await one.socket(customer)
    cid = await open_in(customer, tenant, "support")
    claimed = await agent.api.post(f"/api/v1/conversations/{cid}/claim", expect=200)
    assert claimed

    spy = ChannelSpy(cluster.redis.url)
    await spy.start()
    counter = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
    try:
        channels = await counter.pubsub_channels("raasel:fanout:node:*")
        assert len(channels) == 2, "both nodes listen on their own channel"
        for text in ("one", "two", "three"):
            ack = await device.emit(
                "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": text}
            )
            assert ack["ok"], ack
            await console.wait_for("message:new", lambda d, t=text: d["message"]["text"] == t)
        answer = await console.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "hi"}
        )
        answered = answer["message"]["id"]
        await device.wait_for("message:new", lambda d: d["message"]["id"] == answered)
        await asyncio.sleep(0.3)
        assert spy.messages == [], "everything stayed on node 1, in-process"
        assert bystander.received("message:new") == []

        # The customer's phone joins on node 2: now node 2's channel, and only it, rings.
        phone = await two.socket(customer)
        ack = await console.emit(
            "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "there?"}
        )
        sent = ack["message"]["id"]
        await phone.wait_for("message:new", lambda d: d["message"]["id"] == sent)
        await asyncio.sleep(0.3)
        rung = {channel for channel, _ in spy.messages}
        assert len(rung) == 1, spy.messages
        news = [m for _, m in spy.messages if m["e"] == "message:new"]
        assert len(news) == 1 and news[0]["d"]["message"]["id"] == sent
        assert bystander.received("message:new") == []
    finally:
        await spy.close()
        await counter.aclose()
