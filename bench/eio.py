"""A lean Socket.IO v5 / Engine.IO v4 client over one WebSocket, for thousands of sockets.

python-socketio's ``AsyncClient`` costs tens of kilobytes and several tasks per socket;
the load generator needs only the default namespace over the ``websocket`` transport:

- ``0{...}``        Engine.IO open (the server speaks first);
- ``40{auth}``      Socket.IO connect to ``/`` with the auth object; ``40{sid}`` or ``44{err}``;
- ``42[ev, data]``  an event; ``42<id>[ev, data]`` an event that wants an acknowledgement;
- ``43<id>[data]``  the acknowledgement of event ``<id>``;
- ``2`` / ``3``     the server's ping and our pong; ``41`` the server disconnecting us.

Binary attachments, other namespaces and polling are not supported (not needed here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

EventHandler = Callable[[str, Any], None]
AckHandler = Callable[[int, Any], None]
CloseHandler = Callable[[], None]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class ConnectRefused(Exception):
    """The server answered the namespace connect with an error (``44``)."""


class LeanSocket:
    """One Socket.IO connection; events and acks are handed to plain callbacks."""

    __slots__ = ("_next_ack", "_reader", "is_connected", "on_ack", "on_close", "on_event", "ws")

    def __init__(self, on_event: EventHandler, on_ack: AckHandler, on_close: CloseHandler) -> None:
        self.on_event = on_event
        self.on_ack = on_ack
        self.on_close = on_close
        self.ws: ClientConnection | None = None
        self.is_connected = False
        self._next_ack = 0
        self._reader: asyncio.Task[None] | None = None

    async def connect(
        self,
        url: str,
        auth: dict[str, Any],
        ssl_context: ssl.SSLContext,
        *,
        server_hostname: str = "localhost",
        open_timeout: float = 30.0,
    ) -> None:
        async with asyncio.timeout(open_timeout):
            ws = self.ws = await connect(
                url,
                ssl=ssl_context,
                server_hostname=server_hostname,
                compression=None,  # both servers are measured without permessage-deflate
                ping_interval=None,  # Engine.IO has its own heartbeat, answered below
                close_timeout=2,
                max_size=1 << 20,
            )
            opening = await ws.recv()
            if not isinstance(opening, str) or not opening.startswith("0"):
                raise ConnectionError(f"unexpected Engine.IO opening {opening!r:.80}")
            await ws.send("40" + _dumps(auth))
            early: list[str] = []
            while True:
                frame = await ws.recv()
                if not isinstance(frame, str):
                    raise ConnectionError("binary frame before connect")
                if frame == "2":
                    await ws.send("3")
                elif frame.startswith("40"):
                    break
                elif frame.startswith("44"):
                    raise ConnectRefused(frame[2:200])
                elif frame.startswith("42"):
                    # Events the server emitted from its connect handler can precede the
                    # CONNECT packet; socket.io-client buffers them too.
                    early.append(frame)
                else:
                    raise ConnectionError(f"unexpected frame before connect {frame!r:.80}")
        self.is_connected = True
        for frame in early:
            await self._dispatch(frame)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws = self.ws
        assert ws is not None
        try:
            async for frame in ws:
                if isinstance(frame, str) and not await self._dispatch(frame):
                    break
        except ConnectionClosed:
            pass
        finally:
            self.is_connected = False
            self.on_close()

    async def _dispatch(self, frame: str) -> bool:
        """Handle one frame; False once the server has disconnected us."""
        kind = frame[:2]
        if kind == "42":
            name, *args = json.loads(frame[2:])
            self.on_event(name, args[0] if args else None)
        elif kind == "43":
            bracket = frame.index("[", 2)
            args = json.loads(frame[bracket:])
            self.on_ack(int(frame[2:bracket]), args[0] if args else None)
        elif frame == "2":
            assert self.ws is not None
            await self.ws.send("3")
        elif kind == "41":
            return False
        return True

    async def emit(self, event: str, data: Any, *, want_ack: bool = True) -> int | None:
        """Send an event; returns the acknowledgement id the answer will carry, if any."""
        assert self.ws is not None
        if not want_ack:
            await self.ws.send("42" + _dumps([event, data]))
            return None
        ack_id = self._next_ack
        self._next_ack += 1
        await self.ws.send(f"42{ack_id}{_dumps([event, data])}")
        return ack_id

    async def close(self) -> None:
        ws = self.ws
        if ws is None:
            return
        with contextlib.suppress(Exception):
            if self.is_connected:
                await ws.send("41")
            await ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await self._reader
