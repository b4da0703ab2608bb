"""Messages of community channels through the engine: send, receipts, resync, and a
moderator's removal of a message (docs/protocol.md, "Community channels").

A send is one unit keyed on the channel (``Database.run``), like ``message:send``: it
locks the channel (PostgreSQL), checks the sender's membership, mute and the archive,
looks the client id up (a retry returns the stored message), gives the message the next
position and emits one ``community:message`` to the channel's room; the ack follows
the COMMIT and the fan-out follows it, on the committer's publisher task: a channel's
size never holds up its sender. Receipts move the member's watermarks; the group's
ticks are their minimum (community_events.refresh_ticks).
"""

from __future__ import annotations

from typing import Any

from raasel.actions.community_access import access_channel, scope_of
from raasel.actions.community_events import message_event, refresh_ticks
from raasel.actions.community_views import (
    community_message_view,
    membership_view,
    receipts_view,
    removal_body,
)
from raasel.actions.context import Actor, Outcome, Services
from raasel.actions.group_messages import append_message, last_message_changes, messages_after
from raasel.actions.limits import check_rate
from raasel.domain import MessageKind, Side
from raasel.errors import NotFound, ValidationFailed
from raasel.lib.clock import utcnow
from raasel.rules.community import advance, check_may_write, receipts_tracked
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import community as store
from raasel.storage.metadata import people
from raasel.storage.unit_batch import Sent, UnitBatch

SYNC_PAGE = 200
MEMBER_SIDE = "member"  # sender_side of an individual's message (moderators: "org")


def _max(svc: Services) -> int:
    return svc.settings.group_receipts_max_members


async def do_send(
    svc: Services,
    actor: Actor,
    channel_id: str,
    *,
    client_id: str,
    text: str,
    sid: str | None = None,
) -> Outcome:
    """A member's message, or a moderator's (an announcement); a retry returns the first."""
    await check_rate(svc, "send", f"user:{actor.user_id}")
    if not text.strip():
        raise ValidationFailed("a message needs text")
    ref = (channel_id, actor.user_id, client_id)

    async def unit(batch: UnitBatch) -> StoredMessage | Sent:
        conn = batch.conn
        access = await access_channel(conn, actor, channel_id, lock=True)
        channel = access.channel
        sent = await batch.find_sent_in(channel.org_id, ref)
        if sent is not None:  # a retry: the first attempt stored and announced it
            return sent
        check_may_write(channel, access.member)
        side = Side.ORG if access.is_moderator else MEMBER_SIDE
        channel, message = append_message(
            batch,
            channel,
            sender_id=actor.user_id,
            side=side,
            kind=MessageKind.TEXT,
            body=text,
            client_id=client_id,
        )
        await store.update_channel(conn, channel.id, last_message_changes(channel))
        view = community_message_view(message, sender_name=actor.display_name)
        batch.emit(message_event(channel, view, sid))
        member = access.member
        if member is not None and receipts_tracked(channel.member_count, _max(svc)):
            # Writing means the sender's devices hold (and read) everything up to it.
            position = message.position
            moved = member.but(delivered_position=position, read_position=position)
            await store.put_member(conn, moved, is_new=False)
            channel, ticks = await refresh_ticks(conn, channel, _max(svc))
            batch.emit(*ticks)
        return message

    outcome = await svc.db.run(unit, keys=[channel_id])
    if isinstance(outcome, Sent):
        stored = outcome.message
        if stored is None:
            async with svc.db.read(scope_of(actor)) as conn:
                access = await access_channel(conn, actor, channel_id)
            stored = await svc.message_log.at(
                access.channel.org_id, channel_id, outcome.position, scope=scope_of(actor)
            )
        if stored is None:
            raise RuntimeError("a stored community message is missing")
        outcome = stored
    return Outcome(community_message_view(outcome, sender_name=actor.display_name))


