"""No conversation waits where nobody will see it (issue 12, item 2): routing picks only
groups with members, a conversation no group can take is "Unassigned" and every agent
sees it, transfers to an empty group are refused, new organizations are staffed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from raasel.actions import assignment, lifecycle, operator
from raasel.actions.context import Services
from raasel.domain import RoutingPolicy
from raasel.errors import Conflict
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from tests.actions.conftest import Cast, Published

INSPECT = CrossTenant("a test looks at the stored rows")


async def empty_group(services: Services, org_id: str, slug: str) -> str:
    group_id = new_str_id()

    async def work(conn: Tx) -> None:
        await organizations.insert_group(
            conn,
            {
                "id": group_id,
                "org_id": org_id,
                "slug": slug,
                "name": slug.title(),
                "description": "",
                "policy": RoutingPolicy.ROUND_ROBIN,
                "business_hours": None,
                "is_default": False,
                "created_at": utcnow(),
            },
        )

    await services.db.write(work)
    return group_id


async def open_in(services: Services, cast: Cast, group_id: str | None, client_id: str) -> str:
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=group_id,
        text="hello",
        client_id=client_id,
        subject="",
        client_ip="127.0.0.1",
    )
    assert opened.result["conversation"]["routing"]["group"] is not None or group_id is None
    cid: str = opened.result["conversation"]["id"]
    return cid


async def group_of(services: Services, cid: str) -> str | None:
    async with services.db.read(INSPECT) as conn:
        found = await conversations.find_conversation(conn, cid)
    assert found is not None
    return found.group_id


async def test_a_chosen_group_without_members_falls_back_to_one_with_members(
    services: Services, cast: Cast
) -> None:
    nobody = await empty_group(services, cast.org_id, "nobody")
    cid = await open_in(services, cast, nobody, "to-empty")
    assert await group_of(services, cid) == cast.group_id, "the default group has the agent"


async def test_with_no_group_staffed_the_conversation_is_unassigned_and_seen_by_all(
    services: Services, cast: Cast, published: Published
) -> None:
    other = await empty_group(services, cast.org_id, "other")

    async def nobody_in_general(conn: Tx) -> None:  # the agent moves to an empty team...
        await people.set_member_groups(conn, cast.org_id, cast.agent.user_id, [])
        for membership in await people.list_memberships(conn, cast.org_id):
            await people.set_member_groups(conn, cast.org_id, membership.user_id, [])

    await services.db.write(nobody_in_general)
    await published.take()
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=None,
        text="anyone there?",
        client_id="unassigned",
        subject="",
        client_ip="127.0.0.1",
    )
    view = opened.result["conversation"]
    assert view["group_id"] is None and view["routing"]["group"] is None
    shown = await lifecycle.get_conversation(services, cast.customer, view["id"])
    assert shown["queue_position"] == 1 and shown["group"] is None
    assert shown["offline"]["reason"] == "nobody_available", "the customer is told"
    events = await published.take()
    org_updates = [
        e
        for e in events
        if e.name == "conversation:updated" and "priority" in e.payload["conversation"]
    ]
    assert f"agents:{cast.org_id}" in org_updates[0].rooms, "every console is told"
    [queue] = [e for e in events if e.name == "queue:updated"]
    assert queue.payload["group_id"] is None and queue.rooms == (f"agents:{cast.org_id}",)
    # An agent of another group (here: of none) sees it in their queue and may claim it.
    agent = replace(cast.agent, group_ids=(other,))
    listed = await lifecycle.list_conversations(services, agent, scope="queue", limit=20)
    assert [c["id"] for c in listed] == [view["id"]]
    claimed = await assignment.do_claim(services, agent, view["id"])
    assert claimed.result["assignee"]["id"] == agent.user_id


async def test_transfer_to_a_group_without_members_is_refused(
    services: Services, cast: Cast
) -> None:
    nobody = await empty_group(services, cast.org_id, "nobody")
    cid = await open_in(services, cast, cast.group_id, "t1")
    await assignment.do_claim(services, cast.agent, cid)
    with pytest.raises(Conflict) as refused:
        await assignment.do_transfer(services, cast.agent, cid, agent_id=None, group_id=nobody)
    assert refused.value.code == "group_has_no_members"
    assert await group_of(services, cid) == cast.group_id, "nothing changed"


async def test_new_organizations_and_cli_agents_answer_the_default_group(
    services: Services,
) -> None:
    org_id = await operator.create_org_cli(
        services, "globex", "Globex", "hank@globex.example", "a-long-password", "Hank"
    )
    agent_id = await operator.create_agent_cli(
        services, "globex", "ann@globex.example", "Ann", "a-long-password", "agent", 5, []
    )
    async with services.db.read(INSPECT) as conn:
        [staffing] = await organizations.groups_with_staffing(conn, org_id)
        members = await people.group_members_of(conn, staffing.group.id)
    assert staffing.group.is_default and staffing.has_members
    assert agent_id in {m.user_id for m in members} and len(members) == 2, "owner and agent"
