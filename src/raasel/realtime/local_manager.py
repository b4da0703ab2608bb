"""python-socketio's in-process manager with a leaner emit (docs/decisions.md, "Small
costs of every message that bought nothing").

``AsyncManager.emit`` encodes the packet before it looks for recipients, then starts a
task per recipient and waits for them all. Half of Raasel's emits reach nobody on this
node (the sender's other devices, a console's fellow agents: usually none), and most of
the others reach one socket. This emit finds the recipients first, returns when there are
none, encodes once, and hands the packet to each recipient's Engine.IO queue in turn (a
queue put: no task needed). Emits with an ack callback keep the library's path.
"""

from __future__ import annotations

from typing import Any

import socketio
import structlog
from engineio import packet as eio_packet
from socketio import packet

log = structlog.get_logger(__name__)


class LeanManager(socketio.AsyncManager):  # type: ignore[misc]
    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(event, data, namespace, room, skip_sid, callback, to, **kwargs)
            return
        room = to or room
        if namespace not in self.rooms:
            return
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        targets = [e for sid, e in self.get_participants(namespace, room) if sid not in skip]
        if not targets:
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]
        for eio_sid in targets:
            for pkt in packets:
                try:
                    await self.server._send_eio_packet(eio_sid, pkt)
                except Exception:  # one socket's failure must not cost the others theirs
                    log.warning("socket send failed", socket_event=event, exc_info=True)
