"""Typing that stops when a client vanishes, and agents' presence."""

from __future__ import annotations

from tests.support.clients import World, unique


async def test_typing_stops_at_once_when_the_typist_disconnects(world: World) -> None:
    tenant = await world.tenant(agents=1)
    agent_socket = await world.socket(tenant.agents[0])
    await agent_socket.emit("presence:set", {"availability": "online"})
    customer = await world.individual()
    opened = await customer.api.post(
        "/api/v1/conversations",
        {
            "org_id": tenant.org_id,
            "group_id": tenant.groups["support"]["id"],
            "text": "hi",
            "client_id": unique("o"),
        },
        expect=201,
    )
    cid = opened["conversation"]["id"]
    typist = await world.socket(customer)
    ack = await typist.emit("typing:start", {"conversation_id": cid})
    assert ack == {"ok": True, "expires_in": 1.5}
    await agent_socket.wait_for("typing", lambda d: d["is_typing"])
    await typist.close()
    stop = await agent_socket.wait_for("typing", lambda d: not d["is_typing"], within=1.0)
    assert stop["user_id"] == customer.user_id and stop["conversation_id"] == cid
    assert not typist.received("typing"), "the typist is not told about its own typing"


async def test_agent_presence_is_broadcast_to_the_organization_only(world: World) -> None:
    tenant = await world.tenant(agents=1)
    other = await world.tenant(agents=1)
    watcher = await world.socket(tenant.supervisor)
    outsider = await world.socket(other.supervisor)
    agent = tenant.agents[0]
    agent_socket = await world.socket(agent)
    await watcher.wait_for(
        "presence:update", lambda d: d["user_id"] == agent.user_id and d["is_connected"]
    )
    await agent_socket.emit("presence:set", {"availability": "away"})
    await watcher.wait_for("presence:update", lambda d: d["availability"] == "away")
    members = await tenant.supervisor.api.get(f"/api/v1/orgs/{tenant.org_id}/members")
    [listed] = [m for m in members if m["user_id"] == agent.user_id]
    assert listed["availability"] == "away" and listed["is_connected"] is True
    await agent_socket.close()
    await watcher.wait_for(
        "presence:update", lambda d: d["user_id"] == agent.user_id and not d["is_connected"]
    )
    assert not outsider.received("presence:update", lambda d: d["user_id"] == agent.user_id)
    refused = await (await world.socket(await world.individual())).emit(
        "presence:set", {"availability": "online"}
    )
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
