"""The customer always knows where they stand (issue 12, item 5), over the API.

Each message names its author (``sender_name``), so after a transfer the earlier agent's
messages keep their name; a customer's views name the organization and the team on any
device (nothing remembered by the client); a guest's conversations with several
organizations all stay reachable.
"""

from __future__ import annotations

from typing import Any

from tests.support.clients import Person, Tenant, World, unique


async def _online(world: World, agent: Person) -> Any:
    sock = await world.socket(agent)
    assert (await sock.emit("presence:set", {"availability": "online"}))["ok"]
    return sock


async def _say(person: Person, conversation_id: str, text: str) -> dict[str, Any]:
    sent: dict[str, Any] = await person.api.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"text": text, "client_id": unique("m")},
        expect=201,
    )
    return sent


def _names(messages: list[dict[str, Any]]) -> dict[str, str | None]:
    return {m["text"]: m["sender_name"] for m in messages if m["kind"] == "text"}


async def test_after_a_transfer_earlier_messages_keep_their_authors_name(world: World) -> None:
    tenant: Tenant = await world.tenant(policy="round_robin", agents=1)
    agent, lead = tenant.agents[0], tenant.supervisor
    await _online(world, agent)
    customer = await world.individual("Carla Customer")
    customer_socket = await world.socket(customer)
    opened = await customer.open_conversation(tenant, text="my parcel", group="support")
    cid = opened["conversation"]["id"]
    assert opened["message"]["sender_name"] == "Carla Customer"
    assert opened["conversation"]["assignee"]["id"] == agent.user_id
    first = await _say(agent, cid, "first agent here")
    assert first["sender_name"] == "Agent 1"
    await agent.api.post(
        f"/api/v1/conversations/{cid}/transfer", {"group_id": tenant.groups["billing"]["id"]}
    )
    await lead.api.post(f"/api/v1/conversations/{cid}/assign", {"agent_id": lead.user_id})
    await _say(lead, cid, "the lead takes over")
    live = await customer_socket.wait_for(
        "message:new", lambda d: d["message"]["text"] == "the lead takes over"
    )
    assert live["message"]["sender_name"] == "Supervisor 0"
    # The conversation now names the lead as assignee; the history still names each author.
    view = await customer.api.get(f"/api/v1/conversations/{cid}")
    assert view["assignee"]["id"] == lead.user_id
    history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
    assert _names(history["messages"]) == {
        "my parcel": "Carla Customer",
        "first agent here": "Agent 1",
        "the lead takes over": "Supervisor 0",
    }
    system = [m for m in history["messages"] if m["kind"] == "system"]
    assert system and all(m["sender_name"] is None for m in system)
    resync = await customer.api.get(f"/api/v1/conversations/{cid}/messages/after-position/0")
    assert _names(resync["messages"]) == _names(history["messages"])
    # The agents' side reads the same names (the former agent no longer sees it: billing).
    lead_history = await lead.api.get(f"/api/v1/conversations/{cid}/messages")
    assert _names(lead_history["messages"]) == _names(history["messages"])


async def test_the_organizations_name_comes_with_every_view_of_the_customer(
    world: World,
) -> None:
    tenant = await world.tenant(agents=1)
    customer = await world.individual()
    opened = await customer.open_conversation(tenant, group="support")
    cid = opened["conversation"]["id"]
    # A second device knows nothing: a fresh login reads the names from the server.
    second = await world.login(customer.email)
    listed = await second.api.get("/api/v1/conversations?scope=all")
    [item] = [c for c in listed if c["id"] == cid]
    expected_org = {"id": tenant.org_id, "name": tenant.org["name"]}
    expected_group = {"id": tenant.groups["support"]["id"], "name": "Support"}
    assert item["org"] == expected_org and item["group"] == expected_group
    one = await second.api.get(f"/api/v1/conversations/{cid}")
    assert one["org"] == expected_org and one["group"] == expected_group


async def test_a_guest_keeps_its_conversations_with_several_organizations(world: World) -> None:
    """The web app's guest holds one visitor session per organization (a visitor belongs
    to one); each keeps answering for its own conversation after the guest wrote to
    another organization, and neither sees the other's."""
    first, second = await world.tenant(agents=1), await world.tenant(agents=1)
    guests = []
    for tenant in (first, second):
        session = await world.anonymous.post(
            "/api/v1/auth/visitor",
            {"organization": tenant.org["slug"], "display_name": "Guest"},
            expect=201,
        )
        guest = Person(session, world.api(session["access_token"]))
        opened = await guest.open_conversation(tenant, text=f"hi {tenant.org['slug']}")
        guests.append((guest, tenant, opened["conversation"]["id"]))
    for guest, tenant, cid in guests:
        listed = await guest.api.get("/api/v1/conversations?scope=all")
        assert [c["id"] for c in listed] == [cid]
        assert listed[0]["org"] == {"id": tenant.org_id, "name": tenant.org["name"]}
    (one, _, one_cid), (other, _, other_cid) = guests
    await one.api.get(f"/api/v1/conversations/{other_cid}", expect=404)
    await other.api.get(f"/api/v1/conversations/{one_cid}", expect=404)
