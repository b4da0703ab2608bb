"""The whole support journey over TLS with python-socketio clients (issue 2's first test)."""

from __future__ import annotations

import asyncio

from tests.support.clients import World, unique


async def test_support_journey(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=2)
    alice, bob = tenant.agents
    customer = await world.individual("Chris")
    customer_socket = await world.socket(customer)
    supervisor_socket = await world.socket(tenant.supervisor)

    # The customer opens a conversation: nobody is online, so it queues.
    opened = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": tenant.org_id,
            "group_id": tenant.groups["support"]["id"],
            "text": "I was charged twice",
            "client_id": unique("c"),
        },
        expect=201,
    )
    conversation = opened["conversation"]
    cid = conversation["id"]
    first_id = opened["message"]["id"]
    assert conversation["status"] == "queued"
    position = await customer_socket.wait_for(
        "queue:position", lambda d: d["conversation_id"] == cid
    )
    # A fresh group has no queue waits yet: no estimate rather than a made-up one.
    assert position == {"conversation_id": cid, "position": 1}
    await supervisor_socket.wait_for(
        "queue:updated", lambda d: any(e["conversation_id"] == cid for e in d["queue"])
    )

    # Alice comes online: the queued conversation is assigned to her at once.
    alice_socket = await world.socket(alice)
    ack = await alice_socket.emit("presence:set", {"availability": "online"})
    assert ack == {
        "ok": True,
        "availability": "online",
        "is_auto_away": False,
        "restores_availability": False,
        "away_since": None,
    }
    update = await customer_socket.wait_for(
        "conversation:updated", lambda d: d["conversation"]["status"] == "active"
    )
    assert update["conversation"]["assignee"]["id"] == alice.user_id
    assert "tags" not in update["conversation"], "customers get no internal fields"
    await customer_socket.wait_for("message:new", lambda d: d["message"]["kind"] == "system")

    # Alice loads the history, and her receipts give the customer two ticks, then blue.
    history = await alice_socket.emit("message:history", {"conversation_id": cid})
    assert history["ok"] and history["messages"][0]["id"] == first_id
    ack = await alice_socket.emit("receipt:delivered", {"conversation_id": cid, "up_to": first_id})
    assert ack["ok"] and ack["counted"]
    delivered = await customer_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "org" and d["delivered_up_to"] == first_id
    )
    assert delivered["read_up_to"] == "0"
    await alice_socket.emit("receipt:read", {"conversation_id": cid, "up_to": first_id})
    await customer_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "org" and d["read_up_to"] == first_id
    )

    # Typing: seen by the agent, and it expires by itself when no stop comes.
    assert (await customer_socket.emit("typing:start", {"conversation_id": cid}))["ok"]
    await alice_socket.wait_for(
        "typing", lambda d: d["is_typing"] and d["user_id"] == customer.user_id
    )
    stopped = await alice_socket.wait_for(
        "typing", lambda d: not d["is_typing"] and d["user_id"] == customer.user_id, within=5
    )
    assert stopped["conversation_id"] == cid

    # Alice replies: the ack is the one tick; the customer gets it and an unread count.
    reply = await alice_socket.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("a"), "text": "Let me check that"},
    )
    assert reply["ok"], reply
    reply_id = reply["message"]["id"]
    got = await customer_socket.wait_for("message:new", lambda d: d["message"]["id"] == reply_id)
    assert got["message"]["text"] == "Let me check that"
    await customer_socket.wait_for(
        "unread:update", lambda d: d["side"] == "customer" and d["unread"] == 1
    )
    listed = await customer.api.get("/api/v1/conversations")
    assert [c["unread"] for c in listed if c["id"] == cid] == [1]
    await customer_socket.emit("receipt:delivered", {"conversation_id": cid, "up_to": reply_id})
    await alice_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "customer" and d["delivered_up_to"] == reply_id
    )
    read = await customer_socket.emit("receipt:read", {"conversation_id": cid, "up_to": reply_id})
    assert read["unread"] == 0
    await alice_socket.wait_for(
        "receipt:update", lambda d: d["side"] == "customer" and d["read_up_to"] == reply_id
    )

    # An internal note and note-typing reach agents, never the customer.
    await alice_socket.emit("typing:start", {"conversation_id": cid, "is_note": True})
    note = await alice_socket.emit(
        "message:send",
        {
            "conversation_id": cid,
            "client_id": unique("n"),
            "text": "VIP, refund fast",
            "kind": "note",
        },
    )
    assert note["ok"]
    await supervisor_socket.wait_for(
        "message:new", lambda d: d["message"]["id"] == note["message"]["id"]
    )
    await supervisor_socket.wait_for("typing", lambda d: d["is_note"])
    customer_history = await customer_socket.emit("message:history", {"conversation_id": cid})
    assert note["message"]["id"] not in [m["id"] for m in customer_history["messages"]]

    # Transfer to Bob, who resolves; the customer reopens and it is routed again.
    bob_socket = await world.socket(bob)
    await bob_socket.emit("presence:set", {"availability": "online"})
    transferred = await alice.api.post(
        f"/api/v1/conversations/{cid}/transfer", {"agent_id": bob.user_id}
    )
    assert transferred["assignee"]["id"] == bob.user_id
    await customer_socket.wait_for(
        "conversation:updated",
        lambda d: (d["conversation"]["assignee"] or {}).get("id") == bob.user_id,
    )
    resolved = await bob.api.post(f"/api/v1/conversations/{cid}/resolve")
    assert resolved["status"] == "resolved"
    await customer_socket.wait_for(
        "conversation:updated", lambda d: d["conversation"]["status"] == "resolved"
    )
    reopened = await customer.api.post(f"/api/v1/conversations/{cid}/reopen")
    assert reopened["status"] == "active" and reopened["assignee"] is not None

    # Nothing the customer received was an internal note or a note's typing.
    assert not customer_socket.received("message:new", lambda d: d["message"]["kind"] == "note")
    assert not customer_socket.received("typing", lambda d: d["is_note"])
    await asyncio.sleep(0)
