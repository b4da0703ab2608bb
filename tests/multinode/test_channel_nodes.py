"""Social channels on two nodes sharing PostgreSQL and Redis: webhooks of one contact
arriving at both nodes, processed by both nodes' workers at once, still give that
contact one conversation, with its messages in the order they arrived, even while one
of its deliveries is held up on the other node.

Always PostgreSQL (the race needs two writers at once; SQLite writers take turns): each
contact's messages are posted one after another, alternately to node 1 and node 2,
while the other contacts' are posted at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from raasel.lib.secret_box import encode_key, new_key
from tests.api.channel_setup import (
    connect,
    contact_id,
    graph_env,
    post,
    settled,
    text_payload,
    wait,
)
from tests.support import channel_payloads as p
from tests.support.clients import World, unique
from tests.support.databases import create_postgres_database
from tests.support.fake_graph import FakeGraph, running_graph
from tests.support.files import PNG
from tests.support.redis_server import RedisServer
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(240)

CONTACTS = 6
MESSAGES = 5


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with running_graph() as fake:
        yield fake


@pytest.fixture
async def worlds(graph: FakeGraph, tmp_path: Path) -> AsyncIterator[tuple[World, World]]:
    redis = RedisServer()
    redis.start()
    common = {
        "RAASEL_REDIS_URL": redis.url,
        "RAASEL_DATABASE_URL": create_postgres_database(),
        "RAASEL_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        # Every node of a deployment has the same key-encryption key (docs/channels.md).
        "RAASEL_ENCRYPTION_KEY": encode_key(new_key()),
    } | graph_env(graph)
    nodes = [
        RunningServer(tmp_path / f"node{n}", common | {"RAASEL_NODE_ID": str(n)}) for n in (1, 2)
    ]
    pair: tuple[World, World] | None = None
    try:
        for node in nodes:
            node.start()
        pair = World(nodes[0]), World(nodes[1])
        yield pair
    finally:
        if pair is not None:
            for world in pair:
                await world.close()
        for node in nodes:
            node.stop()
        redis.kill()


async def test_one_conversation_per_contact_in_arrival_order(
    worlds: tuple[World, World], graph: FakeGraph
) -> None:
    one, two = worlds
    a = await one.tenant(policy="manual", agents=1)
    channel = await connect(one, a, "whatsapp", group_id=a.groups["support"]["id"])
    run = unique("")
    contacts = [contact_id(channel) for _ in range(CONTACTS)]
    # The first contact begins with a photo whose download the fake Graph holds: the
    # node fetching it stays in that delivery while the contact's next messages queue,
    # and the other node must leave them be (it processes everyone else's meanwhile).
    slow = contacts[0]
    media_id = unique("7")
    graph.add_media(media_id, PNG, "image/png")
    graph.hold(f"/files/{media_id}")

    def payload(contact: str, n: int) -> dict[str, Any]:
        text = f"{contact} says {n} {run}"
        if contact == slow and n == 0:
            media = p.wa_media(contact, f"wamid.{contact}.0", "image", media_id, caption=text)
            change = p.wa_change(
                channel.account, contacts=[p.wa_contact(contact, "Slow")], messages=[media]
            )
            return p.wa_payload(channel.waba, change)
        return text_payload(channel, contact, f"wamid.{contact}.{n}", text)

    async def write(index: int, contact: str) -> None:
        for n in range(MESSAGES):
            node = (one, two)[(index + n) % 2]
            answer = await post(node, channel, payload(contact, n))
            assert answer.status_code == 200, answer.text

    await asyncio.gather(*(write(i, c) for i, c in enumerate(contacts)))
    assert await asyncio.to_thread(graph.arrived, f"/files/{media_id}", 60)
    path = f"/api/v1/orgs/{a.org_id}/channels/{channel.id}"

    async def others_done() -> bool:
        counts = (await a.owner.api.get(path))["webhooks"]
        return bool(counts.get("done", 0) >= (CONTACTS - 1) * MESSAGES)

    await wait(others_done, within=120)
    graph.release(f"/files/{media_id}")
    counts = await settled(one, channel, within=120)
    assert counts == {"done": CONTACTS * MESSAGES}, counts

    listed = await a.supervisor.api.get("/api/v1/conversations?scope=all&limit=100")
    assert len(listed) == CONTACTS, [c["subject"] for c in listed]
    for conversation in listed:
        cid = conversation["id"]
        contact = (await a.supervisor.api.get(f"/api/v1/conversations/{cid}/channel"))["contact_id"]
        page = await a.supervisor.api.get(f"/api/v1/conversations/{cid}/messages?limit=100")
        texts = [m["text"] for m in page["messages"] if m["kind"] != "system"]
        expected = [f"{contact} says {n} {run}" for n in range(MESSAGES)]
        assert texts == (["[image]", *expected] if contact == slow else expected)
