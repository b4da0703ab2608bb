"""Ticket fields over TLS: category from the organization's list, priority, status and
subject, filterable in the inbox; a resolution note on resolve, kept from the customer.
docs/protocol.md, "Ticket fields"."""

from __future__ import annotations

import json

from tests.support.clients import World, unique


async def test_categories_filters_and_resolution_note(world: World) -> None:
    a, b = await world.tenant(policy="manual", agents=1), await world.tenant(agents=1)
    agent = a.agents[0]
    customer = await world.individual("Ticket holder")
    customer_socket = await world.socket(customer)

    # Admins define the list; agents read it; nobody else changes it.
    await a.owner.api.put(
        "/api/v1/inbox/categories", {"categories": ["Billing", "Bug", " Billing ", "billing"]}
    )
    listed = await agent.api.get("/api/v1/inbox/categories")
    assert listed == {"categories": ["Billing", "Bug"]}
    refused = await agent.api.put("/api/v1/inbox/categories", {"categories": ["Mine"]}, expect=403)
    assert refused["error"]["code"] == "forbidden"
    await customer.api.get("/api/v1/inbox/categories", expect=403)
    assert (await b.owner.api.get("/api/v1/inbox/categories")) == {"categories": []}

    first = (await customer.open_conversation(a, text="charged twice", group="support"))[
        "conversation"
    ]
    second = (await customer.open_conversation(a, text="app crashes", group="support"))[
        "conversation"
    ]
    for cid in (first["id"], second["id"]):
        await agent.api.post(f"/api/v1/conversations/{cid}/claim")

    # A category from the list (checked in the unit), priority and subject.
    changed = await agent.api.patch(
        f"/api/v1/conversations/{first['id']}",
        {"category": "Billing", "priority": "high", "subject": "Double charge"},
    )
    assert (changed["category"], changed["priority"], changed["subject"]) == (
        "Billing",
        "high",
        "Double charge",
    )
    await agent.api.patch(f"/api/v1/conversations/{second['id']}", {"category": "Bug"})
    unknown = await agent.api.patch(
        f"/api/v1/conversations/{second['id']}", {"category": "Refunds"}, expect=422
    )
    assert unknown["error"]["code"] == "unknown_category"
    # B's category list means nothing in A, and B cannot touch A's conversation.
    await b.owner.api.put("/api/v1/inbox/categories", {"categories": ["Refunds"]})
    await agent.api.patch(
        f"/api/v1/conversations/{second['id']}", {"category": "Refunds"}, expect=422
    )
    await b.agents[0].api.patch(
        f"/api/v1/conversations/{first['id']}", {"category": "Refunds"}, expect=404
    )

    # The inbox filters by category (and by kind), with the other filters.
    page = await agent.api.get("/api/v1/inbox/conversations?view=mine&category=Billing")
    assert [c["id"] for c in page["items"]] == [first["id"]]
    page = await agent.api.get("/api/v1/inbox/conversations?view=mine&category=Bug&priority=high")
    assert page["items"] == []
    page = await agent.api.get("/api/v1/inbox/conversations?view=mine&kind=support")
    assert {c["id"] for c in page["items"]} == {first["id"], second["id"]}
    page = await agent.api.get("/api/v1/inbox/conversations?view=mine&kind=outreach")
    assert page["items"] == []
    for bad in ("category=", f"category={'x' * 41}", "kind=secret"):
        await agent.api.get(f"/api/v1/inbox/conversations?view=mine&{bad}", expect=422)
    page = await b.owner.api.get("/api/v1/inbox/conversations?view=all&category=Billing")
    assert page["items"] == []

    # Clearing the category.
    cleared = await agent.api.patch(f"/api/v1/conversations/{second['id']}", {"category": ""})
    assert cleared["category"] is None

    # Resolve with a note: the organization keeps it; the customer never sees it.
    note = f"refunded the second charge {unique('r')}"
    resolved = await agent.api.post(
        f"/api/v1/conversations/{first['id']}/resolve", {"resolution_note": note}
    )
    assert resolved["status"] == "resolved" and resolved["resolution_note"] == note
    again = await agent.api.get(f"/api/v1/conversations/{first['id']}")
    assert again["resolution_note"] == note and again["category"] == "Billing"
    await customer_socket.wait_for(
        "conversation:updated",
        lambda d: (
            d["conversation"]["id"] == first["id"] and d["conversation"]["status"] == "resolved"
        ),
    )
    mine = await customer.api.get(f"/api/v1/conversations/{first['id']}")
    assert "resolution_note" not in mine and "category" not in mine
    assert all(note not in json.dumps(data) for _, data in customer_socket.events)
    # Resolving without a body still works (older clients); too long a note is refused.
    await agent.api.post(
        f"/api/v1/conversations/{second['id']}/resolve",
        {"resolution_note": "x" * 1001},
        expect=422,
    )
    plain = await agent.api.post(f"/api/v1/conversations/{second['id']}/resolve")
    assert plain["status"] == "resolved" and plain["resolution_note"] is None
    page = await agent.api.get("/api/v1/inbox/conversations?view=resolved&category=Billing")
    assert [c["id"] for c in page["items"]] == [first["id"]]
