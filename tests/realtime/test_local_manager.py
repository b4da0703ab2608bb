"""LeanManager's emit (realtime/local_manager.py) on a real python-socketio server:
recipients first, nothing encoded for nobody, each recipient in turn, one failure alone."""

from __future__ import annotations

from typing import Any

import pytest
import socketio

from raasel.realtime.local_manager import LeanManager


class Recorder:
    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []  # (eio_sid, encoded packet)
        self.fail_for = fail_for or set()

    async def __call__(self, eio_sid: str, pkt: Any) -> None:
        if eio_sid in self.fail_for:
            raise ConnectionResetError("gone")
        self.sent.append((eio_sid, pkt.encode()))


async def server_with(sockets: list[str], monkeypatch: pytest.MonkeyPatch, **recorder: Any) -> Any:
    manager = LeanManager()
    sio = socketio.AsyncServer(client_manager=manager)
    rec = Recorder(**recorder)
    monkeypatch.setattr(sio, "_send_eio_packet", rec)
    sids = {}
    for eio_sid in sockets:
        sid = await manager.connect(eio_sid, "/")
        sids[eio_sid] = sid
        await manager.enter_room(sid, "/", "room:a")
    return sio, manager, rec, sids


async def test_an_emit_to_nobody_encodes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    sio, manager, rec, sids = await server_with(["e1"], monkeypatch)
    encoded: list[Any] = []
    real = sio.packet_class

    class Counting(real):  # type: ignore[misc, valid-type]
        def encode(self) -> Any:
            encoded.append(self.data)
            return super().encode()

    sio.packet_class = Counting
    await manager.emit("message:new", {"x": 1}, "/", room="room:a", skip_sid=sids["e1"])
    await manager.emit("message:new", {"x": 2}, "/", room="room:empty")
    assert rec.sent == [] and encoded == []
    await manager.emit("message:new", {"x": 3}, "/", room=["room:a", "room:empty"])
    assert [sid for sid, _ in rec.sent] == ["e1"] and len(encoded) == 1


async def test_each_recipient_gets_it_in_turn_and_one_failure_costs_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, manager, rec, _ = await server_with(["e1", "e2", "e3"], monkeypatch, fail_for={"e2"})
    await manager.emit("message:new", {"n": 1}, "/", room="room:a")
    await manager.emit("message:new", {"n": 2}, "/", room="room:a")
    assert [sid for sid, _ in rec.sent] == ["e1", "e3", "e1", "e3"]
    # Engine.IO message (4) carrying a Socket.IO event (2), encoded once for both.
    assert rec.sent[0][1] == rec.sent[1][1] == '42["message:new",{"n":1}]'
