"""Outreach (an organization writes first) over TLS with python-socketio clients.

The journey (an agent starts, the person sees who writes and replies), the exact
audience of every event (the person, the organization's consoles; never another
organization's agents nor another individual), mute and block, retries, bad input
and the per-organization rate limit. docs/protocol.md, "Outreach".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, SocketClient, Tenant, World, unique
from tests.support.server import RunningServer


async def start(agent: Person, expect: int = 201, **fields: Any) -> Any:
    body = {"text": "Your order has shipped", "client_id": unique("out")} | fields
    return await agent.api.post("/api/v1/outreach", body, expect=expect)


def about(cid: str) -> Callable[[Any], bool]:
    """Whether an event's payload names conversation ``cid``."""
    return lambda data: cid in json.dumps(data)


async def outsiders_barrier(
    b: Tenant, b_socket: SocketClient, q: Person, q_socket: SocketClient
) -> None:
    """An event to each outsider, sent after everything before: once it arrived, any
    earlier event to them would have arrived too (one connection keeps order)."""
    ack = await b_socket.emit("presence:set", {"availability": "away"})
    assert ack["ok"], ack
    await b_socket.wait_for("presence:update", lambda d: d["user_id"] == b.agents[0].user_id)
    await q.api.put(f"/api/v1/contacts/{b.org_id}", {"is_muted": True})
    await q_socket.wait_for("contact:updated", lambda d: d["organization"]["id"] == b.org_id)


async def test_outreach_journey_and_audience(world: World) -> None:
    a, b = await world.tenant(policy="manual", agents=1), await world.tenant(agents=1)
    agent = a.agents[0]
    person = await world.individual("Pat")
    other = await world.individual("Quinn")
    sockets = {
        "person": await world.socket(person),
        "agent": await world.socket(agent),
        "supervisor": await world.socket(a.supervisor),
        "b_agent": await world.socket(b.agents[0]),
        "other": await world.socket(other),
    }

    # A's agent writes first, by the person's email.
    client_id = unique("out")
    started = await start(agent, email=person.email, client_id=client_id, subject="Shipping")
    conversation, first = started["conversation"], started["message"]
    cid = conversation["id"]
    assert conversation["kind"] == "outreach" and conversation["status"] == "active"
    assert conversation["assignee"]["id"] == agent.user_id
    assert conversation["customer"]["id"] == person.user_id
    assert conversation["group_id"] == a.groups["support"]["id"]  # the agent's group
    assert first["position"] == 1 and first["sender_side"] == "org"

    # A retry with the same client id: the same conversation and message, no second copy.
    again = await start(agent, email=person.email, client_id=client_id)
    assert again["conversation"]["id"] == cid and again["message"]["id"] == first["id"]

    # The person's devices learn of it, with who writes (the badge) and their standing.
    seen = await sockets["person"].wait_for(
        "conversation:updated", lambda d: d["conversation"]["id"] == cid
    )
    view = seen["conversation"]
    assert view["kind"] == "outreach"
    assert view["organization"]["id"] == a.org_id
    assert view["organization"]["name"] == a.org["name"]
    assert view["organization"]["is_verified"] is False  # no proved domain
    assert view["contact"] == {"is_muted": False, "is_blocked": False}
    assert "tags" not in view, "the person gets no internal fields"
    await sockets["person"].wait_for("message:new", lambda d: d["message"]["id"] == first["id"])
    listed = await person.api.get("/api/v1/conversations")
    [mine] = [c for c in listed if c["id"] == cid]
    assert mine["organization"]["id"] == a.org_id and mine["unread"] == 1
    # The console shows it like a support conversation: in the agent's "mine".
    console = await agent.api.get("/api/v1/conversations?scope=mine")
    assert [c["id"] for c in console] == [cid]
    await sockets["supervisor"].wait_for("message:new", lambda d: d["message"]["id"] == first["id"])

    # The person replies; their device's receipts give the agent two ticks, then blue.
    reply = await sockets["person"].emit(
        "message:send", {"conversation_id": cid, "client_id": unique("r"), "text": "Thanks!"}
    )
    assert reply["ok"], reply
    await sockets["agent"].wait_for(
        "message:new", lambda d: d["message"]["id"] == reply["message"]["id"]
    )
    ack = await sockets["person"].emit(
        "receipt:read", {"conversation_id": cid, "up_to": first["id"]}
    )
    assert ack["ok"], ack
    tick = await sockets["agent"].wait_for(
        "receipt:update", lambda d: d["side"] == "customer" and d["read_up_to"] == first["id"]
    )
    assert tick["conversation_id"] == cid

    # An internal note reaches A's consoles only.
    note_text = f"internal {unique('n')}"
    note = await sockets["agent"].emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("n"), "text": note_text, "kind": "note"},
    )
    assert note["ok"], note
    await sockets["supervisor"].wait_for(
        "message:new", lambda d: d["message"]["id"] == note["message"]["id"]
    )
    # The person's own later event arrives after the note would have: it did not.
    await person.api.put(f"/api/v1/contacts/{a.org_id}", {"is_muted": True})
    muted = await sockets["person"].wait_for("contact:updated", lambda d: d["is_muted"])
    assert muted["organization"]["id"] == a.org_id and muted["is_blocked"] is False
    assert not [d for e, d in sockets["person"].events if note_text in json.dumps(d)]
    listed = await person.api.get("/api/v1/conversations")
    assert [c["contact"] for c in listed if c["id"] == cid] == [
        {"is_muted": True, "is_blocked": False}
    ]

    # Another organization's agent and another individual heard nothing of it.
    await outsiders_barrier(b, sockets["b_agent"], other, sockets["other"])
    for name in ("b_agent", "other"):
        assert not sockets[name].received("message:new", about(cid)), name
        assert not [d for _, d in sockets[name].events if about(cid)(d)], name
    # ... and cannot reach it.
    for outsider in (b.agents[0], b.supervisor, other):
        await outsider.api.get(f"/api/v1/conversations/{cid}", expect=404)
        await outsider.api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"client_id": unique("x"), "text": "hi"},
            expect=404,
        )


