"""Platform support over TLS with python-socketio clients (issue 11, kind 4).

An operator made by the CLI signs in; an organization's admin asks the platform and the
operator answers; a supervisor escalates a customer's conversation, the operator joins
(audited) and writes, and the customer and the organization's agents see it. The exact
audience of every event, and the walls: an operator gets "not found" for every
conversation that was not opened or escalated to the platform (this tenant's and other
tenants'), on every route and event; nobody else reaches the operator routes; an
operator's session reaches no organization's routes. docs/protocol.md, "Platform support".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jwt

from tests.support.clients import PASSWORD, Person, SocketClient, Tenant, World, unique
from tests.support.platform import create_operator


def about(cid: str) -> Callable[[Any], bool]:
    return lambda data: cid in json.dumps(data)


async def operator(world: World, name: str = "Olga Ops") -> Person:
    email = f"{unique('ops')}@platform.example"
    user_id = create_operator(world.server, email, name, PASSWORD)
    session = await world.anonymous.post(
        "/api/v1/platform/login", {"email": email, "password": PASSWORD}
    )
    assert session["role"] == "operator" and session["user"]["id"] == user_id
    return Person(session, world.api(session["access_token"]), email, PASSWORD)


async def barrier(member_sockets: list[tuple[Person, SocketClient]]) -> None:
    """An event to each member socket, sent after everything before (one connection
    keeps order): once it arrived, any earlier event to it would have arrived too."""
    for person, sock in member_sockets:
        ack = await sock.emit("presence:set", {"availability": "away"})
        assert ack["ok"], ack
        await sock.wait_for("presence:update", lambda d, p=person: d["user_id"] == p.user_id)


async def person_barrier(person: Person, sock: SocketClient, org_id: str) -> None:
    await person.api.put(f"/api/v1/contacts/{org_id}", {"is_muted": True})
    await sock.wait_for("contact:updated", lambda d: d["organization"]["id"] == org_id)


async def audit_actions(tenant: Tenant, target: str) -> list[dict[str, Any]]:
    entries = await tenant.owner.api.get(f"/api/v1/orgs/{tenant.org_id}/audit")
    return [e for e in entries if e["target"] == target]


async def open_platform(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "category": "billing",
        "subject": "Invoice twice",
        "text": "We were invoiced twice this month",
        "client_id": unique("plt"),
    } | fields
    opened: dict[str, Any] = await tenant.owner.api.post(
        f"/api/v1/orgs/{tenant.org_id}/platform/conversations", body, expect=201
    )
    return opened["conversation"]


async def test_admin_asks_the_platform_and_the_operator_answers(world: World) -> None:
    a, b = await world.tenant(agents=1), await world.tenant(agents=1)
    ops = await operator(world)
    customer = await world.individual("Cleo")
    s_ops = await world.socket(ops)
    s_owner = await world.socket(a.owner)
    s_lead = await world.socket(a.supervisor)
    s_agent = await world.socket(a.agents[0])
    s_b = await world.socket(b.owner)
    s_customer = await world.socket(customer)

    client_id = unique("plt")
    conversation = await open_platform(a, client_id=client_id)
    cid = conversation["id"]
    assert conversation["kind"] == "platform" and conversation["status"] == "active"
    assert conversation["platform"]["category"] == "billing"
    again = await open_platform(a, client_id=client_id)  # a retry: the same conversation
    assert again["id"] == cid

    # The operator's console: the conversation, its organization, its first message.
    update = await s_ops.wait_for("conversation:updated", about(cid))
    assert update["conversation"]["platform"]["category"] == "billing"
    first = await s_ops.wait_for("message:new", about(cid))
    assert first["message"]["sender_side"] == "org" and first["position"] == 1
    listed = await ops.api.get("/api/v1/platform/conversations")
    mine = [c for c in listed if c["id"] == cid]
    assert mine and mine[0]["organization"]["id"] == a.org_id
    assert all(c["platform"] for c in listed)
    await s_lead.wait_for("message:new", about(cid))  # the organization's leads
    org_list = await a.supervisor.api.get(f"/api/v1/orgs/{a.org_id}/platform/conversations")
    assert [c["id"] for c in org_list] == [cid]

    # Writing needs joining first; joining is audited in the organization's log.
    refused = await s_ops.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "Hi"}
    )
    assert refused["error"]["code"] == "not_joined"
    joined = await ops.api.post(f"/api/v1/platform/conversations/{cid}/join")
    assert joined["platform"]["operators"] == [{"id": ops.user_id, "name": "Olga Ops"}]
    assert await ops.api.post(f"/api/v1/platform/conversations/{cid}/join") == joined
    entries = await audit_actions(a, cid)
    assert {e["action"] for e in entries} == {"platform.open", "platform.join"}
    join_entry = next(e for e in entries if e["action"] == "platform.join")
    assert join_entry["actor_id"] == ops.user_id and "platform support" in join_entry["summary"]

    ack = await s_ops.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("m"), "text": "Refunded the second one"},
    )
    assert ack["ok"], ack
    answer = ack["message"]
    assert answer["sender_side"] == "platform"
    got = await s_owner.wait_for("message:new", lambda d: d["message"]["id"] == answer["id"])
    assert got["message"]["text"] == "Refunded the second one"
    unread = await s_owner.wait_for(
        "unread:update", lambda d: d["conversation_id"] == cid and d["side"] == "org"
    )
    assert unread["unread"] >= 1
    reply = await s_owner.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "Thanks!"}
    )
    assert reply["ok"], reply
    await s_ops.wait_for("message:new", lambda d: d["message"]["id"] == reply["message"]["id"])
    history = await ops.api.get(f"/api/v1/platform/conversations/{cid}/messages")
    assert [m["text"] for m in history["messages"]][-2:] == ["Refunded the second one", "Thanks!"]
    synced = await s_ops.emit("sync", {"conversations": [{"conversation_id": cid}]})
    assert synced["conversations"][0]["last_position"] == 4
    read = await s_ops.emit("receipt:read", {"conversation_id": cid, "up_to_position": 4})
    assert read["ok"], read
    await s_owner.wait_for(
        "receipt:update",
        lambda d: (
            d["conversation_id"] == cid and d["side"] == "platform" and d["read_position"] == 4
        ),
    )

    # Nobody else heard of it: the agent outside the leads, another organization, a
    # customer of the organization.
    await barrier([(a.agents[0], s_agent), (b.owner, s_b)])
    await person_barrier(customer, s_customer, a.org_id)
    for outsider in (s_agent, s_b, s_customer):
        assert [n for n, d in outsider.events if about(cid)(d)] == []


async def test_supervisor_escalates_and_the_operator_joins(world: World) -> None:
    a, b = await world.tenant(agents=1), await world.tenant(agents=1)
    ops = await operator(world, "Omar Ops")
    customer, other = await world.individual("Cleo"), await world.individual("Quinn")
    s_ops = await world.socket(ops)
    s_agent = await world.socket(a.agents[0])
    s_lead = await world.socket(a.supervisor)
    s_customer = await world.socket(customer)
    s_other = await world.socket(other)
    s_b = await world.socket(b.agents[0])

    opened = await customer.open_conversation(a, text="My account is locked", group="support")
    cid = opened["conversation"]["id"]
    await s_agent.wait_for("message:new", about(cid))
    note = await s_agent.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("n"), "text": "VIP", "kind": "note"},
    )
    assert note["ok"], note

    # Not escalated: the operator sees nothing of it, on any route or event.
    await assert_not_found(ops, s_ops, cid)

    # Only a supervisor of the organization escalates.
    path = f"/api/v1/conversations/{cid}/platform-escalation"
    await a.agents[0].api.post(path, {"reason": "x"}, expect=403)
    await b.supervisor.api.post(path, {"reason": "x"}, expect=404)
    escalated = await a.supervisor.api.post(path, {"reason": "Locked by the platform's SSO"})
    assert escalated["is_escalated"] and escalated["platform"]["reason"].startswith("Locked")
    await a.supervisor.api.post(path, {"reason": "again"}, expect=409)
    entries = await audit_actions(a, cid)
    assert "conversation.escalate_platform" in {e["action"] for e in entries}

    seen = await s_ops.wait_for("conversation:updated", about(cid))
    assert seen["conversation"]["platform"]["category"] == "escalation"
    assert "priority" not in seen["conversation"]  # the customer's view, no internal fields
    history = await ops.api.get(f"/api/v1/platform/conversations/{cid}/messages")
    assert [m["kind"] for m in history["messages"]] == ["text"]  # never the internal notes
    assert (await ops.api.get(f"/api/v1/platform/conversations/{cid}"))["id"] == cid

    joined = await ops.api.post(f"/api/v1/platform/conversations/{cid}/join")
    assert joined["platform"]["operator_ids"] == [ops.user_id]
    system = await s_customer.wait_for(
        "message:new", lambda d: about(cid)(d) and d["message"]["kind"] == "system"
    )
    assert "platform support" in system["message"]["text"]
    join_entry = [e for e in await audit_actions(a, cid) if e["action"] == "platform.join"]
    assert join_entry and join_entry[0]["actor_id"] == ops.user_id

    sent = await ops.api.post(
        f"/api/v1/platform/conversations/{cid}/messages",
        {"client_id": unique("m"), "text": "Your account is unlocked"},
        expect=201,
    )
    assert sent["sender_side"] == "platform"
    for sock in (s_customer, s_agent, s_lead, s_ops):
        got = await sock.wait_for("message:new", lambda d: d["message"]["id"] == sent["id"])
        assert got["message"]["text"] == "Your account is unlocked"
    # The customer writes back; the operator sees it (public messages only).
    back = await s_customer.emit(
        "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "Thanks"}
    )
    assert back["ok"], back
    await s_ops.wait_for("message:new", lambda d: d["message"]["id"] == back["message"]["id"])
    # Notes written after the escalation stay the organization's.
    later = await s_agent.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("n"), "text": "secret", "kind": "note"},
    )
    assert later["ok"], later
    typing = await s_ops.emit("typing:start", {"conversation_id": cid})
    assert typing["ok"], typing
    await s_customer.wait_for("typing", lambda d: d["user_id"] == ops.user_id)

    await barrier([(b.agents[0], s_b), (a.agents[0], s_agent)])
    await person_barrier(other, s_other, a.org_id)
    await person_barrier(customer, s_customer, a.org_id)
    assert [n for n, d in s_b.events if about(cid)(d)] == []
    assert [n for n, d in s_other.events if about(cid)(d)] == []
    assert not [
        d for d in s_ops.received("message:new", about(cid)) if d["message"]["kind"] == "note"
    ]
    assert not [
        d for d in s_customer.received("message:new", about(cid)) if d["message"]["kind"] == "note"
    ]


async def assert_not_found(ops: Person, s_ops: SocketClient, cid: str) -> None:
    """Every operator route and event answers "not found" for ``cid``."""
    base = f"/api/v1/platform/conversations/{cid}"
    for call in (
        ops.api.get(base, expect=404),
        ops.api.get(f"{base}/messages", expect=404),
        ops.api.post(f"{base}/join", expect=404),
        ops.api.post(f"{base}/messages", {"client_id": unique("m"), "text": "x"}, expect=404),
    ):
        answer = await call
        assert answer["error"]["code"] == "not_found", answer
    events: list[tuple[str, dict[str, Any]]] = [
        ("message:send", {"conversation_id": cid, "client_id": unique("m"), "text": "x"}),
        ("message:history", {"conversation_id": cid}),
        ("typing:start", {"conversation_id": cid}),
        ("receipt:read", {"conversation_id": cid, "up_to_position": 1}),
        ("receipt:delivered", {"conversation_id": cid, "up_to_position": 1}),
    ]
    for name, payload in events:
        ack = await s_ops.emit(name, payload)
        assert ack["error"]["code"] == "not_found", (name, ack)
    synced = await s_ops.emit("sync", {"conversations": [{"conversation_id": cid}]})
    assert synced["conversations"][0]["error"]["code"] == "not_found"
    listed = await ops.api.get("/api/v1/platform/conversations")
    assert cid not in {c["id"] for c in listed}


async def test_walls_around_the_platform(world: World) -> None:
    a, b = await world.tenant(agents=1), await world.tenant(agents=1)
    ops = await operator(world, "Ola Ops")
    s_ops = await world.socket(ops)
    customer = await world.individual("Cleo")
    # Another tenant's conversations, and this tenant's that were not escalated.
    in_b = (await customer.open_conversation(b, text="about b"))["conversation"]["id"]
    in_a = (await customer.open_conversation(a, text="about a"))["conversation"]["id"]
    for cid in (in_a, in_b, "12345678901234567890"):
        await assert_not_found(ops, s_ops, cid)
    # An operator never reaches through an escalation in another organization either.
    platform_b = await open_platform(b)
    await a.supervisor.api.post(
        f"/api/v1/conversations/{platform_b['id']}/platform-escalation", {}, expect=404
    )
    # A platform conversation is not escalated again.
    platform_a = await open_platform(a)
    await a.supervisor.api.post(
        f"/api/v1/conversations/{platform_a['id']}/platform-escalation", {}, expect=409
    )

    # Nobody but an operator reaches the operator routes (told they do not exist).
    forged = jwt.encode(
        {"sub": ops.user_id, "sid": "x", "aud": "raasel", "org": "platform", "exp": 2**31},
        "not-the-node-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    route = f"/api/v1/platform/conversations/{platform_a['id']}"
    for person in (a.owner, a.supervisor, a.agents[0], customer):
        await person.api.get("/api/v1/platform/conversations", expect=404)
        await person.api.get(route, expect=404)
        await person.api.post(f"{route}/join", expect=404)
    await world.api(forged).get("/api/v1/platform/conversations", expect=401)
    await world.anonymous.get("/api/v1/platform/conversations", expect=401)
    # A member's password is not an operator's login.
    await world.anonymous.post(
        "/api/v1/platform/login", {"email": a.owner.email, "password": PASSWORD}, expect=401
    )

    # An operator's session reaches no organization's routes nor an individual's.
    for path in ("/api/v1/conversations", f"/api/v1/orgs/{a.org_id}/audit", "/api/v1/me"):
        refused = await ops.api.get(path, expect=403)
        assert refused["error"]["code"] == "operator_session"
    await ops.api.post(
        f"/api/v1/orgs/{a.org_id}/platform/conversations",
        {"category": "billing", "text": "x", "client_id": unique("p")},
        expect=403,
    )
    ack = await s_ops.emit("presence:set", {"availability": "away"})
    assert ack["error"]["code"] == "forbidden"

    # Only an admin of the organization opens a platform conversation; bad input is typed.
    body = {"category": "billing", "text": "help", "client_id": unique("p")}
    await a.supervisor.api.post(f"/api/v1/orgs/{a.org_id}/platform/conversations", body, expect=403)
    await b.owner.api.post(f"/api/v1/orgs/{a.org_id}/platform/conversations", body, expect=404)
    for bad in ({"category": "gossip"}, {"text": ""}, {"text": "x" * 4001}, {"extra": 1}):
        await a.owner.api.post(
            f"/api/v1/orgs/{a.org_id}/platform/conversations", body | bad, expect=422
        )
    await a.owner.api.get(f"/api/v1/orgs/{b.org_id}/platform/conversations", expect=404)

    # Logging out ends the operator's session.
    await ops.api.post("/api/v1/auth/logout", expect=204)
    await ops.api.get("/api/v1/platform/conversations", expect=401)
