"""Community channels over TLS with python-socketio clients (docs/protocol.md,
"Community channels").

The journey (a supervisor creates, individuals join, a member's message reaches every
member and the moderators), group ticks (one member offline keeps them grey until it
syncs; blue only when every member read), join modes, moderation (approve, mute, remove
a message and a member), archived read-only, the exact audience (another organization's
agents, outsiders and a removed member receive nothing and get "not found"), typed
errors for malformed input, and a channel above the receipts limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.clients import Person, SocketClient, Tenant, World, unique
from tests.support.server import RunningServer


async def create(lead: Person, expect: int = 201, **fields: Any) -> Any:
    body = {"name": "Product community", "description": "Tips and news"} | fields
    return await lead.api.post("/api/v1/community", body, expect=expect)


async def send(socket: SocketClient, channel_id: str, text: str) -> dict[str, Any]:
    return await socket.emit(
        "community:send", {"channel_id": channel_id, "client_id": unique("c"), "text": text}
    )


def about(channel_id: str) -> Callable[[Any], bool]:
    return lambda data: channel_id in json.dumps(data)


async def barrier(person: Person, socket: SocketClient, org_id: str) -> None:
    """An event to ``person`` sent after everything before: once it arrived, any earlier
    event to them would have arrived too (one connection keeps order)."""
    await person.api.put(f"/api/v1/contacts/{org_id}", {"is_muted": True})
    await socket.wait_for(
        "contact:updated", lambda d: d["organization"]["id"] == org_id and d["is_muted"]
    )


async def agent_barrier(b: Tenant, socket: SocketClient) -> None:
    ack = await socket.emit("presence:set", {"availability": "away"})
    assert ack["ok"], ack
    await socket.wait_for("presence:update", lambda d: d["user_id"] == b.agents[0].user_id)


async def test_journey_group_ticks_and_audience(world: World) -> None:
    a, b = await world.tenant(agents=1), await world.tenant(agents=1)
    pat, sam, kim = [await world.individual(n) for n in ("Pat", "Sam", "Kim")]
    outsider = await world.individual("Quinn")
    # An agent moderates but does not create; a supervisor does.
    await create(a.agents[0], expect=403)
    channel = await create(a.supervisor, join_mode="open")
    cid = channel["id"]
    assert channel["kind"] == "community" and channel["status"] == "active"
    assert channel["receipts"] == {
        "tracked": True,
        "max_members": 256,
        "delivered_position": 0,
        "read_position": 0,
    }
    sockets = {
        "pat": await world.socket(pat),
        "sam": await world.socket(sam),
        "moderator": await world.socket(a.agents[0]),
        "b_agent": await world.socket(b.agents[0]),
        "outsider": await world.socket(outsider),
    }
    # Individuals find the open channel and join; Kim joins and goes offline.
    listed = await pat.api.get(f"/api/v1/community/of/{a.org_id}")
    assert [c["id"] for c in listed] == [cid]
    for person in (pat, sam, kim):
        joined = await person.api.post(f"/api/v1/community/{cid}/join")
        assert joined["membership"]["status"] == "member"
    assert joined["member_count"] == 3
    await sockets["moderator"].wait_for(
        "community:member", lambda d: d["member"]["user_id"] == kim.user_id
    )
    mine = await pat.api.get("/api/v1/community")
    assert [c["id"] for c in mine] == [cid] and mine[0]["organization"]["id"] == a.org_id
    assert "invite_code" not in mine[0], "only moderators see the invitation code"

    # Pat writes; Sam and the moderators receive it, one emit to the channel's room.
    ack = await send(sockets["pat"], cid, "Hello community")
    assert ack["ok"], ack
    first = ack["message"]
    assert first["position"] == 1 and first["sender_name"] == "Pat"
    for name in ("sam", "moderator"):
        got = await sockets[name].wait_for(
            "community:message", lambda d: d["message"]["id"] == first["id"]
        )
        assert got["channel_id"] == cid and got["previous_position"] == 0
    retry = await sockets["pat"].emit(
        "community:send",
        {"channel_id": cid, "client_id": first["client_id"], "text": "Hello community"},
    )
    assert retry["ok"] and retry["message"]["id"] == first["id"], retry

    # Sam's device receives and reads it; Kim is offline: the ticks stay grey.
    for event in ("community:delivered", "community:read"):
        mark = await sockets["sam"].emit(event, {"channel_id": cid, "up_to_position": 1})
        assert mark["ok"] and mark["counted"], mark
    assert mark["receipts"]["delivered_position"] == 0
    view = await pat.api.get(f"/api/v1/community/{cid}")
    assert view["receipts"]["delivered_position"] == 0
    assert view["receipts"]["read_position"] == 0
    assert not sockets["pat"].received("community:receipt")

    # Kim comes back, syncs and acknowledges: two ticks for everyone, then blue.
    kim_socket = await world.socket(kim)
    synced = await kim_socket.emit("community:sync", {"channels": [{"channel_id": cid}]})
    assert synced["ok"], synced
    [state] = synced["channels"]
    assert [m["text"] for m in state["messages"]] == ["Hello community"]
    assert state["membership"]["unread"] == 1
    await kim_socket.emit("community:delivered", {"channel_id": cid, "up_to_position": 1})
    tick = await sockets["pat"].wait_for(
        "community:receipt", lambda d: d["delivered_position"] == 1
    )
    assert tick["read_position"] == 0 and tick["tracked"] is True
    await kim_socket.emit("community:read", {"channel_id": cid, "up_to_position": 1})
    blue = await sockets["pat"].wait_for("community:receipt", lambda d: d["read_position"] == 1)
    assert blue["channel_id"] == cid
    await sockets["moderator"].wait_for("community:receipt", lambda d: d["read_position"] == 1)
    # A moderator's announcement reaches every member too.
    note = await send(sockets["moderator"], cid, "Welcome all")
    assert note["ok"] and note["message"]["sender_side"] == "org", note
    await kim_socket.wait_for(
        "community:message", lambda d: d["message"]["id"] == note["message"]["id"]
    )

    # Another organization's agent and an outsider heard nothing and reach nothing.
    await agent_barrier(b, sockets["b_agent"])
    await barrier(outsider, sockets["outsider"], a.org_id)
    for name in ("b_agent", "outsider"):
        assert not [d for _, d in sockets[name].events if about(cid)(d)], name
    for intruder, socket in (
        (b.agents[0], "b_agent"),
        (b.supervisor, None),
        (outsider, "outsider"),
    ):
        await intruder.api.get(f"/api/v1/community/{cid}", expect=404)
        await intruder.api.get(f"/api/v1/community/{cid}/members", expect=404)
        await intruder.api.post(f"/api/v1/community/{cid}/archive", expect=404)
        if socket is not None:
            denied = await send(sockets[socket], cid, "let me in")
            assert denied["error"]["code"] == "not_found", denied
            sync = await sockets[socket].emit("community:sync", {"channels": [{"channel_id": cid}]})
            assert sync["channels"][0]["error"]["code"] == "not_found", sync
            mark = await sockets[socket].emit(
                "community:read", {"channel_id": cid, "up_to_position": 1}
            )
            assert mark["error"]["code"] == "not_found", mark
    await b.agents[0].api.post(f"/api/v1/community/{cid}/members/{pat.user_id}/remove", expect=404)
    await b.agents[0].api.post(f"/api/v1/community/{cid}/messages/1/remove", expect=404)


async def test_join_modes_moderation_and_archive(world: World) -> None:
    a = await world.tenant(agents=1)
    moderator = a.agents[0]
    pat, sam = await world.individual("Pat"), await world.individual("Sam")
    mod_socket = await world.socket(moderator)
    pat_socket, sam_socket = await world.socket(pat), await world.socket(sam)

    # Approval: Pat asks, waits, is approved (and only then in the room).
    gated = await create(a.supervisor, join_mode="approval", name="Beta testers")
    gid = gated["id"]
    asked = await pat.api.post(f"/api/v1/community/{gid}/join")
    assert asked["membership"]["status"] == "pending"
    waiting = await send(pat_socket, gid, "am I in?")
    assert waiting["error"]["code"] == "not_found", waiting
    pending = await moderator.api.get(f"/api/v1/community/{gid}/members?status=pending")
    assert [m["user_id"] for m in pending] == [pat.user_id]
    await moderator.api.post(f"/api/v1/community/{gid}/members/{pat.user_id}/approve")
    await pat_socket.wait_for(
        "community:membership", lambda d: d["channel_id"] == gid and d["status"] == "member"
    )
    assert (await send(pat_socket, gid, "thanks"))["ok"]

    # Invitation only: not listed, not joinable without the link, joined with it.
    invite_only = await create(a.supervisor, join_mode="invite", name="VIP")
    iid = invite_only["id"]
    listed = await sam.api.get(f"/api/v1/community/of/{a.org_id}")
    assert iid not in [c["id"] for c in listed]
    await sam.api.post(f"/api/v1/community/{iid}/join", expect=404)
    await sam.api.post("/api/v1/community/join", {"code": "x" * 20}, expect=404)
    joined = await sam.api.post("/api/v1/community/join", {"code": invite_only["invite_code"]})
    assert joined["id"] == iid and joined["membership"]["status"] == "member"
    await pat.api.post("/api/v1/community/join", {"code": invite_only["invite_code"]})

    # Mute: Sam cannot write until unmuted.
    await moderator.api.put(
        f"/api/v1/community/{iid}/members/{sam.user_id}/mute", {"is_muted": True}
    )
    muted = await send(sam_socket, iid, "spam")
    assert muted["error"]["code"] == "muted", muted
    await moderator.api.put(
        f"/api/v1/community/{iid}/members/{sam.user_id}/mute", {"is_muted": False}
    )
    bad = await send(sam_socket, iid, "buy cheap watches")
    assert bad["ok"], bad
    position = bad["message"]["position"]

    # A moderator removes the message: every member is told, and its text is gone.
    removed = await moderator.api.post(f"/api/v1/community/{iid}/messages/{position}/remove")
    assert removed["message"]["removed_position"] == position
    await pat_socket.wait_for(
        "community:message", lambda d: d["message"].get("removed_position") == position
    )
    await moderator.api.post(f"/api/v1/community/{iid}/messages/{position}/remove", expect=404)
    await moderator.api.post(f"/api/v1/community/{iid}/messages/999/remove", expect=404)
    synced = await pat_socket.emit("community:sync", {"channels": [{"channel_id": iid}]})
    texts = {m["position"]: (m["text"], m["is_removed"]) for m in synced["channels"][0]["messages"]}
    assert texts[position] == ("", True)
    assert "watches" not in json.dumps(synced)

    # Removing Sam: told so, then nothing more, and "not found" everywhere.
    await moderator.api.post(f"/api/v1/community/{iid}/members/{sam.user_id}/remove")
    gone = await sam_socket.wait_for(
        "community:membership", lambda d: d["channel_id"] == iid and d["status"] == "removed"
    )
    assert gone["channel"] is None
    after = await send(pat_socket, iid, f"after {unique('x')}")
    assert after["ok"], after
    await mod_socket.wait_for(
        "community:message", lambda d: d["message"]["id"] == after["message"]["id"]
    )
    await barrier(sam, sam_socket, a.org_id)
    assert not sam_socket.received(
        "community:message", lambda d: d["message"]["id"] == after["message"]["id"]
    )
    await sam.api.get(f"/api/v1/community/{iid}", expect=404)
    await sam.api.post(f"/api/v1/community/{iid}/join", expect=404)
    await sam.api.post("/api/v1/community/join", {"code": invite_only["invite_code"]}, expect=404)
    denied = await send(sam_socket, iid, "still here?")
    assert denied["error"]["code"] == "not_found", denied
    assert iid not in [c["id"] for c in await sam.api.get("/api/v1/community")]

    # Archived: read-only for everyone, still readable by members.
    await moderator.api.post(f"/api/v1/community/{iid}/archive", expect=403)  # agents: no
    archived = await a.supervisor.api.post(f"/api/v1/community/{iid}/archive")
    assert archived["status"] == "archived"
    await pat_socket.wait_for(
        "community:updated",
        lambda d: d["channel"]["id"] == iid and d["channel"]["status"] == "archived",
    )
    for socket in (pat_socket, mod_socket):
        refused = await send(socket, iid, "hello?")
        assert refused["error"]["code"] == "archived", refused
    readable = await pat_socket.emit("community:sync", {"channels": [{"channel_id": iid}]})
    assert readable["channels"][0]["status"] == "archived"
    newcomer = await world.individual("Late")
    refused_join = await newcomer.api.post(
        "/api/v1/community/join", {"code": invite_only["invite_code"]}, expect=403
    )
    assert refused_join["error"]["code"] == "archived"


async def test_malformed_input_is_refused_with_typed_errors(world: World) -> None:
    a = await world.tenant(agents=1)
    pat = await world.individual("Pat")
    cid = (await create(a.supervisor))["id"]
    await pat.api.post(f"/api/v1/community/{cid}/join")
    socket = await world.socket(pat)
    for payload in (
        {"channel_id": cid, "text": "no client id"},
        {"channel_id": "abc", "client_id": "c1", "text": "x"},
        {"channel_id": cid, "client_id": "c1", "text": "x" * 4001},
        {"channel_id": cid, "client_id": "c1", "text": "x", "extra": 1},
        {"channel_id": int(cid), "client_id": "c1", "text": "x"},
    ):
        ack = await socket.emit("community:send", payload)
        assert ack["error"]["code"] == "validation_error", (payload, ack)
    blank = await send(socket, cid, "   ")
    assert blank["error"]["code"] == "validation_error", blank
    for payload in (
        {"channel_id": cid, "up_to_position": -1},
        {"channel_id": cid},
    ):
        ack = await socket.emit("community:read", payload)
        assert ack["error"]["code"] == "validation_error", (payload, ack)
    ack = await socket.emit("community:sync", {"channels": []})
    assert ack["error"]["code"] == "validation_error", ack
    ack = await socket.emit("community:sync", {"channels": [{"channel_id": "1" * 19}]})
    assert ack["channels"][0]["error"]["code"] == "not_found", ack
    # A watermark past the end is clamped: nobody marks what does not exist yet.
    far = await socket.emit("community:read", {"channel_id": cid, "up_to_position": 10**12})
    assert far["membership"]["read_position"] == 0, far
    lead = a.supervisor
    await lead.api.post("/api/v1/community", {"name": "x", "join_mode": "secret"}, expect=422)
    await lead.api.post("/api/v1/community", {"name": "x" * 81}, expect=422)
    await lead.api.post("/api/v1/community", {"name": "   "}, expect=422)
    await lead.api.post("/api/v1/community", {"name": "x", "color": "red"}, expect=422)
    await pat.api.post("/api/v1/community", {"name": "mine"}, expect=404)
    await pat.api.post("/api/v1/community/join", {"code": "short"}, expect=422)
    await pat.api.post("/api/v1/community/join", {"code": "../../etc/passwd-xxxxxx"}, expect=422)
    await pat.api.get("/api/v1/community/not-a-number", expect=422)
    await pat.api.post(f"/api/v1/community/{'9' * 19}/join", expect=404)
    await a.agents[0].api.post(f"/api/v1/community/{cid}/members/{pat.user_id}/ban", expect=422)
    await a.agents[0].api.put(
        f"/api/v1/community/{cid}/members/{pat.user_id}/mute", {"is_muted": "yes"}, expect=422
    )
    await a.agents[0].api.get(f"/api/v1/community/{cid}/members?status=everyone", expect=422)


async def test_above_the_receipts_limit_nothing_is_tracked(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server({"RAASEL_GROUP_RECEIPTS_MAX_MEMBERS": "2"})
    world = World(node)
    try:
        a = await world.tenant(agents=1)
        cid = (await create(a.supervisor))["id"]
        people = [await world.individual(f"P{i}") for i in range(3)]
        for person in people:
            await person.api.post(f"/api/v1/community/{cid}/join")
        view = await people[0].api.get(f"/api/v1/community/{cid}")
        assert view["member_count"] == 3
        assert view["receipts"] == {
            "tracked": False,
            "max_members": 2,
            "delivered_position": None,
            "read_position": None,
        }
        sockets = [await world.socket(p) for p in people]
        sent = await send(sockets[0], cid, "hello all")
        assert sent["ok"], sent
        for socket in sockets[1:]:
            await socket.wait_for(
                "community:message", lambda d: d["message"]["id"] == sent["message"]["id"]
            )
        mark = await sockets[1].emit("community:read", {"channel_id": cid, "up_to_position": 1})
        assert mark["ok"] and mark["counted"] is False and mark["receipts"]["tracked"] is False
        assert not sockets[0].received("community:receipt")
    finally:
        await world.close()
