"""Routing policies, atomic claims, capacity and availability (issue 2, Assignment)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.clients import Person, Tenant, World


async def open_conversation(
    customer: Person, tenant: Tenant, group: str = "support"
) -> dict[str, Any]:
    conversation: dict[str, Any] = (
        await customer.open_conversation(tenant, text="help", group=group)
    )["conversation"]
    return conversation


async def online(world: World, agent: Person) -> Any:
    sock = await world.socket(agent)
    ack = await sock.emit("presence:set", {"availability": "online"})
    assert ack["ok"]
    return sock


async def assignee_of(person: Person, conversation_id: str) -> str | None:
    view = await person.api.get(f"/api/v1/conversations/{conversation_id}")
    return (view["assignee"] or {}).get("id")


async def test_round_robin_rotates_among_online_agents(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=3)
    for agent in tenant.agents[:2]:
        await online(world, agent)
    customer = await world.individual()
    assignees = []
    for _ in range(4):
        conversation = await open_conversation(customer, tenant)
        assignees.append(await assignee_of(customer, conversation["id"]))
    first, second = sorted(a.user_id for a in tenant.agents[:2])
    assert assignees == [first, second, first, second]
    assert tenant.agents[2].user_id not in assignees, "an offline agent gets nothing"


async def test_least_busy_prefers_the_agent_with_fewer_conversations(world: World) -> None:
    tenant = await world.tenant(policy="least_busy", agents=2)
    alice, bob = tenant.agents
    await online(world, alice)
    customer = await world.individual()
    first = await open_conversation(customer, tenant)
    second = await open_conversation(customer, tenant)
    assert {await assignee_of(customer, c["id"]) for c in (first, second)} == {alice.user_id}
    await online(world, bob)
    third = await open_conversation(customer, tenant)
    assert await assignee_of(customer, third["id"]) == bob.user_id


async def test_manual_queue_first_claim_wins(world: World) -> None:
    tenant = await world.tenant(agents=2)
    # The supervisor and both agents are in "billing" only when the test puts them there.
    for agent in tenant.agents:
        await tenant.owner.api.patch(
            f"/api/v1/orgs/{tenant.org_id}/members/{agent.user_id}",
            {"group_ids": [tenant.groups["billing"]["id"]]},
        )
    agents = [await world.login(a.email, tenant.org["slug"]) for a in tenant.agents]
    for agent in agents:
        await online(world, agent)
    customer = await world.individual()
    conversation = await open_conversation(customer, tenant, "billing")
    assert conversation["status"] == "queued"
    queue = await agents[0].api.get("/api/v1/conversations", params={"scope": "queue"})
    assert [c["id"] for c in queue] == [conversation["id"]]
    results = await asyncio.gather(
        *(a.api.call("POST", f"/api/v1/conversations/{conversation['id']}/claim") for a in agents)
    )
    statuses = sorted(
        r.get("status", "error") if "error" not in r else r["error"]["code"] for r in results
    )
    assert statuses == ["active", "already_assigned"]


async def test_capacity_queues_then_assigns_when_freed(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=1, capacity=1)
    agent = tenant.agents[0]
    await online(world, agent)
    customer = await world.individual()
    customer_socket = await world.socket(customer)
    first = await open_conversation(customer, tenant)
    second = await open_conversation(customer, tenant)
    assert await assignee_of(customer, first["id"]) == agent.user_id
    assert second["status"] == "queued"
    await customer_socket.wait_for(
        "queue:position", lambda d: d["conversation_id"] == second["id"] and d["position"] == 1
    )
    await agent.api.post(f"/api/v1/conversations/{first['id']}/resolve")
    await customer_socket.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == second["id"] and d["conversation"]["status"] == "active"
        ),
    )
    assert await assignee_of(customer, second["id"]) == agent.user_id


async def test_away_or_disconnected_agents_get_no_new_work(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=1)
    agent = tenant.agents[0]
    sock = await online(world, agent)
    await sock.emit("presence:set", {"availability": "away"})
    customer = await world.individual()
    queued = await open_conversation(customer, tenant)
    assert queued["status"] == "queued"
    await sock.close()
    # Online but with no console connected: still not eligible.
    await agent.api.put("/api/v1/me/availability", {"availability": "online"})
    assert (await open_conversation(customer, tenant))["status"] == "queued"
    # Connecting while online drains the queue in arrival order.
    watcher = await world.socket(customer)
    await world.socket(agent)
    await watcher.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == queued["id"] and d["conversation"]["status"] == "active"
        ),
    )


async def test_transfer_to_group_requeues_and_escalation_reaches_leads(world: World) -> None:
    tenant = await world.tenant(policy="round_robin", agents=1)
    agent = tenant.agents[0]
    await online(world, agent)
    lead_socket = await world.socket(tenant.supervisor)
    customer = await world.individual()
    conversation = await open_conversation(customer, tenant)
    cid = conversation["id"]
    escalated = await agent.api.post(f"/api/v1/conversations/{cid}/escalate", {})
    assert escalated["is_escalated"] is True
    await lead_socket.wait_for(
        "message:new",
        lambda d: d["message"]["kind"] == "note" and "escalated" in d["message"]["text"],
    )
    moved = await agent.api.post(
        f"/api/v1/conversations/{cid}/transfer", {"group_id": tenant.groups["billing"]["id"]}
    )
    assert moved["status"] == "queued" and moved["group_id"] == tenant.groups["billing"]["id"]
    assert moved["assignee"] is None
    # The former assignee no longer sees it (not in billing), the supervisor does and can assign.
    await agent.api.get(f"/api/v1/conversations/{cid}", expect=404)
    assigned = await tenant.supervisor.api.post(
        f"/api/v1/conversations/{cid}/assign", {"agent_id": tenant.supervisor.user_id}
    )
    assert assigned["status"] == "active"
    refused = await agent.api.post(
        f"/api/v1/conversations/{cid}/assign", {"agent_id": agent.user_id}, expect=None
    )
    assert refused["error"]["code"] in {"forbidden", "not_found"}
