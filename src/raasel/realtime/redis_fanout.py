"""Cross-node fan-out: each node hears only the events for rooms it holds sockets in.

A python-socketio client manager (``LeanManager``: local rooms, local delivery) that
keeps a room directory in Redis (room_directory.py): when a room gets its first socket
on this node, the node adds itself to the room's set; when the room empties here, it
removes itself. An emit goes to this node's sockets in-process and, through one script
call, to the channel of each *other* node in the rooms' sets, so the Redis traffic of an
event grows with the nodes that hold its recipients, never with the size of the cluster.
Nothing is pickled: the wire is the event as compact JSON, ``{"e", "d", "r", "s"}``.

Order: every Redis command of this node (directory changes, events, heartbeats,
revocations) goes through one writer that runs one pipeline at a time, in the order the
calls were made; Redis delivers a channel's messages in the order it ran the publishes,
so every node sees this node's events in publish order. ``emit`` queues the remote copy
before it delivers locally, synchronously, so the order is fixed at call time.

Failures: Redis is a doorbell. With Redis unreachable, local delivery works, remote copies
are dropped and logged (clients resync by position), the directory is rewritten whole
once Redis answers again, revocations wait and go out then; the listener resubscribes
with a backoff capped at ``MAX_RECONNECT_SECONDS``. docs/decisions.md, "Fan-out".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal
from uuid import uuid4

import structlog
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError

from raasel.observability import FANOUT_DROPPED, FANOUT_PUBLISHED, FANOUT_RECEIVED
from raasel.realtime.bus import Screen
from raasel.realtime.local_manager import LeanManager
from raasel.realtime.room_directory import RoomDirectory

log = structlog.get_logger(__name__)

MAX_RECONNECT_SECONDS = 5.0
# After a failed round trip, drop remote copies for this long instead of waiting on a
# Redis that is not there (one timeout per second, not one per event).
RETRY_AFTER_FAILURE_SECONDS = 1.0
MAX_QUEUED = 10_000  # operations waiting for the writer; beyond it, events are dropped
MAX_PENDING_CONTROL = 1_000
EVENTS_PER_CALL = 256  # events per publish script call: each call keeps Redis busy briefly
NAMESPACE = "/"

ControlHandler = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

OpKind = Literal["emit", "join", "leave", "control", "beat", "flush"]


@dataclass(slots=True)
class _Op:
    kind: OpKind
    room: str = ""
    rooms: tuple[str, ...] = ()
    payload: str = ""
    done: asyncio.Future[None] | None = None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class RedisFanout(LeanManager):
    """Routes each emit to the nodes that hold its rooms; see the module docstring."""

    def __init__(
        self, url: str, *, prefix: str = "raasel:", node_ttl: float = 30.0, timeout: float = 1.0
    ) -> None:
        super().__init__()
        self.incarnation = uuid4().hex
        self.directory = RoomDirectory(prefix, self.incarnation)
        options: dict[str, Any] = {
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),  # a retried pipeline could publish twice
        }
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, **options
        )
        # The listener blocks on its socket between messages: no read timeout there.
        self._listen_redis: aioredis.Redis = aioredis.Redis.from_url(url, **options)
        self._timeout = timeout
        self._ttl_ms = max(int(node_ttl * 1000), 1000)
        self._beat_seconds = max(node_ttl / 3, 0.2)
        self._ops: list[_Op] = []
        self._pending_control: list[_Op] = []
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._down_until = 0.0
        self._scripts_loaded = False
        self._needs_reset = True  # the first pipeline tells Redis which rooms we hold
        self._on_control: ControlHandler | None = None
        self._on_resubscribed: Callable[[], None] | None = None
        self.is_subscribed = False
        # Set by the composition root: departed members leave group rooms before an
        # event from another node reaches them (realtime/room_screen.py).
        self.screen: Screen | None = None

    # -- life cycle -----------------------------------------------------------------------

    def initialize(self) -> None:
        super().initialize()
        self.start()

    def start(self) -> None:
        """Start the writer, the listener and the heartbeat (idempotent; needs a loop)."""
        if self._tasks:
            return
        self._wake = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="fanout-writer"),
            asyncio.create_task(self._listen_loop(), name="fanout-listener"),
            asyncio.create_task(self._heartbeat_loop(), name="fanout-heartbeat"),
        ]

    async def close(self) -> None:
        """Leave the directory (best effort) and stop."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if not self._is_down():
            with contextlib.suppress(RedisError, OSError):
                pipe = self._redis.pipeline(transaction=False)
                self.directory.load_scripts(pipe)
                self.directory.leave_all(pipe)
                await pipe.execute()
        await self._redis.aclose()
        await self._listen_redis.aclose()

    def listen_control(
        self, on_message: ControlHandler, on_resubscribed: Callable[[], None]
    ) -> None:
        """Control messages from other nodes, and a call after every (re)subscription
        (messages published while this node was not listening are lost)."""
        self._on_control = on_message
        self._on_resubscribed = on_resubscribed

    def broadcast_control(self, message: dict[str, Any]) -> None:
        """Send a control message to every other node (kept until Redis takes it)."""
        self._enqueue(_Op("control", payload=_dumps({**message, "o": self.incarnation})))

    async def flush(self) -> None:
        """Wait until every operation queued so far went to Redis (or failed)."""
        if not self._tasks or self._is_down():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Op("flush", done=done))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), 3 * self._timeout)

    # -- the manager interface --------------------------------------------------------------

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        namespace = namespace or NAMESPACE
        if (
            not kwargs.get("ignore_queue")
            and callback is None
            and room is not None
            and namespace == NAMESPACE
        ):
            rooms = [room] if isinstance(room, str) else list(room)
            # A socket's own room is local: remote sockets are reached through named rooms.
            remote = [r for r in rooms if not self.is_sid_room(namespace, r)]
            if remote:
                self._publish_event(event, data, remote, skip_sid)
        await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback)

    async def enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        is_new = room not in self.rooms.get(namespace, {})
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if is_new and self._is_directory_room(sid, namespace, room):
            self._enqueue(_Op("join", room=room))

    async def leave_room(self, sid: str, namespace: str, room: Any) -> None:
        await super().leave_room(sid, namespace, room)
        if self._is_directory_room(sid, namespace, room) and room not in self.rooms.get(
            namespace, {}
        ):
            self._enqueue(_Op("leave", room=room))

    async def close_room(self, room: Any, namespace: str) -> None:
        await super().close_room(room, namespace)
        if namespace == NAMESPACE and isinstance(room, str):
            self._enqueue(_Op("leave", room=room))

    async def disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        held = self.get_rooms(sid, namespace)
        await super().disconnect(sid, namespace, **kwargs)
        remaining = self.rooms.get(namespace, {})
        for room in held:
            if room != sid and namespace == NAMESPACE and room not in remaining:
                self._enqueue(_Op("leave", room=room))

    def _is_directory_room(self, sid: str, namespace: str, room: Any) -> bool:
        return namespace == NAMESPACE and isinstance(room, str) and room != sid

    def local_rooms(self) -> list[str]:
        held = self.rooms.get(NAMESPACE, {})
        return [r for r in held if isinstance(r, str) and not self.is_sid_room(NAMESPACE, r)]

    # -- publishing ---------------------------------------------------------------------------

    def _publish_event(self, event: str, data: Any, rooms: list[str], skip_sid: Any) -> None:
        if len(self._ops) >= MAX_QUEUED or self._is_down():
            FANOUT_DROPPED.inc()
            return
        wire: dict[str, Any] = {"e": event, "r": rooms}
        if isinstance(data, tuple):
            wire["a"] = list(data)
        else:
            wire["d"] = data
        if skip_sid is not None:
            wire["s"] = skip_sid
        self._enqueue(_Op("emit", rooms=tuple(rooms), payload=_dumps(wire)))

    def _enqueue(self, op: _Op) -> None:
        self._ops.append(op)
        self._wake.set()

    def _is_down(self) -> bool:
        return time.monotonic() < self._down_until

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._ops or (
                not self._is_down() and (self._needs_reset or self._pending_control)
            ):
                batch, self._ops = self._ops, []
                if self._pending_control and not self._is_down():
                    batch = self._pending_control + batch
                    self._pending_control = []
                await self._run(batch)

    async def _run(self, batch: list[_Op], *, may_retry: bool = True) -> None:
        if self._is_down():
            self._fail(batch)
            return
        pipe = self._redis.pipeline(transaction=False)
        loads_scripts = not self._scripts_loaded
        if loads_scripts:
            self.directory.load_scripts(pipe)
        reset_at = -1
        if self._needs_reset:
            reset_at = len(pipe.command_stack)
            self.directory.reset(pipe, self.local_rooms())
            self._needs_reset = False
        results_of: list[tuple[_Op, int]] = []
        events: list[_Op] = []  # consecutive emits: one script call (room_directory.PUBLISH)

        def publish_events() -> None:
            if events:
                index = len(pipe.command_stack)
                self.directory.publish(pipe, [(e.rooms, e.payload) for e in events])
                results_of.extend((e, index) for e in events)
                events.clear()

        for op in batch:
            if op.kind == "emit":
                events.append(op)
                if len(events) >= EVENTS_PER_CALL:
                    publish_events()
                continue
            publish_events()  # before this op: the order of the calls is kept
            index = len(pipe.command_stack)
            if op.kind == "join":
                self.directory.join(pipe, op.room)
            elif op.kind == "leave":
                self.directory.leave(pipe, op.room)
            elif op.kind == "control":
                pipe.publish(self.directory.control_channel, op.payload)
            elif op.kind == "beat":
                self.directory.heartbeat(pipe, self._ttl_ms)
            results_of.append((op, index))
        publish_events()
        try:
            results = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as exc:
            self._needs_reset = True
            self._failed(exc)
            self._fail(batch)
            return
        self._scripts_loaded = True
        if reset_at >= 0 and isinstance(results[reset_at], Exception):
            error = results[reset_at]
            self._needs_reset = True
            if isinstance(error, NoScriptError) and not loads_scripts:
                self._scripts_loaded = False  # flushed scripts: load them and retry at once
                self._wake.set()
            else:
                self._failed(error)
        missing: list[_Op] = []
        for op, index in results_of:
            result = results[index] if index < len(results) else None
            if isinstance(result, NoScriptError):  # SCRIPT FLUSH while we were connected
                missing.append(op)
            elif isinstance(result, Exception):
                log.warning("fan-out command failed", op=op.kind, error=str(result)[:200])
            elif op.kind == "emit":
                FANOUT_PUBLISHED.inc()
            elif op.kind == "beat" and result == 0:
                self._needs_reset = True  # Redis forgot us (restarted, or we stalled)
                self._wake.set()
            if op.done is not None and not op.done.done() and op not in missing:
                op.done.set_result(None)
        if missing:
            self._scripts_loaded = False
            if may_retry:
                await self._run(missing, may_retry=False)
            else:
                self._fail(missing)

    def _failed(self, exc: BaseException) -> None:
        if not self._is_down():
            log.warning("fan-out redis unavailable", error=type(exc).__name__, detail=str(exc))
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
        self._scripts_loaded = False

    def _fail(self, batch: list[_Op]) -> None:
        for op in batch:
            if op.kind == "emit":
                FANOUT_DROPPED.inc()
            elif op.kind in ("join", "leave"):
                self._needs_reset = True
            elif op.kind == "control" and len(self._pending_control) < MAX_PENDING_CONTROL:
                self._pending_control.append(op)
            if op.done is not None and not op.done.done():
                op.done.set_result(None)

    async def _heartbeat_loop(self) -> None:
        while True:
            self._enqueue(_Op("beat"))
            await asyncio.sleep(self._beat_seconds)

    # -- receiving ------------------------------------------------------------------------------

    async def _listen_loop(self) -> None:
        wait = 0.5
        channels = (self.directory.own_channel, self.directory.control_channel)
        while True:
            pubsub = self._listen_redis.pubsub()
            try:
                await pubsub.subscribe(*channels)
                confirmed = 0
                while confirmed < len(channels):  # the server has registered us
                    reply = await pubsub.get_message(timeout=self._timeout * 3)
                    if reply is None:
                        raise TimeoutError("no subscription confirmation")
                    confirmed += reply.get("type") == "subscribe"
                self.is_subscribed = True
                wait = 0.5
                log.info("fan-out subscribed", channel=self.directory.own_channel)
                # Register (again) only once we listen, and re-check what we may have missed.
                # Redis may be a new one: empty, without our scripts.
                self._needs_reset = True
                self._scripts_loaded = False
                self._down_until = 0.0
                self._wake.set()
                if self._on_resubscribed is not None:
                    self._on_resubscribed()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
                    if message is not None and message.get("type") == "message":
                        await self._receive(message["channel"], message["data"])
            except asyncio.CancelledError:
                await self._close_pubsub(pubsub)
                raise
            except Exception as exc:  # any failure: resubscribe on a fresh connection
                self.is_subscribed = False
                log.warning("fan-out lost redis", error=type(exc).__name__, retry_in=wait)
                await self._close_pubsub(pubsub)
                with contextlib.suppress(Exception):  # the writer's connections are dead too
                    await self._redis.connection_pool.disconnect()
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_RECONNECT_SECONDS)

    @staticmethod
    async def _close_pubsub(pubsub: Any) -> None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()

    async def _receive(self, channel: bytes, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("fan-out message is not JSON", size=len(data))
            return
        if not isinstance(message, dict):
            return
        if channel.decode() == self.directory.control_channel:
            if message.get("o") != self.incarnation and self._on_control is not None:
                task = asyncio.create_task(self._on_control(message))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)
            return
        event, rooms = message.get("e"), message.get("r")
        if not isinstance(event, str) or not isinstance(rooms, list):
            return
        held = self.rooms.get(NAMESPACE, {})
        local = [r for r in rooms if isinstance(r, str) and r in held]
        if not local:
            # Redis still lists us for rooms we left (a lost leave): forget them now.
            for room in rooms:
                if isinstance(room, str):
                    self._enqueue(_Op("leave", room=room))
            return
        FANOUT_RECEIVED.inc()
        data_out = tuple(message["a"]) if isinstance(message.get("a"), list) else message.get("d")
        skip = message.get("s")
        if self.screen is not None:
            refused = await self.screen(local, data_out)
            if refused:
                skip = [*refused, *(skip if isinstance(skip, list) else [skip] if skip else [])]
        await super().emit(event, data_out, NAMESPACE, room=local, skip_sid=skip)
