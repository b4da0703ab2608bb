"""The team inbox's views: who sees what, in which order, page by page, at a fixed cost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from raasel.actions import inbox, lifecycle
from raasel.actions.assignment import do_claim
from raasel.actions.context import Event, Services
from raasel.actions.inbox import ViewQuery
from raasel.actions.inbox_counts import LiveCounts
from raasel.errors import Forbidden, ValidationFailed
from tests.actions.conftest import StatementCounter
from tests.actions.inbox_team import Team, make_team, open_conversation


@pytest.fixture
async def team(services: Services) -> Team:
    return await make_team(services)


async def _all_pages(services: Services, actor: Any, view: str, **filters: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        page = await inbox.list_view(
            services, actor, ViewQuery(view=view, limit=2, cursor=cursor, **filters)
        )
        ids += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_the_queue_shows_the_most_urgent_then_the_longest_waiting(
    services: Services, team: Team
) -> None:
    first = await open_conversation(services, team, 0, "first")
    second = await open_conversation(services, team, 1, "second")
    urgent = await open_conversation(services, team, 2, "urgent, but last in")
    await lifecycle.do_update_conversation(services, team.agent, urgent, {"priority": "urgent"})
    elsewhere = await open_conversation(services, team, 0, "billing", group=team.other_group_id)

    assert await _all_pages(services, team.agent, "queue") == [urgent, first, second]
    # The supervisor is in no group: every group's queue, billing's too.
    assert await _all_pages(services, team.supervisor, "queue") == [
        urgent,
        first,
        second,
        elsewhere,
    ]
    assert await _all_pages(services, team.supervisor, "unassigned", priority="normal") == [
        first,
        second,
        elsewhere,
    ]
    # The agent cannot see billing's conversations in any view.
    assert elsewhere not in await _all_pages(services, team.agent, "unassigned")
    assert await _all_pages(services, team.agent, "queue", group_id=team.other_group_id) == []


async def test_mine_all_escalated_and_history(services: Services, team: Team) -> None:
    a = await open_conversation(services, team, 0, "a")
    b = await open_conversation(services, team, 1, "b")
    c = await open_conversation(services, team, 2, "c")
    for cid in (a, b, c):
        await do_claim(services, team.agent, cid)
    await lifecycle.do_escalate(services, team.agent, b, None)
    await lifecycle.do_resolve(services, team.agent, c)

    assert await _all_pages(services, team.agent, "mine") == [b, a]  # latest activity first
    assert await _all_pages(services, team.agent, "resolved") == [c]
    assert await _all_pages(services, team.supervisor, "all") == [b, a]
    assert await _all_pages(services, team.supervisor, "escalated") == [b]
    assert await _all_pages(services, team.supervisor, "all", assignee_id=team.agent.user_id) == [
        b,
        a,
    ]
    for view in ("all", "escalated"):
        with pytest.raises(Forbidden):
            await inbox.list_view(services, team.agent, ViewQuery(view=view))
    with pytest.raises(ValidationFailed):
        await inbox.list_view(services, team.agent, ViewQuery(view="mine", status="resolved"))
    with pytest.raises(ValidationFailed):
        await inbox.list_view(services, team.agent, ViewQuery(view="mine", cursor="bm90IGpzb24"))


async def test_filters_by_label_status_and_channel(services: Services, team: Team) -> None:
    a = await open_conversation(services, team, 0, "a")
    b = await open_conversation(services, team, 1, "b")
    await lifecycle.do_update_conversation(services, team.agent, a, {"tags": ["vip", "refund"]})
    await lifecycle.do_update_conversation(services, team.agent, b, {"tags": ["vip_not"]})
    assert await _all_pages(services, team.agent, "queue", label="vip") == [a]
    assert await _all_pages(services, team.agent, "queue", label="vip_not") == [b]
    assert await _all_pages(services, team.agent, "queue", label="vi%") == []
    assert await _all_pages(services, team.agent, "queue", channel="widget") == []
    assert await _all_pages(services, team.agent, "queue", channel="web") == [a, b]


async def test_a_page_costs_the_same_whatever_the_number_of_conversations(
    services: Services, team: Team
) -> None:
    """Exact statements per page (BEGIN on SQLite, the row-level security scope on
    PostgreSQL): the page with unread counts, then the names of its people. No N+1, and
    no growth with the history."""
    expected = 3
    costs = []
    for round_ in range(2):
        for i in range(5 if round_ == 0 else 12):
            cid = await open_conversation(services, team, i % 3, f"m{round_}{i}")
            if i % 2:
                await do_claim(services, team.agent, cid)
        for view in ("queue", "mine", "unassigned"):
            with StatementCounter(services) as counter:
                page = await inbox.list_view(services, team.agent, ViewQuery(view=view, limit=2))
            assert len(page["items"]) == 2
            costs.append(counter.count)
            with StatementCounter(services) as counter:
                await inbox.list_view(
                    services,
                    team.agent,
                    ViewQuery(view=view, limit=2, cursor=page["next_cursor"]),
                )
            costs.append(counter.count)
    assert costs == [expected] * len(costs)


async def test_counts_follow_the_views(services: Services, team: Team) -> None:
    a = await open_conversation(services, team, 0, "a")
    await open_conversation(services, team, 1, "b")
    await open_conversation(services, team, 2, "c", group=team.other_group_id)
    await do_claim(services, team.agent, a)
    await lifecycle.do_escalate(services, team.agent, a, None)
    agent = await inbox.get_counts(services, team.agent)
    assert agent["views"] == {"mine": 1, "queue": 1, "unassigned": 1}
    assert agent["counts"] == {
        "groups": {team.group_id: 1},
        "agents": {team.agent.user_id: 1},
        "ungrouped": 0,  # waiting in no group ("Unassigned", issue 12): everyone's
    }
    lead = await inbox.get_counts(services, team.supervisor)
    assert lead["views"] == {"mine": 0, "queue": 2, "unassigned": 2, "all": 3, "escalated": 1}


async def test_live_counts_reach_exactly_the_rooms_concerned(
    services: Services, team: Team
) -> None:
    a = await open_conversation(services, team, 0, "a")
    await do_claim(services, team.agent, a)
    published: list[Event] = []
    arrived = asyncio.Event()

    async def inner(events: list[Any]) -> None:
        published.extend(events)
        if any(e.name == "inbox:counts" for e in events):
            arrived.set()

    live = LiveCounts(services, inner, delay=0.01)
    changed = Event(
        "conversation:updated",
        {"conversation": {"org_id": team.org_id, "priority": "normal"}},
        (f"leads:{team.org_id}", f"group:{team.group_id}", f"agent:{team.org_id}:x"),
    )
    await live.publish([changed, changed])
    async with asyncio.timeout(5):
        await arrived.wait()
    counts = [e for e in published if e.name == "inbox:counts"]
    by_room = {e.rooms: e.payload["counts"] for e in counts}
    assert by_room == {
        (f"leads:{team.org_id}",): {
            "open": 1,
            "escalated": 0,
            "unassigned": 0,
            "groups": {},
            "agents": {team.agent.user_id: 1},
            "ungrouped": 0,
        },
        (f"group:{team.group_id}",): {"groups": {team.group_id: 0}},
        (f"agent:{team.org_id}:x",): {"agents": {"x": 0}},
        (f"agent:{team.org_id}:{team.agent.user_id}",): {"agents": {team.agent.user_id: 1}},
    }
    await live.close()