async def test_block_stops_the_organization_and_unblock_lets_it_write(world: World) -> None:
    a = await world.tenant(policy="manual", agents=1)
    agent = a.agents[0]
    person = await world.individual("Blocker")
    agent_socket = await world.socket(agent)
    person_socket = await world.socket(person)
    cid = (await start(agent, email=person.email))["conversation"]["id"]

    blocked = await person.api.put(f"/api/v1/contacts/{a.org_id}", {"is_blocked": True})
    assert blocked["is_blocked"] is True and blocked["organization"]["id"] == a.org_id
    await person_socket.wait_for("contact:updated", lambda d: d["is_blocked"])
    assert await person.api.get("/api/v1/contacts") == [blocked]

    # No more text from the organization into it, over the socket and REST ...
    ack = await agent_socket.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("b"), "text": "still there?"}
    )
    assert ack["ok"] is False and ack["error"]["code"] == "recipient_blocked", ack
    refused = await agent.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("b"), "text": "hello?"},
        expect=403,
    )
    assert refused["error"]["code"] == "recipient_blocked"
    # ... internal notes stay possible; nothing new reached the person.
    note = await agent_socket.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("n"), "text": "blocked us", "kind": "note"},
    )
    assert note["ok"], note
    history = await person.api.get(f"/api/v1/conversations/{cid}/messages")
    assert [m["position"] for m in history["messages"]] == [1]

    # No new outreach either, answered as for someone without an account.
    for recipient in ({"email": person.email}, {"customer_id": person.user_id}):
        answer = await start(agent, expect=404, **recipient)
        assert answer["error"]["code"] == "recipient_unavailable"
    unknown = await start(agent, expect=404, email=f"{unique('nobody')}@example.com")
    assert unknown["error"] == answer["error"], "a block looks like no account at all"
    assert [c["id"] for c in await person.api.get("/api/v1/conversations")] == [cid]

    # The person may still write; unblocking lets the organization answer again.
    mine = await person_socket.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("p"), "text": "ok, go on"}
    )
    assert mine["ok"], mine
    await person.api.put(f"/api/v1/contacts/{a.org_id}", {"is_blocked": False})
    ack = await agent_socket.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("b"), "text": "thank you"}
    )
    assert ack["ok"], ack
    await person_socket.wait_for(
        "message:new", lambda d: d["message"]["id"] == ack["message"]["id"]
    )


