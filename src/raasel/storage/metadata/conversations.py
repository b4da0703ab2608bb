"""Conversations, their per-side receipt watermarks and unread counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Conversation, ConversationSide
from raasel.storage.schema import conversation_sides as s
from raasel.storage.schema import conversations as c


async def insert_conversation(
    conn: AsyncConnection, values: dict[str, Any], sides: Iterable[str]
) -> None:
    await conn.execute(c.insert().values(**values))
    for side in sides:
        await conn.execute(
            s.insert().values(
                conversation_id=values["id"], side=side, delivered_up_to=0, read_up_to=0, unread=0
            )
        )


async def find_conversation(
    conn: AsyncConnection,
    conversation_id: str,
    *,
    org_id: str | None = None,
    customer_id: str | None = None,
) -> Conversation | None:
    """The conversation, only within the given tenant scope (checked in the WHERE clause)."""
    query = select(c).where(c.c.id == conversation_id)
    if org_id is not None:
        query = query.where(c.c.org_id == org_id)
    if customer_id is not None:
        query = query.where(c.c.customer_id == customer_id)
    row = (await conn.execute(query)).first()
    return Conversation.from_row(row) if row else None


async def list_for_customer(
    conn: AsyncConnection, customer_id: str, side: str, limit: int, org_id: str | None = None
) -> list[tuple[Conversation, ConversationSide]]:
    query = (
        select(c, s.c.side, s.c.delivered_up_to, s.c.read_up_to, s.c.unread)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(c.c.customer_id == customer_id)
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    if org_id is not None:
        query = query.where(c.c.org_id == org_id)
    return [
        (
            Conversation.from_row(r),
            ConversationSide(r.id, r.side, r.delivered_up_to, r.read_up_to, r.unread),
        )
        for r in (await conn.execute(query)).all()
    ]


async def list_for_org(
    conn: AsyncConnection,
    org_id: str,
    side: str,
    *,
    statuses: Sequence[str],
    group_ids: list[str] | None,
    assignee_id: str | None,
    limit: int,
) -> list[tuple[Conversation, ConversationSide]]:
    query = (
        select(c, s.c.side, s.c.delivered_up_to, s.c.read_up_to, s.c.unread)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(c.c.org_id == org_id, c.c.status.in_(statuses))
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    if group_ids is not None:
        query = query.where(c.c.group_id.in_(group_ids))
    if assignee_id is not None:
        query = query.where(c.c.assignee_id == assignee_id)
    return [
        (
            Conversation.from_row(r),
            ConversationSide(r.id, r.side, r.delivered_up_to, r.read_up_to, r.unread),
        )
        for r in (await conn.execute(query)).all()
    ]


async def queued_in_group(
    conn: AsyncConnection, org_id: str, group_id: str, *, claim: bool = False
) -> list[Conversation]:
    """The group's queue in arrival order.

    ``claim`` locks the rows for this transaction and skips rows another transaction
    holds (PostgreSQL ``FOR UPDATE SKIP LOCKED``): nodes draining one queue at once take
    different conversations instead of waiting for, then losing, the same ones.
    SQLite has one writer and ignores the clause.
    """
    query = (
        select(c)
        .where(c.c.org_id == org_id, c.c.group_id == group_id, c.c.status == "queued")
        .order_by(c.c.queued_at, c.c.id)
    )
    if claim:
        query = query.with_for_update(skip_locked=True)
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]


async def active_counts(conn: AsyncConnection, org_id: str, user_ids: list[str]) -> dict[str, int]:
    """Open (assigned, not resolved) conversations per agent."""
    query = (
        select(c.c.assignee_id, func.count())
        .where(c.c.org_id == org_id, c.c.status == "active", c.c.assignee_id.in_(user_ids))
        .group_by(c.c.assignee_id)
    )
    counts = {row[0]: int(row[1]) for row in (await conn.execute(query)).all()}
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


async def recent_waits(
    conn: AsyncConnection, org_id: str, group_id: str, limit: int
) -> list[float]:
    """Seconds from queued to assigned of the group's latest assigned conversations."""
    query = (
        select(c.c.queued_at, c.c.assigned_at)
        .where(c.c.org_id == org_id, c.c.group_id == group_id, c.c.assigned_at.is_not(None))
        .order_by(c.c.assigned_at.desc())
        .limit(limit)
    )
    waits = []
    for row in (await conn.execute(query)).all():
        queued: datetime | None = row.queued_at
        assigned: datetime | None = row.assigned_at
        if queued is not None and assigned is not None:
            queued = queued if queued.tzinfo else queued.replace(tzinfo=assigned.tzinfo)
            waits.append(max((assigned - queued).total_seconds(), 0.0))
    return waits


