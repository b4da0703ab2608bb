"""The Socket.IO endpoint: authenticate at connect, then one handler per client event.

Every client event is answered through its acknowledgement with ``{"ok": true, ...}``
or ``{"ok": false, "error": {"code", "message"}}``; nothing a client sends can raise
past this layer.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import socketio
import structlog
from pydantic import BaseModel, ValidationError

from raasel.actions import messages, presence, receipts
from raasel.actions.auth import resolve_actor
from raasel.actions.context import Actor, Services
from raasel.actions.limits import check_rate
from raasel.actions.typing_signals import typing_event
from raasel.errors import Busy, NotFound, RaaselError
from raasel.observability import SOCKET_CONNECTIONS, SOCKET_EVENTS
from raasel.realtime.bus import EventBus
from raasel.realtime.connections import Connections
from raasel.realtime.typing_timers import TypingTimers

from .community_events import CommunityEvents
from .direct_events import DirectEvents
from .payloads import (
    HistoryPayload,
    PresencePayload,
    SendPayload,
    SyncPayload,
    TypingPayload,
    WatermarkPayload,
)
from .team_room_events import TeamRoomEvents

log = structlog.get_logger(__name__)

# One sync ack carries at most this many messages, and stops adding conversations' pages
# once their texts pass this many bytes (a 5.7 KB request once produced an 85 MB ack).
SYNC_ACK_MESSAGES = 500
SYNC_ACK_BYTES = 1024 * 1024

# What a platform operator's socket may send: the conversation events, held by the
# access checks to the conversations opened or escalated to the platform.
OPERATOR_EVENTS = frozenset(
    {
        "message:send",
        "message:history",
        "sync",
        "receipt:delivered",
        "receipt:read",
        "typing:start",
        "typing:stop",
    }
)

P = TypeVar("P", bound=BaseModel)
Handler = Callable[[str, Actor, P], Awaitable[dict[str, Any]]]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


# What the Engine.IO session's environ still needs once Socket.IO's CONNECT succeeded:
# python-engineio answers the request from ``asgi.scope``/``asgi.send`` when the socket
# ends, ``_client_ip`` reads the scope. The header copies (``HTTP_*``) were read already.
_ENVIRON_KEPT = ("asgi.scope", "asgi.send", "asgi.receive", "REMOTE_ADDR", "REQUEST_METHOD")


def _slim_environ(environ: dict[str, Any]) -> None:
    """Keep only ``_ENVIRON_KEPT`` in the dict (the same object: the library holds it for
    the socket's life); ~1.5 KB less per idle socket (docs/benchmarks.md, "Idle memory")."""
    kept = {key: environ[key] for key in _ENVIRON_KEPT if key in environ}
    environ.clear()  # frees the table: a dict never shrinks on deletes
    environ.update(kept)


def _client_ip(environ: dict[str, Any]) -> str:
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client")
    return str(client[0]) if client else str(environ.get("REMOTE_ADDR", "unknown"))


class SocketApi:
    """Binds the client events of docs/protocol.md to actions."""

    def __init__(
        self, sio: socketio.AsyncServer, svc: Services, bus: EventBus, connections: Connections
    ) -> None:
        self.sio = sio
        self.svc = svc
        self.bus = bus
        self.connections = connections
        self.typing = TypingTimers(bus.publish, svc.settings.typing_ttl_seconds)
        self.pending_sends: Counter[str] = Counter()
        self.pending_total = 0
        self._count_engine_sessions(sio)
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        self._on("message:send", SendPayload, self.send)
        self._on("message:history", HistoryPayload, self.history)
        self._on("sync", SyncPayload, self.sync)
        self._on("receipt:delivered", WatermarkPayload, self.delivered)
        self._on("receipt:read", WatermarkPayload, self.read)
        self._on("typing:start", TypingPayload, self.typing_start)
        self._on("typing:stop", TypingPayload, self.typing_stop)
        self._on("presence:set", PresencePayload, self.presence_set)
        DirectEvents(self)
        CommunityEvents(self)
        TeamRoomEvents(self)
        sio.on("*", self.unknown_event)

    def _count_engine_sessions(self, sio: socketio.AsyncServer) -> None:
        """Every Engine.IO session counts per IP (``session_rate``), also one that never
        sends Socket.IO's CONNECT (a bare session used to cost nothing). The limit is
        above ``connect_rate``, so a real client meets the typed ``rate_limited`` of
        ``connect`` first."""
        admit = sio.eio.handlers["connect"]

        async def eio_connect(eio_sid: str, environ: dict[str, Any]) -> Any:
            try:
                await check_rate(
                    self.svc, "session", f"ip:{_client_ip(environ)}", what="connections"
                )
            except RaaselError:
                return False  # Engine.IO answers 401 and forgets the session
            # python-engineio's request body reader is an instance of a class it makes
            # for every request (~3 KB with its type); the session's environ lives as long
            # as the socket, and a connect request's body was read already.
            environ.pop("wsgi.input", None)
            return await admit(eio_sid, environ)

        sio.eio.on("connect", eio_connect)

    def on_event(self, name: str, model: type[P], handler: Handler[P]) -> None:
        """Bind a client event (the direct-chat events live in direct_events.py)."""
        self._on(name, model, handler)

    def _on(self, name: str, model: type[P], handler: Handler[P]) -> None:
        async def dispatch(sid: str, *args: Any) -> dict[str, Any]:
            actor = self.connections.actor_of(sid)
            if actor is None:
                SOCKET_EVENTS.labels(name, "unauthenticated").inc()
                return _error("unauthenticated", "not connected")
            if actor.is_operator and name not in OPERATOR_EVENTS:
                SOCKET_EVENTS.labels(name, "forbidden").inc()
                return _error("forbidden", "an operator's session sends conversation events only")
            if len(args) != 1 or not isinstance(args[0], dict):
                SOCKET_EVENTS.labels(name, "invalid").inc()
                return _error("validation_error", "the payload must be one JSON object")
            try:
                payload = model.model_validate(args[0])
                result = await handler(sid, actor, payload)
            except ValidationError as exc:
                SOCKET_EVENTS.labels(name, "invalid").inc()
                fields = ", ".join(
                    ".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()
                )
                return _error("validation_error", f"invalid fields: {fields}")
            except RaaselError as exc:
                SOCKET_EVENTS.labels(name, exc.code).inc()
                return {"ok": False, "error": exc.to_dict()}
            except Exception:
                SOCKET_EVENTS.labels(name, "internal").inc()
                log.exception("socket handler failed", socket_event=name)
                return _error("internal", "internal error")
            SOCKET_EVENTS.labels(name, "ok").inc()
            return {"ok": True, **result}

        self.sio.on(name, dispatch)

    async def unknown_event(self, event: str, sid: str, *_: Any) -> dict[str, Any]:
        """Every client event gets an ack, even one this server does not know."""
        SOCKET_EVENTS.labels("unknown", "unknown_event").inc()
        return _error("unknown_event", "no such event")

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            await check_rate(self.svc, "connect", f"ip:{_client_ip(environ)}")
            if not isinstance(token, str) or len(token) > 4096:
                raise NotFound("missing token")
            actor = await resolve_actor(self.svc, token)
        except RaaselError as exc:
            code = exc.code if exc.code in {"rate_limited", "invalid_token"} else "unauthenticated"
            # Two arguments: the message, then the typed error as the packet's `data`
            # (err.data in socket.io-client). One argument would be sent as str(dict).
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": code, "message": exc.message}
            ) from None
        await self.connections.attach(sid, actor, unread_on_message=_reads_unread(auth))
        _slim_environ(environ)
        SOCKET_CONNECTIONS.inc()
        if actor.is_member:
            await self.bus.publish(await presence.agent_connected(self.svc, actor))

    async def disconnect(self, sid: str, *_: Any) -> None:
        actor = self.connections.detach(sid)
        if actor is None:
            return
        SOCKET_CONNECTIONS.dec()
        await self.typing.disconnected(sid)
        if actor.is_member:
            await self.bus.publish(await presence.agent_disconnected(self.svc, actor))

    @contextlib.asynccontextmanager
    async def admitted(self, sid: str) -> AsyncIterator[None]:
        """A send counted among those waiting to be stored, or ``busy`` at once when this
        socket or the node has too many (admission control, docs/benchmarks.md)."""
        settings = self.svc.settings
        if (
            self.pending_sends[sid] >= settings.max_pending_sends_per_socket
            or self.pending_total >= settings.max_pending_sends
        ):
            raise Busy("too many messages waiting to be stored; retry with the same client_id")
        self.pending_sends[sid] += 1
        self.pending_total += 1
        try:
            yield
        finally:
            self.pending_total -= 1
            self.pending_sends[sid] -= 1
            if self.pending_sends[sid] <= 0:
                del self.pending_sends[sid]

    async def send(self, sid: str, actor: Actor, p: SendPayload) -> dict[str, Any]:
        """Admission control first: an overloaded node answers ``busy`` at once instead of
        queueing seconds of work (docs/benchmarks.md); nothing is stored then."""
        async with self.admitted(sid):
            self.typing.stopped(sid, p.conversation_id)
            outcome = await messages.do_send_message(
                self.svc,
                actor,
                p.conversation_id,
                client_id=p.client_id,
                text=p.text,
                kind=p.kind,
                attachment_id=p.attachment_id,
                sid=sid,
            )
        await self.bus.publish(outcome.events)
        return {"message": outcome.result}

    async def history(self, sid: str, actor: Actor, p: HistoryPayload) -> dict[str, Any]:
        return await messages.list_history(
            self.svc, actor, p.conversation_id, before=p.before, limit=p.limit
        )

    async def sync(self, sid: str, actor: Actor, p: SyncPayload) -> dict[str, Any]:
        """Each conversation once (the first time it is named), and at most
        ``SYNC_ACK_MESSAGES`` messages and about ``SYNC_ACK_BYTES`` of text per ack: past
        that a conversation answers ``has_more`` and the client asks again. One ack's
        size is bounded whatever the request (docs/protocol.md, "Reconnecting")."""
        await check_rate(
            self.svc, "sync", f"user:{actor.user_id}", what="history and sync requests"
        )
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        budget, text_bytes = SYNC_ACK_MESSAGES, 0
        for item in p.conversations:
            if item.conversation_id in seen:
                continue
            seen.add(item.conversation_id)
            try:
                answer = await messages.sync_conversation(
                    self.svc,
                    actor,
                    item.conversation_id,
                    after_position=item.after_position,
                    after_id=int(item.after) if item.after is not None else None,
                    limit=min(messages.SYNC_PAGE, budget) if text_bytes < SYNC_ACK_BYTES else 0,
                )
            except NotFound as exc:
                results.append({"conversation_id": item.conversation_id, "error": exc.to_dict()})
                continue
            budget -= len(answer["messages"])
            text_bytes += sum(len(m["text"].encode()) for m in answer["messages"])
            results.append(answer)
        return {"conversations": results}

    async def delivered(self, sid: str, actor: Actor, p: WatermarkPayload) -> dict[str, Any]:
        outcome = await receipts.do_mark(
            self.svc, actor, p.conversation_id, field="delivered", **p.marks()
        )
        await self.bus.publish(outcome.events)
        result: dict[str, Any] = outcome.result
        return result

    async def read(self, sid: str, actor: Actor, p: WatermarkPayload) -> dict[str, Any]:
        outcome = await receipts.do_mark(
            self.svc, actor, p.conversation_id, field="read", **p.marks()
        )
        await self.bus.publish(outcome.events)
        result: dict[str, Any] = outcome.result
        return result

    async def typing_start(self, sid: str, actor: Actor, p: TypingPayload) -> dict[str, Any]:
        event = await typing_event(
            self.svc,
            actor,
            p.conversation_id,
            is_typing=True,
            is_note=p.is_note,
            ttl=self.typing.ttl,
        )
        event = replace(event, skip_sid=sid)
        self.typing.started(sid, p.conversation_id, event)
        await self.bus.publish([event])
        return {"expires_in": self.typing.ttl}

    async def typing_stop(self, sid: str, actor: Actor, p: TypingPayload) -> dict[str, Any]:
        event = await typing_event(
            self.svc, actor, p.conversation_id, is_typing=False, is_note=p.is_note, ttl=0
        )
        self.typing.stopped(sid, p.conversation_id)
        await self.bus.publish([replace(event, skip_sid=sid)])
        return {}

    async def presence_set(self, sid: str, actor: Actor, p: PresencePayload) -> dict[str, Any]:
        outcome = await presence.do_set_availability(
            self.svc, actor, p.availability, restores_availability=p.restores_availability
        )
        await self.bus.publish(outcome.events)
        result: dict[str, Any] = outcome.result
        return result


def _reads_unread(auth: Any) -> bool:
    """The client declared ``features: ["message_unread"]`` in its connect ``auth``: it
    reads the receiving side's unread count from ``message:new`` (docs/protocol.md)."""
    features = auth.get("features") if isinstance(auth, dict) else None
    return isinstance(features, list) and "message_unread" in features[:16]
