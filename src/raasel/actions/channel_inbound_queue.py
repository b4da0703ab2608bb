"""The webhook queue's worker: claims stored deliveries (``channel_webhooks``) under a
lease, processes each (actions/channel_inbound.py, item by item) and marks it done, or
due again with back-off; one delivery per contact at a time, in arrival order
(docs/decisions.md, "Social channels, second part")."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime, timedelta

import structlog

from raasel.actions.channel_inbound import process_item
from raasel.actions.channel_runtime import ChannelRuntime, ChannelWorker
from raasel.actions.context import Services
from raasel.channels.payloads import MalformedPayload, parse
from raasel.lib.clock import utcnow
from raasel.storage.metadata import channels as store
from raasel.storage.tenancy import CrossTenant

_SCOPE = CrossTenant("the social channels' inbound queue, for every organization")

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 12
PARALLEL = 8  # deliveries of different contacts processed at once by one node
LEASE = timedelta(seconds=120)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 * 2 ** max(attempts - 1, 0)))


async def process_webhook(
    svc: Services, runtime: ChannelRuntime, channel: store.Channel, body: str, attempt: int = 1
) -> int:
    """Every item of one delivery, in order (``attempt``: the how-manieth processing of
    it); return how many there were."""
    try:
        items = parse(channel.platform, json.loads(body))
    except (ValueError, RecursionError, MalformedPayload) as exc:
        raise MalformedPayload(str(exc)[:200]) from exc
    for item in items:
        await process_item(svc, runtime, channel, item, attempt)
    return len(items)


def runnable(pending: list[store.QueuedWebhook], now: datetime) -> list[store.QueuedWebhook]:
    """Of pending deliveries in arrival order, those to process now: due, and with no
    earlier delivery of one of their contacts still pending (in flight on some node, or
    due before it), so that one delivery per contact is processed at a time, in order.
    A delivery waiting to be retried holds nobody up."""
    busy: set[tuple[str, str]] = set()
    chosen: list[store.QueuedWebhook] = []
    for queued in pending:
        contacts = queued.contacts()
        due = queued.next_attempt_at <= now
        in_flight = queued.claimed_by is not None and not due
        if not due and not in_flight:
            continue  # waiting for a retry
        if due and not contacts & busy:
            chosen.append(queued)
        busy |= contacts
    return chosen


class InboundWorker(ChannelWorker):
    """Drains ``channel_webhooks``: after each stored delivery (``wake``), every
    ``channel_poll_seconds`` for retries and other nodes' deliveries, and at start-up for
    what this node claimed when it died."""

    task_name = "channel-inbound"

    def __init__(self, svc: Services, runtime: ChannelRuntime) -> None:
        super().__init__(svc, runtime)
        runtime.wake_inbound = self.wake

    async def _run(self) -> None:
        node = self.svc.settings.node_id
        try:
            released = await self.svc.db.write(lambda c: store.release_claims_of(c, node, utcnow()))
            if released:
                log.warning("webhooks this node held when it stopped are due again", count=released)
        except Exception:
            log.exception("channel inbound recovery failed")
        while True:
            self._wake.clear()
            try:
                while await self.process_due() > 0:
                    pass
            except Exception:  # the database is away: the next round retries
                log.exception("channel inbound pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.svc.settings.channel_poll_seconds)

    async def process_due(self, limit: int = 50) -> int:
        now = utcnow()
        async with self.svc.db.read(_SCOPE) as conn:
            pending = await store.due_webhooks(conn, now, limit * 4)
        # The chosen deliveries share no contact: they are processed side by side (their
        # units commit together), each contact's still one at a time and in order.
        gate = asyncio.Semaphore(PARALLEL)

        async def one(queued: store.QueuedWebhook) -> int:
            async with gate:
                return await self._attempt(queued)

        outcomes = await asyncio.gather(
            *(one(q) for q in runnable(pending, now)[:limit]), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(o for o in outcomes if isinstance(o, int))

    async def _attempt(self, queued: store.QueuedWebhook) -> int:
        svc, node = self.svc, self.svc.settings.node_id
        now = utcnow()
        if not await svc.db.write(lambda c: store.claim_webhook(c, queued, node, now, now + LEASE)):
            return 0
        async with svc.db.read(_SCOPE) as conn:
            channel = await store.get_channel(conn, queued.channel_id)
        attempts = queued.attempts + 1
        try:
            if channel is None or channel.status == "deleted":
                raise MalformedPayload("the channel is gone")
            count = await process_webhook(svc, self.runtime, channel, queued.body, attempts)
        except MalformedPayload as exc:
            problem = str(exc)[:300]
            log.error("webhook not processable", webhook_id=queued.id, error=problem)
            await svc.db.write(
                lambda c: store.finish_webhook(
                    c, queued.id, status="failed", now=utcnow(), error=problem
                )
            )
            return 1
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
            retry_at = utcnow() + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
            await svc.db.write(
                lambda c: store.finish_webhook(
                    c, queued.id, status="failed", now=utcnow(), error=error, retry_at=retry_at
                )
            )
            (log.error if retry_at is None else log.warning)(
                "webhook processing failed", webhook_id=queued.id, attempts=attempts, error=error
            )
            return 0
        await svc.db.write(
            lambda c: store.finish_webhook(c, queued.id, status="done", now=utcnow())
        )
        log.info("webhook processed", webhook_id=queued.id, items=count)
        return 1
