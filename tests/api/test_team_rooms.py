"""Team rooms over TLS with python-socketio clients (docs/protocol.md, "Team rooms").

The journey (an agent creates a room with a teammate, messages, a retry, typing,
@mentions, group ticks), the exact audience of every event (the room's members; not
the organization's other agents nor its supervisor who is not in the room; never a
customer; never another organization), tenant isolation probes on every route and
event, removal (the removed member hears nothing more), leaving, archived read-only,
who may manage a room, and typed errors for malformed input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, SocketClient, World, unique


async def send(socket: SocketClient, room_id: str, text: str, **extra: Any) -> dict[str, Any]:
    payload = {"room_id": room_id, "client_id": unique("r"), "text": text} | extra
    return await socket.emit("room:send", payload)


def about(room_id: str) -> Callable[[Any], bool]:
    return lambda data: room_id in json.dumps(data)


async def agent_barrier(agent: Person, socket: SocketClient) -> None:
    """An event to the agent's console sent after everything before: once it arrived,
    an earlier event to that socket would have arrived too (one connection keeps order)."""
    ack = await socket.emit("presence:set", {"availability": "away"})
    assert ack["ok"], ack
    await socket.wait_for("presence:update", lambda d: d["user_id"] == agent.user_id)
    ack = await socket.emit("presence:set", {"availability": "online"})
    assert ack["ok"], ack


async def customer_barrier(person: Person, socket: SocketClient, org_id: str) -> None:
    await person.api.put(f"/api/v1/contacts/{org_id}", {"is_muted": True})
    await socket.wait_for(
        "contact:updated", lambda d: d["organization"]["id"] == org_id and d["is_muted"]
    )


def heard_of(socket: SocketClient, room_id: str) -> list[tuple[str, Any]]:
    return [(n, d) for n, d in socket.events if about(room_id)(d)]


async def probe_every_route(
    intruder: Person, socket: SocketClient | None, room_id: str, victim_id: str
) -> None:
    """Another organization's agent, a customer, a non-member: "not found" everywhere."""
    base = f"/api/v1/rooms/{room_id}"
    await intruder.api.get(base, expect=404)
    await intruder.api.get(f"{base}/members", expect=404)
    await intruder.api.post(f"{base}/members", {"user_id": intruder.user_id}, expect=404)
    await intruder.api.call("DELETE", f"{base}/members/{victim_id}", expect=404)
    await intruder.api.post(f"{base}/leave", expect=404)
    await intruder.api.post(f"{base}/archive", expect=404)
    if socket is None:
        return
    for event, payload in (
        ("room:send", {"room_id": room_id, "client_id": unique("x"), "text": "let me in"}),
        ("room:delivered", {"room_id": room_id, "up_to_position": 1}),
        ("room:read", {"room_id": room_id, "up_to_position": 1}),
        ("room:typing", {"room_id": room_id, "is_typing": True}),
    ):
        denied = await socket.emit(event, payload)
        assert denied["error"]["code"] == "not_found", (event, denied)
    sync = await socket.emit("room:sync", {"rooms": [{"room_id": room_id}]})
    assert sync["rooms"][0]["error"]["code"] == "not_found", sync