async def do_remove_message(svc: Services, actor: Actor, channel_id: str, position: int) -> Outcome:
    """A moderator removes a message: its text is never served again, and a system
    message at the next position tells every member (also those who sync later)."""
    if not actor.is_member:
        raise NotFound("community not found")

    async def unit(batch: UnitBatch) -> StoredMessage:
        conn = batch.conn
        access = await access_channel(conn, actor, channel_id, lock=True)
        channel = access.channel
        if not 1 <= position <= channel.last_position:
            raise NotFound("message not found")
        if await store.removed_positions(conn, channel.id, position, position):
            raise NotFound("message not found")
        now = utcnow()
        await store.add_removal(
            conn,
            {
                "channel_id": channel.id,
                "position": position,
                "org_id": channel.org_id,
                "removed_by": actor.user_id,
                "removed_at": now,
            },
        )
        channel, notice = append_message(
            batch,
            channel,
            sender_id=actor.user_id,
            side=Side.ORG,
            kind=MessageKind.SYSTEM,
            body=removal_body(position),
            client_id=f"srv-remove-{position}",
        )
        await store.update_channel(
            conn,
            channel.id,
            {
                "last_position": channel.last_position,
                "last_position_id": channel.last_position_id,
                "updated_at": now,
            },
        )
        view = community_message_view(notice, sender_name=actor.display_name)
        batch.emit(message_event(channel, view, None))
        return notice

    notice = await svc.db.run(unit, keys=[channel_id])
    return Outcome(community_message_view(notice, sender_name=actor.display_name))


async def do_mark(
    svc: Services, actor: Actor, channel_id: str, *, field: str, up_to_position: int
) -> Outcome:
    """``community:delivered`` / ``community:read``: move the member's watermark. In a
    channel above the receipts limit nothing is tracked (``counted: false``)."""
    await check_rate(svc, "receipt", f"user:{actor.user_id}", what="receipts")

    async def unit(batch: UnitBatch) -> dict[str, Any]:
        conn = batch.conn
        access = await access_channel(conn, actor, channel_id, lock=True)
        channel, member = access.channel, access.member
        result: dict[str, Any] = {"channel_id": channel.id, "counted": False}
        if member is None or not receipts_tracked(channel.member_count, _max(svc)):
            return result | {"receipts": receipts_view(channel, _max(svc))}
        changes = advance(member, field, up_to_position, channel.last_position)
        if changes:
            member = member.but(**changes, updated_at=utcnow())
            await store.put_member(conn, member, is_new=False)
            channel, ticks = await refresh_ticks(conn, channel, _max(svc))
            batch.emit(*ticks)
        return result | {
            "counted": bool(changes),
            "receipts": receipts_view(channel, _max(svc)),
            "membership": membership_view(channel, member),
        }

    return Outcome(await svc.db.run(unit, keys=[channel_id]))


async def sync_channel(
    svc: Services, actor: Actor, channel_id: str, *, after_position: int, limit: int = SYNC_PAGE
) -> dict[str, Any]:
    """Everything after a position, oldest first, at most ``limit`` (then ``has_more``);
    removed messages without their text."""
    scope = scope_of(actor)
    async with svc.db.read(scope) as conn:
        access = await access_channel(conn, actor, channel_id)
    channel = access.channel
    last = channel.last_position
    found, has_more = await messages_after(
        svc, channel, after=after_position, limit=limit, scope=scope
    )
    async with svc.db.read(scope) as conn:
        removed = (
            await store.removed_positions(conn, channel.id, found[0].position, found[-1].position)
            if found
            else set()
        )
        names = await people.get_users(conn, sorted({m.sender_id for m in found}))
    result: dict[str, Any] = {
        "channel_id": channel.id,
        "status": channel.status,
        "messages": [
            community_message_view(
                m,
                sender_name=names[m.sender_id].display_name if m.sender_id in names else "",
                is_removed=m.position in removed,
            )
            for m in found
        ],
        "has_more": has_more,
        "last_position": last,
        "receipts": receipts_view(channel, _max(svc)),
    }
    if access.member is not None:
        result["membership"] = membership_view(channel, access.member)
    return result
