"""Messages of team rooms through the engine: send, receipts, resync, typing
(docs/protocol.md, "Team rooms").

A send is one unit keyed on the room, like ``community:send``: it locks the room
(PostgreSQL), checks the sender's membership and the archive, looks the client id up (a
retry returns the stored message), gives the message the next position and emits one
``room:message`` to the room; the ack follows the COMMIT. Mentions (``@Name``) are read
from the committed event (actions/inbox_mentions.py). Receipts move the member's
watermarks; the group's ticks are their minimum (team_room_events.refresh_room_ticks).
"""

from __future__ import annotations

from typing import Any

from raasel.actions.context import Actor, Event, Outcome, Services
from raasel.actions.group_messages import append_message, last_message_changes, messages_after
from raasel.actions.limits import check_rate
from raasel.actions.team_room_access import access_room
from raasel.actions.team_room_events import audience, refresh_room_ticks, room_message_event
from raasel.actions.team_room_files import take_upload
from raasel.actions.team_room_views import room_membership_view, room_message_view
from raasel.domain import MessageKind, Side
from raasel.errors import ValidationFailed
from raasel.lib.clock import utcnow
from raasel.rules.group_receipts import advance, receipts_tracked, receipts_view
from raasel.rules.team_rooms import check_active
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import people
from raasel.storage.metadata import team_room_files as files_store
from raasel.storage.metadata import team_rooms as store
from raasel.storage.unit_batch import Sent, UnitBatch

SYNC_PAGE = 200


def _max(svc: Services) -> int:
    return svc.settings.group_receipts_max_members


async def do_send(
    svc: Services,
    actor: Actor,
    room_id: str,
    *,
    client_id: str,
    text: str,
    attachment_id: str | None = None,
    sid: str | None = None,
) -> Outcome:
    """A member's message (with their own upload of this room, ``attachment_id``); a
    retry with the same client id returns the first."""
    await check_rate(svc, "send", f"user:{actor.user_id}")
    if not text.strip() and attachment_id is None:
        raise ValidationFailed("a message needs text or an attachment")
    ref = (room_id, actor.user_id, client_id)

    async def unit(batch: UnitBatch) -> StoredMessage | Sent:
        conn = batch.conn
        access = await access_room(conn, actor, room_id, lock=True)
        room, member = access.room, access.member
        assert member is not None
        sent = await batch.find_sent_in(room.org_id, ref)
        if sent is not None:  # a retry: the first attempt stored and announced it
            return sent
        check_active(room)
        upload = None
        if attachment_id is not None:
            upload = await take_upload(batch, actor, room.org_id, room.id, attachment_id)
        room, message = append_message(
            batch,
            room,
            sender_id=actor.user_id,
            side=Side.ORG,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
            attachment_id=attachment_id,
        )
        if upload is not None:
            await files_store.attach(conn, upload, message.position, when=message.created_at)
        await store.update_room(conn, room, last_message_changes(room))
        view = room_message_view(message, sender_name=actor.display_name)
        batch.emit(room_message_event(room, view, sid))
        if receipts_tracked(room.member_count, _max(svc)):
            # Writing means the sender's devices hold (and read) everything up to it.
            position = message.position
            moved = member.but(delivered_position=position, read_position=position)
            await store.put_member(conn, moved, is_new=False)
            room, ticks = await refresh_room_ticks(conn, room, _max(svc))
            batch.emit(*ticks)
        return message

    outcome = await svc.db.run(unit, keys=[room_id])
    if isinstance(outcome, Sent):
        stored = outcome.message
        if stored is None:
            stored = await svc.message_log.at(
                actor.org_id or "", room_id, outcome.position, scope=actor.scope
            )
        if stored is None:
            raise RuntimeError("a stored team room message is missing")
        outcome = stored
    return Outcome(room_message_view(outcome, sender_name=actor.display_name))


async def do_mark(
    svc: Services, actor: Actor, room_id: str, *, field: str, up_to_position: int
) -> Outcome:
    """``room:delivered`` / ``room:read``: move the member's watermark."""
    await check_rate(svc, "receipt", f"user:{actor.user_id}", what="receipts")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        access = await access_room(conn, actor, room_id, lock=True)
        room, member = access.room, access.member
        assert member is not None
        counted = False
        if receipts_tracked(room.member_count, _max(svc)):
            changes = advance(member, field, up_to_position, room.last_position)
            if changes:
                counted = True
                member = member.but(**changes, updated_at=utcnow())
                await store.put_member(conn, member, is_new=False)
                room, ticks = await refresh_room_ticks(conn, room, _max(svc))
                batch.emit(*ticks)
        return {
            "room_id": room.id,
            "counted": counted,
            "receipts": receipts_view(room, _max(svc)),
            "membership": room_membership_view(room, member),
        }

    return Outcome(await svc.db.run(unit, keys=[room_id]))


async def sync_room(
    svc: Services, actor: Actor, room_id: str, *, after_position: int, limit: int = SYNC_PAGE
) -> dict[str, Any]:
    """Everything after a position, oldest first, at most ``limit`` (then ``has_more``)."""
    async with svc.db.read(actor.scope) as conn:
        access = await access_room(conn, actor, room_id)
    room, member = access.room, access.member
    assert member is not None
    found, has_more = await messages_after(
        svc, room, after=after_position, limit=limit, scope=actor.scope
    )
    async with svc.db.read(actor.scope) as conn:
        names = await people.get_users(conn, sorted({m.sender_id for m in found}))
    return {
        "room_id": room.id,
        "status": room.status,
        "messages": [
            room_message_view(
                m, sender_name=names[m.sender_id].display_name if m.sender_id in names else ""
            )
            for m in found
        ],
        "has_more": has_more,
        "last_position": room.last_position,
        "receipts": receipts_view(room, _max(svc)),
        "membership": room_membership_view(room, member),
    }


async def typing_event(
    svc: Services, actor: Actor, room_id: str, *, is_typing: bool, ttl: float
) -> Event:
    """``room:typing`` to the room's members (not the typist's own socket: the caller
    sets the skip). A member of an archived room cannot type in it."""
    await check_rate(svc, "typing", f"user:{actor.user_id}", what="typing signals")
    async with svc.db.read(actor.scope) as conn:
        access = await access_room(conn, actor, room_id)
    if is_typing:
        check_active(access.room)
    payload = {
        "room_id": access.room.id,
        "user_id": actor.user_id,
        "name": actor.display_name,
        "is_typing": is_typing,
        "expires_in": ttl if is_typing else 0,
        "members_version": access.room.departures,
    }
    return Event("room:typing", payload, audience(access.room))