async def test_past_customers_only_by_id_and_bad_requests_change_nothing(world: World) -> None:
    a, b = await world.tenant(policy="manual", agents=1), await world.tenant(agents=1)
    customer = await world.individual("Past customer")
    await customer.open_conversation(a, text="a question")

    # A past customer of A is reachable by id from A, not from B (who never served them).
    started = await start(a.agents[0], customer_id=customer.user_id)
    assert started["conversation"]["customer"]["id"] == customer.user_id
    for prober in (b.owner, b.supervisor, b.agents[0]):
        answer = await start(prober, expect=404, customer_id=customer.user_id)
        assert answer["error"]["code"] == "recipient_unavailable"
        assert customer.email not in json.dumps(answer)
    stranger = await world.individual("Stranger")
    await start(a.agents[0], expect=404, customer_id=stranger.user_id)

    # By the handle a person chose (for direct chats), any organization may write first.
    handle = unique("h")
    await stranger.api.put("/api/v1/direct/handle", {"handle": handle})
    by_handle = await start(b.agents[0], handle=handle.upper())
    assert by_handle["conversation"]["customer"]["id"] == stranger.user_id
    for nobody in (f"{handle}x", ".x", "a b"):
        answer = await start(b.agents[0], expect=404, handle=nobody)
        assert answer["error"]["code"] == "recipient_unavailable", nobody

    # Only agents start outreach; only the individual's own account mutes or blocks.
    refused = await start(customer, expect=403, email=stranger.email)
    assert refused["error"]["code"] == "forbidden"
    for member in (a.owner, a.agents[0]):
        await member.api.put(f"/api/v1/contacts/{b.org_id}", {"is_blocked": True}, expect=403)
        await member.api.get("/api/v1/contacts", expect=403)
    await customer.api.put("/api/v1/contacts/12345", {"is_blocked": True}, expect=404)

    # Malformed bodies: a typed 422, nothing stored.
    before = await a.agents[0].api.get("/api/v1/conversations")
    for body in (
        {"text": "x", "client_id": "c1"},  # no recipient
        {"text": "x", "client_id": "c1", "email": customer.email, "customer_id": customer.user_id},
        {"text": "x", "client_id": "c1", "email": customer.email, "handle": "someone"},
        {"text": "", "client_id": "c1", "email": customer.email},
        {"text": "x" * 4001, "client_id": "c1", "email": customer.email},
        {"text": "x", "client_id": "c 1", "email": customer.email},
        {"text": "x", "client_id": "c1", "email": "not-an-email"},
        {"text": "x", "client_id": "c1", "customer_id": "abc"},
        {"text": "x", "client_id": "c1", "email": customer.email, "kind": "b2b"},
    ):
        answer = await a.agents[0].api.post("/api/v1/outreach", body, expect=422)
        assert answer["error"]["code"] == "validation_error", body
    await customer.api.put(f"/api/v1/contacts/{a.org_id}", {"is_blocked": "maybe"}, expect=422)
    assert await a.agents[0].api.get("/api/v1/conversations") == before


async def test_outreach_is_rate_limited_per_organization(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server({"RAASEL_OUTREACH_RATE": "2/3600"})
    world = World(node)
    try:
        a, b = await world.tenant(agents=2), await world.tenant(agents=1)
        people = [await world.individual(f"P{i}") for i in range(3)]
        await start(a.agents[0], email=people[0].email)
        await start(a.agents[1], email=people[1].email)  # another agent: same organization
        limited = await start(a.agents[0], expect=429, email=people[2].email)
        assert limited["error"]["code"] == "rate_limited"
        assert await people[2].api.get("/api/v1/conversations") == []
        await start(b.agents[0], email=people[2].email)  # B has its own allowance
    finally:
        await world.close()
