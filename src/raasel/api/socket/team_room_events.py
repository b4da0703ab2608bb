"""Socket events of team rooms (docs/protocol.md, "Team rooms"): parse, call one
action, answer in the ack. The committer publishes the events after COMMIT."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from raasel.actions import team_room_messages
from raasel.actions.context import Actor
from raasel.actions.limits import check_rate
from raasel.api.socket.group_sync import sync_each
from raasel.api.team_room_schemas import (
    RoomSendPayload,
    RoomSyncPayload,
    RoomTypingPayload,
    RoomWatermarkPayload,
)

if TYPE_CHECKING:
    from raasel.api.socket.server import SocketApi


class TeamRoomEvents:
    def __init__(self, api: SocketApi) -> None:
        self.api = api
        api.on_event("room:send", RoomSendPayload, self.send)
        api.on_event("room:sync", RoomSyncPayload, self.sync)
        api.on_event("room:delivered", RoomWatermarkPayload, self.delivered)
        api.on_event("room:read", RoomWatermarkPayload, self.read)
        api.on_event("room:typing", RoomTypingPayload, self.typing)

    async def send(self, sid: str, actor: Actor, p: RoomSendPayload) -> dict[str, Any]:
        async with self.api.admitted(sid):
            self.api.typing.stopped(sid, p.room_id)
            outcome = await team_room_messages.do_send(
                self.api.svc,
                actor,
                p.room_id,
                client_id=p.client_id,
                text=p.text,
                attachment_id=p.attachment_id,
                sid=sid,
            )
        return {"message": outcome.result}

    async def sync(self, sid: str, actor: Actor, p: RoomSyncPayload) -> dict[str, Any]:
        svc = self.api.svc
        await check_rate(svc, "sync", f"user:{actor.user_id}", what="history and sync requests")

        async def fetch(group_id: str, after: int, limit: int) -> dict[str, Any]:
            return await team_room_messages.sync_room(
                svc, actor, group_id, after_position=after, limit=limit
            )

        items = [(item.room_id, item.after_position) for item in p.rooms]
        page = team_room_messages.SYNC_PAGE
        return {"rooms": await sync_each(items, fetch, key="room_id", page=page)}

    async def delivered(self, sid: str, actor: Actor, p: RoomWatermarkPayload) -> dict[str, Any]:
        return await self._mark(actor, p, "delivered")

    async def read(self, sid: str, actor: Actor, p: RoomWatermarkPayload) -> dict[str, Any]:
        return await self._mark(actor, p, "read")

    async def _mark(self, actor: Actor, p: RoomWatermarkPayload, field: str) -> dict[str, Any]:
        outcome = await team_room_messages.do_mark(
            self.api.svc, actor, p.room_id, field=field, up_to_position=p.up_to_position
        )
        result: dict[str, Any] = outcome.result
        return result

    async def typing(self, sid: str, actor: Actor, p: RoomTypingPayload) -> dict[str, Any]:
        """Typing in a room expires by itself like a conversation's (realtime/
        typing_timers.py: the same timers, keyed on the room)."""
        timers = self.api.typing
        event = await team_room_messages.typing_event(
            self.api.svc, actor, p.room_id, is_typing=p.is_typing, ttl=timers.ttl
        )
        event = replace(event, skip_sid=sid)
        if p.is_typing:
            timers.started(sid, p.room_id, event)
        else:
            timers.stopped(sid, p.room_id)
        await self.api.bus.publish([event])
        return {"expires_in": timers.ttl if p.is_typing else 0}
