"""``b2b`` conversations in the team inbox (issue 11 with issue 13's views): the peer
organization's views list the conversations other organizations opened with it, from
its side (its status, group, assignee, unread count, the other organization's name), in
the pages, the queue order and the counts; ``kind=b2b`` narrows a view on both sides;
a third organization, the peer's agents who do not see one, and the escalated view
never list them; search never shows one organization's notes to the other. Over TLS
with python-socketio clients; docs/protocol.md, "Organization to organization"."""

from __future__ import annotations

from typing import Any

from tests.api.test_b2b import online, open_b2b, send
from tests.support.clients import Person, World, unique

VIEWS = "/api/v1/inbox/conversations"


async def listed(person: Person, query: str) -> list[tuple[str, Any]]:
    page = await person.api.get(f"{VIEWS}?{query}")
    return [(c["id"], (c.get("b2b") or {}).get("side")) for c in page["items"]]


async def test_the_peer_lists_b2b_conversations_in_its_views(world: World) -> None:
    a = await world.tenant(agents=1)
    b = await world.tenant(agents=2, policy="round_robin")
    c = await world.tenant(agents=1)
    agent_a, agent_b, outsider = a.agents[0], b.agents[0], b.agents[1]
    await b.owner.api.patch(
        f"/api/v1/orgs/{b.org_id}/members/{outsider.user_id}", {"group_ids": []}
    )
    s_a = await online(world, agent_a)
    s_b = await online(world, agent_b)
    s_b_lead = await world.socket(b.supervisor)
    support = b.groups["support"]["id"]
    routed = (await open_b2b(agent_a, b, group_id=support, subject="Routed"))["conversation"]
    rid = routed["id"]
    # B's live counts follow the peer's side (A's changes to A's conversation).
    live = await s_b_lead.wait_for(
        "inbox:counts", lambda d: d["org_id"] == b.org_id and d["counts"].get("open") == 1
    )
    assert live["counts"]["agents"] == {agent_b.user_id: 1}
    # Nobody of B is online now: the next one waits in B's support group.
    ack = await s_b.emit("presence:set", {"availability": "away"})
    assert ack["ok"], ack
    waiting = (await open_b2b(agent_a, b, group_id=support, subject="Waiting"))["conversation"]
    wid = waiting["id"]
    assert waiting["b2b"]["peer_status"] == "queued"
    customer = await world.individual()
    theirs = (await customer.open_conversation(b, text="help", group="support"))["conversation"]

    # B's agent: the routed one in "mine", from B's side; the waiting one in its queue.
    mine = (await agent_b.api.get(f"{VIEWS}?view=mine"))["items"]
    assert [(x["id"], x["b2b"]["side"], x["status"]) for x in mine] == [(rid, "peer", "active")]
    assert mine[0]["assignee"]["id"] == agent_b.user_id
    assert mine[0]["b2b"]["other_org"]["name"] == a.org["name"]
    assert mine[0]["group_id"] == support and "tags" not in mine[0]
    queue = await listed(agent_b, "view=queue")
    assert set(queue) == {(wid, "peer"), (theirs["id"], None)}
    assert (wid, "peer") in await listed(agent_b, "view=unassigned")
    assert await listed(agent_b, "view=queue&kind=b2b") == [(wid, "peer")]
    assert await listed(agent_b, "view=queue&kind=support") == [(theirs["id"], None)]
    # Pages of one: the keyset cursor walks B's own and the peer rows alike.
    first = await agent_b.api.get(f"{VIEWS}?view=queue&limit=1")
    rest = await agent_b.api.get(f"{VIEWS}?view=queue&limit=1&cursor={first['next_cursor']}")
    assert {first["items"][0]["id"], rest["items"][0]["id"]} == {wid, theirs["id"]}
    assert rest["next_cursor"] is None

    # B's lead: both in "all"; never in "escalated" (A's flag is A's).
    every = await listed(b.supervisor, "view=all&kind=b2b")
    assert set(every) == {(rid, "peer"), (wid, "peer")}
    assert not {rid, wid} & {i for i, _ in await listed(b.supervisor, "view=escalated")}
    counts = await b.supervisor.api.get("/api/v1/inbox/counts")
    assert counts["views"]["all"] == 3 and counts["counts"]["agents"][agent_b.user_id] == 1

    # A's side: kind=b2b narrows A's views to them, from A's side.
    assert set(await listed(agent_a, "view=mine&kind=b2b")) == {(rid, "org"), (wid, "org")}
    assert await listed(agent_a, "view=mine&kind=support") == []

    # Walls: B's agent outside the group, a third organization's lead and agent.
    for person, query in (
        (outsider, "view=mine"),
        (outsider, "view=queue"),
        (outsider, "view=unassigned"),
        (c.supervisor, "view=all"),
        (c.agents[0], "view=queue"),
    ):
        seen = {i for i, _ in await listed(person, query)}
        assert not seen & {rid, wid}, (person.email, query)

    # Search: each side's notes stay its own (the index does not say whose a note is:
    # b2b notes are not searched); public texts are found by the opener.
    word = unique("zebrafinch")
    assert (await send(s_a, rid, f"A-only {word}", kind="note"))["ok"]
    assert (await send(s_b, rid, f"B-only {word}", kind="note"))["ok"]
    assert (await send(s_b, rid, f"public {word}"))["ok"]
    found = await a.supervisor.api.get(f"/api/v1/inbox/search?q={word}")
    snippets = [m["snippet"] for m in found["messages"]]
    assert len(snippets) == 1 and "public" in snippets[0], snippets
    for person in (c.supervisor, b.supervisor):
        assert "B-only" not in str(await person.api.get(f"/api/v1/inbox/search?q={word}"))
        assert "A-only" not in str(await person.api.get(f"/api/v1/inbox/search?q={word}"))

    await agent_b.api.get(f"{VIEWS}?view=all&kind=direct", expect=422)
