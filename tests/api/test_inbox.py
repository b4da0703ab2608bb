"""The team inbox over HTTPS and the socket: filters and pages, search that never crosses
tenants, live counts to exactly the consoles concerned, bulk actions and CSAT."""

from __future__ import annotations

import asyncio

from tests.support.clients import World, unique


async def test_views_search_counts_and_csat_over_the_wire(world: World) -> None:
    a = await world.tenant(policy="manual", agents=1)
    b = await world.tenant(policy="manual", agents=1)
    customer = await world.individual("Wire customer")
    word = unique("kiwi")
    lead_socket = await world.socket(a.supervisor)
    agent_socket = await world.socket(a.agents[0])
    outsider = await world.socket(b.supervisor)

    first = (await customer.open_conversation(a, text=f"about {word} please"))["conversation"]
    second = (await customer.open_conversation(a, text="billing", group="billing"))["conversation"]
    await customer.open_conversation(b, text=f"about {word} please")  # B's, same words

    lead = a.supervisor.api
    page = await lead.get("/api/v1/inbox/conversations?view=queue&limit=1")
    assert [c["id"] for c in page["items"]] == [first["id"]]
    rest = await lead.get(
        f"/api/v1/inbox/conversations?view=queue&limit=1&cursor={page['next_cursor']}"
    )
    assert [c["id"] for c in rest["items"]] == [second["id"]] and rest["next_cursor"] is None
    billing = a.groups["billing"]["id"]
    only = await lead.get(f"/api/v1/inbox/conversations?view=queue&group_id={billing}")
    assert [c["id"] for c in only["items"]] == [second["id"]]
    await lead.get("/api/v1/inbox/conversations?view=all&priority=critical", expect=422)
    await a.agents[0].api.get("/api/v1/inbox/conversations?view=all", expect=403)

    found = await lead.get(f"/api/v1/inbox/search?q={word}")
    assert [m["conversation"]["id"] for m in found["messages"]] == [first["id"]]
    theirs = await b.supervisor.api.get(f"/api/v1/inbox/search?q={word}")
    assert first["id"] not in str(theirs)
    await customer.api.get(f"/api/v1/inbox/search?q={word}", expect=403)

    # Both assigned in bulk: the leads and the agent hear the new counts; B hears nothing.
    answer = await lead.post(
        "/api/v1/inbox/bulk",
        {
            "conversation_ids": [first["id"], second["id"]],
            "action": "assign",
            "agent_id": a.agents[0].user_id,
        },
    )
    assert [r["ok"] for r in answer["results"]] == [True, True]
    me = a.agents[0].user_id
    async with asyncio.timeout(10):
        await agent_socket.wait_for(
            "inbox:counts", lambda d: d["counts"].get("agents", {}).get(me) == 2
        )
        await lead_socket.wait_for("inbox:counts", lambda d: d["counts"].get("open") == 2)
    assert not outsider.received("inbox:counts", lambda d: d["org_id"] == a.org_id)
    counts = await a.agents[0].api.get("/api/v1/inbox/counts")
    assert counts["views"]["mine"] == 2

    await a.agents[0].api.post(f"/api/v1/conversations/{first['id']}/resolve")
    rated = await customer.api.post(
        f"/api/v1/conversations/{first['id']}/rating",
        {"rating": 5, "comment": "great"},
        expect=201,
    )
    assert rated["assignee_id"] == me
    await customer.api.post(
        f"/api/v1/conversations/{first['id']}/rating", {"rating": 1}, expect=409
    )
    report = await lead.get("/api/v1/inbox/reports")
    assert report["csat"]["count"] == 1 and report["csat"]["by_agent"][me]["average"] == 5
    csv_text = await lead.http.get("/api/v1/inbox/reports.csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert "csat,all,,1,5" in csv_text.text


async def test_bad_input_to_the_inbox_is_refused_cleanly(world: World) -> None:
    a = await world.tenant(policy="manual", agents=1)
    lead = a.supervisor.api
    bad = [
        ("GET", "/api/v1/inbox/conversations?view=mine&cursor=bm90LWEta2V5", None),
        ("GET", "/api/v1/inbox/conversations?view=mine&cursor=WyJyIiwieCIsIjEiXQ", None),
        ("GET", "/api/v1/inbox/conversations?view=queue&cursor=WyJ3Ijo5LCJ4IiwiMSJd", None),
        ("GET", "/api/v1/inbox/conversations?view=nope", None),
        ("GET", "/api/v1/inbox/conversations?view=all&since=2026-01-01T00:00:00", None),
        ("GET", "/api/v1/inbox/conversations?view=all&label=a%2Fb", None),
        ("GET", "/api/v1/inbox/search?q=" + "x" * 201, None),
        ("GET", "/api/v1/inbox/search?q=hi&cursor=o99999", None),
        ("POST", "/api/v1/inbox/bulk", {"conversation_ids": [], "action": "resolve"}),
        ("POST", "/api/v1/inbox/bulk", {"conversation_ids": ["1"] * 101, "action": "close"}),
        ("POST", "/api/v1/inbox/bulk", {"conversation_ids": ["1"], "action": "assign"}),
        ("POST", "/api/v1/inbox/bulk", {"conversation_ids": ["1"], "action": "delete"}),
        ("PUT", "/api/v1/inbox/labels", {"name": "x", "color": "red"}),
        ("POST", "/api/v1/inbox/canned", {"shortcut": "Bad Shortcut", "title": "t", "body": "b"}),
        ("POST", "/api/v1/conversations/1/rating", {"rating": 6}),
        (
            "GET",
            "/api/v1/inbox/reports?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            None,
        ),
    ]
    for method, path, body in bad:
        response = await lead.http.request(method, path, json=body)
        assert 400 <= response.status_code < 500, (
            method,
            path,
            response.status_code,
            response.text,
        )
        assert response.json()["error"]["code"] != "internal", (path, response.text)
    # Valid odd values are answered.
    ok = await lead.get("/api/v1/inbox/search?q=%25%22%27%20OR%201%3D1%20--")
    assert ok["messages"] == []
    assert (await lead.get("/api/v1/inbox/conversations?view=all&label=%25"))["items"] == []
