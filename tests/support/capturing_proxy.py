"""A TLS-terminating proxy for tests that records what the server receives and sends.

The node runs with ``RAASEL_TLS=off`` on loopback; this proxy accepts the browsers' TLS
connections (the node's self-signed certificate), forwards the plain bytes and keeps a
copy of both directions, readable: request heads lose ``Accept-Encoding`` and
``Sec-WebSocket-Extensions`` (so responses are not compressed and WebSocket frames not
deflated), and the browsers' masked WebSocket frames are unmasked before they are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from pathlib import Path

_DROPPED_HEADERS = (b"accept-encoding:", b"sec-websocket-extensions:")


def _rewrite_head(head: bytes) -> bytes:
    lines = head.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(_DROPPED_HEADERS)]
    return b"\r\n".join([*kept, b"X-Forwarded-Proto: https"])


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


def _is_upgrade(head: bytes) -> bool:
    return b"upgrade: websocket" in head.lower()


def unmask_frames(data: bytearray) -> tuple[bytes, int]:
    """The payloads of the complete WebSocket frames at the start of ``data``, unmasked,
    and how many bytes they took."""
    out = bytearray()
    at = 0
    while len(data) - at >= 2:
        second = data[at + 1]
        length = second & 0x7F
        offset = at + 2
        if length == 126:
            if len(data) - offset < 2:
                break
            length = int.from_bytes(data[offset : offset + 2], "big")
            offset += 2
        elif length == 127:
            if len(data) - offset < 8:
                break
            length = int.from_bytes(data[offset : offset + 8], "big")
            offset += 8
        mask = b""
        if second & 0x80:
            if len(data) - offset < 4:
                break
            mask = bytes(data[offset : offset + 4])
            offset += 4
        if len(data) - offset < length:
            break
        payload = data[offset : offset + length]
        if mask:
            payload = bytearray(b ^ mask[i % 4] for i, b in enumerate(payload))
        out += payload
        at = offset + length
    return bytes(out), at


class CapturingProxy:
    """Listens on ``port`` (TLS) and forwards to ``127.0.0.1:target_port`` (plain)."""

    def __init__(self, port: int, target_port: int, cert: Path, key: Path) -> None:
        self.port = port
        self.target_port = target_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert), str(key))
        self.to_server = bytearray()
        self.to_client = bytearray()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def captured(self) -> bytes:
        with self._lock:
            return bytes(self.to_server) + b"\n----\n" + bytes(self.to_client)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, ssl=self.context
        )

    def _keep(self, into: bytearray, data: bytes) -> None:
        with self._lock:
            into += data

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        self._writers |= {client_w, server_w}
        upstream = asyncio.ensure_future(self._client_to_server(client_r, server_w))
        downstream = asyncio.ensure_future(self._pipe(server_r, client_w))
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        for writer in (client_w, server_w):
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            self._keep(self.to_client, data)
            writer.write(data)
            await writer.drain()

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # HTTP requests one after another (keep-alive), until one upgrades to a WebSocket.
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            head = _rewrite_head(head[:-4]) + b"\r\n\r\n"
            body = await reader.readexactly(_content_length(head))
            self._keep(self.to_server, head + body)
            writer.write(head + body)
            await writer.drain()
            if _is_upgrade(head):
                break
        pending = bytearray()
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
            pending += data
            payloads, used = unmask_frames(pending)
            del pending[:used]
            self._keep(self.to_server, payloads)
