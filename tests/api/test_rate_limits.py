"""Rate limits answer with a typed error, a Retry-After, and no side effect.

The windows are an hour long: the limiter admits at most COUNT in any window, so the
test's assertions hold however slowly a loaded machine runs it (tests/storage/
test_ephemeral.py covers the window's edges with an injected clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import socketio

from tests.support.clients import PASSWORD, World, unique
from tests.support.server import RunningServer

LIMITS = {
    "RAASEL_LOGIN_RATE": "5/3600",
    "RAASEL_SEND_RATE": "4/3600",
    "RAASEL_OPEN_RATE": "3/3600",
    "RAASEL_CONNECT_RATE": "5/3600",
}


async def test_login_send_open_and_connect_are_limited(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server(LIMITS)
    world = World(node)
    try:
        # Confirming the sign-up counts as a login attempt (per IP): one here, four below.
        customer = await world.individual()
        for _ in range(3):
            await world.anonymous.post(
                "/api/v1/auth/login",
                {"email": customer.email, "password": "wrong password"},
                expect=401,
            )
        await world.anonymous.post(
            "/api/v1/auth/login", {"email": customer.email, "password": PASSWORD}, expect=200
        )
        limited = await world.anonymous.http.post(
            "/api/v1/auth/login", json={"email": customer.email, "password": PASSWORD}
        )
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 3000 < int(limited.headers["retry-after"]) <= 3600

        tenant_org = await customer.api.post(
            "/api/v1/orgs", {"slug": unique("rl"), "name": "Limited"}, expect=201
        )
        opened = []
        for _ in range(3):
            opened.append(
                await customer.api.post(
                    "/api/v1/conversations",
                    {"org_id": tenant_org["id"], "text": "hi", "client_id": unique("o")},
                    expect=201,
                )
            )
        refused = await customer.api.post(
            "/api/v1/conversations",
            {"org_id": tenant_org["id"], "text": "hi", "client_id": unique("o")},
            expect=429,
        )
        assert refused["error"]["code"] == "rate_limited"
        assert len(await customer.api.get("/api/v1/conversations")) == 3

        cid = opened[0]["conversation"]["id"]
        sock = await world.socket(customer)
        acks = [
            await sock.emit(
                "message:send", {"conversation_id": cid, "client_id": unique("m"), "text": f"{i}"}
            )
            for i in range(6)
        ]
        assert [a["ok"] for a in acks] == [True] * 4 + [False] * 2
        assert acks[-1]["error"]["code"] == "rate_limited"
        history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
        assert [m["text"] for m in history["messages"] if m["sender_side"] == "customer"] == [
            "hi",
            "0",
            "1",
            "2",
            "3",
        ]

        # One socket is open: four more connect, then two are refused.
        connected: list[bool] = []
        refusals: list[dict[str, Any]] = []
        for _ in range(6):
            extra = await world.socket(customer, connect=False)
            extra.sio.on("connect_error", refusals.append)
            try:
                await extra.connect()
            except socketio.exceptions.ConnectionError:
                connected.append(False)
            else:
                connected.append(True)
        assert connected == [True] * 4 + [False] * 2
        assert [r["data"]["code"] for r in refusals] == ["rate_limited"] * 2
    finally:
        await world.close()


async def test_an_overloaded_socket_is_answered_busy_at_once(
    spawn_server: Callable[..., RunningServer],
) -> None:
    node = spawn_server({"RAASEL_MAX_PENDING_SENDS_PER_SOCKET": "1"})
    world = World(node)
    try:
        tenant = await world.tenant(agents=1)
        customer = await world.individual()
        opened = await customer.open_conversation(tenant, text="hi")
        cid = opened["conversation"]["id"]
        sock = await world.socket(customer)
        payloads = [
            {"conversation_id": cid, "client_id": f"b{i}", "text": f"{i}"} for i in range(8)
        ]
        acks = await asyncio.gather(*(sock.emit("message:send", p) for p in payloads))
        busy = [p["client_id"] for p, a in zip(payloads, acks, strict=True) if not a["ok"]]
        assert busy, "eight sends at once on a socket allowed one pending send"
        assert {a["error"]["code"] for a in acks if not a["ok"]} == {"busy"}
        history = await customer.api.get(f"/api/v1/conversations/{cid}/messages")
        stored = {m["client_id"] for m in history["messages"]}
        assert not stored & set(busy), "a busy send stores nothing"
        retried = await sock.emit(
            "message:send", next(p for p in payloads if p["client_id"] == busy[0])
        )
        assert retried["ok"], "a retry with the same client id succeeds once the node has room"
    finally:
        await world.close()
