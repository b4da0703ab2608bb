"""The heartbeat (api/socket/heartbeat.py): one task pings every socket and closes the
ones that stop answering, over real TLS, with a raw Engine.IO client and with the
product's own python-socketio client. Nothing here is timed: each step waits for what
must happen, with generous bounds for a busy machine."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
import websockets

from tests.support.clients import World
from tests.support.server import RunningServer

INTERVAL = 0.4  # seconds between a pong and the next ping
TIMEOUT = 2.0  # seconds a ping may stay unanswered


@pytest.fixture
def node(spawn_server: Callable[..., RunningServer]) -> RunningServer:
    return spawn_server(
        {
            "RAASEL_HEARTBEAT_INTERVAL_SECONDS": str(INTERVAL),
            "RAASEL_HEARTBEAT_TIMEOUT_SECONDS": str(TIMEOUT),
        }
    )


def engineio_url(node: RunningServer) -> str:
    return f"wss://localhost:{node.https_port}/socket.io/?EIO=4&transport=websocket"


async def test_a_socket_that_answers_is_pinged_again_and_again(node: RunningServer) -> None:
    async with websockets.connect(engineio_url(node), ssl=node.ssl_context()) as ws:
        opened = await asyncio.wait_for(ws.recv(), 30)
        assert isinstance(opened, str) and opened.startswith("0")
        handshake = json.loads(opened[1:])
        assert handshake["pingTimeout"] == int(TIMEOUT * 1000)
        for _ in range(6):
            assert await asyncio.wait_for(ws.recv(), 30) == "2"  # PING
            await ws.send("3")  # PONG
        # Still open: one more ping comes and is answered.
        assert await asyncio.wait_for(ws.recv(), 30) == "2"


async def test_a_socket_that_stops_answering_is_closed(node: RunningServer) -> None:
    async with websockets.connect(engineio_url(node), ssl=node.ssl_context()) as ws:
        assert str(await asyncio.wait_for(ws.recv(), 30)).startswith("0")
        assert await asyncio.wait_for(ws.recv(), 30) == "2"
        # No PONG: the server closes the connection (an Engine.IO CLOSE, then the socket).
        received: list[str | bytes] = []
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                received.append(await asyncio.wait_for(ws.recv(), 60))
        assert set(received) <= {"1", "2"}, received


async def test_a_socketio_client_stays_connected_across_many_pings(node: RunningServer) -> None:
    world = World(node)
    try:
        org = await world.tenant(agents=1)
        lead = org.supervisor  # leads see every conversation's messages live
        customer = await world.individual()
        opened = await customer.open_conversation(org, text="still there?")
        conversation = opened["conversation"]["id"]
        agent_socket = await world.socket(lead)
        customer_socket = await world.socket(customer)
        await asyncio.sleep(INTERVAL * 12)  # a dozen ping cycles, each answered
        assert customer_socket.sio.connected and agent_socket.sio.connected
        ack = await customer_socket.emit(
            "message:send",
            {"conversation_id": conversation, "client_id": "hb-1", "text": "after the pings"},
        )
        assert ack["ok"], ack
        await agent_socket.wait_for(
            "message:new", lambda d: d["message"]["text"] == "after the pings", within=30
        )
    finally:
        await world.close()
