"""Search in an organization's conversations: ranked, paginated, agents only, and never
a word of another organization's (the tenant is in the query)."""

from __future__ import annotations

import pytest

from raasel.actions import inbox_search, lifecycle, messages
from raasel.actions.assignment import do_claim
from raasel.actions.context import Services
from raasel.errors import Forbidden
from raasel.storage.metadata.inbox_search import MARK_END, MARK_START
from tests.actions.conftest import StatementCounter
from tests.actions.inbox_team import make_team, open_conversation


async def test_search_finds_messages_notes_and_customers_of_its_own_organization(
    services: Services,
) -> None:
    acme = await make_team(services, "Acme")
    globex = await make_team(services, "Globex")
    refund = await open_conversation(services, acme, 0, "I was charged twice for my order")
    other = await open_conversation(services, acme, 1, "Where is my parcel?", subject="Parcel")
    await do_claim(services, acme.agent, refund)
    await messages.do_send_message(
        services, acme.agent, refund, client_id="n1", text="Refund approved", kind="note"
    )
    await lifecycle.do_update_conversation(services, acme.agent, other, {"tags": ["shipping"]})
    # Globex's customer writes the very same words: Acme never finds them.
    secret = await open_conversation(services, globex, 0, "I was charged twice for my order")

    found = await inbox_search.search(services, acme.supervisor, "charged twice")
    hits = [(m["conversation"]["id"], m["kind"]) for m in found["messages"]]
    assert hits == [(refund, "text")]
    snippet = found["messages"][0]["snippet"]
    assert f"{MARK_START}charged{MARK_END}" in snippet

    notes = await inbox_search.search(services, acme.agent, "refund appr*")  # a prefix
    assert [(m["conversation"]["id"], m["kind"]) for m in notes["messages"]] == [(refund, "note")]

    by_label = await inbox_search.search(services, acme.agent, "shipping")
    assert [c["conversation"]["id"] for c in by_label["conversations"]] == [other]
    by_name = await inbox_search.search(services, acme.agent, "Acme customer 1")
    assert other in [c["conversation"]["id"] for c in by_name["conversations"]]

    theirs = await inbox_search.search(services, globex.agent, "charged")
    assert [m["conversation"]["id"] for m in theirs["messages"]] == [secret]
    assert refund not in str(theirs)

    with pytest.raises(Forbidden):
        await inbox_search.search(services, acme.customers[0], "charged")


async def test_an_agent_finds_only_what_their_groups_hold(services: Services) -> None:
    acme = await make_team(services)
    billing = await open_conversation(
        services, acme, 0, "invoice question", group=acme.other_group_id
    )
    mine = await open_conversation(services, acme, 1, "invoice missing")
    agent = await inbox_search.search(services, acme.agent, "invoice")
    assert [m["conversation"]["id"] for m in agent["messages"]] == [mine]
    lead = await inbox_search.search(services, acme.supervisor, "invoice")
    assert sorted(m["conversation"]["id"] for m in lead["messages"]) == sorted([billing, mine])


async def test_pages_are_ranked_and_end(services: Services) -> None:
    acme = await make_team(services)
    cid = await open_conversation(services, acme, 0, "hello")
    await do_claim(services, acme.agent, cid)
    for i in range(5):
        text = "battery " * (5 if i == 3 else 1) + f"report {i}"
        await messages.do_send_message(services, acme.agent, cid, client_id=f"m{i}", text=text)
    first = await inbox_search.search(services, acme.agent, "battery", limit=2)
    assert first["messages"][0]["snippet"].count(MARK_START) == 5  # the best match first
    positions = [m["position"] for m in first["messages"]]
    cursor = first["next_cursor"]
    with StatementCounter(services) as counter:
        while cursor is not None:
            page = await inbox_search.search(
                services, acme.agent, "battery", limit=2, cursor=cursor
            )
            positions += [m["position"] for m in page["messages"]]
            cursor = page["next_cursor"]
    assert sorted(positions) == sorted(set(positions)) and len(positions) == 5
    # Two pages after the first: each BEGIN (SQLite) or the row-level security scope
    # (PostgreSQL, storage/tenancy.py), the hits, conversations, people.
    assert counter.count == 4 * 2
    assert (await inbox_search.search(services, acme.agent, "!!! ***"))["messages"] == []
