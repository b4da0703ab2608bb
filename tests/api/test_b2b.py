"""Organization <-> organization conversations (issue 11, kind 2) over TLS with
python-socketio clients.

The journey (A's agent opens with B's group, B's policy routes it, B answers, ticks),
the exact audience of every event (A's consoles, B's consoles, a third organization,
an individual: who receives what), each side's internal notes invisible to the other,
request/accept and decline for organizations B does not know, each side closing its
own side, and the walls: a third organization's agents, B's agents outside the routed
group and B's agents on A's own routes get "not found". docs/protocol.md,
"Organization to organization".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, SocketClient, Tenant, World, unique


def about(cid: str) -> Callable[[Any], bool]:
    return lambda data: cid in json.dumps(data)


async def open_b2b(agent: Person, peer: Tenant, expect: int = 201, **fields: Any) -> Any:
    body = {"org_id": peer.org_id, "text": "Can we talk about the invoice?"} | fields
    body.setdefault("client_id", unique("b2b"))
    return await agent.api.post("/api/v1/b2b/conversations", body, expect=expect)


async def online(world: World, person: Person) -> SocketClient:
    sock = await world.socket(person)
    ack = await sock.emit("presence:set", {"availability": "online"})
    assert ack["ok"], ack
    return sock


async def barrier(pairs: list[tuple[Person, SocketClient]]) -> None:
    """An event to each socket sent after everything before (one connection keeps
    order): once it arrived, any earlier event to it would have arrived too."""
    for person, sock in pairs:
        ack = await sock.emit("presence:set", {"availability": "away"})
        assert ack["ok"], ack
        await sock.wait_for(
            "presence:update",
            lambda d, p=person: d["user_id"] == p.user_id and d["availability"] == "away",
        )
        ack = await sock.emit("presence:set", {"availability": "online"})
        assert ack["ok"], ack
        await sock.wait_for(
            "presence:update",
            lambda d, p=person: d["user_id"] == p.user_id and d["availability"] == "online",
        )


async def person_barrier(person: Person, sock: SocketClient, org_id: str) -> None:
    await person.api.put(f"/api/v1/contacts/{org_id}", {"is_muted": True})
    await sock.wait_for("contact:updated", lambda d: d["organization"]["id"] == org_id)


async def send(sock: SocketClient, cid: str, text: str, kind: str = "text") -> dict[str, Any]:
    ack = await sock.emit(
        "message:send",
        {"conversation_id": cid, "client_id": unique("m"), "text": text, "kind": kind},
    )
    return ack


async def test_b2b_journey_audience_notes_and_ticks(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=1, policy="round_robin")
    c = await world.tenant(agents=1)
    pat = await world.individual("Pat")
    s_a = await online(world, a.agents[0])
    s_a_lead = await world.socket(a.supervisor)
    s_b = await online(world, b.agents[0])
    s_b_lead = await world.socket(b.supervisor)
    s_c = await online(world, c.agents[0])
    s_c_owner = await world.socket(c.owner)
    s_pat = await world.socket(pat)

    # A's agent opens a conversation with B's support group.
    client_id = unique("b2b")
    opened = await open_b2b(
        a.agents[0],
        b,
        group_id=b.groups["support"]["id"],
        subject="Invoice 42",
        client_id=client_id,
    )
    view, first = opened["conversation"], opened["message"]
    cid = view["id"]
    assert view["kind"] == "b2b" and view["org_id"] == a.org_id
    assert view["status"] == "active" and view["assignee"]["id"] == a.agents[0].user_id
    assert view["subject"] == "Invoice 42"
    assert view["b2b"]["side"] == "org"
    assert view["b2b"]["other_org"] == {
        "id": b.org_id,
        "slug": b.org["slug"],
        "name": b.org["name"],
    }
    assert view["b2b"]["peer_status"] == "active"  # B's policy routed it
    assert first["position"] == 1 and first["sender_side"] == "org"
    again = await open_b2b(a.agents[0], b, client_id=client_id)  # a retry
    assert again["conversation"]["id"] == cid and again["message"]["id"] == first["id"]

    # B's consoles: its side, the other organization's name, routed to B's agent.
    seen = await s_b.wait_for(
        "conversation:updated",
        lambda d: d["conversation"]["id"] == cid and d["conversation"]["status"] == "active",
    )
    peer_view = seen["conversation"]
    assert peer_view["b2b"]["side"] == "peer"
    assert peer_view["b2b"]["other_org"]["name"] == a.org["name"]
    assert peer_view["assignee"]["id"] == b.agents[0].user_id
    assert peer_view["group_id"] == b.groups["support"]["id"]
    assert "tags" not in peer_view, "A's labels stay A's"
    await s_b.wait_for("message:new", lambda d: d["message"]["id"] == first["id"])
    await s_b_lead.wait_for("conversation:updated", about(cid))
    listed = await b.agents[0].api.get("/api/v1/b2b/conversations")
    assert [(x["id"], x["b2b"]["side"]) for x in listed] == [(cid, "peer")]
    assert [x["id"] for x in await a.agents[0].api.get("/api/v1/b2b/conversations")] == [cid]
    got = await b.agents[0].api.get(f"/api/v1/b2b/conversations/{cid}")
    assert got["b2b"]["side"] == "peer" and got["status"] == "active"

    # B answers; A's consoles get it, with the unread count of A's side.
    answer = await send(s_b, cid, "Sure, which line?")
    assert answer["ok"], answer
    assert answer["message"]["sender_side"] == "peer"
    await s_a.wait_for("message:new", lambda d: d["message"]["id"] == answer["message"]["id"])
    await s_a_lead.wait_for("message:new", lambda d: d["message"]["id"] == answer["message"]["id"])
    await s_a.wait_for(
        "unread:update", lambda d: d["conversation_id"] == cid and d["side"] == "org"
    )

    # Ticks: B's agent client read A's first message -> A sees B's side read it.
    read = await s_b.emit("receipt:read", {"conversation_id": cid, "up_to_position": 1})
    assert read["ok"] and read["counted"], read
    tick = await s_a.wait_for(
        "receipt:update", lambda d: d["conversation_id"] == cid and d["side"] == "peer"
    )
    assert tick["read_position"] >= 1
    # Any agent client of A reading counts for A (not only the assignee).
    lead_read = await s_a_lead.emit(
        "receipt:read", {"conversation_id": cid, "up_to_position": answer["message"]["position"]}
    )
    assert lead_read["ok"] and lead_read["counted"], lead_read
    await s_b.wait_for(
        "receipt:update",
        lambda d: (
            d["conversation_id"] == cid
            and d["side"] == "org"
            and d["read_position"] >= answer["message"]["position"]
        ),
    )

    # Notes: each side's stay on that side (live, history, sync, typing).
    typing = await s_a.emit("typing:start", {"conversation_id": cid, "is_note": True})
    assert typing["ok"], typing
    a_note = await send(s_a, cid, "A-only: they overcharged us", kind="note")
    assert a_note["ok"], a_note
    b_note = await send(s_b, cid, "B-only: check with finance", kind="note")
    assert b_note["ok"], b_note
    await s_a_lead.wait_for("message:new", lambda d: d["message"]["id"] == a_note["message"]["id"])
    await s_b_lead.wait_for("message:new", lambda d: d["message"]["id"] == b_note["message"]["id"])
    reply = await send(s_a, cid, "Line 3, please")
    assert reply["ok"], reply
    from_a = await s_b.wait_for(
        "message:new", lambda d: d["message"]["id"] == reply["message"]["id"]
    )
    # B never saw A's note: its previous position skips it (no gap to resync).
    assert from_a["previous_position"] == b_note["message"]["position"]
    from_a_on_a = await s_a_lead.wait_for(
        "message:new", lambda d: d["message"]["id"] == reply["message"]["id"]
    )
    assert from_a_on_a["previous_position"] == a_note["message"]["position"]

    a_history = await a.agents[0].api.get(f"/api/v1/conversations/{cid}/messages")
    b_history = await b.agents[0].api.get(f"/api/v1/conversations/{cid}/messages")
    a_texts = [m["text"] for m in a_history["messages"]]
    b_texts = [m["text"] for m in b_history["messages"]]
    assert "A-only: they overcharged us" in a_texts and "B-only: check with finance" not in a_texts
    assert "B-only: check with finance" in b_texts and "A-only: they overcharged us" not in b_texts
    b_sync = await s_b.emit("sync", {"conversations": [{"conversation_id": cid}]})
    synced = b_sync["conversations"][0]
    assert "A-only: they overcharged us" not in [m["text"] for m in synced["messages"]]
    assert synced["last_position"] == reply["message"]["position"]
    a_sync = await s_a.emit(
        "sync", {"conversations": [{"conversation_id": cid, "after_position": 0}]}
    )
    assert "B-only: check with finance" not in [
        m["text"] for m in a_sync["conversations"][0]["messages"]
    ]

    # Ticket fields: A sets them, B's consoles see them (B's side keeps its own status).
    await a.supervisor.api.patch(f"/api/v1/conversations/{cid}", {"priority": "high"})
    updated = await s_b.wait_for(
        "conversation:updated",
        lambda d: d["conversation"]["id"] == cid and d["conversation"]["priority"] == "high",
    )
    assert updated["conversation"]["b2b"]["side"] == "peer"

    # The audience: A's and B's consoles only; never C's, never an individual.
    await barrier([(c.agents[0], s_c)])
    await person_barrier(pat, s_pat, c.org_id)
    for outsider in (s_c, s_c_owner, s_pat):
        assert not [e for e in outsider.events if about(cid)(e[1])], outsider.events
    for sock in (s_b, s_b_lead):
        leaked = [d for n, d in sock.events if n == "message:new" and about(cid)(d)]
        assert a_note["message"]["id"] not in json.dumps(leaked)
        assert not [
            d for n, d in sock.events if n == "typing" and d.get("is_note") and about(cid)(d)
        ]
    for sock in (s_a, s_a_lead):
        leaked = [d for n, d in sock.events if n == "message:new" and about(cid)(d)]
        assert b_note["message"]["id"] not in json.dumps(leaked)
    audit = await a.owner.api.get(f"/api/v1/orgs/{a.org_id}/audit")
    assert any(e["action"] == "b2b.open" and e["target"] == cid for e in audit)


async def test_b2b_walls(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=2, policy="manual")
    c = await world.tenant(agents=1)
    pat = await world.individual("Pat")
    s_b0 = await online(world, b.agents[0])
    s_c = await online(world, c.agents[0])
    s_c_lead = await world.socket(c.supervisor)
    s_pat = await world.socket(pat)

    # Bad input changes nothing: oneself, an unknown organization, another's group.
    await open_b2b(a.agents[0], a, expect=422)
    await a.agents[0].api.post(
        "/api/v1/b2b/conversations",
        {"org_id": "999999999", "text": "hi", "client_id": unique("b2b")},
        expect=404,
    )
    await open_b2b(a.agents[0], b, group_id=c.groups["support"]["id"], expect=404)
    await open_b2b(pat, b, expect=403)  # an individual is no organization's agent
    assert await b.agents[0].api.get("/api/v1/b2b/conversations") == []

    # Opened with B's billing group (manual): it waits there; B's agents outside it
    # (support only) do not see it, B's supervisor (in billing) does.
    opened = await open_b2b(a.agents[0], b, group_id=b.groups["billing"]["id"])
    cid = opened["conversation"]["id"]
    assert opened["conversation"]["b2b"]["peer_status"] == "queued"
    waiting = await b.supervisor.api.get(f"/api/v1/b2b/conversations/{cid}")
    assert waiting["status"] == "queued" and waiting["assignee"] is None
    await b.agents[0].api.get(f"/api/v1/b2b/conversations/{cid}", expect=404)
    await b.agents[0].api.get(f"/api/v1/conversations/{cid}/messages", expect=404)
    refused = await send(s_b0, cid, "not mine")
    assert refused["error"]["code"] == "not_found", refused

    # A third organization and an individual: "not found" on every route and event.
    outsiders = [(c.agents[0], s_c), (c.supervisor, s_c_lead), (pat, s_pat)]
    for person, sock in outsiders:
        api = person.api
        await api.get(f"/api/v1/b2b/conversations/{cid}", expect=404 if person is not pat else 403)
        for action in ("accept", "decline", "close"):
            got = await api.post(f"/api/v1/b2b/conversations/{cid}/{action}", expect=None)
            assert got.get("error", {}).get("code") in ("not_found", "forbidden"), got
        await api.get(f"/api/v1/conversations/{cid}/messages", expect=404)
        await api.post(
            f"/api/v1/conversations/{cid}/messages",
            {"client_id": unique("m"), "text": "hi"},
            expect=404,
        )
        ack = await send(sock, cid, "let me in")
        assert ack["error"]["code"] == "not_found", ack
        synced = await sock.emit("sync", {"conversations": [{"conversation_id": cid}]})
        assert synced["conversations"][0]["error"]["code"] == "not_found", synced
        for event in ("receipt:read", "receipt:delivered"):
            ack = await sock.emit(event, {"conversation_id": cid, "up_to_position": 1})
            assert ack["error"]["code"] == "not_found", ack
        ack = await sock.emit("typing:start", {"conversation_id": cid})
        assert ack["error"]["code"] == "not_found", ack
    assert [x["id"] for x in await c.agents[0].api.get("/api/v1/b2b/conversations")] == []

    # B's supervisor takes it by replying; B's agents still get "not found" on A's own
    # routes: B cannot resolve, relabel, claim or transfer A's side.
    taken = await b.supervisor.api.post(
        f"/api/v1/conversations/{cid}/messages",
        {"client_id": unique("m"), "text": "Billing here"},
        expect=201,
    )
    assert taken["sender_side"] == "peer"
    mine = await b.supervisor.api.get(f"/api/v1/b2b/conversations/{cid}")
    assert mine["assignee"]["id"] == b.supervisor.user_id and mine["status"] == "active"
    for path, body in (
        ("resolve", {}),
        ("close", {}),
        ("claim", {}),
        ("reopen", {}),
    ):
        await b.supervisor.api.post(f"/api/v1/conversations/{cid}/{path}", body, expect=404)
    await b.supervisor.api.patch(f"/api/v1/conversations/{cid}", {"priority": "low"}, expect=404)
    # Reading it is the one support route both sides share: each its own side's view.
    seen = await b.supervisor.api.get(f"/api/v1/conversations/{cid}")
    assert seen["b2b"]["side"] == "peer" and seen["assignee"]["id"] == b.supervisor.user_id
    await c.supervisor.api.get(f"/api/v1/conversations/{cid}", expect=404)
    # The peer's own group agent cannot accept what is no request.
    await b.supervisor.api.post(f"/api/v1/b2b/conversations/{cid}/accept", expect=409)
    # A's agent cannot accept for B either.
    await a.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/accept", expect=404)


async def test_b2b_request_accept_and_decline(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=1, policy="round_robin")
    d = await world.tenant(agents=1)
    await b.owner.api.patch(
        f"/api/v1/orgs/{b.org_id}", {"settings": {"b2b_requests": "known_only"}}
    )
    org = await b.owner.api.get(f"/api/v1/orgs/{b.org_id}")
    assert org["settings"]["b2b_requests"] == "known_only"
    s_a = await online(world, a.agents[0])
    s_b = await online(world, b.agents[0])
    s_b_lead = await world.socket(b.supervisor)

    # A first request from A waits; B's consoles see it as a request.
    opened = await open_b2b(a.agents[0], b, group_id=b.groups["support"]["id"])
    cid = opened["conversation"]["id"]
    assert opened["conversation"]["b2b"]["peer_status"] == "requested"
    request = await s_b_lead.wait_for("conversation:updated", about(cid))
    assert request["conversation"]["status"] == "requested"
    assert request["conversation"]["b2b"]["other_org"]["id"] == a.org_id
    await s_b.wait_for("message:new", about(cid))  # B reads the request's first message
    refused = await send(s_b, cid, "hello?")
    assert refused["error"]["code"] == "b2b_request_pending", refused
    more = await send(s_a, cid, "It is about invoice 42")  # A may add while it waits
    assert more["ok"], more

    accepted = await b.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/accept")
    assert accepted["status"] == "active" and accepted["assignee"]["id"] == b.agents[0].user_id
    told = await s_a.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == cid and d["conversation"]["b2b"]["peer_status"] == "active"
        ),
    )
    assert told["conversation"]["b2b"]["accepted_at"]
    await b.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/accept", expect=409)
    answer = await send(s_b, cid, "Accepted, go ahead")
    assert answer["ok"], answer

    # A is known now: its next conversation is no request.
    second = await open_b2b(a.agents[0], b)
    assert second["conversation"]["b2b"]["peer_status"] in ("active", "queued")

    # D is not: its request is declined; D's side is over, D writes nothing more.
    s_d = await online(world, d.agents[0])
    third = await open_b2b(d.agents[0], b)
    did = third["conversation"]["id"]
    assert third["conversation"]["b2b"]["peer_status"] == "requested"
    declined = await b.supervisor.api.post(f"/api/v1/b2b/conversations/{did}/decline")
    assert declined["status"] == "declined"
    seen = await s_d.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == did and d["conversation"]["b2b"]["peer_status"] == "declined"
        ),
    )
    assert seen["conversation"]["status"] == "closed"
    ack = await send(s_d, did, "please?")
    assert ack["error"]["code"] == "b2b_declined", ack
    # Declining did not make D known: its next conversation is a request again.
    again = await open_b2b(d.agents[0], b)
    assert again["conversation"]["b2b"]["peer_status"] == "requested"
    audit = await b.owner.api.get(f"/api/v1/orgs/{b.org_id}/audit")
    actions = {(e["action"], e["target"]) for e in audit}
    assert ("b2b.accept", cid) in actions and ("b2b.decline", did) in actions


async def test_each_side_closes_its_own_side(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=1, policy="round_robin")
    s_a = await online(world, a.agents[0])
    s_b = await online(world, b.agents[0])
    opened = await open_b2b(a.agents[0], b, group_id=b.groups["support"]["id"])
    cid = opened["conversation"]["id"]
    await s_b.wait_for("message:new", about(cid))

    # A closes its side: B is told, B's side stays open and B may still write, which
    # gives the conversation back to A's side.
    closed = await a.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/close")
    assert closed["status"] == "closed" and closed["b2b"]["peer_status"] == "active"
    told = await s_b.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == cid and d["conversation"]["b2b"]["other_status"] == "closed"
        ),
    )
    assert told["conversation"]["status"] == "active"
    refused = await send(s_a, cid, "one more thing")
    assert refused["error"]["code"] == "conversation_closed", refused
    assert (await send(s_a, cid, "a note still", kind="note"))["ok"]
    back = await send(s_b, cid, "Wait, one question")
    assert back["ok"], back
    reopened = await s_a.wait_for(
        "conversation:updated",
        lambda d: d["conversation"]["id"] == cid and d["conversation"]["status"] == "active",
    )
    assert reopened["conversation"]["b2b"]["side"] == "org"

    # B closes its side; closing twice changes nothing.
    mine = await b.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/close")
    assert mine["status"] == "closed" and mine["b2b"]["org_status"] == "active"
    assert (await b.agents[0].api.post(f"/api/v1/b2b/conversations/{cid}/close"))["status"] == (
        "closed"
    )
    refused = await send(s_b, cid, "more")
    assert refused["error"]["code"] == "conversation_closed", refused
    await s_a.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == cid and d["conversation"]["b2b"]["peer_status"] == "closed"
        ),
    )
    again = await send(s_a, cid, "Following up")
    assert again["ok"], again
    await s_b.wait_for(
        "conversation:updated",
        lambda d: d["conversation"]["id"] == cid and d["conversation"]["status"] == "active",
    )
