"""A node SIGKILLed right after acknowledging webhooks loses none of them: the deliveries
were in the database before the 200, and the restarted node processes them, once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.api.channel_setup import connect, contact_id, graph_env, post, settled, text_payload
from tests.support import channel_payloads as p
from tests.support.clients import World, unique
from tests.support.fake_graph import FakeGraph
from tests.support.files import PNG
from tests.support.server import RunningServer


async def test_sigkill_after_the_200_loses_nothing(
    spawn_server: Callable[..., RunningServer],
) -> None:
    graph = FakeGraph()
    graph.start()
    node = spawn_server(graph_env(graph))
    world = World(node)
    try:
        a = await world.tenant(policy="manual", agents=1)
        channel = await connect(world, a, "whatsapp")
        wa = contact_id(channel)
        media_id = unique("5")
        graph.add_media(media_id, PNG, "image/png")
        # The node will be mid-way through the first delivery (fetching its image) when
        # it dies; the second waits behind it in the queue.
        graph.hold(f"/files/{media_id}")
        image = p.wa_payload(
            channel.waba,
            p.wa_change(
                channel.account,
                contacts=[p.wa_contact(wa, "Ann")],
                messages=[p.wa_media(wa, "wamid.K1" + wa, "image", media_id, caption="photo")],
            ),
        )
        text = f"are you there {unique('')}"
        for payload in (image, text_payload(channel, wa, "wamid.K2" + wa, text)):
            answer = await post(world, channel, payload)
            assert answer.status_code == 200, answer.text
        assert await asyncio.to_thread(graph.arrived, f"/files/{media_id}")
        await world.close()
        node.kill()
        graph.release(f"/files/{media_id}")

        node.start()
        world = World(node)
        owner = await world.login(a.owner.email, a.org["slug"])
        channel.tenant.owner = owner
        counts = await settled(world, channel, within=60)
        assert counts == {"done": 2}, counts
        listed = await owner.api.get("/api/v1/conversations?scope=all")
        items = listed if isinstance(listed, list) else listed["conversations"]
        assert len(items) == 1
        cid = items[0]["id"]
        page = await owner.api.get(f"/api/v1/conversations/{cid}/messages")
        messages = [m for m in page["messages"] if m["kind"] != "system"]
        assert [(m["text"], bool(m["attachment_id"])) for m in messages] == [
            ("[image]", False),
            ("photo", True),
            (text, False),
        ]
    finally:
        await world.close()
        graph.stop()
