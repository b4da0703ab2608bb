"""The audit log of administrative actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from raasel.storage.records import AuditEntry
from raasel.storage.schema import audit_log as a


async def insert_entry(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(a.insert().values(**values))


async def list_entries(
    conn: AsyncConnection, org_id: str, before_id: str | None, limit: int
) -> list[AuditEntry]:
    query = select(a).where(a.c.org_id == org_id)
    if before_id is not None:
        query = query.where(a.c.id < before_id)
    # Ids are snowflakes of equal length (until 2094), so text order is time order.
    query = query.order_by(a.c.id.desc()).limit(limit)
    return [AuditEntry.from_row(r) for r in (await conn.execute(query)).all()]
