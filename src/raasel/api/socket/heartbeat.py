"""Engine.IO with one heartbeat for all sockets instead of tasks and timers per packet.

python-engineio 4.15 (pinned) pays, for every socket: a new task and a sleeping timer per
ping; an ``asyncio.wait_for`` (a task and a timer) for every packet it receives and for
every wake-up of the writer; and in its service task one ``wait_for`` per socket per
sweep. Measured (docs/benchmarks.md, "Idle connections"): ~280 us of CPU per ping and
pong, 86% of a core for 10,000 idle sockets at the 3 s / 1.5 s heartbeat issue 8 asks
for, and part of every delivered message's cost.

Here the server's service task is the heartbeat: every ``tick`` it walks the sockets once,
sends the pings that are due (straight into the socket's queue) and closes the sockets
whose ping went unanswered for ``ping_timeout``, cancelling their pending read (a
half-open connection never answers it). The receive loop and the writer await their next
packet directly. The writer is a task only while packets wait: it sends what is queued
and ends, and the next packet starts another, so an idle socket holds no writer task and
its coroutines (~2 KB; docs/benchmarks.md, "Idle memory"). What the client sees does not
change: the same OPEN packet, pings every ``ping_interval`` (at most one tick late), the
same close reasons. Long-polling sockets keep the library's own ``poll``.
Tests: tests/api/test_heartbeat.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import engineio
from engineio import async_socket, exceptions, packet

from raasel.lib.lean_async import LeanQueue

_PING = packet.PING


class LeanSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    """An Engine.IO socket whose pings the server's heartbeat sends (see the module).

    The library builds its own socket class; ``LeanSockets`` turns each into this one
    as it is registered (same attributes; these two default at class level)."""

    last_ping: float | None  # set by the library: when the unanswered ping went out
    connected: bool
    ping_due: float | None = None  # time.time() the next ping goes out
    _reader: asyncio.Task[Any] | None = None  # the receive loop, while it waits
    _ws: Any = None  # the WebSocket of ``_websocket_handler``, while packets may go out
    _writer: asyncio.Task[None] | None = None  # sending what is queued, then ending

    def schedule_ping(self) -> None:
        # As the library: only after the ping in flight was answered (or at connect).
        if self.last_ping:
            self.last_ping = None
            self.ping_due = time.time() + self.server.ping_interval

    def ping(self, now: float) -> None:
        self.ping_due = None
        self.last_ping = now
        self._deliver(packet.Packet(_PING))

    def _deliver(self, pkt: Any) -> None:
        """Queue ``pkt`` (None: send the rest, then close) and start a writer if none runs."""
        self.queue.put_nowait(pkt)
        if self._ws is not None and self._writer is None:
            self._writer = asyncio.ensure_future(self._write(self._ws))

    async def _write(self, ws: Any) -> None:
        try:
            while not self.queue.empty():
                pkt = self.queue.get_nowait()
                self.queue.task_done()
                if pkt is None:
                    break
                await ws.send(pkt.encode())
            else:
                self._writer = None  # all sent: the socket is idle again
                return
        except Exception as failed:  # as the library's writer: a failed send ends writing
            self.server.logger.debug("%s: send failed (%s)", self.sid, type(failed).__name__)
        except BaseException:
            self._writer = None
            raise
        self._ws = None  # closing or failed: nothing more goes out
        try:
            await ws.close()
        finally:
            self._writer = None

    def abandon_read(self) -> None:
        """Stop waiting for a packet that a dead connection will never send."""
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()

    async def send(self, pkt: Any) -> None:
        if self.closed:
            raise exceptions.SocketIsClosedError()
        if self.last_ping and time.time() - self.last_ping > self.server.ping_timeout:
            await self.check_ping_timeout()  # closes it, as the library does
            return
        self._deliver(pkt)

    async def poll(self) -> list[Any]:
        if not self.upgraded:
            result: list[Any] = await super().poll()
            return result
        first = await self.queue.get()
        self.queue.task_done()
        if first is None:
            return []
        packets = [first]
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    async def _websocket_handler(self, ws: Any) -> Any:
        if self.connected:  # an upgrade from long-polling: the library's own handshake
            return await super()._websocket_handler(ws)
        self.connected = True
        self.upgraded = True
        limit = self.server.max_http_buffer_size
        self._ws = ws
        if not self.queue.empty():  # OPEN, and what the connect handler sent
            self._writer = asyncio.ensure_future(self._write(ws))
        self._reader = asyncio.current_task()
        try:
            while True:
                try:
                    data = await ws.wait()
                except (asyncio.CancelledError, Exception):
                    break  # closed, failed, or abandoned by the heartbeat
                if data is None:
                    break
                if len(data) > limit:
                    break  # as the library: a frame over the limit ends the connection
                try:
                    await self.receive(packet.Packet(encoded_packet=data))
                except exceptions.UnknownPacketError:
                    pass
                except exceptions.SocketIsClosedError:
                    break
                except Exception:
                    self.server.logger.exception("Unknown receive error")
        finally:
            self._reader = None
        self._deliver(None)  # the writer sends what is queued, then closes
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class LeanSockets(dict[str, Any]):
    """The server's sockets by sid; a socket is made a ``LeanSocket`` as it is added
    (before its first packet: the library registers it, then sends OPEN)."""

    def __setitem__(self, sid: str, socket: Any) -> None:
        if type(socket) is async_socket.AsyncSocket:
            socket.__class__ = LeanSocket
        super().__setitem__(sid, socket)


class LeanEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """engineio.AsyncServer with ``LeanSocket`` sockets and one heartbeat task."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # How often the heartbeat walks the sockets: a ping leaves at most this late,
        # a dead socket is closed at most this late after its ping timed out.
        self.tick = min(0.25, self.ping_timeout / 4)

    def create_queue(self, *args: Any, **kwargs: Any) -> LeanQueue[Any]:
        """Each socket's packets out: a list, not asyncio.Queue's three deques and an
        event (lib/lean_async.py; ~4 KB less per idle socket)."""
        return LeanQueue()

    @property
    def sockets(self) -> LeanSockets:
        return self._lean_sockets

    @sockets.setter
    def sockets(self, value: dict[str, Any]) -> None:  # the library assigns {} at times
        self._lean_sockets = LeanSockets(value)

    async def _service_task(self) -> None:
        self.service_task_event = self.create_event()
        while not self.service_task_event.is_set():
            await asyncio.sleep(self.tick)
            try:
                await self.beat(time.time())
            except Exception:
                self.logger.exception("heartbeat failed")

    async def beat(self, now: float) -> None:
        """One walk over the sockets: pings due go out, unanswered ones are closed."""
        timeout = self.ping_timeout
        for sid, s in list(self.sockets.items()):
            if s.closed:
                self.sockets.pop(sid, None)
            elif s.closing or not isinstance(s, LeanSocket):
                continue
            elif s.last_ping:
                if now - s.last_ping > timeout:
                    await s.check_ping_timeout()
                    s.abandon_read()
            elif s.ping_due is not None and now >= s.ping_due:
                s.ping(now)
