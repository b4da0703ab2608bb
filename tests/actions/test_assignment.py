"""Routing with two nodes writing to one database at once (PostgreSQL row locks)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.actions import lifecycle
from raasel.actions.assignment import drain, presence_key
from raasel.actions.context import Services
from raasel.domain import Availability, RoutingPolicy
from raasel.lib.clock import utcnow
from raasel.lib.ids import new_str_id
from raasel.storage.database import Database
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.tenancy import CrossTenant
from tests.actions.conftest import Cast

INSPECT = CrossTenant("a test looks at the stored rows")


async def test_two_nodes_routing_to_one_agent_respect_capacity(
    services: Services, cast: Cast
) -> None:
    """The agent is in two groups; each node drains one of them at the same moment."""

    async def second_group(conn: AsyncConnection) -> str:
        group_id = new_str_id()
        await organizations.insert_group(
            conn,
            {
                "id": group_id,
                "org_id": cast.org_id,
                "slug": "second",
                "name": "Second",
                "description": "",
                "policy": RoutingPolicy.LEAST_BUSY,
                "business_hours": None,
                "is_default": False,
                "created_at": utcnow(),
            },
        )
        await people.set_member_groups(
            conn, cast.org_id, cast.agent.user_id, [cast.group_id, group_id]
        )
        return group_id

    groups = [cast.group_id, await services.db.write(second_group)]
    for i in range(6):  # the agent is offline: everything queues
        await lifecycle.do_open_conversation(
            services,
            cast.customer,
            org_id=cast.org_id,
            group_id=groups[i % 2],
            text="hello",
            client_id=f"q{i}",
            subject="",
            client_ip="127.0.0.1",
        )

    async def go_online(conn: AsyncConnection) -> None:
        await people.update_membership(
            conn,
            cast.org_id,
            cast.agent.user_id,
            {"availability": Availability.ONLINE, "capacity": 2},
        )

    await services.db.write(go_online)
    await services.ephemeral.connection_opened(presence_key(cast.org_id, cast.agent.user_id))
    # A second node: its own connections and group committer, the same database.
    other = replace(services, db=Database(services.db.url, window_ms=1))
    try:
        for node in (services, other):  # connect first, so that the drains really overlap
            await node.db.write(lambda conn: conn.execute(select(1)))
        await asyncio.gather(
            drain(services, cast.org_id, [groups[0]]),
            drain(other, cast.org_id, [groups[1]]),
        )
    finally:
        await other.db.close()
    async with services.db.read(INSPECT) as conn:
        loads = await conversations.active_counts(conn, cast.org_id, [cast.agent.user_id])
        queued = [await conversations.queued_in_group(conn, cast.org_id, g) for g in groups]
    assert loads[cast.agent.user_id] == 2, "capacity 2, whichever node routed"
    assert sum(map(len, queued)) == 4
