"""A ``b2b`` conversation is routing load for the agents of both organizations
(issue 11): the opener's agent holds it as any conversation it is assigned, and the
peer's agent the policy picked holds it until its side is closed. Over TLS with
python-socketio clients; docs/protocol.md, "Organization to organization"."""

from __future__ import annotations

from tests.api.test_b2b import online, open_b2b
from tests.support.clients import World


async def test_peer_side_counts_toward_capacity_until_closed(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=1, policy="round_robin", capacity=1)
    await online(world, a.agents[0])
    agent_b = b.agents[0]
    await online(world, agent_b)
    opened = await open_b2b(a.agents[0], b, group_id=b.groups["support"]["id"])
    cid = opened["conversation"]["id"]
    assert opened["conversation"]["b2b"]["peer_status"] == "active"
    peer_view = await agent_b.api.get(f"/api/v1/b2b/conversations/{cid}")
    assert peer_view["assignee"]["id"] == agent_b.user_id

    # B's only agent is at capacity with A's conversation: a customer waits.
    customer = await world.individual()
    watcher = await world.socket(customer)
    support = (await customer.open_conversation(b, text="help", group="support"))["conversation"]
    assert support["status"] == "queued", "the b2b conversation is the agent's load"
    load = {m["user_id"]: m["open"] for m in await b.supervisor.api.get("/api/v1/inbox/team")}
    assert load[agent_b.user_id] == 1

    # B closes its side: the agent is free, and B's queue is drained to it.
    await agent_b.api.post(f"/api/v1/b2b/conversations/{cid}/close")
    done = await watcher.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == support["id"] and d["conversation"]["status"] == "active"
        ),
    )
    assert done["conversation"]["assignee"]["id"] == agent_b.user_id


async def test_opener_side_counts_toward_capacity(world: World) -> None:
    a = await world.tenant(agents=1, policy="least_busy", capacity=1)
    b = await world.tenant(agents=1)
    agent_a = a.agents[0]
    await online(world, agent_a)
    opened = await open_b2b(agent_a, b)
    cid = opened["conversation"]["id"]
    customer = await world.individual()
    watcher = await world.socket(customer)
    support = (await customer.open_conversation(a, text="help", group="support"))["conversation"]
    assert support["status"] == "queued", "the opener's b2b conversation is its load"

    await agent_a.api.post(f"/api/v1/b2b/conversations/{cid}/close")
    done = await watcher.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == support["id"] and d["conversation"]["status"] == "active"
        ),
    )
    assert done["conversation"]["assignee"]["id"] == agent_a.user_id
