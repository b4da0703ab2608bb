"""Processing one stored delivery: its every entry and change, item by item, appended
through the engine like any other customer's messages (the queue's worker that calls
this: actions/channel_inbound_queue.py).

Every step is idempotent, so a delivery processed twice (a node killed mid-way, two
nodes, Meta retrying) changes nothing the second time: the contact is found by its
platform id, the conversation is opened and each message sent with a client id made
from the provider's message id (the engine returns the first copy), and
``channel_inbound`` keeps (channel, provider message id) once. Receipts are watermarks
that never move back, so statuses arriving late or out of order are harmless.
"""

from __future__ import annotations

import contextlib

import structlog

from raasel.actions import lifecycle, messages, receipts
from raasel.actions.attachments import do_upload_attachment
from raasel.actions.channel_runtime import ChannelRuntime
from raasel.actions.channel_window import channel_client_id
from raasel.actions.context import Actor, Event, Services
from raasel.channels.graph import Account, GraphError, MediaTooLarge
from raasel.channels.payloads import (
    Ignored,
    InboundMessage,
    Item,
    StatusUpdate,
    Watermark,
)
from raasel.channels.platforms import LABEL, Platform
from raasel.domain import Plan, UserKind
from raasel.errors import RaaselError
from raasel.lib.clock import utcnow
from raasel.lib.content_types import CHANNEL_MEDIA_TYPES
from raasel.lib.ids import new_str_id
from raasel.realtime.rooms import org_side_rooms
from raasel.storage.metadata import channels as store
from raasel.storage.metadata import conversations, people
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx, UniqueViolation
from raasel.storage.unit_batch import UnitBatch

_SCOPE = CrossTenant("the social channels' inbound queue, for every organization")

log = structlog.get_logger(__name__)


async def _account(svc: Services, runtime: ChannelRuntime, channel: store.Channel) -> Account:
    async with svc.db.read(_SCOPE) as conn:
        token = await runtime.secrets.open_field(conn, channel, "access_token")
    return Account(channel.platform, channel.external_id, channel.business_account_id, token)


def _contact_actor(channel: store.Channel, user_id: str, name: str) -> Actor:
    return Actor(
        user_id=user_id,
        kind=UserKind.VISITOR,
        display_name=name,
        session_id=f"channel:{channel.id}",
        org_id=channel.org_id,
    )


async def _contact(svc: Services, channel: store.Channel, item: InboundMessage) -> str:
    """The customer behind the sender's platform id, made on first contact."""
    ids = [i for i in (item.contact_id, item.alt_id) if i]
    label = LABEL[Platform(channel.platform)]
    name = item.contact_name or f"{label} {item.contact_id[-4:]}"

    async def work(conn: Tx) -> str:
        found = await store.find_contact(conn, channel.org_id, channel.platform, ids)
        if found is not None:
            return found[1]
        user_id = new_str_id()
        now = utcnow()
        await people.insert_user(
            conn,
            {
                "id": user_id,
                "email": None,
                "password_hash": None,
                "display_name": name[:120],
                "kind": UserKind.VISITOR,
                "visitor_org_id": channel.org_id,
                "plan": Plan.FREE,
                "created_at": now,
                "email_verified_at": None,
            },
        )
        await store.insert_contact(
            conn,
            {
                "org_id": channel.org_id,
                "platform": channel.platform,
                "external_id": item.contact_id,
                "alt_id": item.alt_id,
                "user_id": user_id,
                "name": name[:120],
                "created_at": now,
            },
        )
        return user_id

    try:
        return await svc.db.write(work)
    except UniqueViolation:  # the same contact, made meanwhile by another node
        return await svc.db.write(work)


