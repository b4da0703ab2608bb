"""Availability follows the connection (issue 12, item 1): grace period, no flap on a
reload, restore only if chosen, re-queue after the group's timeout; time is injected
(``sweep(now=...)``), nothing sleeps; two nodes share presence through Redis."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from raasel.actions import away, lifecycle, messages, presence
from raasel.actions.context import Actor, Services
from raasel.actions.members import add_member
from raasel.domain import Availability, Role
from raasel.lib.clock import utcnow
from raasel.storage.metadata import conversations, organizations, people
from raasel.storage.records import Membership
from raasel.storage.redis_ephemeral import RedisEphemeralState
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from tests.actions.conftest import Cast, Published
from tests.storage.test_ephemeral import REDIS_URL, drop_prefix, require_redis

INSPECT = CrossTenant("a test looks at the stored rows")

GRACE = 60  # the services fixture's default presence_grace_seconds
REQUEUE = 900  # and away_requeue_seconds


async def second_agent(services: Services, cast: Cast, name: str = "Bob") -> Actor:
    async def work(conn: Tx) -> str:
        return await add_member(
            conn,
            cast.org_id,
            email=f"{uuid.uuid4().hex[:10]}@example.com",
            display_name=name,
            password_hash="unused-in-these-tests",
            role=Role.AGENT,
            capacity=5,
            group_ids=[cast.group_id],
        )

    user_id = await services.db.write(work)
    return replace(cast.agent, user_id=user_id, display_name=name, session_id=f"s-{name}")


async def go_online(services: Services, agent: Actor) -> None:
    """The console connects and the agent chooses "online"."""
    await presence.agent_connected(services, agent)
    await presence.do_set_availability(services, agent, Availability.ONLINE)


async def membership(services: Services, agent: Actor) -> Membership:
    async with services.db.read(INSPECT) as conn:
        found = await people.get_membership(conn, agent.org_id or "", agent.user_id)
    assert found is not None
    return found


async def open_one(services: Services, cast: Cast, client_id: str = "c1") -> str:
    opened = await lifecycle.do_open_conversation(
        services,
        cast.customer,
        org_id=cast.org_id,
        group_id=cast.group_id,
        text="my order never came",
        client_id=client_id,
        subject="",
        client_ip="127.0.0.1",
    )
    cid: str = opened.result["conversation"]["id"]
    return cid


async def assignee_of(services: Services, cid: str) -> tuple[str, str | None]:
    async with services.db.read(INSPECT) as conn:
        found = await conversations.find_conversation(conn, cid)
    assert found is not None
    return found.status, found.assignee_id


async def test_closing_every_console_makes_the_agent_away_then_requeues_to_a_colleague(
    services: Services, cast: Cast, published: Published
) -> None:
    alice, bob = cast.agent, await second_agent(services, cast)
    await go_online(services, alice)
    cid = await open_one(services, cast)
    assert await assignee_of(services, cid) == ("active", alice.user_id)
    await go_online(services, bob)
    await published.take()

    t0 = utcnow()
    assert await presence.agent_disconnected(services, alice, now=t0) == []
    assert await away.sweep(services, now=t0 + timedelta(seconds=GRACE - 1)) == []
    assert (await membership(services, alice)).availability == Availability.ONLINE

    [event] = await away.sweep(services, now=t0 + timedelta(seconds=GRACE))
    assert event.name == "presence:update" and event.rooms == (f"agents:{cast.org_id}",)
    assert event.payload == {
        "user_id": alice.user_id,
        "availability": "away",
        "is_connected": False,
        "is_auto_away": True,
        "restores_availability": False,
    }
    state = await membership(services, alice)
    assert (state.availability, state.is_auto_away, state.away_since) == ("away", True, t0)
    assert await assignee_of(services, cid) == ("active", alice.user_id), "not yet: 900 s"
    assert await published.take() == []

    assert await away.sweep(services, now=t0 + timedelta(seconds=REQUEUE - 1)) == []
    assert await assignee_of(services, cid) == ("active", alice.user_id)
    await away.sweep(services, now=t0 + timedelta(seconds=REQUEUE))
    assert await assignee_of(services, cid) == ("active", bob.user_id), "round robin: Bob"
    events = await published.take()
    updates = [e for e in events if e.name == "conversation:updated"]
    customer_rooms = {r for e in updates for r in e.rooms if r.startswith("user:")}
    assert customer_rooms == {f"user:{cast.customer.user_id}"}, "the customer is told"
    history = await messages.list_history(services, cast.customer, cid, before=None, limit=20)
    texts = [m["text"] for m in history["messages"] if m["kind"] == "system"]
    assert "Agent is away: the conversation is back in the General queue" in texts
    assert texts[-1] == "Bob joined the conversation"
    # Another round finds nothing left to do.
    assert await away.requeue_abandoned(services, t0 + timedelta(seconds=REQUEUE + 5)) == 0


async def test_a_reload_inside_the_grace_period_changes_nothing(
    services: Services, cast: Cast, published: Published
) -> None:
    await go_online(services, cast.agent)
    cid = await open_one(services, cast)
    await published.take()
    t0 = utcnow()
    assert await presence.agent_disconnected(services, cast.agent, now=t0) == []
    back = await presence.agent_connected(services, cast.agent)  # the reloaded console
    assert [e.payload["availability"] for e in back] == ["online"]
    assert await away.sweep(services, now=t0 + timedelta(seconds=GRACE * 20)) == []
    state = await membership(services, cast.agent)
    assert (state.availability, state.disconnected_at, state.is_auto_away) == (
        "online",
        None,
        False,
    )
    assert await assignee_of(services, cid) == ("active", cast.agent.user_id)


async def test_online_is_restored_on_return_only_when_the_agent_chose_it(
    services: Services, cast: Cast
) -> None:
    agent = cast.agent
    await go_online(services, agent)
    t0 = utcnow()
    await presence.agent_disconnected(services, agent, now=t0)
    await away.sweep(services, now=t0 + timedelta(seconds=GRACE))
    cid = await open_one(services, cast, "while-away")
    await presence.agent_connected(services, agent)
    state = await membership(services, agent)
    assert (state.availability, state.is_auto_away) == ("away", True), "not chosen: stays away"
    assert await assignee_of(services, cid) == ("queued", None), "no work handed at login"

    outcome = await presence.do_set_availability(services, agent, None, restores_availability=True)
    assert outcome.result == {
        "availability": "away",
        "is_auto_away": True,
        "restores_availability": True,
        "away_since": t0.isoformat(),
    }
    await presence.agent_disconnected(services, agent, now=utcnow())
    [event] = await presence.agent_connected(services, agent)
    assert event.payload["availability"] == "online" and not event.payload["is_auto_away"]
    assert await assignee_of(services, cid) == ("active", agent.user_id), "then work comes"

    # An "away" the agent chose stays, whatever the option.
    await presence.do_set_availability(services, agent, Availability.AWAY)
    await presence.agent_disconnected(services, agent, now=utcnow())
    [event] = await presence.agent_connected(services, agent)
    assert event.payload["availability"] == "away" and not event.payload["is_auto_away"]


async def test_a_group_timeout_of_zero_never_requeues(services: Services, cast: Cast) -> None:
    async def never(conn: Tx) -> None:
        await organizations.update_group(
            conn, cast.org_id, cast.group_id, {"requeue_after_seconds": 0}
        )

    await services.db.write(never)
    await go_online(services, cast.agent)
    cid = await open_one(services, cast)
    t0 = utcnow()
    await presence.agent_disconnected(services, cast.agent, now=t0)
    await away.sweep(services, now=t0 + timedelta(days=3))
    assert (await membership(services, cast.agent)).availability == "away"
    assert await assignee_of(services, cid) == ("active", cast.agent.user_id)


async def test_two_nodes_share_presence_through_redis(services: Services, cast: Cast) -> None:
    """A console that moves from node A to node B (a reload behind a balancer) keeps the
    agent online; when it closes on B too, A's sweep sets them away."""
    await require_redis()
    prefix = f"raasel-test-{uuid.uuid4().hex[:12]}:"
    node_a = replace(services, ephemeral=RedisEphemeralState(REDIS_URL, prefix=prefix))
    node_b = replace(services, ephemeral=RedisEphemeralState(REDIS_URL, prefix=prefix))
    try:
        agent = cast.agent
        await presence.agent_connected(node_a, agent)
        await presence.do_set_availability(node_a, agent, Availability.ONLINE)
        await presence.agent_connected(node_b, agent)  # the new tab, on the other node
        t0 = utcnow()
        await presence.agent_disconnected(node_a, agent, now=t0)  # the old tab goes
        assert (await membership(services, agent)).disconnected_at is None, "B still holds one"
        assert await away.sweep(node_a, now=t0 + timedelta(seconds=GRACE * 5)) == []
        assert (await membership(services, agent)).availability == "online"
        await presence.agent_disconnected(node_b, agent, now=t0)
        [event] = await away.sweep(node_a, now=t0 + timedelta(seconds=GRACE))
        assert event.payload["availability"] == "away"
    finally:
        for node in (node_a, node_b):
            await node.ephemeral.close()
        await drop_prefix(prefix)