async def test_journey_audience_mentions_typing_and_ticks(world: World) -> None:
    a, b = await world.tenant(agents=3), await world.tenant(agents=1)
    ana, ben, cat = a.agents
    customer = await world.individual("Casey")
    await customer.open_conversation(a, text="a customer of A")
    sockets = {
        "ana": await world.socket(ana),
        "ben": await world.socket(ben),
        "cat": await world.socket(cat),
        "lead": await world.socket(a.supervisor),
        "b_agent": await world.socket(b.agents[0]),
        "customer": await world.socket(customer),
    }
    # Any agent creates a room; the teammates named are in it; a customer may not.
    await customer.api.post("/api/v1/rooms", {"name": "Billing team"}, expect=403)
    room = await ana.api.post(
        "/api/v1/rooms", {"name": "  Billing   team ", "member_ids": [ben.user_id]}, expect=201
    )
    rid = room["id"]
    assert room["kind"] == "team" and room["name"] == "Billing team"
    assert room["status"] == "active" and room["member_count"] == 2
    assert room["membership"]["status"] == "member" and room["receipts"]["tracked"] is True
    told = await sockets["ben"].wait_for("room:membership", lambda d: d["room_id"] == rid)
    assert told["status"] == "member" and told["room"]["name"] == "Billing team"
    assert [r["id"] for r in await ben.api.get("/api/v1/rooms")] == [rid]
    assert await cat.api.get("/api/v1/rooms") == []
    members = await ana.api.get(f"/api/v1/rooms/{rid}/members")
    assert {m["user_id"] for m in members} == {ana.user_id, ben.user_id}

    # Ana writes, mentioning Ben and Cat (not in the room): Ben is told, Cat is not.
    ack = await send(sockets["ana"], rid, "Invoices due, @Agent 2 and @Agent 3?")
    assert ack["ok"], ack
    first = ack["message"]
    assert first["position"] == 1 and first["sender_name"] == "Agent 1"
    assert first["room_id"] == rid and "conversation_id" not in first
    got = await sockets["ben"].wait_for("room:message", lambda d: d["message"]["id"] == first["id"])
    assert got["previous_position"] == 0 and got["room_id"] == rid
    mention = await sockets["ben"].wait_for("mention:new", lambda d: d.get("room_id") == rid)
    assert mention["position"] == 1 and mention["by"]["id"] == ana.user_id
    retry = await sockets["ana"].emit(
        "room:send", {"room_id": rid, "client_id": first["client_id"], "text": "again"}
    )
    assert retry["ok"] and retry["message"]["id"] == first["id"], retry
    assert not sockets["ana"].received("room:message"), "not the sender's own socket"

    # Typing reaches the other members, not the typist's socket.
    typing = await sockets["ben"].emit("room:typing", {"room_id": rid, "is_typing": True})
    assert typing["ok"] and typing["expires_in"] > 0, typing
    shown = await sockets["ana"].wait_for("room:typing", lambda d: d["room_id"] == rid)
    assert shown["user_id"] == ben.user_id and shown["is_typing"] is True
    await sockets["ben"].emit("room:typing", {"room_id": rid, "is_typing": False})
    await sockets["ana"].wait_for("room:typing", lambda d: d["is_typing"] is False)
    assert not sockets["ben"].received("room:typing")

    # Ticks: grey until Ben's device has it, blue once he read it.
    view = await ana.api.get(f"/api/v1/rooms/{rid}")
    assert view["receipts"]["delivered_position"] == 0
    mark = await sockets["ben"].emit("room:delivered", {"room_id": rid, "up_to_position": 1})
    assert mark["ok"] and mark["counted"], mark
    tick = await sockets["ana"].wait_for("room:receipt", lambda d: d["delivered_position"] == 1)
    assert tick["read_position"] == 0 and tick["tracked"] is True
    await sockets["ben"].emit("room:read", {"room_id": rid, "up_to_position": 5})
    await sockets["ana"].wait_for("room:receipt", lambda d: d["read_position"] == 1)
    synced = await sockets["ben"].emit("room:sync", {"rooms": [{"room_id": rid}]})
    [state] = synced["rooms"]
    assert [m["text"] for m in state["messages"]] == [first["text"]]
    assert state["membership"]["unread"] == 0 and state["receipts"]["read_position"] == 1

    # Nobody outside the room heard anything of it: not Cat, not the supervisor who is
    # not in it, not the customer, not another organization; none was mentioned.
    for name, person in (("cat", cat), ("lead", a.supervisor), ("b_agent", b.agents[0])):
        await agent_barrier(person, sockets[name])
        assert not heard_of(sockets[name], rid), name
    await customer_barrier(customer, sockets["customer"], a.org_id)
    assert not heard_of(sockets["customer"], rid)
    assert not sockets["cat"].received("mention:new")

    # Isolation probes on every route and event.
    for intruder, socket in (
        (b.agents[0], sockets["b_agent"]),
        (b.supervisor, None),
        (b.owner, None),
        (customer, sockets["customer"]),
        (cat, sockets["cat"]),
    ):
        await probe_every_route(intruder, socket, rid, ben.user_id)
    # A lead of the organization manages a room they are not in, but does not read it.
    assert (await a.supervisor.api.get(f"/api/v1/rooms/{rid}"))["id"] == rid
    denied = await sockets["lead"].emit("room:sync", {"rooms": [{"room_id": rid}]})
    assert denied["rooms"][0]["error"]["code"] == "not_found", denied
    denied = await send(sockets["lead"], rid, "hello")
    assert denied["error"]["code"] == "not_found", denied
    # Another organization's people cannot be put into a room, nor theirs into A's.
    await b.agents[0].api.post(
        "/api/v1/rooms", {"name": "Sneaky", "member_ids": [ana.user_id]}, expect=404
    )
    await ana.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": b.agents[0].user_id}, expect=404)
    await ana.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": customer.user_id}, expect=404)

    # Cat is added: her console joins the room and hears what follows.
    added = await ben.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": cat.user_id})
    assert added["member"]["user_id"] == cat.user_id and added["member"]["added_by"] == ben.user_id
    await sockets["cat"].wait_for("room:membership", lambda d: d["status"] == "member")
    later = await send(sockets["ana"], rid, "Welcome @Agent 3")
    await sockets["cat"].wait_for(
        "room:message", lambda d: d["message"]["id"] == later["message"]["id"]
    )
    await sockets["cat"].wait_for("mention:new", lambda d: d.get("room_id") == rid)
    # A member starts at the last position: ticks wait for Cat only from then on.
    state = (await sockets["cat"].emit("room:sync", {"rooms": [{"room_id": rid}]}))["rooms"][0]
    assert [m["position"] for m in state["messages"]] == [1, 2]


