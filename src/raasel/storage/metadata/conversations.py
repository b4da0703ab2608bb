"""Conversations, their per-side receipt watermarks and unread counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import Conversation, ConversationSide
from raasel.storage.schema import conversation_sides as s
from raasel.storage.schema import conversations as c
from raasel.storage.schema import memberships as m

_SIDE_FIELDS = (
    "side",
    "delivered_position",
    "read_position",
    "delivered_up_to",
    "read_up_to",
    "received",
    "read_count",
)
_SIDE_COLUMNS = [s.c[name] for name in _SIDE_FIELDS]


def _side_of(row: Any) -> ConversationSide:
    return ConversationSide(row.id, *(row._mapping[s.c[name]] for name in _SIDE_FIELDS))


async def insert_conversation(
    conn: AsyncConnection, values: dict[str, Any], sides: Iterable[str]
) -> None:
    await conn.execute(c.insert().values(**values))
    await conn.execute(
        s.insert(),
        [
            {
                "conversation_id": values["id"],
                "side": side,
                "delivered_position": 0,
                "read_position": 0,
                "delivered_up_to": 0,
                "read_up_to": 0,
                "received": 0,
                "read_count": 0,
            }
            for side in sides
        ],
    )


async def find_conversation(
    conn: AsyncConnection,
    conversation_id: str,
    *,
    org_id: str | None = None,
    customer_id: str | None = None,
    peer_org_id: str | None = None,
) -> Conversation | None:
    """The conversation, only within the given tenant scope (checked in the WHERE clause)."""
    query = select(c).where(c.c.id == conversation_id)
    if peer_org_id is not None:  # the other organization of a b2b conversation
        query = query.where(c.c.peer_org_id == peer_org_id, c.c.kind == "b2b")
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
        select(c, *_SIDE_COLUMNS)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(c.c.customer_id == customer_id)
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    if org_id is not None:
        query = query.where(c.c.org_id == org_id)
    return [(Conversation.from_row(r), _side_of(r)) for r in (await conn.execute(query)).all()]


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
        select(c, *_SIDE_COLUMNS)
        .join(s, and_(s.c.conversation_id == c.c.id, s.c.side == side))
        .where(c.c.org_id == org_id, c.c.status.in_(statuses))
        .order_by(c.c.updated_at.desc(), c.c.id.desc())
        .limit(limit)
    )
    if group_ids is not None:  # the groups', and those in no group ("Unassigned")
        ungrouped = and_(c.c.group_id.is_(None), c.c.kind == "support")
        query = query.where(or_(c.c.group_id.in_(group_ids), ungrouped))
    if assignee_id is not None:
        query = query.where(c.c.assignee_id == assignee_id)
    return [(Conversation.from_row(r), _side_of(r)) for r in (await conn.execute(query)).all()]


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


async def queued_without_group(conn: AsyncConnection, org_id: str) -> list[Conversation]:
    """Support conversations waiting in no group ("Unassigned"), in arrival order."""
    query = (
        select(c)
        .where(
            c.c.org_id == org_id,
            c.c.group_id.is_(None),
            c.c.status == "queued",
            c.c.kind == "support",
        )
        .order_by(c.c.queued_at, c.c.id)
    )
    return [Conversation.from_row(r) for r in (await conn.execute(query)).all()]


async def active_counts(conn: AsyncConnection, org_id: str, user_ids: list[str]) -> dict[str, int]:
    """Open (assigned, not resolved) conversations per agent: the organization's own,
    and the ``b2b`` conversations of other organizations whose side here the agent
    holds (``peer_assignee_id``, its side ``active``): both are routing load."""
    own = (
        select(c.c.assignee_id.label("agent_id"), func.count().label("n"))
        .where(c.c.org_id == org_id, c.c.status == "active", c.c.assignee_id.in_(user_ids))
        .group_by(c.c.assignee_id)
    )
    as_peer = (
        select(c.c.peer_assignee_id.label("agent_id"), func.count().label("n"))
        .where(
            c.c.peer_org_id == org_id,
            c.c.peer_status == "active",
            c.c.kind == "b2b",
            c.c.peer_assignee_id.in_(user_ids),
        )
        .group_by(c.c.peer_assignee_id)
    )
    counts = dict.fromkeys(user_ids, 0)
    for agent_id, n in (await conn.execute(union_all(own, as_peer))).all():
        counts[agent_id] += int(n)
    return counts


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


async def get_sides(conn: AsyncConnection, conversation_id: str) -> dict[str, ConversationSide]:
    rows = (await conn.execute(select(s).where(s.c.conversation_id == conversation_id))).all()
    return {row.side: ConversationSide.from_row(row) for row in rows}


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


async def find_by_open_key(
    conn: AsyncConnection, org_id: str, customer_id: str, open_client_id: str
) -> Conversation | None:
    """The organization's conversation with this customer opened under this retry key
    (the ``uq_conversation_open`` constraint's columns: one index lookup)."""
    query = select(c).where(
        c.c.customer_id == customer_id,
        c.c.open_client_id == open_client_id,
        c.c.org_id == org_id,
    )
    row = (await conn.execute(query)).first()
    return Conversation.from_row(row) if row else None


async def assigned_to_away(conn: AsyncConnection) -> list[tuple[str, str, str | None, datetime]]:
    """Active conversations whose assignee is away (chosen or not), every organization:
    ``(conversation id, org id, group id, away since)`` (the presence sweep)."""
    query = (
        select(c.c.id, c.c.org_id, c.c.group_id, m.c.away_since)
        .join(m, (m.c.org_id == c.c.org_id) & (m.c.user_id == c.c.assignee_id))
        .where(
            c.c.status == "active",
            m.c.availability != "online",
            m.c.away_since.is_not(None),
        )
        .order_by(m.c.away_since, c.c.id)
    )
    return [(r.id, r.org_id, r.group_id, r.away_since) for r in (await conn.execute(query)).all()]


async def groups_with_queue(conn: AsyncConnection) -> list[tuple[str, str]]:
    """``(org id, group id)`` of every group with a support conversation waiting."""
    query = (
        select(c.c.org_id, c.c.group_id)
        .where(c.c.status == "queued", c.c.group_id.is_not(None))
        .group_by(c.c.org_id, c.c.group_id)
        .order_by(c.c.org_id, c.c.group_id)
    )
    return [(r.org_id, r.group_id) for r in (await conn.execute(query)).all()]
