"""Ciphertext envelopes through the engine's send path, receipts, resync, typing
(docs/protocol.md, "End-to-end encrypted direct chats").

A send is one unit keyed on its conversation (``Database.run``), like ``message:send``:
inside the committer's transaction it locks the conversation (PostgreSQL), checks
membership, the request and block state and the device lists, looks the client id up
(a retry returns the stored message), gives the message the next position and emits
``direct:message``; the ack follows the COMMIT. The body is the clients' ciphertext,
stored as it came and never logged.
"""

from __future__ import annotations

from typing import Any

from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.direct_access import member_conversation, require_individual
from raasel.actions.direct_views import (
    DIRECT_SIDE,
    DIRECT_SPACE,
    ENVELOPE_KIND,
    envelope_body,
    message_view,
    receipt_payload,
)
from raasel.actions.limits import check_rate
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.lib.cursors import InvalidCursor, decode_cursor, encode_cursor
from raasel.lib.ids import new_id
from raasel.realtime.rooms import user_room
from raasel.rules.direct import (
    DeviceRef,
    Envelope,
    advance,
    check_envelopes,
    check_may_send,
    check_may_signal,
    received,
)
from raasel.storage.direct_records import DirectConversation
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import direct_conversations as store
from raasel.storage.metadata import direct_keys
from raasel.storage.tenancy import CrossTenant
from raasel.storage.unit_batch import Sent, UnitBatch

_SCOPE = CrossTenant("direct chats: the individuals' own space, walled by the participant check")

SYNC_PAGE = 200


def _rooms(conversation: DirectConversation) -> tuple[str, ...]:
    return tuple(user_room(m) for m in conversation.members)


async def do_send_envelopes(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    client_id: str,
    sender_device_id: int,
    envelopes: list[Envelope],
    sid: str | None = None,
) -> Outcome:
    require_individual(actor)
    await check_rate(svc, "send", f"user:{actor.user_id}")
    if not envelopes:
        raise ValidationFailed("a send carries at least one envelope")
    ref = (conversation_id, actor.user_id, client_id)
    stored_envelopes = [
        {"user_id": e.user_id, "device_id": e.device_id, "type": e.type, "body": e.body}
        for e in envelopes
    ]

    async def unit(batch: UnitBatch) -> StoredMessage | Sent:
        conn = batch.conn
        conversation = await member_conversation(conn, actor, conversation_id, lock=True)
        sent = await batch.find_sent_in(DIRECT_SPACE, ref)
        if sent is not None:  # a retry: the first attempt stored and announced it
            return sent
        other = conversation.other(actor.user_id)
        check_may_send(
            conversation, actor.user_id, await store.is_blocked(conn, other, actor.user_id)
        )
        devices = await direct_keys.devices_of(conn, [actor.user_id, other])
        if not any(d.user_id == actor.user_id and d.device_id == sender_device_id for d in devices):
            raise NotFound("sender device not registered")
        check_envelopes(
            envelopes,
            [DeviceRef(d.user_id, d.device_id, d.registration_id) for d in devices],
            sender_id=actor.user_id,
            sender_device_id=sender_device_id,
        )
        position = conversation.last_position + 1
        message_id = max(new_id(), conversation.last_position_id + 1)
        now = utcnow()
        message = StoredMessage(
            org_id=DIRECT_SPACE,
            conversation_id=conversation.id,
            position=position,
            id=message_id,
            sender_id=actor.user_id,
            sender_side=DIRECT_SIDE,
            client_id=client_id,
            kind=ENVELOPE_KIND,
            body=envelope_body(sender_device_id, stored_envelopes),
            attachment_id=None,
            created_at=now,
        )
        batch.add_message(message)
        await store.update_conversation(
            conn,
            conversation.id,
            {
                "last_position": position,
                "last_position_id": message_id,
                "updated_at": now,
                "last_message_at": now,
            },
        )
        members = await store.members(conn, conversation.id)
        await store.update_member(conn, received(members[other], position))
        payload = {
            "conversation_id": conversation.id,
            "message": message_view(message),
            "position": position,
            "previous_position": position - 1,
        }
        batch.emit(Event("direct:message", payload, _rooms(conversation), sid))
        return message

    # No ``client_refs``: the batch's prefetch knows only organizations' conversations;
    # the unit looks its client id up itself (``find_sent_in``).
    outcome = await svc.db.run(unit, keys=[conversation_id])
    if not isinstance(outcome, Sent):
        return Outcome(message_view(outcome))
    stored = outcome.message or await svc.message_log.at(
        DIRECT_SPACE, conversation_id, outcome.position, scope=_SCOPE
    )
    if stored is None:
        raise RuntimeError("a stored direct message is missing")
    return Outcome(message_view(stored))


