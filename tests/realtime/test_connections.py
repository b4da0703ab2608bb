"""The connection registry on its own: rooms, revocations, and re-checks at token expiry.

A recording stand-in for the Socket.IO server and a scripted ``reload`` (what the
database says about a session) show exactly which socket is moved, told or dropped.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from raasel.actions.context import Actor
from raasel.realtime import connections as module
from raasel.realtime.connections import Connections, Revocation, rooms_of

pytestmark = pytest.mark.timeout(30)


class FakeServer:
    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}
        self.emitted: list[tuple[str, str, Any]] = []  # (sid, event, data)
        self.disconnected: list[str] = []
        self.registry: Connections | None = None

    async def enter_room(self, sid: str, room: str) -> None:
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str) -> None:
        self.rooms[sid].discard(room)

    async def emit(self, event: str, data: Any, to: str, **_: Any) -> None:
        self.emitted.append((to, event, data))

    async def disconnect(self, sid: str) -> None:
        self.disconnected.append(sid)
        assert self.registry is not None
        self.registry.detach(sid)  # what the disconnect handler does


def agent(session: str = "s1", **changes: Any) -> Actor:
    base = Actor(
        user_id="u1",
        kind="person",
        display_name="Agent",
        session_id=session,
        org_id="o1",
        role="agent",
        group_ids=("g1",),
        token_expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return replace(base, **changes)


class Sessions:
    """What ``reload`` answers: the current actor per session, or None (ended)."""

    def __init__(self) -> None:
        self.current: dict[str, Actor | None] = {}
        self.reads = 0
        self.fail = False

    async def reload(self, actor: Actor) -> Actor | None:
        self.reads += 1
        await asyncio.sleep(0)
        if self.fail:
            raise OSError("database unreachable")
        return self.current.get(actor.session_id, actor)


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeServer, Sessions, Connections]:
    monkeypatch.setattr(module, "SWEEP_SECONDS", 0.05)
    server, sessions = FakeServer(), Sessions()
    registry = Connections(server, reload=sessions.reload, recheck_seconds=3600)
    server.registry = registry
    return server, sessions, registry


async def test_a_role_change_moves_the_socket_and_tells_it(
    setup: tuple[FakeServer, Sessions, Connections],
) -> None:
    server, sessions, registry = setup
    await registry.attach("a", agent(), unread_on_message=True)
    await registry.attach("b", agent())  # no message_unread feature: the ~unread twins too
    await registry.attach("other", agent("s2", user_id="u2"))
    assert server.rooms["a"] == {"agent:o1:u1", "agents:o1", "group:g1"}
    assert server.rooms["b"] == server.rooms["a"] | {f"{r}~unread" for r in server.rooms["a"]}

    sessions.current["s1"] = agent(role="supervisor", group_ids=("g2",))
    assert await registry.apply(Revocation.member("o1", "u1")) == 2
    moved = {"agent:o1:u1", "agents:o1", "group:g2", "leads:o1"}
    assert server.rooms["a"] == moved
    assert server.rooms["b"] == moved | {f"{r}~unread" for r in moved}
    assert sessions.reads == 1, "one read per session, not per socket"
    updates = [(sid, d) for sid, e, d in server.emitted if e == "session:updated"]
    assert updates == [
        (sid, {"org_id": "o1", "role": "supervisor", "group_ids": ["g2"]}) for sid in ("a", "b")
    ]
    moved = registry.actor_of("a")
    assert moved is not None and moved.role == "supervisor"
    assert server.disconnected == [] and "other" not in [s for s, _, _ in server.emitted]


async def test_an_ended_membership_or_session_drops_exactly_its_sockets(
    setup: tuple[FakeServer, Sessions, Connections],
) -> None:
    server, sessions, registry = setup
    await registry.attach("a", agent())
    await registry.attach("b", agent("s2"))
    await registry.attach("c", agent("s3", user_id="u3"))
    await registry.apply(Revocation.session("s2", "logged_out"))
    assert server.disconnected == ["b"]
    assert ("b", "session:ended", {"reason": "logged_out"}) in server.emitted

    sessions.current["s1"] = None
    await registry.apply(Revocation.member("o1", "u1"))
    assert server.disconnected == ["b", "a"]
    assert ("a", "session:ended", {"reason": "membership_ended"}) in server.emitted
    assert registry.actor_of("c") is not None and len(registry) == 1


async def test_sessions_are_rechecked_at_token_expiry(
    setup: tuple[FakeServer, Sessions, Connections],
) -> None:
    server, sessions, registry = setup
    soon = datetime.now(UTC) + timedelta(seconds=0.2)
    await registry.attach("ended", agent("s1", token_expires_at=soon))
    await registry.attach("live", agent("s2", user_id="u2", token_expires_at=soon))
    await registry.attach("later", agent("s3", user_id="u3"))
    sessions.current["s1"] = None
    await asyncio.sleep(0.1)
    assert server.disconnected == [], "nothing before the token expires"
    for _ in range(40):
        if server.disconnected:
            break
        await asyncio.sleep(0.05)
    assert server.disconnected == ["ended"]
    assert ("ended", "session:ended", {"reason": "session_ended"}) in server.emitted
    assert registry.actor_of("live") is not None, "a live session keeps its socket"
    assert sessions.reads == 2, "the socket with an hour left was not checked"
    await registry.close()


async def test_a_failed_check_keeps_the_socket_and_tries_again(
    setup: tuple[FakeServer, Sessions, Connections], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, sessions, registry = setup
    monkeypatch.setattr(module, "RETRY_SECONDS", 0.1)
    sessions.fail = True
    await registry.attach("a", agent(token_expires_at=datetime.now(UTC)))
    for _ in range(40):
        if sessions.reads >= 2:
            break
        await asyncio.sleep(0.05)
    assert sessions.reads >= 2 and server.disconnected == []
    await registry.close()


def test_revocations_cross_the_wire_as_ids_only() -> None:
    for revocation in (Revocation.session("s1", "revoked"), Revocation.member("o1", "u1")):
        assert Revocation.from_wire(revocation.to_wire()) == revocation
    assert Revocation.from_wire({"k": "session", "why": "logged_out"}) is None
    assert Revocation.from_wire({"k": "member", "org_id": 1, "user_id": "u"}) is None
    assert Revocation.from_wire({"k": "everyone"}) is None
    assert rooms_of(agent(role="owner")) == ["agent:o1:u1", "agents:o1", "group:g1", "leads:o1"]