class OpenedMeanwhile(Exception):
    """The contact's conversation, opened by another node while this one opened its own
    (which is rolled back)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__(conversation_id)
        self.conversation_id = conversation_id


async def _conversation_for(
    svc: Services,
    channel: store.Channel,
    actor: Actor,
    item: InboundMessage,
    opening_text: str,
) -> str:
    """The contact's open conversation on this channel, or a new one opened (routed by
    the AI router and the group's policy) with ``opening_text``."""
    async with svc.db.read(_SCOPE) as conn:
        existing = await store.open_conversation_of(conn, channel.id, item.contact_id)
    if existing is not None:
        return existing
    when = min(item.sent_at, utcnow())

    async def link(conn: Tx, conversation_id: str) -> None:
        # One open conversation per contact, across nodes: the contact's row is held
        # while this unit writes, and a conversation another node opened meanwhile wins.
        await store.lock_contact(conn, channel.org_id, actor.user_id)
        other = await store.open_conversation_of(conn, channel.id, item.contact_id)
        if other is not None:
            raise OpenedMeanwhile(other)
        await store.insert_channel_conversation(
            conn,
            {
                "conversation_id": conversation_id,
                "channel_id": channel.id,
                "org_id": channel.org_id,
                "contact_id": item.contact_id,
                "last_inbound_at": when,
                "sent_position": 0,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "last_error": None,
            },
        )

    label = LABEL[Platform(channel.platform)]
    try:
        opened = await lifecycle.do_open_conversation(
            svc,
            actor,
            org_id=channel.org_id,
            group_id=channel.group_id,
            text=opening_text,
            client_id=channel_client_id(channel.id, item.message_id),
            subject=f"{label}: {opening_text}"[:80],
            # Opens are limited per address; here each contact is its own "address".
            client_ip=f"channel:{channel.id}:{item.contact_id}",
            on_open=link,
        )
    except OpenedMeanwhile as other:
        log.info("contact's conversation opened by another node", channel_id=channel.id)
        return other.conversation_id
    return str(opened.result["conversation"]["id"])


async def _media_message(
    svc: Services,
    runtime: ChannelRuntime,
    channel: store.Channel,
    actor: Actor,
    conversation_id: str,
    item: InboundMessage,
) -> tuple[str | None, str]:
    """Fetch the file with the channel's token and store it like an upload: (attachment
    id, text); a refused or vanished file becomes a text saying so."""
    assert item.media_ref is not None
    try:
        media = await runtime.graph.fetch_media(
            await _account(svc, runtime, channel), item.media_ref
        )
    except MediaTooLarge as exc:
        return None, f"[{item.kind} not accepted: {exc}] {item.text}".strip()
    except GraphError as exc:
        if exc.failure.kind != "permanent":
            raise  # the queue retries the delivery later
        return (
            None,
            f"[{item.kind} could not be fetched: {exc.failure.describe()}] {item.text}".strip(),
        )
    filename = item.filename or f"{item.kind}-{item.message_id[-8:]}"
    try:
        uploaded = await do_upload_attachment(
            svc, actor, conversation_id, filename, media.data, allowed=CHANNEL_MEDIA_TYPES
        )
    except RaaselError as exc:
        if exc.code == "rate_limited":
            raise
        return None, f"[{item.kind} not accepted: {exc.message}] {item.text}".strip()
    return str(uploaded["id"]), item.text


async def handle_message(
    svc: Services, runtime: ChannelRuntime, channel: store.Channel, item: InboundMessage
) -> None:
    async with svc.db.read(_SCOPE) as conn:
        if await store.inbound(conn, channel.id, item.message_id) is not None:
            log.info("channel message seen before", channel_id=channel.id, id=item.message_id)
            return
    user_id = await _contact(svc, channel, item)
    actor = _contact_actor(channel, user_id, item.contact_name)
    # A file's caption goes with the file; a conversation it opens starts with its kind.
    placeholder = item.text if item.kind == "text" else f"[{item.kind}]"
    conversation_id = await _conversation_for(svc, channel, actor, item, placeholder)
    async with svc.db.read(_SCOPE) as conn:
        conversation = await conversations.find_conversation(
            conn, conversation_id, org_id=channel.org_id
        )
    # Opened by this very message (now, or by an attempt that died after the open).
    opened = conversation is not None and conversation.open_client_id == channel_client_id(
        channel.id, item.message_id
    )
    attachment_id, text = None, item.text
    if item.kind != "text":
        attachment_id, text = await _media_message(
            svc, runtime, channel, actor, conversation_id, item
        )
    if opened and attachment_id is None and item.kind == "text":
        position = 1
    else:
        sent = await messages.do_send_message(
            svc,
            actor,
            conversation_id,
            client_id=channel_client_id(channel.id, item.message_id, "m"),
            text=text,
            attachment_id=attachment_id,
        )
        position = int(sent.result["position"])
    when = min(item.sent_at, utcnow())

    async def record(conn: Tx) -> None:
        await store.note_inbound(conn, conversation_id, when)
        with contextlib.suppress(UniqueViolation):
            async with conn.begin_nested():
                await store.insert_inbound(
                    conn,
                    {
                        "channel_id": channel.id,
                        "provider_message_id": item.message_id,
                        "conversation_id": conversation_id,
                        "position": position,
                        "reply_to": item.reply_to,
                        "created_at": utcnow(),
                        "provider_sent_at": item.sent_at if item.sent_at.year > 1970 else None,
                    },
                )

    await svc.db.write(record)


