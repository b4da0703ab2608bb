"""Billing events: the record that each provider event was processed once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.schema import billing_events as b


async def insert_event(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Raises IntegrityError when this event id was already recorded."""
    await conn.execute(b.insert().values(**values))


async def newest_applied(conn: AsyncConnection, kind: str, subject_id: str) -> datetime | None:
    """When the newest event already applied to this subject was created."""
    query = (
        select(b.c.event_created)
        .where(b.c.subject_kind == kind, b.c.subject_id == subject_id, b.c.outcome == "applied")
        .order_by(b.c.event_created.desc())
        .limit(1)
    )
    value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def events_of(
    conn: AsyncConnection, kind: str, subject_id: str, limit: int
) -> list[dict[str, Any]]:
    query = (
        select(b)
        .where(b.c.subject_kind == kind, b.c.subject_id == subject_id)
        .order_by(b.c.event_created.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in (await conn.execute(query)).all()]
