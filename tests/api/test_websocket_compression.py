"""WebSocket permessage-deflate is off unless RAASEL_WS_PER_MESSAGE_DEFLATE asks for it
(each socket that takes it holds a zlib compressor and decompressor for its life:
docs/benchmarks.md, "Idle memory"). The client here offers it, as every browser does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import websockets

from tests.support.server import RunningServer


async def _extensions_and_open(node: RunningServer) -> tuple[str | None, str]:
    url = f"wss://localhost:{node.https_port}/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, ssl=node.ssl_context(), compression="deflate") as ws:
        opened = await asyncio.wait_for(ws.recv(), 30)
        assert ws.response is not None
        return ws.response.headers.get("Sec-WebSocket-Extensions"), str(opened)


async def test_an_offered_deflate_is_declined_by_default(server: RunningServer) -> None:
    extensions, opened = await _extensions_and_open(server)
    assert extensions is None
    assert opened.startswith('0{"sid":')  # Engine.IO's OPEN arrives all the same


async def test_the_setting_turns_deflate_on(spawn_server: Callable[..., RunningServer]) -> None:
    node = spawn_server({"RAASEL_WS_PER_MESSAGE_DEFLATE": "true"})
    extensions, opened = await _extensions_and_open(node)
    assert extensions is not None and extensions.startswith("permessage-deflate")
    assert opened.startswith('0{"sid":')
