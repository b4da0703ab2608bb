"""Socket packets over the protocol's limit are answered, not dropped (issue 9, item 19).

Engine.IO used to close the connection on any packet over 64 KiB, so the sender got no
ack, reconnected, and a client retrying the same send looped forever. Frames up to
``frame_limit`` (1 MiB: the WebSocket and Engine.IO limit) now reach this server, which
refuses a Socket.IO packet over ``packet_limit`` (64 KiB) before decoding it: an event
that asked for an ack is answered ``payload_too_large`` and the connection stays; any
other oversized packet closes it. A frame over ``frame_limit`` still closes the
connection (docs/protocol.md, "Errors").
"""

from __future__ import annotations

import re
from typing import Any

import engineio
import socketio
import structlog
from socketio import packet

from raasel.api.socket.heartbeat import LeanEngineServer

log = structlog.get_logger(__name__)

PACKET_LIMIT = 64 * 1024
FRAME_LIMIT = 1024 * 1024

# A Socket.IO packet's head: type, attachments count (binary), namespace, ack id.
_HEAD = re.compile(r"([0-6])(?:(\d{1,4})-)?(?:(/[^,]{0,200}),)?(\d{1,12})?")


def too_large(limit: int) -> dict[str, Any]:
    message = f"socket packets are limited to {limit // 1024} KiB; this one was not processed"
    return {"ok": False, "error": {"code": "payload_too_large", "message": message}}


def size_of(data: str | bytes) -> int:
    """The packet's size in bytes (UTF-8 for text, counted only when it may matter)."""
    if isinstance(data, bytes) or len(data) * 4 <= PACKET_LIMIT:
        return len(data)
    return len(data.encode("utf-8", "surrogatepass"))


class TextPacket(packet.Packet):  # type: ignore[misc]
    """The packets this server sends: JSON text, never binary attachments (files go over
    REST). python-socketio walks every payload looking for ``bytes`` to pick the binary
    packet type: ~60 calls per ``message:new`` (bench/node_instructions.py --profile).
    Binary events *from* clients are decoded as before."""

    uses_binary_events = False


class BoundedSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server with the packet limit above (``packet_limit`` bytes), on
    Engine.IO with one heartbeat for all sockets (api/socket/heartbeat.py) unless
    ``lean_heartbeat=False`` (the library's own, for comparison in bench/)."""

    def __init__(
        self,
        *args: Any,
        packet_limit: int = PACKET_LIMIT,
        lean_heartbeat: bool = True,
        **kwargs: Any,
    ) -> None:
        self._lean_heartbeat = lean_heartbeat
        kwargs.setdefault("serializer", TextPacket)
        super().__init__(*args, **kwargs)
        self.packet_limit = packet_limit
        # Binary attachments still to drop, per Engine.IO session, after a refused event.
        self._skip_attachments: dict[str, int] = {}

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return LeanEngineServer if self._lean_heartbeat else engineio.AsyncServer

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        skip = self._skip_attachments.get(eio_sid)
        if skip and isinstance(data, bytes):
            if skip == 1:
                del self._skip_attachments[eio_sid]
            else:
                self._skip_attachments[eio_sid] = skip - 1
            return
        if size_of(data) <= self.packet_limit:
            await super()._handle_eio_message(eio_sid, data)
            return
        await self._refuse(eio_sid, data)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        self._skip_attachments.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _refuse(self, eio_sid: str, data: str | bytes) -> None:
        """Answer the oversized event's ack, or close the connection if it has none."""
        namespace: str | None
        ack_id: int | None
        pending = self._binary_packet.pop(eio_sid, None)
        if pending is not None:  # an attachment of a binary event is too large
            namespace, ack_id = pending.namespace, pending.id
            left = max(pending.attachment_count - len(pending.attachments) - 1, 0)
            is_event = pending.packet_type == packet.BINARY_EVENT
        else:
            head = _HEAD.match(data[:256]) if isinstance(data, str) else None
            if head is None:
                await self._drop(eio_sid, len(data))
                return
            kind = int(head.group(1))
            is_event = kind in (packet.EVENT, packet.BINARY_EVENT)
            namespace = head.group(3)
            ack_id = int(head.group(4)) if head.group(4) else None
            left = int(head.group(2) or 0) if kind == packet.BINARY_EVENT else 0
        ns = namespace or "/"
        if not is_event or ack_id is None or not self.manager.sid_from_eio_sid(eio_sid, ns):
            await self._drop(eio_sid, len(data))
            return
        if left:
            self._skip_attachments[eio_sid] = left
        log.info("socket packet refused", size=len(data), limit=self.packet_limit)
        await self._send_packet(
            eio_sid,
            self.packet_class(
                packet.ACK, namespace=namespace, id=ack_id, data=[too_large(self.packet_limit)]
            ),
        )

    async def _drop(self, eio_sid: str, size: int) -> None:
        log.info("socket packet too large: connection closed", size=size)
        await self.eio.disconnect(eio_sid)
