"""Customers' ratings of resolved conversations (CSAT), and the reporting events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import _FromRow
from raasel.storage.schema import csat_ratings as cs
from raasel.storage.schema import report_events as re_


@dataclass(frozen=True, slots=True)
class Rating(_FromRow):
    conversation_id: str
    org_id: str
    customer_id: str
    assignee_id: str | None
    group_id: str | None
    rating: int
    comment: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReportEvent(_FromRow):
    id: int
    org_id: str
    conversation_id: str
    kind: str
    group_id: str | None
    agent_id: str | None
    started_at: datetime | None
    at: datetime


async def insert_rating(conn: AsyncConnection, rating: Rating) -> None:
    """Raises ``UniqueViolation`` when the conversation was rated already."""
    await conn.execute(
        cs.insert().values(
            conversation_id=rating.conversation_id,
            org_id=rating.org_id,
            customer_id=rating.customer_id,
            assignee_id=rating.assignee_id,
            group_id=rating.group_id,
            rating=rating.rating,
            comment=rating.comment,
            created_at=rating.created_at,
        )
    )


async def get_rating(conn: AsyncConnection, org_id: str, conversation_id: str) -> Rating | None:
    query = select(cs).where(cs.c.org_id == org_id, cs.c.conversation_id == conversation_id)
    row = (await conn.execute(query)).first()
    return Rating.from_row(row) if row else None


async def ratings_between(
    conn: AsyncConnection, org_id: str, since: datetime, until: datetime
) -> list[Rating]:
    query = (
        select(cs)
        .where(cs.c.org_id == org_id, cs.c.created_at >= since, cs.c.created_at < until)
        .order_by(cs.c.created_at)
    )
    return [Rating.from_row(r) for r in (await conn.execute(query)).all()]


async def report_events_between(
    conn: AsyncConnection, org_id: str, since: datetime, until: datetime
) -> list[ReportEvent]:
    query = (
        select(re_)
        .where(re_.c.org_id == org_id, re_.c.at >= since, re_.c.at < until)
        .order_by(re_.c.at, re_.c.id)
    )
    return [ReportEvent.from_row(r) for r in (await conn.execute(query)).all()]


async def activity_page(
    conn: AsyncConnection, org_id: str, *, before: int | None, limit: int
) -> list[ReportEvent]:
    """The organization's conversation events, newest first (the audit log's activity)."""
    query = select(re_).where(re_.c.org_id == org_id)
    if before is not None:
        query = query.where(re_.c.id < before)
    query = query.order_by(re_.c.id.desc()).limit(limit)
    return [ReportEvent.from_row(r) for r in (await conn.execute(query)).all()]
