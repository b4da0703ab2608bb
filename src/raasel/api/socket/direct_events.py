"""Socket events of direct chats (docs/protocol.md, "End-to-end encrypted direct chats"):
parse, call one action, publish what it returns. The committer publishes the events of
sends and receipts itself, after COMMIT."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from raasel.actions import direct_messages
from raasel.actions.context import Actor
from raasel.api.direct_schemas import (
    DirectSendPayload,
    DirectSyncPayload,
    DirectTypingPayload,
    DirectWatermarkPayload,
)
from raasel.errors import RaaselError
from raasel.rules.direct import Envelope

if TYPE_CHECKING:
    from raasel.api.socket.server import SocketApi

# One sync ack carries at most this many messages (as ``sync``).
SYNC_ACK_MESSAGES = 500


class DirectEvents:
    def __init__(self, api: SocketApi) -> None:
        self.api = api
        api.on_event("direct:send", DirectSendPayload, self.send)
        api.on_event("direct:sync", DirectSyncPayload, self.sync)
        api.on_event("direct:delivered", DirectWatermarkPayload, self.delivered)
        api.on_event("direct:read", DirectWatermarkPayload, self.read)
        api.on_event("direct:typing", DirectTypingPayload, self.typing)

    async def send(self, sid: str, actor: Actor, p: DirectSendPayload) -> dict[str, Any]:
        api = self.api
        async with api.admitted(sid):
            api.typing.stopped(sid, p.conversation_id)
            outcome = await direct_messages.do_send_envelopes(
                api.svc,
                actor,
                p.conversation_id,
                client_id=p.client_id,
                sender_device_id=p.sender_device_id,
                envelopes=[
                    Envelope(e.user_id, e.device_id, e.registration_id, e.type, e.body)
                    for e in p.envelopes
                ],
                sid=sid,
            )
        return {"message": outcome.result}

    async def sync(self, sid: str, actor: Actor, p: DirectSyncPayload) -> dict[str, Any]:
        await direct_messages.check_sync_rate(self.api.svc, actor)
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        budget = SYNC_ACK_MESSAGES
        for item in p.conversations:
            if item.conversation_id in seen:
                continue
            seen.add(item.conversation_id)
            try:
                answer = await direct_messages.sync_direct(
                    self.api.svc,
                    actor,
                    item.conversation_id,
                    after_position=item.after_position,
                    device_id=p.device_id,
                    limit=min(direct_messages.SYNC_PAGE, budget),
                )
            except RaaselError as exc:
                if exc.status != 404:
                    raise
                results.append({"conversation_id": item.conversation_id, "error": exc.to_dict()})
                continue
            budget -= len(answer["messages"])
            results.append(answer)
        return {"conversations": results}

    async def delivered(self, sid: str, actor: Actor, p: DirectWatermarkPayload) -> dict[str, Any]:
        outcome = await direct_messages.do_mark(
            self.api.svc,
            actor,
            p.conversation_id,
            field="delivered",
            up_to_position=p.up_to_position,
        )
        result: dict[str, Any] = outcome.result
        return result

    async def read(self, sid: str, actor: Actor, p: DirectWatermarkPayload) -> dict[str, Any]:
        outcome = await direct_messages.do_mark(
            self.api.svc, actor, p.conversation_id, field="read", up_to_position=p.up_to_position
        )
        result: dict[str, Any] = outcome.result
        return result

    async def typing(self, sid: str, actor: Actor, p: DirectTypingPayload) -> dict[str, Any]:
        timers = self.api.typing
        event = await direct_messages.typing_event(
            self.api.svc,
            actor,
            p.conversation_id,
            is_typing=p.is_typing,
            ttl=timers.ttl if p.is_typing else 0,
        )
        event = replace(event, skip_sid=sid)
        if p.is_typing:
            timers.started(sid, p.conversation_id, event)
        else:
            timers.stopped(sid, p.conversation_id)
        await self.api.bus.publish([event])
        return {"expires_in": timers.ttl if p.is_typing else 0}