async def test_remove_leave_archive_and_who_manages(world: World) -> None:
    a = await world.tenant(agents=3)
    ana, ben, cat = a.agents
    sockets = {n: await world.socket(p) for n, p in (("ana", ana), ("ben", ben), ("cat", cat))}
    room = await ana.api.post(
        "/api/v1/rooms", {"name": "Ops", "member_ids": [ben.user_id, cat.user_id]}, expect=201
    )
    rid = room["id"]
    assert room["member_count"] == 3
    ack = await send(sockets["ben"], rid, "before")
    await sockets["cat"].wait_for(
        "room:message", lambda d: d["message"]["id"] == ack["message"]["id"]
    )

    # Only the creator or a lead removes someone else or archives.
    await ben.api.call("DELETE", f"/api/v1/rooms/{rid}/members/{cat.user_id}", expect=403)
    await ben.api.post(f"/api/v1/rooms/{rid}/archive", expect=403)
    removed = await ana.api.call("DELETE", f"/api/v1/rooms/{rid}/members/{cat.user_id}")
    assert removed["member"]["status"] == "removed"
    told = await sockets["cat"].wait_for("room:membership", lambda d: d["status"] == "removed")
    assert told["room"] is None
    await sockets["ben"].wait_for(
        "room:member", lambda d: d["member"]["user_id"] == cat.user_id and d["member_count"] == 2
    )
    # The removed member hears nothing more and reaches nothing.
    after = await send(sockets["ana"], rid, "after the removal")
    await sockets["ben"].wait_for(
        "room:message", lambda d: d["message"]["id"] == after["message"]["id"]
    )
    await agent_barrier(cat, sockets["cat"])
    assert not sockets["cat"].received(
        "room:message", lambda d: d["message"]["id"] == after["message"]["id"]
    )
    await probe_every_route(cat, sockets["cat"], rid, ben.user_id)
    assert await cat.api.get("/api/v1/rooms") == []

    # Ben leaves; the ticks then wait for Ana alone.
    left = await ben.api.post(f"/api/v1/rooms/{rid}/leave")
    assert left["status"] == "left"
    assert await ben.api.get("/api/v1/rooms") == []
    denied = await send(sockets["ben"], rid, "still here?")
    assert denied["error"]["code"] == "not_found", denied

    # A lead who is not in the room archives it: read-only from then on.
    archived = await a.supervisor.api.post(f"/api/v1/rooms/{rid}/archive")
    assert archived["status"] == "archived"
    update = await sockets["ana"].wait_for("room:updated", lambda d: d["room"]["id"] == rid)
    assert update["room"]["status"] == "archived"
    refused = await send(sockets["ana"], rid, "anyone?")
    assert refused["error"]["code"] == "archived", refused
    typing = await sockets["ana"].emit("room:typing", {"room_id": rid})
    assert typing["error"]["code"] == "archived", typing
    await ana.api.post(f"/api/v1/rooms/{rid}/members", {"user_id": cat.user_id}, expect=403)
    state = (await sockets["ana"].emit("room:sync", {"rooms": [{"room_id": rid}]}))["rooms"][0]
    assert state["status"] == "archived" and len(state["messages"]) == 2
    assert (await sockets["ana"].emit("room:read", {"room_id": rid, "up_to_position": 2}))["ok"]
    # The creator added back a removed teammate in an active room only; here: archived.
    assert (await ana.api.get(f"/api/v1/rooms/{rid}"))["status"] == "archived"