async def _mark_as_contact(
    svc: Services, channel: store.Channel, conversation_id: str, position: int, status: str
) -> None:
    async with svc.db.read(_SCOPE) as conn:
        conversation = await conversations.find_conversation(
            conn, conversation_id, org_id=channel.org_id
        )
    if conversation is None or conversation.customer_id is None:
        return
    actor = _contact_actor(channel, conversation.customer_id, "")
    field = "read" if status == "read" else "delivered"
    await receipts.do_mark(svc, actor, conversation_id, field=field, up_to_position=position)


class NotYetKnown(Exception):
    """A status for a message id we have not recorded yet (the provider may report before
    our send's answer is stored): the delivery is retried a few times."""


UNKNOWN_STATUS_ATTEMPTS = 4


async def handle_status(
    svc: Services, channel: store.Channel, item: StatusUpdate, attempt: int = 1
) -> None:
    async with svc.db.read(_SCOPE) as conn:
        outbound = await store.outbound_by_provider_id(conn, channel.id, item.message_id)
    if outbound is None:
        if attempt < UNKNOWN_STATUS_ATTEMPTS:
            raise NotYetKnown(item.message_id)
        log.info("status of an unknown message", channel_id=channel.id, id=item.message_id)
        return
    if item.status in ("delivered", "read"):
        await svc.db.write(
            lambda c: store.advance_outbound_status(
                c, outbound.conversation_id, outbound.position, item.status
            )
        )
        await _mark_as_contact(
            svc, channel, outbound.conversation_id, outbound.position, item.status
        )
    elif item.status == "failed":
        await record_failure(
            svc,
            channel,
            outbound.conversation_id,
            outbound.position,
            item.error or "failed",
            unless_delivered=True,
        )


async def handle_watermark(svc: Services, channel: store.Channel, item: Watermark) -> None:
    async with svc.db.read(_SCOPE) as conn:
        ids = await store.conversations_of_contact(conn, channel.id, item.contact_id)
        newest = await store.last_outbound_before(conn, channel.id, ids, item.at) if ids else None
    if newest is not None:
        await _mark_as_contact(svc, channel, newest.conversation_id, newest.position, item.status)


async def record_failure(
    svc: Services,
    channel: store.Channel,
    conversation_id: str,
    position: int,
    error: str,
    *,
    unless_delivered: bool = False,
) -> None:
    """A message the provider will not deliver: kept on its row and told to the agents
    (``channel:message_failed``), in one unit on its conversation. ``unless_delivered``
    (a ``failed`` status webhook): a message the provider already reported delivered or
    read stays so (statuses never move back)."""

    async def unit(batch: UnitBatch) -> None:
        conversation = await batch.conversation(conversation_id)
        if conversation is None or conversation.org_id != channel.org_id:
            return
        if unless_delivered:
            row = await store.outbound_at(batch.conn, conversation_id, position)
            if row is not None and row.status in ("delivered", "read"):
                log.info("failed status after delivered ignored", channel_id=channel.id)
                return
        await store.upsert_outbound(
            batch.conn,
            {
                "conversation_id": conversation_id,
                "position": position,
                "channel_id": channel.id,
                "status": "failed",
                "error": error[:300],
            },
        )
        batch.emit(
            Event(
                "channel:message_failed",
                {
                    "conversation_id": conversation_id,
                    "position": position,
                    "platform": channel.platform,
                    "error": error[:300],
                },
                tuple(org_side_rooms(conversation)),
            )
        )

    await svc.db.run(unit, keys=[conversation_id])


async def process_item(
    svc: Services, runtime: ChannelRuntime, channel: store.Channel, item: Item, attempt: int = 1
) -> None:
    if isinstance(item, Ignored):
        log.info("channel item ignored", channel_id=channel.id, id=item.ref, reason=item.reason)
        return
    if item.account_id and item.account_id != channel.external_id:
        log.warning(
            "channel item for another account ignored",
            channel_id=channel.id,
            account=item.account_id,
        )
        return
    if isinstance(item, InboundMessage):
        await handle_message(svc, runtime, channel, item)
    elif isinstance(item, StatusUpdate):
        await handle_status(svc, channel, item, attempt)
    else:
        await handle_watermark(svc, channel, item)
