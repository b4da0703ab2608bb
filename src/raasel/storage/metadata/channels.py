"""Social channels' tables: channels, data keys, contacts, channel conversations, the
inbound/outbound message maps and the webhook queue (storage/schema.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import _FromRow
from raasel.storage.schema import channel_contacts as ct
from raasel.storage.schema import channel_conversations as cc
from raasel.storage.schema import channel_inbound as ci
from raasel.storage.schema import channel_outbound as co
from raasel.storage.schema import channel_webhooks as wh
from raasel.storage.schema import channels as ch
from raasel.storage.schema import conversations as c
from raasel.storage.schema import org_data_keys as dk


@dataclass(frozen=True, slots=True)
class Channel(_FromRow):
    id: str
    org_id: str
    platform: str
    name: str
    external_id: str
    business_account_id: str | None
    group_id: str | None
    key_version: int
    access_token_sealed: str
    app_secret_sealed: str
    verify_token_sealed: str
    throughput_per_second: int
    status: str
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DataKey(_FromRow):
    org_id: str
    version: int
    kek_id: str
    wrapped: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelConversation(_FromRow):
    conversation_id: str
    channel_id: str
    org_id: str
    contact_id: str
    last_inbound_at: datetime
    sent_position: int
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class QueuedWebhook(_FromRow):
    id: int
    channel_id: str
    body_sha256: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_by: int | None
    last_error: str | None
    received_at: datetime
    processed_at: datetime | None
    contact_keys: str | None

    def contacts(self) -> frozenset[tuple[str, str]]:
        """(channel, contact) of each contact whose messages this delivery carries."""
        return frozenset((self.channel_id, k) for k in (self.contact_keys or "").split("\n") if k)


@dataclass(frozen=True, slots=True)
class Outbound(_FromRow):
    conversation_id: str
    position: int
    channel_id: str
    provider_message_id: str | None
    template: dict[str, Any] | None
    status: str
    error: str | None
    sent_at: datetime | None
    provider_extra_id: str | None


# -- data keys ---------------------------------------------------------------------------


async def data_key(
    conn: AsyncConnection, org_id: str, version: int | None = None, *, lock: bool = False
) -> DataKey | None:
    """The organization's data key ``version`` (None: the newest)."""
    query = select(dk).where(dk.c.org_id == org_id)
    query = (
        query.where(dk.c.version == version)
        if version is not None
        else query.order_by(dk.c.version.desc()).limit(1)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    row = (await conn.execute(query)).first()
    return DataKey.from_row(row) if row else None


async def insert_data_key(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(dk.insert().values(**values))


async def all_data_keys(conn: AsyncConnection) -> list[DataKey]:
    query = select(dk).order_by(dk.c.org_id, dk.c.version)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [DataKey.from_row(r) for r in (await conn.execute(query)).all()]


async def rewrap_data_key(
    conn: AsyncConnection, org_id: str, version: int, kek_id: str, wrapped: str
) -> None:
    await conn.execute(
        update(dk)
        .where(dk.c.org_id == org_id, dk.c.version == version)
        .values(kek_id=kek_id, wrapped=wrapped)
    )


async def delete_data_keys_below(conn: AsyncConnection, org_id: str, version: int) -> None:
    await conn.execute(dk.delete().where(dk.c.org_id == org_id, dk.c.version < version))


# -- channels ----------------------------------------------------------------------------


async def insert_channel(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(ch.insert().values(**values))


async def update_channel(
    conn: AsyncConnection, org_id: str, channel_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        update(ch).where(ch.c.id == channel_id, ch.c.org_id == org_id).values(**values)
    )


async def get_channel(
    conn: AsyncConnection, channel_id: str, *, org_id: str | None = None
) -> Channel | None:
    query = select(ch).where(ch.c.id == channel_id)
    if org_id is not None:
        query = query.where(ch.c.org_id == org_id)
    row = (await conn.execute(query)).first()
    return Channel.from_row(row) if row else None


async def list_channels(conn: AsyncConnection, org_id: str | None = None) -> list[Channel]:
    """The connected channels (a deleted one is kept only for its conversations)."""
    query = select(ch).where(ch.c.status != "deleted").order_by(ch.c.created_at, ch.c.id)
    if org_id is not None:
        query = query.where(ch.c.org_id == org_id)
    return [Channel.from_row(r) for r in (await conn.execute(query)).all()]


# -- contacts ----------------------------------------------------------------------------


async def find_contact(
    conn: AsyncConnection, org_id: str, platform: str, ids: list[str]
) -> tuple[str, str] | None:
    """(external id, user id) of the contact known by any of ``ids`` (id or alt id)."""
    query = select(ct.c.external_id, ct.c.user_id).where(
        ct.c.org_id == org_id,
        ct.c.platform == platform,
        or_(ct.c.external_id.in_(ids), ct.c.alt_id.in_(ids)),
    )
    row = (await conn.execute(query.limit(1))).first()
    return (row.external_id, row.user_id) if row else None


async def insert_contact(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(ct.insert().values(**values))


async def lock_contact(conn: AsyncConnection, org_id: str, user_id: str) -> None:
    """Hold the customer's contact rows until the transaction ends (PostgreSQL; SQLite
    writers are one at a time already): two nodes opening a conversation for one contact
    take turns, and the second sees the first's."""
    if conn.dialect.name != "postgresql":
        return
    await conn.execute(
        select(ct.c.external_id)
        .where(ct.c.org_id == org_id, ct.c.user_id == user_id)
        .with_for_update()
    )


async def contact_of(conn: AsyncConnection, org_id: str, user_id: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(select(ct).where(ct.c.org_id == org_id, ct.c.user_id == user_id))
    ).first()
    return dict(row._mapping) if row else None


# -- channel conversations ---------------------------------------------------------------


async def insert_channel_conversation(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(cc.insert().values(**values))


async def channel_conversation(
    conn: AsyncConnection, conversation_id: str, *, org_id: str | None = None
) -> ChannelConversation | None:
    query = select(cc).where(cc.c.conversation_id == conversation_id)
    if org_id is not None:
        query = query.where(cc.c.org_id == org_id)
    row = (await conn.execute(query)).first()
    return ChannelConversation.from_row(row) if row else None


async def open_conversation_of(
    conn: AsyncConnection, channel_id: str, contact_id: str
) -> str | None:
    """The contact's newest conversation on this channel that is not closed for good."""
    query = (
        select(cc.c.conversation_id)
        .join(c, c.c.id == cc.c.conversation_id)
        .where(cc.c.channel_id == channel_id, cc.c.contact_id == contact_id, c.c.status != "closed")
        .order_by(c.c.created_at.desc())
        .limit(1)
    )
    value = (await conn.execute(query)).scalar()
    return str(value) if value is not None else None


async def note_inbound(conn: AsyncConnection, conversation_id: str, when: datetime) -> None:
    await conn.execute(
        update(cc)
        .where(cc.c.conversation_id == conversation_id, cc.c.last_inbound_at < when)
        .values(last_inbound_at=when)
    )


async def due_outbound(conn: AsyncConnection, now: datetime, limit: int) -> list[str]:
    """Channel conversations with public messages past their watermark, due now (none of
    a deleted channel: nothing can go there any more)."""
    query = (
        select(cc.c.conversation_id)
        .join(c, c.c.id == cc.c.conversation_id)
        .join(ch, ch.c.id == cc.c.channel_id)
        .where(
            c.c.last_public_position > cc.c.sent_position,
            cc.c.next_attempt_at <= now,
            ch.c.status != "deleted",
        )
        .order_by(cc.c.next_attempt_at)
        .limit(limit)
    )
    return [str(v) for v in (await conn.execute(query)).scalars()]


async def claim_outbound(
    conn: AsyncConnection, conversation_id: str, attempts: int, now: datetime, until: datetime
) -> bool:
    result = await conn.execute(
        update(cc)
        .where(
            cc.c.conversation_id == conversation_id,
            cc.c.attempts == attempts,
            cc.c.next_attempt_at <= now,
        )
        .values(attempts=attempts + 1, next_attempt_at=until)
    )
    return result.rowcount == 1


async def settle_outbound(
    conn: AsyncConnection,
    conversation_id: str,
    *,
    sent_position: int,
    next_attempt_at: datetime,
    reset_attempts: bool,
    error: str | None,
) -> None:
    values: dict[str, Any] = {
        "sent_position": func.max(cc.c.sent_position, sent_position)
        if conn.dialect.name == "sqlite"
        else func.greatest(cc.c.sent_position, sent_position),
        "next_attempt_at": next_attempt_at,
        "last_error": error,
    }
    if reset_attempts:
        values["attempts"] = 0
    await conn.execute(update(cc).where(cc.c.conversation_id == conversation_id).values(**values))


async def wake_channel(conn: AsyncConnection, channel_id: str, now: datetime) -> None:
    """A fixed token: retry the channel's waiting replies now."""
    await conn.execute(
        update(cc).where(cc.c.channel_id == channel_id).values(next_attempt_at=now, attempts=0)
    )


# -- inbound / outbound maps -------------------------------------------------------------


async def inbound(
    conn: AsyncConnection, channel_id: str, provider_message_id: str
) -> tuple[str, int] | None:
    row = (
        await conn.execute(
            select(ci.c.conversation_id, ci.c.position).where(
                ci.c.channel_id == channel_id, ci.c.provider_message_id == provider_message_id
            )
        )
    ).first()
    return (row.conversation_id, int(row.position)) if row else None


async def insert_inbound(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(ci.insert().values(**values))


async def provider_times_in(conn: AsyncConnection, conversation_id: str) -> dict[int, datetime]:
    """Position of each inbound message -> the provider's own time of it."""
    rows = (
        await conn.execute(
            select(ci.c.position, ci.c.provider_sent_at).where(
                ci.c.conversation_id == conversation_id, ci.c.provider_sent_at.is_not(None)
            )
        )
    ).all()
    return {int(r.position): r.provider_sent_at for r in rows}


async def replies_in(conn: AsyncConnection, conversation_id: str) -> dict[int, int]:
    """Position of each inbound message that replied to a message of ours (or theirs)
    -> the position it replied to."""
    rows = (
        await conn.execute(
            select(ci.c.position, ci.c.reply_to, ci.c.channel_id).where(
                ci.c.conversation_id == conversation_id, ci.c.reply_to.is_not(None)
            )
        )
    ).all()
    replies: dict[int, int] = {}
    for row in rows:
        target = await position_of_provider_id(conn, row.channel_id, row.reply_to)
        if target is not None and target[0] == conversation_id:
            replies[int(row.position)] = target[1]
    return replies


async def position_of_provider_id(
    conn: AsyncConnection, channel_id: str, provider_message_id: str
) -> tuple[str, int] | None:
    found = await inbound(conn, channel_id, provider_message_id)
    if found is not None:
        return found
    row = (
        await conn.execute(
            select(co.c.conversation_id, co.c.position).where(
                co.c.channel_id == channel_id, co.c.provider_message_id == provider_message_id
            )
        )
    ).first()
    return (row.conversation_id, int(row.position)) if row else None


async def outbound_at(
    conn: AsyncConnection, conversation_id: str, position: int
) -> Outbound | None:
    row = (
        await conn.execute(
            select(co).where(co.c.conversation_id == conversation_id, co.c.position == position)
        )
    ).first()
    return Outbound.from_row(row) if row else None


async def outbound_by_provider_id(
    conn: AsyncConnection, channel_id: str, provider_message_id: str
) -> Outbound | None:
    """The message sent as ``provider_message_id`` (or as its second part, the text
    beside a file)."""
    row = (
        await conn.execute(
            select(co).where(
                co.c.channel_id == channel_id,
                or_(
                    co.c.provider_message_id == provider_message_id,
                    co.c.provider_extra_id == provider_message_id,
                ),
            )
        )
    ).first()
    return Outbound.from_row(row) if row else None


async def last_outbound_before(
    conn: AsyncConnection, channel_id: str, conversation_ids: list[str], when: datetime
) -> Outbound | None:
    """Messenger's watermark: the newest message sent in these conversations before it."""
    row = (
        await conn.execute(
            select(co)
            .where(
                co.c.channel_id == channel_id,
                co.c.conversation_id.in_(conversation_ids),
                co.c.status.in_(SENT_STATES),
                co.c.sent_at <= when,
            )
            .order_by(co.c.sent_at.desc())
            .limit(1)
        )
    ).first()
    return Outbound.from_row(row) if row else None


async def conversations_of_contact(
    conn: AsyncConnection, channel_id: str, contact_id: str
) -> list[str]:
    query = select(cc.c.conversation_id).where(
        cc.c.channel_id == channel_id, cc.c.contact_id == contact_id
    )
    return [str(v) for v in (await conn.execute(query)).scalars()]


async def upsert_outbound(conn: AsyncConnection, values: dict[str, Any]) -> None:
    found = await outbound_at(conn, values["conversation_id"], values["position"])
    if found is None:
        await conn.execute(co.insert().values(**values))
        return
    await conn.execute(
        update(co)
        .where(
            co.c.conversation_id == values["conversation_id"], co.c.position == values["position"]
        )
        .values(**{k: v for k, v in values.items() if k not in ("conversation_id", "position")})
    )


SENT_STATES = ("sent", "delivered", "read")


async def advance_outbound_status(
    conn: AsyncConnection, conversation_id: str, position: int, status: str
) -> bool:
    """The provider's ``delivered`` / ``read`` of one message, kept on its row only
    forwards (sent -> delivered -> read; a failed message stays failed)."""
    before = ("sent",) if status == "delivered" else ("sent", "delivered")
    result = await conn.execute(
        update(co)
        .where(
            co.c.conversation_id == conversation_id,
            co.c.position == position,
            co.c.status.in_(before),
        )
        .values(status=status)
    )
    return result.rowcount == 1


async def failures_in(conn: AsyncConnection, conversation_id: str) -> list[Outbound]:
    query = select(co).where(co.c.conversation_id == conversation_id, co.c.status == "failed")
    return [Outbound.from_row(r) for r in (await conn.execute(query.order_by(co.c.position))).all()]


# -- the webhook queue -------------------------------------------------------------------


async def enqueue_webhook(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Store a delivery; False if this very body was stored already (a replay)."""
    exists = (
        await conn.execute(
            select(wh.c.id).where(
                wh.c.channel_id == values["channel_id"], wh.c.body_sha256 == values["body_sha256"]
            )
        )
    ).first()
    if exists is not None:
        return False
    await conn.execute(wh.insert().values(**values))
    return True


async def due_webhooks(conn: AsyncConnection, now: datetime, limit: int) -> list[QueuedWebhook]:
    """Pending deliveries in arrival order: those due now, and those a node holds (in
    flight: their contacts' later deliveries wait for them)."""
    query = (
        select(wh)
        .where(
            wh.c.status == "pending",
            or_(wh.c.next_attempt_at <= now, wh.c.claimed_by.is_not(None)),
        )
        .order_by(wh.c.id)
        .limit(limit)
    )
    return [QueuedWebhook.from_row(r) for r in (await conn.execute(query)).all()]


async def claim_webhook(
    conn: AsyncConnection, item: QueuedWebhook, node: int, now: datetime, until: datetime
) -> bool:
    result = await conn.execute(
        update(wh)
        .where(
            wh.c.id == item.id,
            wh.c.status == "pending",
            wh.c.attempts == item.attempts,
            wh.c.next_attempt_at <= now,
        )
        .values(attempts=item.attempts + 1, next_attempt_at=until, claimed_by=node)
    )
    return result.rowcount == 1


async def release_claims_of(conn: AsyncConnection, node: int, now: datetime) -> int:
    """At start-up: what this node had claimed when it stopped is due again now."""
    result = await conn.execute(
        update(wh)
        .where(wh.c.status == "pending", wh.c.claimed_by == node)
        .values(next_attempt_at=now, claimed_by=None)
    )
    return int(result.rowcount or 0)


async def finish_webhook(
    conn: AsyncConnection,
    webhook_id: int,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {"last_error": error, "claimed_by": None}
    if retry_at is not None:
        values |= {"next_attempt_at": retry_at}
    else:
        values |= {"status": status, "processed_at": now, "body": ""}
    await conn.execute(update(wh).where(wh.c.id == webhook_id).values(**values))


async def drop_pending_webhooks(
    conn: AsyncConnection, channel_id: str, now: datetime, reason: str
) -> int:
    """A deleted channel: its unprocessed deliveries are blanked and failed."""
    result = await conn.execute(
        update(wh)
        .where(wh.c.channel_id == channel_id, wh.c.status == "pending")
        .values(status="failed", body="", processed_at=now, last_error=reason, claimed_by=None)
    )
    return int(result.rowcount or 0)


async def webhook_counts(conn: AsyncConnection, channel_id: str) -> dict[str, int]:
    rows = (
        await conn.execute(
            select(wh.c.status, func.count())
            .where(wh.c.channel_id == channel_id)
            .group_by(wh.c.status)
        )
    ).all()
    return {str(status): int(count) for status, count in rows}
