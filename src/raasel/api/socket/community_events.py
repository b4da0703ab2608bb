"""Socket events of community channels (docs/protocol.md, "Community channels"): parse,
call one action, answer in the ack. The committer publishes the events after COMMIT."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raasel.actions import community_messages
from raasel.actions.context import Actor
from raasel.actions.limits import check_rate
from raasel.api.community_schemas import (
    CommunitySendPayload,
    CommunitySyncPayload,
    CommunityWatermarkPayload,
)
from raasel.api.socket.group_sync import sync_each

if TYPE_CHECKING:
    from raasel.api.socket.server import SocketApi


class CommunityEvents:
    def __init__(self, api: SocketApi) -> None:
        self.api = api
        api.on_event("community:send", CommunitySendPayload, self.send)
        api.on_event("community:sync", CommunitySyncPayload, self.sync)
        api.on_event("community:delivered", CommunityWatermarkPayload, self.delivered)
        api.on_event("community:read", CommunityWatermarkPayload, self.read)

    async def send(self, sid: str, actor: Actor, p: CommunitySendPayload) -> dict[str, Any]:
        async with self.api.admitted(sid):
            outcome = await community_messages.do_send(
                self.api.svc, actor, p.channel_id, client_id=p.client_id, text=p.text, sid=sid
            )
        return {"message": outcome.result}

    async def sync(self, sid: str, actor: Actor, p: CommunitySyncPayload) -> dict[str, Any]:
        svc = self.api.svc
        await check_rate(svc, "sync", f"user:{actor.user_id}", what="history and sync requests")

        async def fetch(group_id: str, after: int, limit: int) -> dict[str, Any]:
            return await community_messages.sync_channel(
                svc, actor, group_id, after_position=after, limit=limit
            )

        items = [(item.channel_id, item.after_position) for item in p.channels]
        page = community_messages.SYNC_PAGE
        return {"channels": await sync_each(items, fetch, key="channel_id", page=page)}

    async def delivered(
        self, sid: str, actor: Actor, p: CommunityWatermarkPayload
    ) -> dict[str, Any]:
        return await self._mark(actor, p, "delivered")

    async def read(self, sid: str, actor: Actor, p: CommunityWatermarkPayload) -> dict[str, Any]:
        return await self._mark(actor, p, "read")

    async def _mark(self, actor: Actor, p: CommunityWatermarkPayload, field: str) -> dict[str, Any]:
        outcome = await community_messages.do_mark(
            self.api.svc, actor, p.channel_id, field=field, up_to_position=p.up_to_position
        )
        result: dict[str, Any] = outcome.result
        return result
