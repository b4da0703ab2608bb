"""The removal window of group conversations, raced (docs/decisions.md, "The removal window
of group conversations"): messages are sent into a team room and a community channel
while a member is removed; no message written after the removal may reach the removed
member's socket, though their socket is in the room until the REST handler moves it.

The removal answers the room's last position when it committed; each round then waits
on a barrier that the committer publishes after every message of the round (an event to
the removed member from a later unit: events go out in commit order), and checks every
message the removed member received. Rounds run on whatever database the node runs
(SQLite, or PostgreSQL with ``RAASEL_TEST_DATABASE=postgresql``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.support.clients import Api, Person, SocketClient, World, unique

pytestmark = pytest.mark.timeout(300)
ROUNDS = 25
WRITERS = 6  # sends kept in flight from before the removal until well after it
AFTER = 4  # each writer's sends after the removal answered


async def flood(send: Callable[[], Awaitable[dict[str, Any]]], removed: asyncio.Event) -> list[Any]:
    """Send back to back until ``removed`` is set, then ``AFTER`` more."""
    sent: list[Any] = []
    while not removed.is_set():
        sent.append(await send())
    for _ in range(AFTER):
        sent.append(await send())
    return sent


async def race(
    send: Callable[[], Awaitable[dict[str, Any]]], remove: Callable[[], Awaitable[Any]]
) -> tuple[Any, list[dict[str, Any]]]:
    """The removal's answer and every message sent around it by ``WRITERS`` writers."""
    removed = asyncio.Event()
    writers = [asyncio.create_task(flood(send, removed)) for _ in range(WRITERS)]
    await asyncio.sleep(0)  # the writers' first sends are on their way
    answer = await remove()
    removed.set()
    return answer, [m for sent in await asyncio.gather(*writers) for m in sent]


async def team_send(socket: SocketClient, room_id: str) -> dict[str, Any]:
    payload = {"room_id": room_id, "client_id": unique("r"), "text": unique("race ")}
    ack = await socket.emit("room:send", payload)
    assert ack["ok"], ack
    return dict(ack["message"])


async def community_send(socket: SocketClient, channel_id: str) -> dict[str, Any]:
    payload = {"channel_id": channel_id, "client_id": unique("c"), "text": unique("race ")}
    ack = await socket.emit("community:send", payload)
    assert ack["ok"], ack
    return dict(ack["message"])


def positions_heard(socket: SocketClient, event: str, key: str, group_id: str) -> list[int]:
    return [int(d["position"]) for d in socket.received(event, lambda d: d.get(key) == group_id)]


async def test_no_team_room_message_after_a_removal_reaches_the_removed_member(
    world: World,
) -> None:
    await team_rounds(world, world)


async def test_no_community_message_after_a_removal_reaches_the_removed_member(
    world: World,
) -> None:
    await community_rounds(world, world)


async def team_rounds(world: World, member_world: World) -> None:
    """Ana removes Ben through ``world``'s node; she writes, and Ben's socket is, on
    ``member_world``'s (the same node, or another: tests/multinode), where the removal
    arrives last."""
    tenant = await world.tenant(agents=2)
    ana, ben = tenant.agents
    ana_socket, ben_socket = await member_world.socket(ana), await member_world.socket(ben)
    ana_there = member_world.api(ana.token)
    after_removal = 0
    for round_no in range(ROUNDS):
        body = {"name": f"Race {round_no}", "member_ids": [ben.user_id]}
        rid = (await ana_there.post("/api/v1/rooms", body, expect=201))["id"]
        first = await team_send(ana_socket, rid)
        await ben_socket.wait_for(  # Ben's socket is in the room
            "room:message", lambda d, m=first["id"]: d["message"]["id"] == m
        )

        removed, sent = await race(
            lambda r=rid: team_send(ana_socket, r),
            lambda r=rid: ana.api.call("DELETE", f"/api/v1/rooms/{r}/members/{ben.user_id}"),
        )

        await barrier_to_agent(ana_there, ben, ben_socket, round_no)
        bound = int(removed["position"])
        after_removal += sum(1 for m in sent if m["position"] > bound)
        heard = positions_heard(ben_socket, "room:message", "room_id", rid)
        assert first["position"] in heard
        leaked = [p for p in heard if p > bound]
        assert not leaked, f"round {round_no}: removed at {bound}, still heard {leaked}"
    assert after_removal >= ROUNDS * WRITERS * AFTER  # the rounds wrote after the removals


async def barrier_to_agent(ana: Api, ben: Person, ben_socket: SocketClient, n: int) -> None:
    """A unit committed (on Ben's node) after the round's messages: Ben is added to a
    fresh room."""
    body = {"name": f"Barrier {n}", "member_ids": [ben.user_id]}
    barrier = (await ana.post("/api/v1/rooms", body, expect=201))["id"]
    await ben_socket.wait_for(
        "room:membership", lambda d: d["room_id"] == barrier and d["status"] == "member"
    )


async def community_rounds(world: World, member_world: World) -> None:
    """Sam writes and the moderator removes Pat through ``world``; Pat's socket is on
    ``member_world``'s node."""
    tenant = await world.tenant(agents=1)
    moderator = tenant.agents[0]
    sam, pat = await world.individual("Sam"), await world.individual("Pat")
    sam_socket, pat_socket = await member_world.socket(sam), await member_world.socket(pat)
    lead_there = member_world.api(tenant.supervisor.token)
    joins = {p.user_id: member_world.api(p.token) for p in (sam, pat)}
    after_removal = 0
    for round_no in range(ROUNDS):
        body = {"name": f"Race {round_no}", "description": ""}
        cid = (await lead_there.post("/api/v1/community", body, expect=201))["id"]
        for api in joins.values():
            await api.post(f"/api/v1/community/{cid}/join")
        first = await community_send(sam_socket, cid)
        await pat_socket.wait_for(
            "community:message", lambda d, m=first["id"]: d["message"]["id"] == m
        )

        removed, sent = await race(
            lambda c=cid: community_send(sam_socket, c),
            lambda c=cid: moderator.api.post(f"/api/v1/community/{c}/members/{pat.user_id}/remove"),
        )

        # A unit committed on Pat's node after the round's messages: Pat joins a channel.
        body = {"name": f"Barrier {round_no}", "description": ""}
        barrier = (await lead_there.post("/api/v1/community", body, expect=201))["id"]
        await joins[pat.user_id].post(f"/api/v1/community/{barrier}/join")
        await pat_socket.wait_for(
            "community:membership",
            lambda d, b=barrier: d["channel_id"] == b and d["status"] == "member",
        )
        bound = int(removed["position"])
        after_removal += sum(1 for m in sent if m["position"] > bound)
        heard = positions_heard(pat_socket, "community:message", "channel_id", cid)
        assert first["position"] in heard
        leaked = [p for p in heard if p > bound]
        assert not leaked, f"round {round_no}: removed at {bound}, still heard {leaked}"
    assert after_removal >= ROUNDS * WRITERS * AFTER