async def test_malformed_input_is_refused_with_typed_errors(world: World) -> None:
    a = await world.tenant(agents=1)
    agent = a.agents[0]
    socket = await world.socket(agent)
    for body in (
        {"name": ""},
        {"name": "x" * 81},
        {"name": "ok", "member_ids": "everyone"},
        {"name": "ok", "member_ids": ["not an id!"]},
        {"name": "ok", "extra": 1},
    ):
        answer = await agent.api.post("/api/v1/rooms", body, expect=422)
        assert answer["error"]["code"] == "validation_error", answer
    await agent.api.post("/api/v1/rooms", {"name": "   "}, expect=422)
    assert await agent.api.get("/api/v1/rooms") == [], "nothing was created"
    rid = (await agent.api.post("/api/v1/rooms", {"name": "Solo"}, expect=201))["id"]
    for event, payload in (
        ("room:send", {"room_id": rid, "text": "no client id"}),
        ("room:send", {"room_id": rid, "client_id": unique("c"), "text": "x" * 5000}),
        ("room:read", {"room_id": rid, "up_to_position": -1}),
        ("room:typing", {"room_id": rid, "is_typing": "yes"}),
        ("room:sync", {"rooms": []}),
    ):
        answer = await socket.emit(event, payload)
        assert answer["error"]["code"] == "validation_error", (event, answer)
    blank = await send(socket, rid, "   ")
    assert blank["error"]["code"] == "validation_error", blank
    assert (await agent.api.get(f"/api/v1/rooms/{rid}"))["last_position"] == 0


async def test_a_lead_sees_every_room_of_the_organization_and_may_join_or_manage_it(
    world: World,
) -> None:
    """``GET /api/v1/rooms?scope=organization``: a lead's overview, also of rooms they are
    not in (no ``membership`` there, no messages); agents: forbidden; another
    organization's lead: none of them. The lead joins one (adds themselves) or archives
    one they are not in."""
    a, b = await world.tenant(agents=2), await world.tenant(agents=1)
    ana, ben = a.agents
    lead = a.supervisor
    theirs = await ana.api.post(
        "/api/v1/rooms", {"name": "Billing", "member_ids": [ben.user_id]}, expect=201
    )
    other = await ben.api.post("/api/v1/rooms", {"name": "Night shift"}, expect=201)
    own = await lead.api.post("/api/v1/rooms", {"name": "Leads"}, expect=201)
    await b.supervisor.api.post("/api/v1/rooms", {"name": "B only"}, expect=201)

    overview = await lead.api.get("/api/v1/rooms?scope=organization")
    assert [r["name"] for r in overview] == ["Billing", "Night shift", "Leads"]
    by_id = {r["id"]: r for r in overview}
    assert "membership" not in by_id[theirs["id"]] and "membership" not in by_id[other["id"]]
    assert by_id[own["id"]]["membership"]["status"] == "member"
    assert by_id[theirs["id"]]["member_count"] == 2
    assert [r["name"] for r in await lead.api.get("/api/v1/rooms")] == ["Leads"]
    refused = await ana.api.get("/api/v1/rooms?scope=organization", expect=403)
    assert refused["error"]["code"] == "forbidden"
    assert [r["name"] for r in await b.supervisor.api.get("/api/v1/rooms?scope=organization")] == [
        "B only"
    ]
    bad = await lead.api.get("/api/v1/rooms?scope=everything", expect=422)
    assert bad["error"]["code"] == "validation_error"

    lead_socket = await world.socket(lead)
    await lead.api.post(f"/api/v1/rooms/{theirs['id']}/members", {"user_id": lead.user_id})
    await lead_socket.wait_for(
        "room:membership", lambda d: d["room_id"] == theirs["id"] and d["status"] == "member"
    )
    joined = {r["id"]: r for r in await lead.api.get("/api/v1/rooms?scope=organization")}
    assert joined[theirs["id"]]["membership"]["status"] == "member"
    await lead.api.post(f"/api/v1/rooms/{other['id']}/archive")
    archived = {r["id"]: r for r in await lead.api.get("/api/v1/rooms?scope=organization")}
    assert archived[other["id"]]["status"] == "archived"
    assert "membership" not in archived[other["id"]]
