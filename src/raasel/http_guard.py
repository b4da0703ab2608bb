"""Bounds on what one connection may cost the embedded server (uvicorn + httptools):
header size, time to send the headers, idle keep-alive, and connections per IP.

uvicorn has no header-size limit with httptools (a 20 MB header was accepted) and no
header timeout (slowloris connections and idle TLS connections stayed for minutes). This
protocol adds both, and refuses an address's new connections past ``per_ip`` open ones,
counting its WebSockets too: an upgraded connection stays counted (``GuardedWebSocket``)
until it closes. The TLS handshake's own deadline is the event loop's
(``server.py``). docs/security.md, "Transport".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from raasel.lib.lean_async import LeanEvent, LeanQueue

# Open connections per client address, HTTP and WebSocket alike (one server per process).
OPEN_PER_IP: Counter[str] = Counter()


def _release(ip: str) -> None:
    OPEN_PER_IP[ip] -= 1
    if OPEN_PER_IP[ip] <= 0:
        del OPEN_PER_IP[ip]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    per_ip: int = 256


class HeaderTooLarge(Exception):
    pass


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above (``guarded(limits)``)."""

    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ip: str | None = None
        self._header_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    # -- connections per IP, and the time to send headers ---------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._ip = self.client[0] if self.client else "unknown"
        OPEN_PER_IP[self._ip] += 1
        if OPEN_PER_IP[self._ip] > self.limits.per_ip:
            transport.abort()  # connection_lost follows and uncounts it
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._uncount()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        """The WebSocket protocol takes the connection over, and its count with it."""
        self._disarm()
        self._uncount()
        super().handle_websocket_upgrade()

    def _uncount(self) -> None:
        if self._ip is not None:
            _release(self._ip)
            self._ip = None

    def _arm(self) -> None:
        """The whole header block must arrive within ``header_timeout`` of the connection
        (or, on a kept-alive connection, of the request's first byte)."""
        self._disarm()
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- header size ------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        if self._deadline is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_header_bytes:
            # httptools turns this into a parser error: uvicorn answers 400 and closes.
            raise HeaderTooLarge(f"request headers over {self.limits.max_header_bytes} bytes")


class GuardedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, counted in ``OPEN_PER_IP`` while it is open (the
    HTTP protocol hands the connection and its count over in the same step). Its inbound
    queue and its ``writable`` flag are the lean ones of lib/lean_async.py: an idle
    socket holds them for its whole life (docs/benchmarks.md, "Idle memory")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LeanQueue()  # type: ignore[assignment]
        writable, self.writable = self.writable, LeanEvent()  # type: ignore[assignment]
        if writable.is_set():
            self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            # Accepted: the handshake's request and response (headers and all) are spent.
            self.request = self.response = None  # type: ignore[assignment]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._counted_ip: str | None = self.client[0] if self.client else "unknown"
        OPEN_PER_IP[self._counted_ip] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        ip, self._counted_ip = getattr(self, "_counted_ip", None), None
        if ip is not None:
            _release(ip)
        super().connection_lost(exc)


def guarded(limits: HttpLimits) -> type[GuardedHttp]:
    """A protocol class bound to ``limits`` (uvicorn's ``http=`` takes a class)."""
    return type("GuardedHttpWithLimits", (GuardedHttp,), {"limits": limits})