async def do_mark(
    svc: Services, actor: Actor, conversation_id: str, *, field: str, up_to_position: int
) -> Outcome:
    """``direct:delivered`` / ``direct:read``: move the actor's watermark."""
    require_individual(actor)
    await check_rate(svc, "receipt", f"user:{actor.user_id}", what="receipts")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        conversation = await member_conversation(conn, actor, conversation_id, lock=True)
        if field == "read":
            check_may_signal(conversation, actor.user_id)
        members = await store.members(conn, conversation.id)
        moved = advance(members[actor.user_id], field, up_to_position, conversation.last_position)
        if moved is not None:
            await store.update_member(conn, moved)
            members[actor.user_id] = moved
            batch.emit(
                Event(
                    "direct:receipt",
                    receipt_payload(conversation.id, moved),
                    _rooms(conversation),
                )
            )
        return {
            "conversation_id": conversation.id,
            "counted": moved is not None,
            "members": [receipt_payload(conversation.id, m) for m in members.values()],
        }

    return Outcome(await svc.db.run(unit, keys=[conversation_id]))


def _device(actor: Actor, device_id: int | None) -> tuple[str, int] | None:
    return (actor.user_id, device_id) if device_id is not None else None


async def check_sync_rate(svc: Services, actor: Actor) -> None:
    await check_rate(svc, "sync", f"user:{actor.user_id}", what="history and sync requests")


async def sync_direct(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    after_position: int,
    device_id: int | None,
    limit: int = SYNC_PAGE,
) -> dict[str, Any]:
    """Everything after a position, oldest first, at most ``limit`` (then ``has_more``)."""
    require_individual(actor)
    async with svc.db.read(_SCOPE) as conn:
        conversation = await member_conversation(conn, actor, conversation_id)
        members = await store.members(conn, conversation.id)
    last = conversation.last_position
    after = max(after_position, 0)
    if limit > 0:
        found = await svc.message_log.after(
            DIRECT_SPACE,
            conversation.id,
            after=after,
            up_to=last,
            limit=limit + 1,
            include_notes=False,
            scope=_SCOPE,
        )
        has_more = len(found) > limit
        found = found[:limit]
    else:
        found, has_more = [], after < last
    mine = members.get(actor.user_id)
    return {
        "conversation_id": conversation.id,
        "status": conversation.status,
        "messages": [message_view(m, device=_device(actor, device_id)) for m in found],
        "has_more": has_more,
        "last_position": last,
        "unread": mine.unread if mine else 0,
        "members": [receipt_payload(conversation.id, m) for m in members.values()],
    }


async def direct_history(
    svc: Services,
    actor: Actor,
    conversation_id: str,
    *,
    before: str | None,
    limit: int,
    device_id: int | None,
) -> dict[str, Any]:
    require_individual(actor)
    await check_rate(svc, "sync", f"user:{actor.user_id}", what="history and sync requests")
    async with svc.db.read(_SCOPE) as conn:
        conversation = await member_conversation(conn, actor, conversation_id)
    top = conversation.last_position + 1
    key = svc.settings.resolved_secret_key
    try:
        upper = min(decode_cursor(key, conversation.id, before), top) if before else top
    except InvalidCursor as exc:
        raise ValidationFailed("invalid history cursor", code="invalid_cursor") from exc
    page = await svc.message_log.history(
        DIRECT_SPACE,
        conversation.id,
        before=upper,
        limit=limit + 1,
        include_notes=False,
        scope=_SCOPE,
    )
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "messages": [message_view(m, device=_device(actor, device_id)) for m in reversed(page)],
        "has_more": has_more,
        "next_before": (
            encode_cursor(key, conversation.id, page[-1].position) if has_more and page else None
        ),
    }


async def typing_event(
    svc: Services, actor: Actor, conversation_id: str, *, is_typing: bool, ttl: float
) -> Event:
    """``direct:typing`` to the other member only."""
    require_individual(actor)
    await check_rate(svc, "typing", f"user:{actor.user_id}", what="typing signals")
    async with svc.db.read(_SCOPE) as conn:
        conversation = await member_conversation(conn, actor, conversation_id)
    check_may_signal(conversation, actor.user_id)
    payload = {
        "conversation_id": conversation.id,
        "user_id": actor.user_id,
        "is_typing": is_typing,
        "expires_in": ttl if is_typing else 0,
    }
    return Event("direct:typing", payload, (user_room(conversation.other(actor.user_id)),))