async def update_conversation(
    conn: AsyncConnection,
    org_id: str,
    conversation_id: str,
    values: dict[str, Any],
    *,
    expected_status: Iterable[str] | None = None,
) -> bool:
    """Apply ``values``; with ``expected_status``, only from those states (atomic claim)."""
    query = update(c).where(c.c.id == conversation_id, c.c.org_id == org_id)
    if expected_status is not None:
        query = query.where(c.c.status.in_(list(expected_status)))
    result = await conn.execute(query.values(**values))
    return result.rowcount == 1


async def record_message(
    conn: AsyncConnection,
    conversation_id: str,
    *,
    message_id: int,
    at: datetime,
    preview: str | None,
    sender_id: str,
    unread_sides: list[str],
) -> dict[str, int]:
    """Note a new message: last-message fields and others' unread counts (returned).

    Internal notes (``preview`` None) change nothing the customer can see, not even the
    conversation's ``updated_at`` (its place in the customer's list).
    """
    if preview is not None:
        values: dict[str, Any] = {
            "updated_at": at,
            "last_message_id": message_id,
            "last_message_at": at,
            "last_preview": preview,
            "last_sender_id": sender_id,
        }
        newer = or_(c.c.last_message_id.is_(None), c.c.last_message_id < message_id)
        await conn.execute(update(c).where(c.c.id == conversation_id, newer).values(**values))
    if not unread_sides:
        return {}
    rows = await conn.execute(
        update(s)
        .where(s.c.conversation_id == conversation_id, s.c.side.in_(unread_sides))
        .values(unread=s.c.unread + 1)
        .returning(s.c.side, s.c.unread)
    )
    return {row.side: row.unread for row in rows}


async def get_sides(conn: AsyncConnection, conversation_id: str) -> dict[str, ConversationSide]:
    rows = (await conn.execute(select(s).where(s.c.conversation_id == conversation_id))).all()
    return {row.side: ConversationSide.from_row(row) for row in rows}


async def advance_watermark(
    conn: AsyncConnection, conversation_id: str, side: str, field: str, up_to: int
) -> bool:
    """Move a watermark forward only (never back); True if it moved.

    Reading implies delivery, so moving ``read_up_to`` also lifts ``delivered_up_to``.
    """
    column = s.c[field]
    values: dict[str, Any] = {field: up_to}
    if field == "read_up_to":
        values["delivered_up_to"] = func.max(s.c.delivered_up_to, up_to)
        if conn.dialect.name == "postgresql":
            values["delivered_up_to"] = func.greatest(s.c.delivered_up_to, up_to)
    result = await conn.execute(
        update(s)
        .where(s.c.conversation_id == conversation_id, s.c.side == side, column < up_to)
        .values(**values)
    )
    return result.rowcount == 1


async def set_unread(conn: AsyncConnection, conversation_id: str, side: str, unread: int) -> None:
    await conn.execute(
        update(s)
        .where(s.c.conversation_id == conversation_id, s.c.side == side)
        .values(unread=unread)
    )


async def customer_history(
    conn: AsyncConnection, org_id: str, customer_id: str, limit: int
) -> list[Conversation]:
    """The customer's conversations with this organization (the console's side panel)."""
    query = (
        select(c)
        .where(c.c.org_id == org_id, c.c.customer_id == customer_id)
        .order_by(c.c.created_at.desc())
        .limit(limit)
    )
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]
