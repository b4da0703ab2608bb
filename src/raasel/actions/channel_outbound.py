"""Sending the organization's replies to the platforms (docs/channels.md, "Outbound").

The messages themselves are the outbox: a channel conversation's ``sent_position`` says
up to where its public messages went out, so nothing is written besides the message to
send one, and a node that dies mid-way leaves the rest for the next pass (at least once:
a reply the provider took just before the crash may go twice). Each pass claims the
conversation (a lease), sends in position order, at most ``throughput_per_second`` per
channel across nodes (the ephemeral store's rate window), and settles the watermark.

Provider refusals (channels/failures.py): rate limits and outages are retried with
back-off; an expired token stops the channel until an admin saves a new one (agents
are told, ``channel:error``); anything else fails that message for good
(``channel:message_failed``) and the next one goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import structlog

from raasel.actions.channel_inbound import _account, record_failure
from raasel.actions.channel_runtime import ChannelRuntime, ChannelWorker
from raasel.actions.context import Event, Services
from raasel.channels.failures import retry_delay
from raasel.channels.graph import Account, GraphError
from raasel.channels.media import MediaPlan, MediaRefused, media_plan
from raasel.channels.platforms import Platform
from raasel.channels.window import window_at
from raasel.domain import MessageKind, Side
from raasel.lib.clock import utcnow
from raasel.lib.rates import Rate
from raasel.realtime.rooms import leads_room, org_side_rooms
from raasel.storage.message_store import StoredMessage
from raasel.storage.metadata import attachments, conversations
from raasel.storage.metadata import channels as store
from raasel.storage.tenancy import CrossTenant
from raasel.storage.transaction import Tx
from raasel.storage.unit_batch import UnitBatch

_SCOPE = CrossTenant("the social channels' outbound delivery, for every organization")

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=60)
TOKEN_RETRY = timedelta(minutes=5)
PAGE = 50


def _window_refusal(platform: str, window_state: str) -> str | None:
    if platform == Platform.WHATSAPP:
        if window_state != "open":
            return "outside the 24-hour window: only an approved template can go"
        return None
    if window_state in ("open", "human_agent"):
        return None
    return "more than 7 days since the customer wrote: the platform takes no reply"


def _envelope(platform: str, window_state: str, content: dict[str, Any]) -> dict[str, Any]:
    """Messenger and Instagram: a reply in the window, or tagged HUMAN_AGENT after it."""
    if window_state == "open":
        return {"messaging_type": "RESPONSE", "message": content}
    return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": content}


def outgoing(
    platform: str, message: StoredMessage, template: dict[str, Any] | None, window_state: str
) -> dict[str, Any] | str:
    """The send request for one text message (or template), or why it cannot go (pure)."""
    if template is not None:
        if platform != Platform.WHATSAPP:
            return "templates exist on WhatsApp only"
        return {"type": "template", "template": template}
    if message.attachment_id and not message.body.strip():
        return "a file goes with its upload (media_requests), not as text"
    refused = _window_refusal(platform, window_state)
    if refused is not None:
        return refused
    text = message.body[:4096]
    if platform == Platform.WHATSAPP:
        return {"type": "text", "text": {"body": text, "preview_url": False}}
    return _envelope(platform, window_state, {"text": text[:2000]})


def media_requests(
    platform: str,
    plan: MediaPlan,
    media_id: str,
    filename: str,
    text: str,
    window_state: str,
) -> list[dict[str, Any]] | str:
    """The send requests for a file the provider holds as ``media_id`` and the message's
    text: one (WhatsApp's caption) or two (the file, then the text) (pure)."""
    refused = _window_refusal(platform, window_state)
    if refused is not None:
        return refused
    if platform == Platform.WHATSAPP:
        media: dict[str, Any] = {"id": media_id}
        if plan.kind == "document":
            media["filename"] = filename[:240]
        if plan.caption_inline:
            media["caption"] = text[:1024]
        first = {"type": plan.kind, plan.kind: media}
    else:
        attachment = {"type": plan.kind, "payload": {"attachment_id": media_id}}
        first = _envelope(platform, window_state, {"attachment": attachment})
    requests = [first]
    if text.strip() and not plan.caption_inline:
        if platform == Platform.WHATSAPP:
            requests.append({"type": "text", "text": {"body": text[:4096], "preview_url": False}})
        else:
            requests.append(_envelope(platform, window_state, {"text": text[:2000]}))
    return requests


def _is_outgoing(message: StoredMessage) -> bool:
    return message.sender_side == Side.ORG and message.kind == MessageKind.TEXT


class OutboundSender(ChannelWorker):
    task_name = "channel-outbound"

    def __init__(self, svc: Services, runtime: ChannelRuntime) -> None:
        super().__init__(svc, runtime)
        runtime.wake_outbound = self.wake

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                while await self.send_due() > 0:
                    pass
            except Exception:
                log.exception("channel outbound pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.svc.settings.channel_poll_seconds)

    async def send_due(self, limit: int = 20) -> int:
        async with self.svc.db.read(_SCOPE) as conn:
            due = await store.due_outbound(conn, utcnow(), limit)
        sent = 0
        for conversation_id in due:
            sent += await self._conversation(conversation_id)
        return sent

    async def _conversation(self, conversation_id: str) -> int:
        svc = self.svc
        async with svc.db.read(_SCOPE) as conn:
            link = await store.channel_conversation(conn, conversation_id)
            conversation = await conversations.find_conversation(conn, conversation_id)
            channel = await store.get_channel(conn, link.channel_id) if link else None
        if link is None or conversation is None or channel is None:
            return 0
        now = utcnow()
        if channel.status != "active":
            # Disabled or its token expired: nothing goes until an admin saves the channel.
            await svc.db.write(
                lambda c: store.settle_outbound(
                    c,
                    conversation_id,
                    sent_position=link.sent_position,
                    next_attempt_at=now + TOKEN_RETRY,
                    reset_attempts=False,
                    error=channel.last_error,
                )
            )
            return 0
        if not await svc.db.write(
            lambda c: store.claim_outbound(c, conversation_id, link.attempts, now, now + LEASE)
        ):
            return 0
        page = await svc.message_log.after(
            conversation.org_id,
            conversation_id,
            after=link.sent_position,
            up_to=conversation.last_public_position,
            limit=PAGE,
            include_notes=False,
            scope=_SCOPE,
        )
        account = await _account(svc, self.runtime, channel)
        done = 0
        for message in page:
            outcome = await self._one(channel, link, account, message)
            if outcome == "stop":
                return done
            done += 1
        await svc.db.write(
            lambda c: store.settle_outbound(
                c,
                conversation_id,
                sent_position=page[-1].position if page else link.sent_position,
                next_attempt_at=utcnow(),
                reset_attempts=True,
                error=None,
            )
        )
        return done

    async def _one(
        self,
        channel: store.Channel,
        link: store.ChannelConversation,
        account: Account,
        message: StoredMessage,
    ) -> str:
        """Send one message (or skip it); ``stop`` leaves the rest for a later pass."""
        svc = self.svc
        cid = message.conversation_id
        if not _is_outgoing(message):
            await self._advance(cid, message.position)
            return "skipped"
        async with svc.db.read(_SCOPE) as conn:
            row = await store.outbound_at(conn, cid, message.position)
        if row is not None and row.status in (*store.SENT_STATES, "failed"):
            await self._advance(cid, message.position)
            return "skipped"
        window = window_at(channel.platform, link.last_inbound_at, utcnow())
        template = row.template if row else None
        # A two-part send (a file, then its text) that stopped after its first part.
        done_first = row.provider_message_id if row and row.status == "pending" else None
        try:
            if message.attachment_id and template is None:
                requests = await self._media_requests(
                    channel, account, message, window.state, uploaded=done_first is not None
                )
            else:
                one = outgoing(channel.platform, message, template, window.state)
                requests = one if isinstance(one, str) else [one]
        except GraphError as exc:  # the upload was refused
            return await self._refused(channel, link, message, exc)
        if isinstance(requests, str):
            await record_failure(svc, channel, cid, message.position, requests)
            await self._advance(cid, message.position)
            return "failed"
        ids: list[str] = []
        for index, request in enumerate(requests):
            if index == 0 and done_first is not None:
                ids.append(done_first)
                continue
            await self._throttle(channel)
            try:
                ids.append(await self.runtime.graph.send(account, link.contact_id, request))
            except GraphError as exc:
                if ids:  # the file went: a retry sends only the text
                    await svc.db.write(
                        lambda c: store.upsert_outbound(
                            c,
                            {
                                "conversation_id": cid,
                                "position": message.position,
                                "channel_id": channel.id,
                                "provider_message_id": ids[0],
                                "template": None,
                                "status": "pending",
                                "error": None,
                                "sent_at": utcnow(),
                            },
                        )
                    )
                return await self._refused(channel, link, message, exc)
        now = utcnow()

        async def work(conn: Tx) -> None:
            await store.upsert_outbound(
                conn,
                {
                    "conversation_id": cid,
                    "position": message.position,
                    "channel_id": channel.id,
                    "provider_message_id": ids[0],
                    "provider_extra_id": ids[1] if len(ids) > 1 else None,
                    "template": template,
                    "status": "sent",
                    "error": None,
                    "sent_at": now,
                },
            )
            await store.settle_outbound(
                conn,
                cid,
                sent_position=message.position,
                next_attempt_at=now + LEASE,  # still ours: the pass settles at its end
                reset_attempts=True,
                error=None,
            )

        await svc.db.write(work)
        log.info("channel message sent", channel_id=channel.id, position=message.position)
        return "sent"

    async def _throttle(self, channel: store.Channel) -> None:
        """At most ``throughput_per_second`` sends per channel, across nodes."""
        rate = Rate(max(channel.throughput_per_second, 1), 1)
        wait = await self.svc.ephemeral.hit(f"channel-throughput:{channel.id}", rate)
        while wait:
            await asyncio.sleep(min(wait, 1))
            wait = await self.svc.ephemeral.hit(f"channel-throughput:{channel.id}", rate)

    async def _media_requests(
        self,
        channel: store.Channel,
        account: Account,
        message: StoredMessage,
        window_state: str,
        *,
        uploaded: bool,
    ) -> list[dict[str, Any]] | str:
        """Upload the message's file to the provider (unless its part went already) and
        the requests that send it; or why it cannot go."""
        assert message.attachment_id is not None
        async with self.svc.db.read(_SCOPE) as conn:
            attachment = await attachments.get_attachment(conn, message.attachment_id)
        if attachment is None:
            return "the file is no longer stored"
        try:
            plan = media_plan(
                channel.platform,
                attachment.content_type,
                attachment.size,
                has_text=bool(message.body.strip()),
            )
        except MediaRefused as exc:
            return str(exc)
        media_id = ""
        if not uploaded:
            try:
                data = await asyncio.to_thread(self.svc.files.path_of(attachment.id).read_bytes)
            except OSError:
                return "the file is no longer stored"
            media_id = await self.runtime.graph.upload_media(
                account, plan.kind, data, attachment.content_type, attachment.filename
            )
        return media_requests(
            channel.platform, plan, media_id, attachment.filename, message.body, window_state
        )

    async def _advance(self, conversation_id: str, position: int) -> None:
        await self.svc.db.write(
            lambda c: store.settle_outbound(
                c,
                conversation_id,
                sent_position=position,
                next_attempt_at=utcnow() + LEASE,
                reset_attempts=True,
                error=None,
            )
        )

    async def _refused(
        self,
        channel: store.Channel,
        link: store.ChannelConversation,
        message: StoredMessage,
        exc: GraphError,
    ) -> str:
        svc, failure = self.svc, exc.failure
        cid = message.conversation_id
        kind = failure.kind
        log.warning(
            "channel send refused",
            channel_id=channel.id,
            position=message.position,
            status=failure.status,
            code=failure.code,
            kind=kind,
        )
        if kind == "permanent":
            await record_failure(svc, channel, cid, message.position, failure.describe())
            await self._advance(cid, message.position)
            return "failed"
        now = utcnow()
        if kind == "retry":
            retry_at = now + retry_delay(link.attempts + 1)
            await svc.db.write(
                lambda c: store.settle_outbound(
                    c,
                    cid,
                    sent_position=message.position - 1,
                    next_attempt_at=retry_at,
                    reset_attempts=False,
                    error=failure.describe(),
                )
            )
            return "stop"
        error = f"the access token was refused: {failure.describe()}"[:300]

        async def unit(batch: UnitBatch) -> None:
            await store.update_channel(
                batch.conn,
                channel.org_id,
                channel.id,
                {"status": "token_expired", "last_error": error, "updated_at": now},
            )
            await store.settle_outbound(
                batch.conn,
                cid,
                sent_position=message.position - 1,
                next_attempt_at=now + TOKEN_RETRY,
                reset_attempts=False,
                error=error,
            )
            conversation = await batch.conversation(cid)
            rooms = [leads_room(channel.org_id)]
            if conversation is not None:
                rooms += org_side_rooms(conversation)
            batch.emit(
                Event(
                    "channel:error",
                    {
                        "channel_id": channel.id,
                        "platform": channel.platform,
                        "status": "token_expired",
                        "error": error,
                        "conversation_id": cid,
                        "position": message.position,
                    },
                    tuple(dict.fromkeys(rooms)),
                )
            )

        await svc.db.run(unit, keys=[cid])
        return "stop"
