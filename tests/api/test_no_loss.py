"""Nothing lost, nothing doubled: retries, offline resync, and a SIGKILLed server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, Tenant, World, unique
from tests.support.server import RunningServer


async def open_assigned(world: World, tenant: Tenant, customer: Person) -> tuple[str, Any]:
    """A conversation assigned to the tenant's first agent, whose socket is returned."""
    agent_socket = await world.socket(tenant.agents[0])
    await agent_socket.emit("presence:set", {"availability": "online"})
    opened = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": tenant.org_id,
            "group_id": tenant.groups["support"]["id"],
            "text": "hello",
            "client_id": unique("o"),
        },
        expect=201,
    )
    cid = opened["conversation"]["id"]
    await agent_socket.wait_for(
        "conversation:updated",
        lambda d: d["conversation"]["id"] == cid and d["conversation"]["status"] == "active",
    )
    return cid, agent_socket


async def test_retry_with_same_client_id_returns_the_same_message(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    cid, agent_socket = await open_assigned(world, tenant, customer)
    sock = await world.socket(customer)
    payload = {"conversation_id": cid, "client_id": unique("r"), "text": "only once"}
    acks = await asyncio.gather(*(sock.emit("message:send", payload) for _ in range(5)))
    acks.append(await sock.emit("message:send", payload))
    rest = await customer.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {k: v for k, v in payload.items() if k != "conversation_id"},
        expect=201,
    )
    assert all(a["ok"] for a in acks)
    assert {a["message"]["id"] for a in acks} == {rest["id"]}
    history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
    assert [m["text"] for m in history["messages"]].count("only once") == 1
    await asyncio.sleep(0.3)
    assert (
        len(agent_socket.received("message:new", lambda d: d["message"]["text"] == "only once"))
        == 1
    )


async def test_reconnecting_client_resyncs_everything_it_missed_in_order(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    cid, agent_socket = await open_assigned(world, tenant, customer)
    sock = await world.socket(customer)
    first = await sock.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "before"}
    )
    last_seen = first["message"]["id"]
    await sock.close()

    sent = []
    for i in range(20):
        ack = await agent_socket.emit(
            "message:send",
            {"conversation_id": cid, "client_id": unique("a"), "text": f"missed {i}"},
        )
        assert ack["ok"], ack
        sent.append(ack["message"]["id"])

    back = await world.socket(customer)
    synced = await back.emit(
        "sync", {"conversations": [{"conversation_id": cid, "after": last_seen}]}
    )
    assert synced["ok"]
    [result] = synced["conversations"]
    ids = [m["id"] for m in result["messages"]]
    assert [i for i in ids if i in sent] == sent, "every missed message, in order"
    assert len(ids) == len(set(ids))
    assert result["unread"] == 20
    assert last_seen not in ids

    # Live events continue right after: the next message arrives on the new socket.
    live = await agent_socket.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("a"), "text": "live"}
    )
    await back.wait_for("message:new", lambda d: d["message"]["id"] == live["message"]["id"])


async def test_sync_pages_long_gaps_and_refuses_foreign_conversations(world: World) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    stranger = await world.individual()
    cid, agent_socket = await open_assigned(world, tenant, customer)
    for i in range(210):
        await agent_socket.emit(
            "message:send", {"conversation_id": cid, "client_id": f"bulk{i}", "text": str(i)}
        )
    sock = await world.socket(customer)
    collected: list[str] = []
    after = "0"
    while True:
        ack = await sock.emit("sync", {"conversations": [{"conversation_id": cid, "after": after}]})
        page = ack["conversations"][0]
        collected += [
            m["text"] for m in page["messages"] if m["sender_side"] == "org" and m["kind"] == "text"
        ]
        if not page["has_more"]:
            break
        after = page["messages"][-1]["id"]
    assert collected == [str(i) for i in range(210)]
    other = await world.socket(stranger)
    ack = await other.emit("sync", {"conversations": [{"conversation_id": cid, "after": "0"}]})
    assert ack["conversations"] == [
        {
            "conversation_id": cid,
            "error": {"code": "not_found", "message": "conversation not found"},
        }
    ]


async def test_sigkill_after_acks_loses_no_acknowledged_message(
    spawn_server: Callable[..., RunningServer], tmp_path: Any
) -> None:
    # 100 sends in flight on one socket: admission control must not refuse any of them here.
    roomy = {"RAASEL_MAX_PENDING_SENDS_PER_SOCKET": "1000"}
    node = spawn_server(roomy, var_dir=tmp_path / "crash")
    world = World(node)
    try:
        tenant = await world.tenant(agents=1)
        customer = await world.individual()
        opened = await customer.open_conversation(tenant, text="start")
        cid = opened["conversation"]["id"]
        sock = await world.socket(customer)
        acks = await asyncio.gather(
            *(
                sock.emit(
                    "message:send",
                    {"conversation_id": cid, "client_id": f"k{i}", "text": f"durable {i}"},
                )
                for i in range(100)
            )
        )
        acked = {a["message"]["id"] for a in acks if a["ok"]}
        assert len(acked) == 100
        node.kill()
    finally:
        await world.close()

    revived = spawn_server(var_dir=tmp_path / "crash")
    world = World(revived)
    try:
        again = await world.login(customer.email)
        stored: set[str] = set()
        before = None
        while True:
            page = await again.api.get(
                f"/api/v1/conversations/{cid}/messages",
                params={"limit": 100, **({"before": before} if before else {})},
            )
            stored |= {m["id"] for m in page["messages"]}
            if not page["has_more"]:
                break
            before = page["next_before"]
        assert acked <= stored, f"lost {len(acked - stored)} acknowledged messages"
    finally:
        await world.close()
